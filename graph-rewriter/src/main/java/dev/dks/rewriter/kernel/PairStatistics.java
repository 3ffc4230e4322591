package dev.dks.rewriter.kernel;

import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.StridedSlice;
import org.tensorflow.op.core.Unstack;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * Per-pair kernel statistics computed by TensorFlow: a {@link ModelSession} on a copy of the
 * model whose input is built in the graph from {@code [examples, features]} rows ({@link
 * PairFeed}), plus, for each measured tensor {@code T} (rank >= 2, channels last, examples in
 * pairs {@code (2p, 2p+1)}; a Pad's output without its border, {@link PaddedInterior}), ops that
 * take location 0 of every example ({@code
 * Reshape(T, [examples, -1])[:, :F]}, the first F entries in row-major order, F = last dimension),
 * cast it to float64, and reduce it over channels to three numbers per pair: {@code sum a^2},
 * {@code sum b^2}, {@code sum a b}. Only those ({@code [pairs, 3]} float64) and F are fetched, so
 * a chunk costs TensorFlow's activations of one forward pass and Java a few numbers per layer.
 * Weight draws reuse the graph and the session: {@link #assign} loads new variable values.
 *
 * <p>One example at a time: a graph whose batch is fixed (an input of static batch 1, a Reshape
 * to a constant {@code [1, ...]}, a measured tensor whose leading dimension is not the fed
 * batch) cannot take the {@code 2 pairs} examples of a chunk as one batch. Then each example of
 * a pair goes through the graph alone, and per measured tensor only its location-0 vector (the
 * first F values of the example's tensor in row-major order, whatever its leading dimensions;
 * cast to float64) is fetched; Java forms the same three sums per pair from the two runs, in
 * float64 as the batched ops do. The fetched vectors of a run are bounded by {@link
 * #SINGLE_FETCH_BUDGET_BYTES} (measured tensors go through in groups, each group's pass run per
 * example, when their widths add up to more). The mode is chosen statically where the graph
 * shows it ({@link #fixedBatchReason}), else the first run tries the batch and falls back once
 * when TensorFlow refuses it or a measured tensor's leading dimension is not the fed batch;
 * {@link #oneAtATimeReason()} says why.
 *
 * <p>Not thread-safe; close it to free the session and the graph.
 */
final class PairStatistics implements AutoCloseable {
  /** Name scope of the statistic ops. */
  static final String SCOPE = "dks_kernel_stats";

  /**
   * Most bytes of location-0 vectors (float64) one single-example run fetches; more measured
   * tensors than that go through in groups. 64 MiB: 8M channels, far beyond real networks (a
   * ResNet-50's measured tensors add up to about 30k), so normally one run per example.
   */
  static final long SINGLE_FETCH_BUDGET_BYTES = 64L << 20;

  /** How the examples are fed: decided from the graph and the first run, or forced (tests). */
  enum Feeding {
    /** One batch per chunk, unless the graph shows or the first run finds a fixed batch. */
    AUTO,
    /** Always one batch per chunk. */
    BATCHED,
    /** Always one example per run. */
    ONE_AT_A_TIME
  }

  private final ModelSession session;
  private final PairFeed feed;
  private final long largest;
  /** Why the run must keep the model's spatial size ({@link #fixedSizeReason}), or null. */
  private final String fixedSize;
  private final int features;
  private final List<String> measured;
  private final List<Output<TFloat64>> sums = new ArrayList<>();
  private final List<Output<TInt32>> widths = new ArrayList<>();
  /** Per measured tensor: its leading dimension (the batch, when the graph carries one). */
  private final List<Output<TInt32>> leading = new ArrayList<>();
  /** Per measured tensor: the location-0 vector of a single fed example, float64. */
  private final List<Output<TFloat64>> singles = new ArrayList<>();
  /** Why the examples go through one at a time, or null while they go as one batch. */
  private String oneAtATime;
  /** Whether the feeding mode is settled (statically, forced, or by the first run). */
  private boolean decided;
  /** Bytes of location-0 vectors one single-example run may fetch ({@link #runSingly}). */
  private long singleFetchBudget = SINGLE_FETCH_BUDGET_BYTES;
  /** F per measured tensor from the model's static shapes, -1 where unknown. */
  private final long[] staticWidths;
  /** Per float32 variable: the placeholder and the Assign that load a new value. */
  private final Map<String, Placeholder<TFloat32>> valueFeeds = new LinkedHashMap<>();
  private final Map<String, Assign<TFloat32>> assigns = new LinkedHashMap<>();

  /**
   * Loads the model with the in-graph input and adds the statistics of {@code measured} (node
   * names, output 0; {@code feedNode} among them stands for the built input).
   */
  PairStatistics(Model model, String feedNode, long[] feedShape, List<String> measured) {
    this(model, feedNode, feedShape, measured, java.util.Set.of());
  }

  /** As above, accepting the policy ops in {@code allowedOps} ({@link ModelSession}). */
  PairStatistics(Model model, String feedNode, long[] feedShape, List<String> measured,
      java.util.Set<String> allowedOps) {
    this(model, feedNode, feedShape, measured, allowedOps, Feeding.AUTO);
  }

  /**
   * As above, with the feeding mode: {@link Feeding#AUTO} (the check's) or forced (tests
   * comparing the two paths on a graph that takes both).
   */
  PairStatistics(Model model, String feedNode, long[] feedShape, List<String> measured,
      java.util.Set<String> allowedOps, Feeding feeding) {
    this.feed = PairFeed.of(model.graph(), feedNode, feedShape);
    this.features = Math.toIntExact(feedShape[feedShape.length - 1]);
    this.measured = List.copyOf(measured);
    // the copy's spatial shapes are dynamic (Tile by fed multiples): sizes from the original
    try (Graph original = new Graph()) {
      GraphImport.into(original, model.graph());
      this.largest = PairChunks.largestActivation(original);
      this.fixedSize = fixedSizeReason(model.graph());
      this.staticWidths = new long[measured.size()];
      for (int i = 0; i < staticWidths.length; i++) {
        org.tensorflow.GraphOperation op = original.operation(measured.get(i));
        Shape sh = op == null || op.numOutputs() == 0 ? Shape.unknown() : op.output(0).shape();
        staticWidths[i] = measured.get(i).equals(feedNode) ? features
            : sh.isUnknown() || sh.numDimensions() < 1 ? -1 : sh.size(sh.numDimensions() - 1);
      }
      if (feeding == Feeding.AUTO) {
        this.oneAtATime = fixedBatchReason(original, feedNode, feedShape, measured);
        this.decided = oneAtATime != null;
      } else {
        this.decided = true;
        this.oneAtATime = feeding == Feeding.ONE_AT_A_TIME ? "forced" : null;
      }
    }
    this.session = new ModelSession(model.with(feed.graph(), model.variables()), allowedOps);
    try {
      Graph g = session.graph();
      String scope = SCOPE;
      for (int i = 1; g.operation(scope) != null || hasPrefix(g, scope + "/"); i++) {
        scope = SCOPE + "_" + i;
      }
      Ops tf = Ops.create(g).withSubScope(scope);
      dev.dks.rewriter.graph.GraphView fed = dev.dks.rewriter.graph.GraphView.of(feed.graph());
      for (String node : measured) {
        String src = node.equals(feedNode) ? feed.tensor() : node;
        org.tensorflow.GraphOperation op = g.operationOrThrow(src);
        // behind a Transpose (an ONNX model's NCHW tensors): the channels-last view at its
        // centre (ChannelsLastView); else a Pad is read at its unpadded interior
        // (PaddedInterior: the border has no signal)
        int[] perm = ChannelsLastView.plan(fed, src);
        addStatistics(tf, perm == null ? PaddedInterior.of(tf, op, op.output(0))
            : ChannelsLastView.centre(tf, op.output(0), perm), node, feeding);
      }
      Ops assign = tf.withSubScope("assign");
      for (Map.Entry<String, TensorProto> v : model.variables().entrySet()) {
        if (v.getValue().getDtype() != DataType.DT_FLOAT) {
          continue;
        }
        Placeholder<TFloat32> ph = assign.placeholder(TFloat32.class);
        valueFeeds.put(v.getKey(), ph);
        assigns.put(v.getKey(), assign.assign(g.operationOrThrow(v.getKey()).output(0), ph));
      }
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /**
   * Loads new values into some of the model's float32 variables (e.g. a weight draw, {@link
   * WeightRotations}) in the same session: later {@link #run}s see them. The graph and the session
   * stay; only the values travel.
   */
  void assign(Map<String, TensorProto> values) {
    if (values.isEmpty()) {
      return;
    }
    Session.Runner r = session.session().runner();
    List<TFloat32> opened = new ArrayList<>();
    try {
      for (Map.Entry<String, TensorProto> e : values.entrySet()) {
        Placeholder<TFloat32> ph = valueFeeds.get(e.getKey());
        if (ph == null) {
          throw new IllegalArgumentException("no float32 variable '" + e.getKey()
              + "' in the model to assign");
        }
        TFloat32 t = TensorProtos.toTensor(e.getValue());
        opened.add(t);
        r.feed(ph, t).addTarget(assigns.get(e.getKey()));
      }
      r.run().close();
    } finally {
      opened.forEach(TFloat32::close);
    }
  }

  /** Features per example of the fed rows. */
  int features() {
    return features;
  }

  /** The largest per-example element count of a batch-dependent tensor ({@link PairChunks}). */
  long largestActivation() {
    return largest;
  }

  /**
   * Ops whose output size is an operand: a transposed convolution's {@code input_sizes}. When it
   * is a constant, a run at fewer locations than the model's feeds the op an input that does not
   * match that size, and oneDNN's convolution aborts the whole process ("could not create a
   * primitive descriptor for a convolution forward propagation primitive": handdetect's verify
   * exited 134) instead of raising the TensorFlow error {@link PairSums} catches.
   */
  static final java.util.Set<String> SIZED_OPS = java.util.Set.of("Conv2DBackpropInput",
      "Conv2DBackpropInputV2", "Conv3DBackpropInputV2");

  /** Why runs must keep the model's spatial size: a sized op of a constant size, or null. */
  static String fixedSizeReason(org.tensorflow.proto.GraphDef g) {
    java.util.Map<String, org.tensorflow.proto.NodeDef> byName = new java.util.HashMap<>();
    for (org.tensorflow.proto.NodeDef n : g.getNodeList()) {
      byName.put(n.getName(), n);
    }
    for (org.tensorflow.proto.NodeDef n : g.getNodeList()) {
      if (SIZED_OPS.contains(n.getOp()) && n.getInputCount() > 0) {
        org.tensorflow.proto.NodeDef size = byName.get(
            dev.dks.rewriter.graph.TensorName.parse(n.getInput(0)).node());
        if (size == null || size.getOp().equals("Const")) {
          return "'" + n.getName() + "' (" + n.getOp() + ") has a constant output size";
        }
      }
    }
    return null;
  }

  /** Whether runs may use fewer locations than the model's (no sized op of a constant size). */
  boolean reducible() {
    return fixedSize == null;
  }

  /** The spatial dimensions of the fed tensor in the model. */
  long[] spatial() {
    return feed.spatial().clone();
  }

  /** The measured node names, in the order of {@link #run}'s result. */
  List<String> measured() {
    return measured;
  }

  /**
   * Feeds {@code 2 * pairs} examples ({@code rows}, row-major {@code [2 pairs, features]}) and
   * returns, per measured tensor, {@code [sum a^2, sum b^2, sum a b]} for each pair in order
   * (length {@code 3 * pairs}); {@code widths}, when not null, receives F per measured tensor.
   * The rows are tiled over {@code spatial} locations (the model's own {@link #spatial()}, or
   * fewer). The examples go as one batch, or one at a time (see the class comment); the first
   * run of an undecided instance falls back to one at a time when the batch is refused.
   */
  double[][] run(float[] rows, int pairs, long[] widthsOut, long[] spatial) {
    if (rows.length != 2L * pairs * features) {
      throw new IllegalArgumentException("expected " + 2L * pairs * features + " values, got "
          + rows.length);
    }
    if (oneAtATime != null) {
      return runSingly(rows, pairs, widthsOut, spatial);
    }
    if (decided) {
      return runBatched(rows, pairs, widthsOut, spatial);
    }
    try {
      double[][] out = runBatched(rows, pairs, widthsOut, spatial);
      decided = true;
      return out;
    } catch (RuntimeException e) {
      // TF's errors: TFInvalidArgumentException (an IllegalArgumentException, e.g. a Reshape
      // to [1, ...]), other TensorFlowExceptions (e.g. memory); or a FixedBatchException
      decided = true;
      oneAtATime = "the graph did not take a batch of " + 2L * pairs + " examples ("
          + firstLine(e.getMessage()) + ")";
      try {
        return runSingly(rows, pairs, widthsOut, spatial);
      } catch (RuntimeException e2) {
        e2.addSuppressed(e);
        throw e2;
      }
    }
  }

  /**
   * Why the examples go through one at a time (the graph's fixed batch, or the refused batch of
   * the first run; "forced" when a test chose it), or null when they go as one batch.
   */
  String oneAtATimeReason() {
    return oneAtATime;
  }

  /** Sets the byte budget of one single-example run's fetched vectors (tests: groups). */
  void singleFetchBudget(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("the fetch budget must be positive, got " + bytes);
    }
    this.singleFetchBudget = bytes;
  }

  /**
   * Why the graph cannot take a batch of examples, as far as its static shapes show: the fed
   * tensor has batch dimension 1, or a measured tensor has a known leading dimension (a reshape
   * to a constant shape, so it is not the batch); null when nothing shows it.
   */
  static String fixedBatchReason(Graph original, String feedNode, long[] feedShape,
      List<String> measured) {
    if (feedShape[0] == 1) {
      return "'" + feedNode + "' has a batch dimension fixed at 1";
    }
    for (String node : measured) {
      org.tensorflow.GraphOperation op = original.operation(node);
      if (op == null || op.numOutputs() == 0) {
        continue;
      }
      Shape sh = op.output(0).shape();
      if (!sh.isUnknown() && sh.numDimensions() >= 1 && sh.size(0) >= 0) {
        return "'" + node + "' has the static leading dimension " + sh.size(0) + " (shape "
            + sh + "), not a batch of examples";
      }
    }
    return null;
  }

  /** A measured tensor's leading dimension is not the number of fed examples. */
  private static final class FixedBatchException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    FixedBatchException(String message) {
      super(message);
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "no message";
    }
    String line = s.strip().lines().findFirst().orElse("");
    return line.length() <= 300 ? line : line.substring(0, 297) + "...";
  }

  /** All examples as one batch; the sums reduced in the graph. */
  private double[][] runBatched(float[] rows, int pairs, long[] widthsOut, long[] spatial) {
    Session.Runner r = session.session().runner();
    try (TFloat32 x = TFloat32.tensorOf(Shape.of(2L * pairs, features),
        DataBuffers.of(rows, true, false));
        TInt32 m = TInt32.vectorOf(multiples(spatial))) {
      r.feed(feed.placeholder(), x);
      if (feed.multiples() != null) {
        r.feed(feed.multiples(), m);
      }
      sums.forEach(r::fetch);
      leading.forEach(r::fetch);
      if (widthsOut != null) {
        widths.forEach(r::fetch);
      }
      try (Result res = r.run()) {
        int n = sums.size();
        for (int i = 0; i < n; i++) {
          int b = ((TInt32) res.get(n + i)).getInt();
          if (b != 2L * pairs) {
            throw new FixedBatchException("'" + measured.get(i) + "' has leading dimension " + b
                + " for " + 2L * pairs + " fed examples");
          }
        }
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
          TFloat64 s = (TFloat64) res.get(i);
          out[i] = new double[Math.toIntExact(s.shape().size())];
          s.copyTo(DataBuffers.of(out[i], false, false));
        }
        if (widthsOut != null) {
          for (int i = 0; i < widths.size(); i++) {
            widthsOut[i] = ((TInt32) res.get(2 * n + i)).getInt();
          }
        }
        return out;
      }
    }
  }

  /**
   * Each example alone: per group of measured tensors ({@link #groups}), the two examples of
   * every pair run one after the other and their location-0 vectors give the pair's sums (in
   * float64, sequential order). Java holds two examples' vectors of one group at a time.
   */
  private double[][] runSingly(float[] rows, int pairs, long[] widthsOut, long[] spatial) {
    int n = measured.size();
    double[][] out = new double[n][3 * pairs];
    for (int[] g : groups()) {
      for (int p = 0; p < pairs; p++) {
        double[][] a = runOne(rows, 2 * p, g[0], g[1], spatial);
        double[][] b = runOne(rows, 2 * p + 1, g[0], g[1], spatial);
        for (int i = g[0]; i < g[1]; i++) {
          double[] x = a[i - g[0]];
          double[] y = b[i - g[0]];
          if (x.length != y.length) {
            throw new IllegalStateException("'" + measured.get(i) + "' has " + x.length
                + " channels for one example and " + y.length + " for the other");
          }
          double qa = 0;
          double qb = 0;
          double ab = 0;
          for (int j = 0; j < x.length; j++) {
            qa += x[j] * x[j];
            qb += y[j] * y[j];
            ab += x[j] * y[j];
          }
          out[i][3 * p] = qa;
          out[i][3 * p + 1] = qb;
          out[i][3 * p + 2] = ab;
          if (p == 0 && widthsOut != null) {
            widthsOut[i] = x.length;
          }
        }
      }
    }
    return out;
  }

  /**
   * Consecutive measured tensors {@code [from, to)} whose location-0 vectors (float64, widths
   * from the static shapes) fit {@link #singleFetchBudget} together; a tensor of unknown width,
   * or wider than the budget alone, is a group of its own.
   */
  List<int[]> groups() {
    List<int[]> out = new ArrayList<>();
    int from = 0;
    long bytes = 0;
    for (int i = 0; i < measured.size(); i++) {
      long b = staticWidths[i] < 0 ? Long.MAX_VALUE : staticWidths[i] * Double.BYTES;
      if (i > from && (b == Long.MAX_VALUE || bytes == Long.MAX_VALUE
          || bytes + b > singleFetchBudget)) {
        out.add(new int[] {from, i});
        from = i;
        bytes = 0;
      }
      bytes = b == Long.MAX_VALUE ? b : bytes + b;
    }
    out.add(new int[] {from, measured.size()});
    return out;
  }

  /** One example ({@code rows} row {@code example}) alone: the vectors of tensors from..to. */
  private double[][] runOne(float[] rows, int example, int from, int to, long[] spatial) {
    Session.Runner r = session.session().runner();
    float[] row = java.util.Arrays.copyOfRange(rows, example * features,
        (example + 1) * features);
    try (TFloat32 x = TFloat32.tensorOf(Shape.of(1, features), DataBuffers.of(row, true, false));
        TInt32 m = TInt32.vectorOf(multiples(spatial))) {
      r.feed(feed.placeholder(), x);
      if (feed.multiples() != null) {
        r.feed(feed.multiples(), m);
      }
      for (int i = from; i < to; i++) {
        r.fetch(singles.get(i));
      }
      try (Result res = r.run()) {
        double[][] out = new double[to - from][];
        for (int i = 0; i < to - from; i++) {
          TFloat64 v = (TFloat64) res.get(i);
          out[i] = new double[Math.toIntExact(v.shape().size())];
          v.copyTo(DataBuffers.of(out[i], false, false));
        }
        return out;
      }
    }
  }

  /**
   * The whole tensors of {@code nodes} for the same feed (the fed node as the built input): for
   * tests that recompute the statistics by brute force.
   */
  Map<String, TensorProto> fetchWhole(float[] rows, int pairs, List<String> nodes,
      String feedNode) {
    List<String> fetch = nodes.stream().map(n -> n.equals(feedNode) ? feed.tensor() : n)
        .toList();
    Session.Runner r = session.session().runner();
    try (TFloat32 x = TFloat32.tensorOf(Shape.of(2L * pairs, features),
        DataBuffers.of(rows, true, false));
        TInt32 m = TInt32.vectorOf(multiples(feed.spatial()))) {
      r.feed(feed.placeholder(), x);
      if (feed.multiples() != null) {
        r.feed(feed.multiples(), m);
      }
      fetch.forEach(r::fetch);
      Map<String, TensorProto> out = new LinkedHashMap<>();
      try (Result res = r.run()) {
        for (int i = 0; i < nodes.size(); i++) {
          out.put(nodes.get(i), TensorProtos.fromTensor(res.get(i)));
        }
      }
      return out;
    }
  }

  private static int[] multiples(long[] spatial) {
    int[] m = new int[spatial.length + 2];
    m[0] = 1;
    m[m.length - 1] = 1;
    for (int i = 0; i < spatial.length; i++) {
      m[i + 1] = Math.toIntExact(spatial[i]);
    }
    return m;
  }

  /**
   * Adds {@code t}'s single-example vector and, unless the examples go one at a time, its
   * batched per-pair sums; a graph whose static shapes refuse the batched ops (a tensor of
   * static batch 1 cannot be split into pairs) turns to one at a time, unless {@code feeding}
   * forces the batch.
   */
  private <T extends TType> void addStatistics(Ops tf, Output<T> t, String node,
      Feeding feeding) {
    Operand<TInt32> shape = tf.shape(t);
    Operand<TInt32> width = tf.stridedSlice(shape, tf.constant(new int[] {-1}),
        tf.constant(new int[] {0}), tf.constant(new int[] {1}), StridedSlice.endMask(1L));
    // one example fed alone: its location 0 is the first F values of the whole tensor, whatever
    // the leading dimensions (a batch of 1, or locations a reshape moved in front)
    Operand<T> all = tf.reshape(t, tf.constant(new int[] {-1}));
    singles.add(tf.dtypes.cast(tf.slice(all, tf.constant(new int[] {0}), width),
        TFloat64.class).y());
    if (oneAtATime != null) {
      return;
    }
    try {
      addPairSums(tf, t, shape, width);
    } catch (TensorFlowException | IllegalArgumentException | IllegalStateException
        | UnsupportedOperationException e) {
      if (feeding == Feeding.BATCHED) {
        throw e;
      }
      oneAtATime = "the statistics of a batch cannot be built at '" + node + "' ("
          + firstLine(e.getMessage()) + ")";
      decided = true;
    }
  }

  /** The batched ops: per pair {@code [sum a^2, sum b^2, sum a b]}, F and the leading size. */
  private <T extends TType> void addPairSums(Ops tf, Output<T> t, Operand<TInt32> shape,
      Operand<TInt32> width) {
    Operand<TInt32> batch = tf.slice(shape, tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    // location 0 of each example: the first F values of its row-major flattening
    Operand<T> flat = tf.reshape(t, tf.concat(List.of(batch, tf.constant(new int[] {-1})),
        tf.constant(0)));
    Operand<T> first = tf.slice(flat, tf.constant(new int[] {0, 0}),
        tf.concat(List.of(tf.constant(new int[] {-1}), width), tf.constant(0)));
    Operand<T> paired = tf.reshape(first, tf.concat(List.of(tf.constant(new int[] {-1, 2}),
        width), tf.constant(0)));
    Operand<TFloat64> d = tf.dtypes.cast(paired, TFloat64.class);
    List<Output<TFloat64>> ab = tf.unstack(d, 2L, Unstack.axis(1L)).output();
    Operand<TInt32> channels = tf.constant(1);
    Operand<TFloat64> qa = tf.sum(tf.math.square(ab.get(0)), channels);
    Operand<TFloat64> qb = tf.sum(tf.math.square(ab.get(1)), channels);
    Operand<TFloat64> cross = tf.sum(tf.math.mul(ab.get(0), ab.get(1)), channels);
    sums.add(tf.stack(List.of(qa, qb, cross), org.tensorflow.op.core.Stack.axis(1L)).output());
    widths.add(tf.reshape(width, tf.constant(new int[0])).output());
    leading.add(tf.reshape(batch, tf.constant(new int[0])).output());
  }

  private static boolean hasPrefix(Graph g, String prefix) {
    var it = g.operations();
    while (it.hasNext()) {
      if (it.next().name().startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    session.close();
  }
}
