package dev.dks.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.cli.DksCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * {@code dks verify MODEL} with no flags on the shaped models {@code dks build} writes (issue 12:
 * it must pass on every one): MLPs, plain CNNs and ResNets (v2 and v1, depths 18/34/50) at their
 * default width and at width 16, shaped by TAT (leaky ReLU) and DKS (tanh, softplus, and every
 * other activation the CLI accepts on a narrow MLP), with shortcut weights 0, 0.5 and 0.8, and
 * BN models rewritten by {@code dks rewrite} with its defaults. Every command runs in this
 * process through the CLI's own code ({@link DksCommand#newCommandLine()}).
 *
 * <p>Prints one row per model as it finishes, then a Markdown table: model, verdict, the judged
 * c and q errors (largest over the checked outputs), the c tolerance and the q error allowed,
 * the draws x pairs the check measured and its c standard error (when the verify reports them),
 * and the CPU seconds of the verify (process CPU time, TensorFlow's threads included).
 *
 * <p>Options: {@code --work DIR} (models are built there once and reused; default
 * benchmarks/target/verify-sweep), {@code --only REGEX} (models whose name matches), {@code
 * --verify "FLAGS"} (extra verify flags, e.g. {@code "--draws 96 --pairs 768"} to tell noise
 * from bias), {@code --markdown FILE}.
 */
public final class VerifySweep {
  private VerifySweep() {}

  /** One model: its name, the build flags, and whether {@code dks rewrite} follows. */
  record Case(String name, List<String> build, boolean rewrite) {}

  /**
   * The models of the sweep, narrow (cheap, and where finite-width noise is largest) first, the
   * default widths last.
   */
  static List<Case> cases() {
    List<Case> cs = new ArrayList<>();
    resnets(cs, "18", "16", false, "0", "0.5", "0.8");
    plain(cs, "mlp", "16");
    plain(cs, "plain-cnn", "16");
    cs.add(bn("resnet18_w16", "--arch", "resnet", "--depth", "18", "--width", "16"));
    cs.add(bn("plain-cnn20_w16", "--arch", "plain-cnn", "--depth", "20", "--width", "16"));
    cs.add(bn("mlp20_w16", "--arch", "mlp", "--depth", "20", "--width", "16"));
    resnets(cs, "18", "16", true, "0", "0.8");
    resnets(cs, "34", "16", false, "0.8");
    // every other activation the CLI accepts, DKS on a narrow MLP
    for (String act : new String[] {"sigmoid", "erf", "elu", "selu", "swish", "gelu",
        "gelu_exact", "atan", "asinh", "softsign", "bentid", "sin"}) {
      cs.add(new Case("mlp20_w16_DKS_" + act, List.of("--arch", "mlp", "--depth", "20",
          "--width", "16", "--shaped", "--method", "DKS", "--activation", act), false));
    }
    resnets(cs, "50", "16", false, "0", "0.8");
    cs.add(bn("resnet50_w16", "--arch", "resnet", "--depth", "50", "--width", "16"));
    // the default widths
    plain(cs, "mlp", null);
    plain(cs, "plain-cnn", null);
    resnets(cs, "18", null, false, "0", "0.8");
    cs.add(bn("resnet18_w64", "--arch", "resnet", "--depth", "18"));
    return cs;
  }

  private static final String[][] METHODS = {
      {"TAT", "leaky_relu"}, {"DKS", "tanh"}, {"DKS", "softplus"}};

  /** A depth-20 MLP or plain CNN per method, at {@code width} (null: the default). */
  private static void plain(List<Case> cs, String arch, String width) {
    for (String[] m : METHODS) {
      List<String> b = new ArrayList<>(List.of("--arch", arch, "--depth", "20"));
      if (width != null) {
        b.addAll(List.of("--width", width));
      }
      b.addAll(List.of("--shaped", "--method", m[0], "--activation", m[1]));
      String w = width != null ? width : arch.equals("mlp") ? "256" : "64";
      cs.add(new Case(arch + "20_w" + w + "_" + m[0] + "_" + m[1], b, false));
    }
  }

  /** ResNets per shortcut weight and method, at {@code width} (null: the default 64). */
  private static void resnets(List<Case> cs, String depth, String width, boolean v1,
      String... weights) {
    for (String sw : weights) {
      for (String[] m : METHODS) {
        List<String> b = new ArrayList<>(List.of("--arch", "resnet", "--depth", depth));
        if (width != null) {
          b.addAll(List.of("--width", width));
        }
        if (v1) {
          b.add("--v1");
        }
        b.addAll(List.of("--shaped", "--method", m[0], "--activation", m[1],
            "--shortcut-weight", sw));
        cs.add(new Case("resnet" + depth + (v1 ? "v1" : "") + "_w" + (width == null ? "64"
            : width) + "_" + m[0] + "_" + m[1] + "_sw" + sw, b, false));
      }
    }
  }

  /** A BN model ({@code --bn}) rewritten by {@code dks rewrite} with its defaults. */
  private static Case bn(String name, String... build) {
    List<String> b = new ArrayList<>(List.of(build));
    b.add("--bn");
    return new Case(name + "_bn_rewrite", b, true);
  }

  /** Exit code, standard output and error of one in-process {@code dks} command. */
  record Run(int exit, String out, String err) {}

  static Run dks(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = DksCommand.newCommandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  private static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** Main: see the class comment for the options. */
  public static void main(String[] args) throws IOException {
    Path work = Path.of("benchmarks/target/verify-sweep");
    Pattern only = Pattern.compile(".*");
    List<String> extra = List.of();
    Path markdown = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--work" -> work = Path.of(args[++i]);
        case "--only" -> only = Pattern.compile(args[++i]);
        case "--verify" -> extra = Arrays.stream(args[++i].trim().split("\\s+"))
            .filter(s -> !s.isEmpty()).toList();
        case "--markdown" -> markdown = Path.of(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Files.createDirectories(work);
    List<String> rows = new ArrayList<>();
    rows.add("| model | verdict | c error | q error | c tolerance | q allowed | draws x pairs "
        + "| c std error | CPU s |");
    rows.add("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    int failed = 0;
    for (Case c : cases()) {
      if (!only.matcher(c.name()).find()) {
        continue;
      }
      String row = one(c, work, extra);
      failed += row.contains("| pass |") ? 0 : 1;
      rows.add(row);
      System.out.println(row);
      System.out.flush();
    }
    String table = String.join("\n", rows) + "\n";
    System.out.println();
    System.out.print(table);
    System.out.printf(Locale.ROOT, "%d of %d not passed%n", failed, rows.size() - 2);
    if (markdown != null) {
      Files.writeString(markdown, table);
    }
  }

  /** Builds (once), rewrites (once) and verifies {@code c}: its table row. */
  private static String one(Case c, Path work, List<String> extra) throws IOException {
    Path built = work.resolve(c.rewrite() ? c.name() + "_src" : c.name());
    if (!Files.isDirectory(built.resolve("variables"))) {
      List<String> b = new ArrayList<>(List.of("build"));
      b.addAll(c.build());
      b.addAll(List.of("--seed", "0", "--out", built.toString()));
      Run r = dks(b);
      if (r.exit() != 0) {
        return row(c.name(), "build error: " + firstLine(r.err()), null, 0);
      }
    }
    Path model = built;
    if (c.rewrite()) {
      model = work.resolve(c.name());
      if (!Files.isDirectory(model.resolve("variables"))) {
        Run r = dks(List.of("rewrite", built.toString(), "--out", model.toString()));
        if (r.exit() != 0) {
          return row(c.name(), "rewrite error: " + firstLine(r.err()), null, 0);
        }
      }
    }
    List<String> v = new ArrayList<>(List.of("verify", model.toString(), "--json"));
    v.addAll(extra);
    long t0 = cpuNanos();
    Run r = dks(v);
    double cpu = (cpuNanos() - t0) / 1e9;
    if (r.exit() > 1) {
      return row(c.name(), "error: " + firstLine(r.err()), null, cpu);
    }
    JsonNode j = new ObjectMapper().readTree(r.out());
    return row(c.name(), j.path("passed").asBoolean() ? "pass" : "**fail**", j, cpu);
  }

  private static String row(String name, String verdict, JsonNode j, double cpu) {
    if (j == null) {
      return String.format(Locale.ROOT, "| %s | %s | | | | | | | %.1f |", name, verdict, cpu);
    }
    double c = 0;
    double q = 0;
    double qAllowed = 0;
    for (JsonNode o : j.path("outputs")) {
      if (!o.path("checked").asBoolean()) {
        continue;
      }
      c = Math.max(c, o.path("judged_c_error").asDouble(Double.NaN));
      q = Math.max(q, o.path("judged_q_error").asDouble(Double.NaN));
      String judged = o.path("judged_tensor").asText();
      for (JsonNode row : o.path("rows")) {
        if (row.path("tensor").asText().equals(judged)) {
          qAllowed = Math.max(qAllowed, row.path("q_allowed").asDouble(Double.NaN));
        }
      }
    }
    int added = j.path("added_draws").asInt(0);
    String sampling = !j.has("draws") ? "-" : (j.path("draws").asInt() - added) + " x "
        + j.path("pairs_per_draw").asInt() + (added == 0 ? ""
            : " + " + added + " x " + j.path("pairs_per_added_draw").asInt());
    String se = j.has("c_standard_error") && j.path("c_standard_error").isNumber()
        ? String.format(Locale.ROOT, "%.4f", j.path("c_standard_error").asDouble()) : "-";
    return String.format(Locale.ROOT, "| %s | %s | %.4f | %.4f | %.3f | %.3f | %s | %s | %.1f |",
        name, verdict, c, q, j.path("c_tolerance").asDouble(), qAllowed, sampling, se, cpu);
  }

  private static String firstLine(String s) {
    String t = s.strip();
    int n = t.indexOf('\n');
    return (n < 0 ? t : t.substring(0, n)).replace('|', '/');
  }
}
