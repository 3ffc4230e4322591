package dev.dks.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.solver.solve.Method;
import dev.dks.trainers.device.DevicePlacement;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.optim.SgdOptimizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;

/**
 * Training throughput and the Java loop's overhead over TensorFlow's kernels (issue 5,
 * performance: the loop adds under 5% to the time spent in TF kernels). One process, one
 * {@link TrainingGraph} of the reference network (plain CNN, TAT-shaped leaky ReLU, depth 50,
 * width 64, 28x28x1 input, 10 classes, batch 128; every figure can be overridden), one fixed
 * synthetic batch, and per measured step, interleaved so that load on the machine hits all of
 * them alike (their order rotates from step to step, so none always runs first or right after the
 * traced run):
 *
 * <ul>
 *   <li><b>(a) Java loop</b>: {@link TrainingGraph#step} exactly as the {@code Trainer} times it
 *       (tensors created from {@code float[]}, fed, loss and accuracy fetched, everything closed);
 *   <li><b>(b) raw runner</b>: the same feeds, fetches and update target through {@code
 *       session().runner()} with tensors created once before the loop (so (a) - (b) is the cost of
 *       creating and copying the tensors and reading the results);
 *   <li><b>(c) traced runner</b>: (b) with {@code RunOptions} {@code FULL_TRACE} and {@code
 *       runAndFetchMetadata()}; from its step statistics the <b>TF span</b> (earliest node start
 *       to latest node end over all devices: the time TF is busy with the step, the fair
 *       denominator for overhead) and the <b>op-time sum</b> per device (sum of {@code
 *       all_end_rel_micros}; can exceed the span when ops run in parallel). Tracing slows the
 *       kernels somewhat, so the span is an upper bound of the untraced kernel time and the
 *       overhead ratio (a - span) / span a lower bound; (a) / (b) tells the untraced story.
 * </ul>
 *
 * <p>Then the achieved FLOP/s: conv and matmul FLOPs of one training step counted from the graph
 * (forward {@code 2 * B * Ho * Wo * kh * kw * cin * cout} per conv, {@code 2 * B * k * n} per
 * dense layer, times 3 for forward + both backward products; the first layer's input gradient is
 * not computed by TF, so this is slightly high) over the measured step time, next to the FLOP/s
 * of an {@code N x N x N} float32 MatMul (default 2048) run in the same process with the same
 * session configuration (the intra-op pool is fixed by the first session, TF Java notes R9, so
 * the harness opens one with that configuration before anything else).
 *
 * <p>Usage: {@code java -cp benchmarks.jar dev.dks.benchmarks.TrainingThroughputHarness [--depth
 * 50] [--width 64] [--batch 128] [--steps 10] [--warmup 2] [--threads 0] [--classes 10] [--input
 * 28x28x1] [--optimizer sgd|momentum|nesterov] [--matmul 2048] [--matmul-reps 5] [--json FILE]};
 * {@code --threads 0} leaves the intra-op thread count to TF. Prints a table and one line {@code
 * JSON {...}}; the JSON also goes to {@code benchmarks/target/training-throughput.json}.
 */
public final class TrainingThroughputHarness {
  private TrainingThroughputHarness() {}

  /** What the script and the table need; parsed from the arguments. */
  static final class Options {
    int depth = 50;
    int width = 64;
    int batch = 128;
    int steps = 10;
    int warmup = 2;
    int threads = 0;
    int classes = 10;
    String input = "28x28x1";
    SgdOptimizer.Kind optimizer = SgdOptimizer.Kind.SGD;
    double lr = 1e-3;
    double momentum = 0.9;
    int matmul = 2048;
    int matmulReps = 5;
    Path json = Path.of("benchmarks/target/training-throughput.json");

    static Options parse(String[] args) {
      Options o = new Options();
      boolean parsed = HarnessSupport.parsePairs(args, (a, v) -> {
        switch (a) {
          case "--depth" -> o.depth = positive(a, v);
          case "--width" -> o.width = positive(a, v);
          case "--batch" -> o.batch = positive(a, v);
          case "--steps" -> o.steps = positive(a, v);
          case "--warmup" -> o.warmup = Integer.parseInt(v);
          case "--threads" -> o.threads = Integer.parseInt(v);
          case "--classes" -> o.classes = positive(a, v);
          case "--input" -> o.input = v;
          case "--optimizer" -> o.optimizer = SgdOptimizer.Kind.valueOf(
              v.toUpperCase(Locale.ROOT));
          case "--lr" -> o.lr = Double.parseDouble(v);
          case "--matmul" -> o.matmul = Integer.parseInt(v);
          case "--matmul-reps" -> o.matmulReps = positive(a, v);
          case "--json" -> o.json = Path.of(v);
          default -> throw HarnessSupport.unknown(a);
        }
      });
      if (!parsed) {
        return null;
      }
      if (o.warmup < 0 || o.threads < 0 || o.matmul < 0) {
        throw new IllegalArgumentException("--warmup, --threads and --matmul must be >= 0");
      }
      return o;
    }

    private static int positive(String name, String v) {
      int n = Integer.parseInt(v);
      if (n <= 0) {
        throw new IllegalArgumentException(name + " must be positive, got " + v);
      }
      return n;
    }
  }

  /** The step statistics of one traced step, in microseconds. */
  record Trace(double spanUs, double opSumUs, Map<String, Double> opSumByDevice,
      Map<String, Double> opSumByType, int nodes) {}

  public static void main(String[] args) throws IOException {
    Options o = HarnessSupport.parseOrExit(args, Options::parse);
    if (o == null) {
      System.out.println("usage: TrainingThroughputHarness [--depth 50] [--width 64] "
          + "[--batch 128] [--steps 10] [--warmup 2] [--threads 0 (TF decides)] [--classes 10] "
          + "[--input 28x28x1] [--optimizer sgd|momentum|nesterov] [--lr 0.001] "
          + "[--matmul 2048 (0: skip)] [--matmul-reps 5] [--json FILE]");
      return;
    }
    PrintStream out = System.out;
    long start = System.nanoTime();
    ConfigProto config = DevicePlacement.config(false, o.threads, 0);
    // The first session fixes the process's intra-op pool (R9): open it with our configuration.
    firstSession(config);
    HarnessSupport.printEnvironment(out);

    ArchitectureSpec spec = ArchitectureSpec.builder(Architecture.PLAIN_CNN, o.depth)
        .width(o.width).activation("leaky_relu").input(o.input).classes(o.classes)
        .shaped(Method.TAT).seed(0).build();
    long t0 = System.nanoTime();
    BuiltModel built = ModelBuilder.build(spec);
    Model model = built.model();
    double buildMs = (System.nanoTime() - t0) / 1e6;
    HarnessSupport.FixedBatch fixed = HarnessSupport.syntheticBatch(model, o.batch, o.classes);
    float[] x = fixed.x();
    float[] y = fixed.y();
    long[] xShape = fixed.shape();

    Map<String, Object> row = new LinkedHashMap<>();
    t0 = System.nanoTime();
    try (TrainingGraph tg = TrainingGraph.build(model,
        TrainingSpec.defaults().withOptimizer(o.optimizer), config)) {
      double graphMs = (System.nanoTime() - t0) / 1e6;
      Flops flops = countFlops(model, tg.graph(), o.batch);
      out.printf(Locale.ROOT, "network: %s; %d trainable variables, %,d parameters; built in "
              + "%.0f ms, training graph + session in %.0f ms%n", spec.describe(),
          tg.trainableVariables().size(), built.parameterCount(), buildMs, graphMs);
      out.printf(Locale.ROOT, "run: batch %d, %d warm-up + %d measured steps per mode "
              + "(interleaved), optimizer %s, lr %.3g, intra-op threads %s, synthetic fixed "
              + "batch%n", o.batch, o.warmup, o.steps, o.optimizer.name().toLowerCase(Locale.ROOT),
          o.lr, o.threads == 0 ? "TF default" : Integer.toString(o.threads));
      out.printf(Locale.ROOT, "FLOPs per training step: %.2f GFLOP (%d convs, %d dense; forward "
          + "%.2f GFLOP x 3)%n", flops.step() / 1e9, flops.convs, flops.dense,
          flops.forward / 1e9);

      String inputName = inputName(model);
      List<Double> javaMs = new ArrayList<>();
      List<Double> rawMs = new ArrayList<>();
      List<Double> tracedMs = new ArrayList<>();
      List<Trace> traces = new ArrayList<>();
      try (TFloat32 xt = TFloat32.tensorOf(Shape.of(xShape), DataBuffers.of(x, true, false));
          TFloat32 yt = TFloat32.tensorOf(Shape.of(o.batch, o.classes),
              DataBuffers.of(y, true, false));
          TFloat32 lrt = TFloat32.scalarOf((float) o.lr);
          TFloat32 mut = TFloat32.scalarOf((float) o.momentum)) {
        RunOptions fullTrace = RunOptions.newBuilder()
            .setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build();
        for (int i = 0; i < o.warmup + o.steps; i++) {
          boolean keep = i >= o.warmup;
          // The three modes in an order that rotates with the step, so that none always runs
          // right after the traced one (or first): position effects average out.
          double javaStep = 0;
          double rawStep = 0;
          double tracedStep = 0;
          double loss = Double.NaN;
          Trace tr = null;
          for (int k = 0; k < 3; k++) {
            int mode = (i + k) % 3;
            long s0 = System.nanoTime();
            if (mode == 0) {
              // (a) the Trainer's call
              loss = tg.step(x, xShape, y, o.lr, o.momentum)[0];
              javaStep = (System.nanoTime() - s0) / 1e6;
            } else if (mode == 1) {
              // (b) raw runner, tensors made once
              try (Result r = runner(tg, inputName, xt, yt, lrt, mut).run()) {
                r.size();
              }
              rawStep = (System.nanoTime() - s0) / 1e6;
            } else {
              // (c) traced
              try (Result r = runner(tg, inputName, xt, yt, lrt, mut).setOptions(fullTrace)
                  .runAndFetchMetadata()) {
                tracedStep = (System.nanoTime() - s0) / 1e6;
                tr = trace(r.getMetadata().orElseThrow(
                    () -> new IllegalStateException("TF returned no run metadata")), tg.graph());
              }
            }
          }
          if (keep) {
            javaMs.add(javaStep);
            rawMs.add(rawStep);
            tracedMs.add(tracedStep);
            traces.add(tr);
          }
          out.printf(Locale.ROOT, "  %s %2d: java %8.1f ms, raw %8.1f ms, traced %8.1f ms "
                  + "(span %8.1f ms, op sum %8.1f ms), loss %.4f%n", keep ? "step  " : "warm-up",
              keep ? i - o.warmup : i, javaStep, rawStep, tracedStep, tr.spanUs / 1e3,
              tr.opSumUs / 1e3, loss);
        }
      }

      double java = HarnessSupport.median(javaMs);
      double raw = HarnessSupport.median(rawMs);
      double traced = HarnessSupport.median(tracedMs);
      double span = HarnessSupport.median(traces.stream().map(t -> t.spanUs / 1e3).toList());
      double opSum = HarnessSupport.median(traces.stream().map(t -> t.opSumUs / 1e3).toList());
      Map<String, Double> byDevice = new TreeMap<>();
      for (String d : traces.get(0).opSumByDevice.keySet()) {
        byDevice.put(d, HarnessSupport.median(traces.stream()
            .map(t -> t.opSumByDevice.getOrDefault(d, 0.0) / 1e3).toList()));
      }
      Map<String, Double> byType = new LinkedHashMap<>();
      traces.get(0).opSumByType.entrySet().stream()
          .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
          .forEach(e -> byType.put(e.getKey(), HarnessSupport.median(traces.stream()
              .map(t -> t.opSumByType.getOrDefault(e.getKey(), 0.0) / 1e3).toList())));

      List<Double> spans = traces.stream().map(t -> t.spanUs / 1e3).toList();
      double pairedRaw = pairedMedian(javaMs, rawMs);
      double pairedSpan = pairedMedian(javaMs, spans);
      double createMs = tensorCreationMs(x, xShape, y, o, 30);
      double[] mm = o.matmul > 0 ? matmulGflops(o.matmul, o.matmulReps, config)
          : new double[] {Double.NaN, Double.NaN};
      double overSpan = (java - span) / span;
      double overRaw = (java - raw) / raw;
      double rawOverSpan = (raw - span) / span;
      double gflopsJava = flops.step() / (java / 1e3) / 1e9;
      double gflopsSpan = flops.step() / (span / 1e3) / 1e9;

      out.println();
      out.println("Per training step, median of " + o.steps + " measured steps (mean in "
          + "brackets):");
      String fmt = "  %-58s %10.2f ms  (%10.2f)  %9.1f ex/s%n";
      out.printf(Locale.ROOT, fmt, "(a) Java loop: TrainingGraph.step (tensors from float[])",
          java, mean(javaMs), o.batch / (java / 1e3));
      out.printf(Locale.ROOT, fmt, "(b) raw runner, tensors created once", raw, mean(rawMs),
          o.batch / (raw / 1e3));
      out.printf(Locale.ROOT, fmt, "(c) traced runner (FULL_TRACE), wall", traced,
          mean(tracedMs), o.batch / (traced / 1e3));
      out.printf(Locale.ROOT, fmt, "    TF span: earliest node start to latest node end", span,
          mean(traces.stream().map(t -> t.spanUs / 1e3).toList()), o.batch / (span / 1e3));
      out.printf(Locale.ROOT, "  %-58s %10.2f ms  (%10.2f)  %d nodes%n",
          "    TF op-time sum, all devices", opSum,
          mean(traces.stream().map(t -> t.opSumUs / 1e3).toList()), traces.get(0).nodes);
      byDevice.forEach((d, ms) -> out.printf(Locale.ROOT, "  %-58s %10.2f ms%n",
          "      " + DevicePlacement.shortName(d), ms));
      out.println("  op time by op type (top 8):");
      byType.entrySet().stream().limit(8).forEach(e -> out.printf(Locale.ROOT,
          "      %-54s %10.2f ms  %5.1f%%%n", e.getKey(), e.getValue(),
          100 * e.getValue() / opSum));
      out.println();
      out.printf(Locale.ROOT, "Java overhead over the TF span  (a - span) / span: %+7.2f%%  "
          + "(goal < 5%%: %s)%n", 100 * overSpan, overSpan < 0.05 ? "met" : "NOT met");
      out.printf(Locale.ROOT, "tensor creation/copy + fetch   (a - b) / b:       %+7.2f%%%n",
          100 * overRaw);
      out.printf(Locale.ROOT, "  paired (same step index, median of differences): a - span "
          + "%+.2f ms = %+.2f%%, a - b %+.2f ms%n", pairedSpan, 100 * pairedSpan / span, pairedRaw);
      out.printf(Locale.ROOT, "  creating + closing the 4 feed tensors from float[] alone (median "
          + "of 30): %.3f ms = %.3f%% of the span%n", createMs, 100 * createMs / span);
      out.printf(Locale.ROOT, "session run outside the span   (b - span) / span: %+7.2f%%  "
          + "(negative: tracing slows the kernels more than the rest costs)%n", 100 * rawOverSpan);
      out.printf(Locale.ROOT, "tracing cost                   (c - b) / b:       %+7.2f%%%n",
          100 * (traced - raw) / raw);
      out.printf(Locale.ROOT, "achieved: %.1f GFLOP/s over (a), %.1f GFLOP/s over the TF span; "
          + "MatMul %dx%dx%d float32: best %.1f, median %.1f GFLOP/s (%d reps); (a) reaches "
          + "%.0f%% of the MatMul median%n", gflopsJava, gflopsSpan, o.matmul, o.matmul,
          o.matmul, mm[0], mm[1], o.matmulReps, 100 * gflopsJava / mm[1]);

      row.put("network", spec.describe());
      row.put("depth", o.depth);
      row.put("width", o.width);
      row.put("input", o.input);
      row.put("classes", o.classes);
      row.put("batch", o.batch);
      row.put("steps", o.steps);
      row.put("warmup", o.warmup);
      row.put("threads", o.threads);
      row.put("optimizer", o.optimizer.name().toLowerCase(Locale.ROOT));
      row.put("parameters", built.parameterCount());
      row.put("flopsPerStep", flops.step());
      row.put("javaStepMs", java);
      row.put("rawStepMs", raw);
      row.put("tracedStepMs", traced);
      row.put("tfSpanMs", span);
      row.put("tfOpSumMs", opSum);
      row.put("tfOpSumByDeviceMs", byDevice);
      row.put("tfOpSumByTypeMs", byType);
      row.put("examplesPerSecond", o.batch / (java / 1e3));
      row.put("overheadVsSpan", overSpan);
      row.put("overheadVsRaw", overRaw);
      row.put("pairedJavaMinusSpanMs", pairedSpan);
      row.put("pairedJavaMinusRawMs", pairedRaw);
      row.put("tensorCreationMs", createMs);
      row.put("gflopsJava", gflopsJava);
      row.put("gflopsSpan", gflopsSpan);
      row.put("matmulN", o.matmul);
      row.put("matmulGflopsBest", mm[0]);
      row.put("matmulGflopsMedian", mm[1]);
      row.put("javaMs", javaMs);
      row.put("rawMs", rawMs);
      row.put("tracedMs", tracedMs);
      row.put("spanMs", spans);
    }
    out.println("JSON " + new ObjectMapper().writeValueAsString(row));
    HarnessSupport.finish(out, start, o.json, List.of(row));
  }

  private static Session.Runner runner(TrainingGraph tg, String input, TFloat32 x, TFloat32 y,
      TFloat32 lr, TFloat32 mu) {
    return tg.session().runner().feed(input, x).feed(tg.labelsName(), y)
        .feed("train/learning_rate", lr).feed("train/momentum", mu).fetch("train/loss")
        .fetch("train/accuracy").addTarget("train/optimizer/apply");
  }

  private static String inputName(Model m) {
    TensorName t = m.signature(Signature.SERVING_DEFAULT).inputs().values().iterator().next()
        .tensor();
    return t.node() + ":" + t.index();
  }

  /** Span (earliest start to latest end) and op-time sums of one traced step. */
  static Trace trace(RunMetadata md, Graph g) {
    long first = Long.MAX_VALUE;
    long last = Long.MIN_VALUE;
    double sum = 0;
    int nodes = 0;
    Map<String, Double> byDevice = new TreeMap<>();
    Map<String, Double> byType = new TreeMap<>();
    for (DeviceStepStats d : md.getStepStats().getDevStatsList()) {
      for (NodeExecStats n : d.getNodeStatsList()) {
        long s = n.getAllStartMicros();
        long e = s + n.getAllEndRelMicros();
        first = Math.min(first, s);
        last = Math.max(last, e);
        sum += n.getAllEndRelMicros();
        nodes++;
        byDevice.merge(d.getDevice(), (double) n.getAllEndRelMicros(), Double::sum);
        byType.merge(opType(n, g), (double) n.getAllEndRelMicros(), Double::sum);
      }
    }
    return new Trace(nodes == 0 ? Double.NaN : last - first, sum, byDevice, byType, nodes);
  }

  /**
   * The op type that ran: from the timeline label ({@code "name = _FusedConv2D(a, b)"}; Grappler
   * fuses Conv2D + BiasAdd + activation into a node that keeps the BiasAdd's name), else the
   * graph's type of the node, else the node name.
   */
  private static String opType(NodeExecStats n, Graph g) {
    String label = n.getTimelineLabel();
    int eq = label.indexOf(" = ");
    if (eq >= 0) {
      int paren = label.indexOf('(', eq);
      String t = label.substring(eq + 3, paren < 0 ? label.length() : paren).trim();
      if (!t.isEmpty()) {
        return t;
      }
    }
    GraphOperation op = g.operation(n.getNodeName());
    return op == null ? n.getNodeName() : op.type();
  }

  /** Forward FLOPs of the model's convs and matmuls at batch {@code b}. */
  record Flops(double forward, int convs, int dense) {
    double step() {
      return 3 * forward;
    }
  }

  /**
   * Counts {@code 2 * b * (output positions) * (kernel elements)} over the model's Conv2D,
   * DepthwiseConv2dNative and MatMul nodes, with the shapes TF inferred in {@code g}.
   */
  static Flops countFlops(Model m, Graph g, int b) {
    double f = 0;
    int convs = 0;
    int dense = 0;
    for (NodeDef n : m.graph().getNodeList()) {
      boolean conv = n.getOp().equals("Conv2D") || n.getOp().equals("DepthwiseConv2dNative");
      if (!conv && !n.getOp().equals("MatMul")) {
        continue;
      }
      Shape os = g.operationOrThrow(n.getName()).output(0).shape();
      TensorName k = TensorName.parse(n.getInput(1));
      Shape ks = g.operationOrThrow(k.node()).output(k.index()).shape();
      double positions = 1;
      for (int i = 1; i < os.numDimensions() - 1; i++) {
        positions *= os.get(i);
      }
      double kernel = 1;
      for (int i = 0; i < ks.numDimensions(); i++) {
        kernel *= ks.get(i);
      }
      if (positions <= 0 || kernel <= 0) {
        throw new IllegalStateException("unknown shape at " + n.getName() + ": " + os + ", "
            + ks);
      }
      f += 2.0 * b * positions * kernel;
      if (conv) {
        convs++;
      } else {
        dense++;
      }
    }
    return new Flops(f, convs, dense);
  }

  /**
   * {best, median} GFLOP/s of an {@code n x n x n} float32 MatMul whose inputs are fed from
   * tensors created once (no copy: TF Java hands the buffers over) and whose scalar mean is
   * fetched (n^2 additions against 2n^3 FLOPs); one unmeasured run first.
   */
  static double[] matmulGflops(int n, int reps, ConfigProto config) {
    SplittableRandom rng = new SplittableRandom(1);
    float[] v = new float[n * n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rng.nextDouble() - 0.5);
    }
    List<Double> gflops = new ArrayList<>();
    try (Graph g = new Graph();
        TFloat32 a = TFloat32.tensorOf(Shape.of(n, n), DataBuffers.of(v, true, false));
        TFloat32 b = TFloat32.tensorOf(Shape.of(n, n), DataBuffers.of(v, true, false))) {
      Ops tf = Ops.create(g);
      var pa = tf.withName("a").placeholder(TFloat32.class, Placeholder.shape(Shape.of(n, n)));
      var pb = tf.withName("b").placeholder(TFloat32.class, Placeholder.shape(Shape.of(n, n)));
      var mean = tf.withName("mean").math.mean(tf.linalg.matMul(pa, pb),
          tf.constant(new int[] {0, 1}));
      try (Session s = new Session(g, config)) {
        for (int i = 0; i <= reps; i++) {
          long t0 = System.nanoTime();
          try (Result r = s.runner().feed(pa, a).feed(pb, b).fetch(mean).run()) {
            r.size();
          }
          double sec = (System.nanoTime() - t0) / 1e9;
          if (i > 0) {
            gflops.add(2.0 * n * n * (double) n / sec / 1e9);
          }
        }
      }
    }
    return new double[] {gflops.stream().max(Comparator.naturalOrder()).orElse(Double.NaN),
        HarnessSupport.median(gflops)};
  }

  /** Opens and runs one session with {@code config}, so that it sizes the thread pools. */
  private static void firstSession(ConfigProto config) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      var one = tf.withName("one").constant(1f);
      try (Session s = new Session(g, config);
          Result r = s.runner().fetch(one).run()) {
        r.size();
      }
    }
  }

  /** The median of {@code a[i] - b[i]}. */
  private static double pairedMedian(List<Double> a, List<Double> b) {
    List<Double> d = new ArrayList<>();
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      d.add(a.get(i) - b.get(i));
    }
    return HarnessSupport.median(d);
  }

  /**
   * Median ms of creating the four tensors {@link TrainingGraph#step} feeds (input, labels,
   * learning rate, momentum) from Java arrays and closing them, as it does; one unmeasured round.
   */
  private static double tensorCreationMs(float[] x, long[] xShape, float[] y, Options o,
      int reps) {
    List<Double> ms = new ArrayList<>();
    for (int i = 0; i <= reps; i++) {
      long t0 = System.nanoTime();
      try (TFloat32 xt = TFloat32.tensorOf(Shape.of(xShape), DataBuffers.of(x, true, false));
          TFloat32 yt = TFloat32.tensorOf(Shape.of(o.batch, o.classes),
              DataBuffers.of(y, true, false));
          TFloat32 lrt = TFloat32.scalarOf((float) o.lr);
          TFloat32 mut = TFloat32.scalarOf((float) o.momentum)) {
        xt.size();
      }
      if (i > 0) {
        ms.add((System.nanoTime() - t0) / 1e6);
      }
    }
    return HarnessSupport.median(ms);
  }

  private static double mean(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }
}
