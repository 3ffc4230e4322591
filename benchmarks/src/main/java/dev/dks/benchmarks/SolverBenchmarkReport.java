package dev.dks.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints a summary table of a {@link SolverBenchmark} run from JMH's JSON result ({@code -rf json}):
 * per activation the DKS and TAT solve times in microseconds and whether each is under the 2 ms
 * goal, then the ResNet-101 v2 TReLU row.
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.dks.benchmarks.SolverBenchmarkReport
 * [solver-bench.json]}.
 */
public final class SolverBenchmarkReport {
  /** The latency goal for one solve, in microseconds. */
  static final double GOAL_MICROS = 2000.0;

  private static final String PREFIX = SolverBenchmark.class.getName() + ".";
  private static final String NO_VALUE = String.format(Locale.ROOT, "%10s   %-8s", "-", "");

  /** One measured solve time: mean and 99.9% half-width, in microseconds. */
  record Score(double micros, double errorMicros) {
    boolean underGoal() {
      return micros < GOAL_MICROS;
    }

    String format() {
      return Double.isFinite(errorMicros)
          ? String.format(Locale.ROOT, "%10.1f ± %-8.1f", micros, errorMicros)
          : String.format(Locale.ROOT, "%10.1f   %-8s", micros, "");
    }
  }

  private SolverBenchmarkReport() {}

  public static void main(String[] args) throws IOException {
    Path json = Path.of(args.length > 0 ? args[0] : "benchmarks/target/solver-bench.json");
    if (!Files.isRegularFile(json)) {
      System.err.println("no JMH result at " + json + ": run the SolverBenchmark with "
          + "-rf json -rff " + json + " first (see benchmarks/run-solver-benchmarks.sh)");
      System.exit(2);
    }
    print(new ObjectMapper().readTree(json.toFile()), json, System.out);
  }

  static void print(JsonNode root, Path source, PrintStream out) {
    Map<String, Score> dks = new LinkedHashMap<>();
    Map<String, Score> tat = new LinkedHashMap<>();
    Map<String, Score> resnet = new LinkedHashMap<>();
    String jvm = null;
    String setup = null;
    for (JsonNode run : root) {
      String name = run.path("benchmark").asText();
      if (!name.startsWith(PREFIX)) {
        continue;
      }
      if (jvm == null) {
        jvm = run.path("vmName").asText("?") + " " + run.path("jdkVersion").asText("?");
        setup = String.format(Locale.ROOT, "%d fork(s), warm-up %d x %s, measurement %d x %s",
            run.path("forks").asInt(), run.path("warmupIterations").asInt(),
            run.path("warmupTime").asText(), run.path("measurementIterations").asInt(),
            run.path("measurementTime").asText());
      }
      Score score = score(run.path("primaryMetric"));
      JsonNode params = run.path("params");
      switch (name.substring(PREFIX.length())) {
        case "dks" -> dks.put(params.path("activation").asText(), score);
        case "tat" -> tat.put(params.path("activation").asText(), score);
        case "tatLeakyReluResnet101V2" ->
            resnet.put("w=" + params.path("shortcutWeight").asText("?"), score);
        default -> { }
      }
    }
    if (dks.isEmpty() && tat.isEmpty() && resnet.isEmpty()) {
      out.println("no SolverBenchmark results in " + source);
      return;
    }

    List<String> activations = new ArrayList<>(dks.keySet());
    tat.keySet().stream().filter(a -> !dks.containsKey(a)).forEach(activations::add);

    out.println("DKS/TAT solve time after warm-up (JMH average time, µs per solve; "
        + "± = 99.9% CI half-width)");
    out.println("source: " + source + "; " + jvm + "; " + setup);
    out.println("goal: one solve under " + (int) GOAL_MICROS + " µs (2 ms)");
    out.println();
    String header = String.format(Locale.ROOT, "%-34s %-21s %-21s %-8s %-8s",
        "activation (network)", "DKS µs", "TAT µs", "DKS<2ms", "TAT<2ms");
    out.println(header);
    out.println("-".repeat(header.length()));
    int under = 0;
    int total = 0;
    for (String a : activations) {
      Score d = dks.get(a);
      Score t = tat.get(a);
      out.println(row(a + " (chain 50)", d, t));
      for (Score s : new Score[] {d, t}) {
        if (s != null) {
          total++;
          under += s.underGoal() ? 1 : 0;
        }
      }
    }
    for (Map.Entry<String, Score> e : resnet.entrySet()) {
      out.println(row("leaky_relu (resnet101 v2, " + e.getKey() + ")", null, e.getValue()));
      total++;
      under += e.getValue().underGoal() ? 1 : 0;
    }
    out.println();
    out.println(under + " of " + total + " solves under 2 ms; "
        + "'-' = not benchmarked (TAT refuses relu) or failed in the run");
  }

  private static String row(String label, Score dks, Score tat) {
    return String.format(Locale.ROOT, "%-34s %-21s %-21s %-8s %-8s", label,
        dks == null ? NO_VALUE : dks.format(), tat == null ? NO_VALUE : tat.format(),
        goal(dks), goal(tat));
  }

  private static String goal(Score s) {
    return s == null ? "-" : s.underGoal() ? "yes" : "NO";
  }

  /** The primary metric in microseconds per operation, whatever JMH's output unit. */
  static Score score(JsonNode metric) {
    double factor = microsPer(metric.path("scoreUnit").asText("us/op"));
    double score = metric.path("score").asDouble(Double.NaN);
    JsonNode err = metric.path("scoreError");
    double error = err.isNumber() ? err.asDouble() : Double.NaN; // "NaN" as text for 1 iteration
    return new Score(score * factor, error * factor);
  }

  private static double microsPer(String unit) {
    return switch (unit) {
      case "ns/op" -> 1e-3;
      case "us/op" -> 1.0;
      case "ms/op" -> 1e3;
      case "s/op" -> 1e6;
      case "min/op" -> 60e6;
      default -> throw new IllegalArgumentException("unexpected JMH score unit '" + unit
          + "': run the benchmark in average-time mode (the default of SolverBenchmark)");
    };
  }
}
