package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.assets.SharedAssets;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.kfac.DampingAdaptation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.TensorProto;

/**
 * Each {@code dks train} flag the other tests never run reaches the code it names, shown by a
 * number: tiny runs (a 2-layer tanh MLP of width 16 on 8x8x1 synthetic data, a few steps) whose
 * metrics or trained variables are compared with an independent computation or with a run that
 * differs only in that flag.
 *
 * <p>Loss flags: with the batch equal to the whole training set (64 synthetic examples), the
 * step-0 loss in {@code metrics.jsonl} is the loss of the untrained model on that set, recomputed
 * here in Java from the model's own logits: the cross-entropy, with smoothed targets
 * {@code (1 - eps) y + eps / K} for {@code --label-smoothing}, plus {@code l2 * sum ||K||^2} over
 * the three kernels for {@code --l2}. Each flagged loss is also 100 tolerances away from the
 * plain one (negative control).
 */
class TrainFlagsTest {
  private static final String DATA = "synthetic:8x8x1:10:64";
  private static final double LOSS_TOL = 1e-5;
  @TempDir static Path tmp;
  private static Path model;
  private static Model built;
  private static int run;

  @BeforeAll
  static void buildModel() {
    built = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2).width(16)
        .input("8x8x1").classes(10).activation("tanh").shaped(dev.dks.solver.solve.Method.DKS)
        .seed(3).build()).model();
    model = tmp.resolve("mlp");
    ServingExporter.export(built, model);
  }

  /** Runs {@code dks train MODEL --data DATA ... --out NEW} and returns the output folder. */
  private static Path train(String... flags) {
    Path out = tmp.resolve("run" + (run++));
    List<String> args = new ArrayList<>(List.of("train", model.toString(), "--data", DATA,
        "--eval-every", "1000", "--checkpoint-every", "1000", "--out", out.toString()));
    args.addAll(Arrays.asList(flags));
    Cli r = Cli.run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    return out;
  }

  /** The step records of a run's metrics.jsonl, in order. */
  private static List<JsonNode> steps(Path out) throws IOException {
    ObjectMapper om = new ObjectMapper();
    List<JsonNode> steps = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
      JsonNode n = om.readTree(line);
      if (n.get("type").asText().equals("step")) {
        steps.add(n);
      }
    }
    return steps;
  }

  private static Map<String, TensorProto> trained(Path out) {
    return SavedModelReader.read(out.resolve("serving")).variables();
  }

  /** Largest |a - b| over all variables of two trained models. */
  private static double maxDiff(Map<String, TensorProto> a, Map<String, TensorProto> b) {
    assertEquals(a.keySet(), b.keySet());
    double m = 0;
    for (String k : a.keySet()) {
      float[] x = TensorProtos.floats(a.get(k));
      float[] y = TensorProtos.floats(b.get(k));
      for (int i = 0; i < x.length; i++) {
        m = Math.max(m, Math.abs(x[i] - y[i]));
      }
    }
    return m;
  }

  /** Mean cross-entropy of the untrained model on the training set, targets smoothed by eps. */
  private static double loss(double eps) {
    Dataset train = DataSets.load(DATA, SharedAssets.dataCacheDir());
    assertEquals(64, train.size());
    float[] logits;
    try (ModelSession s = new ModelSession(built)) {
      logits = TensorProtos.floats(s.run(Map.of("input", TensorProtos.ofFloats(
          new long[] {train.size(), 8, 8, 1}, train.images())), List.of("logits")).get("logits"));
    }
    int k = train.classes();
    double sum = 0;
    for (int i = 0; i < train.size(); i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < k; c++) {
        max = Math.max(max, logits[i * k + c]);
      }
      double z = 0;
      for (int c = 0; c < k; c++) {
        z += Math.exp(logits[i * k + c] - max);
      }
      for (int c = 0; c < k; c++) {
        double target = (1 - eps) * (c == train.labels()[i] ? 1 : 0) + eps / k;
        sum -= target * (logits[i * k + c] - max - Math.log(z));
      }
    }
    return sum / train.size();
  }

  /** sum ||K||^2 over the model's kernels (the dense layers' and the head's). */
  private static double kernelSquares() {
    double s = 0;
    int kernels = 0;
    for (Map.Entry<String, TensorProto> e : built.variables().entrySet()) {
      if (e.getKey().endsWith("/kernel")) {
        kernels++;
        for (float v : TensorProtos.floats(e.getValue())) {
          s += (double) v * v;
        }
      }
    }
    assertEquals(3, kernels, built.variables().keySet().toString());
    return s;
  }

  @Test
  void labelSmoothingAndL2ChangeTheLossByTheirFormulas() throws IOException {
    String[] common = {"--optimizer", "sgd", "--steps", "1", "--batch", "64"};
    double plain = steps(train(common)).get(0).get("loss").asDouble();
    double ce = loss(0);
    assertEquals(ce, plain, LOSS_TOL * ce, "the plain step-0 loss is the Java cross-entropy");

    double smoothed = steps(train(concat(common, "--label-smoothing", "0.2")))
        .get(0).get("loss").asDouble();
    double expectedSmoothed = loss(0.2);
    System.out.printf("step-0 loss: plain %.6f (Java %.6f), smoothed %.6f (Java %.6f)%n", plain,
        ce, smoothed, expectedSmoothed);
    assertEquals(expectedSmoothed, smoothed, LOSS_TOL * expectedSmoothed);
    assertTrue(Math.abs(expectedSmoothed - ce) > 100 * LOSS_TOL * ce, "negative control");

    double l2 = steps(train(concat(common, "--l2", "0.01"))).get(0).get("loss").asDouble();
    double expectedL2 = ce + 0.01 * kernelSquares();
    System.out.printf("step-0 loss with --l2 0.01: %.6f (Java %.6f)%n", l2, expectedL2);
    assertEquals(expectedL2, l2, LOSS_TOL * expectedL2);
    assertTrue(Math.abs(expectedL2 - ce) > 100 * LOSS_TOL * ce, "negative control");
  }

  @Test
  void momentumZeroIsPlainSgdAndTheDefaultMomentumIsNot() {
    // TF's momentum update: accum = mu accum + g, w -= lr accum. With mu = 0 it is SGD's
    // w -= lr g, so three steps give the same weights; with mu = 0.9 steps 2 and 3 differ
    String[] common = {"--steps", "3", "--batch", "16", "--lr", "0.1"};
    Map<String, TensorProto> sgd = trained(train(concat(common, "--optimizer", "sgd")));
    Map<String, TensorProto> mu0 = trained(train(concat(common, "--optimizer", "momentum",
        "--momentum", "0")));
    Map<String, TensorProto> mu9 = trained(train(concat(common, "--optimizer", "momentum")));
    double same = maxDiff(sgd, mu0);
    double other = maxDiff(sgd, mu9);
    System.out.printf("momentum 0 vs sgd: %.2e; momentum 0.9 vs sgd: %.2e%n", same, other);
    assertTrue(same <= 1e-7, "momentum 0 vs sgd: " + same);
    assertTrue(other > 1e-4, "negative control, momentum 0.9 vs sgd: " + other);
  }

  /**
   * The K-FAC flags: the same run with the defaults spelled out gives bit-identical weights (the
   * runs are deterministic, so any difference below is the flag's); changing {@code
   * --curvature-ema}, {@code --burn-in}, {@code --stats-examples} or {@code --estimation} changes
   * the trained weights; {@code --adaptive-damping} moves the logged damping by the
   * Levenberg-Marquardt factor omega = 0.9^5 (up or down), which stays at the fixed 1e-3 without
   * it (the TAT recipe's damping, {@code --kfac-recipe tat}).
   */
  @Test
  void kfacFlagsReachTheOptimizer() throws IOException {
    String[] common = {"--optimizer", "kfac", "--kfac-recipe", "tat", "--batch", "16", "--lr",
        "0.003", "--inverse-every", "2"};
    String[] tenSteps = concat(common, "--steps", "10");
    Path base = train(tenSteps);
    Map<String, TensorProto> w0 = trained(base);
    assertEquals(0, maxDiff(w0, trained(train(concat(tenSteps, "--curvature-ema", "0.99",
        "--burn-in", "5", "--stats-examples", "0", "--estimation", "sampled")))),
        "explicit defaults give the same run");
    for (String[] flag : new String[][] {{"--curvature-ema", "0.5"}, {"--burn-in", "0"},
        {"--stats-examples", "4"}, {"--estimation", "empirical"}, {"--estimation", "exact"}}) {
      double d = maxDiff(w0, trained(train(concat(tenSteps, flag))));
      System.out.printf("K-FAC %s %s: max weight change vs defaults %.2e%n", flag[0], flag[1], d);
      assertTrue(d > 1e-6, String.join(" ", flag) + " changed nothing: " + d);
    }

    for (JsonNode s : steps(base)) {
      // float32 in the graph: 1e-3 to 1e-10
      assertEquals(1e-3, s.get("kfac").get("damping").asDouble(), 1e-10, s.toString());
    }
    // adaptations at steps 5, 10, 15 and 20
    List<JsonNode> adaptive = steps(train(concat(common, "--steps", "20",
        "--adaptive-damping")));
    double omega = DampingAdaptation.standard().omega();
    assertEquals(Math.pow(0.9, 5), omega, 1e-12);
    int changes = 0;
    double prev = 1e-3;
    for (JsonNode s : adaptive) {
      double d = s.get("kfac").get("damping").asDouble();
      double ratio = d / prev;
      if (Math.abs(ratio - 1) > 1e-6) {
        changes++;
        assertTrue(Math.abs(ratio - omega) < 1e-5 || Math.abs(ratio - 1 / omega) < 1e-5,
            "damping " + prev + " -> " + d + " at step " + s.get("step"));
      }
      prev = d;
    }
    assertTrue(changes >= 1, "--adaptive-damping never adapted the damping in 20 steps");
  }

  /**
   * {@code --threads} sizes TensorFlow's intra-op pool, which the first session of a process
   * fixes (TF Java notes R9), so each run is a fresh JVM ({@link ThreadCountProbe}): the runs
   * with {@code --threads 1} and {@code --threads 3} differ by exactly 2 TF threads. (Before the
   * fix in TrainCommand the model reader's SavedModelBundle opened the first session with the
   * default pool, and both runs had the same count.)
   */
  @Test
  void threadsSizeTheIntraOpPool() throws IOException, InterruptedException {
    long[] counts = new long[2];
    int[] threads = {1, 3};
    for (int i = 0; i < 2; i++) {
      Path out = tmp.resolve("threads" + threads[i]);
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          ThreadCountProbe.class.getName(), "train", model.toString(), "--data", DATA,
          "--steps", "1", "--batch", "16", "--threads", Integer.toString(threads[i]),
          "--eval-every", "1000", "--checkpoint-every", "1000", "--out", out.toString());
      pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
      Path log = tmp.resolve("threads" + threads[i] + ".out");
      pb.redirectOutput(log.toFile()).redirectError(tmp.resolve("threads" + threads[i] + ".err")
          .toFile());
      Process p = pb.start();
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("train --threads " + threads[i] + " did not finish in 300 s");
      }
      String last = Files.readString(log).strip().lines().reduce((a, b) -> b).orElse("");
      assertTrue(last.startsWith("exit 0 threads "), last + Files.readString(
          tmp.resolve("threads" + threads[i] + ".err")));
      counts[i] = Long.parseLong(last.substring("exit 0 threads ".length()));
    }
    System.out.printf("TF threads: --threads 1: %d, --threads 3: %d%n", counts[0], counts[1]);
    assertEquals(2, counts[1] - counts[0], Arrays.toString(counts));
  }

  private static String[] concat(String[] a, String... b) {
    String[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }
}
