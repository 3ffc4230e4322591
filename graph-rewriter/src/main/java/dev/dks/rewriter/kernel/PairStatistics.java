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
 * <p>Not thread-safe; close it to free the session and the graph.
 */
final class PairStatistics implements AutoCloseable {
  /** Name scope of the statistic ops. */
  static final String SCOPE = "dks_kernel_stats";

  private final ModelSession session;
  private final PairFeed feed;
  private final long largest;
  private final int features;
  private final List<String> measured;
  private final List<Output<TFloat64>> sums = new ArrayList<>();
  private final List<Output<TInt32>> widths = new ArrayList<>();
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
    this.feed = PairFeed.of(model.graph(), feedNode, feedShape);
    this.features = Math.toIntExact(feedShape[feedShape.length - 1]);
    this.measured = List.copyOf(measured);
    // the copy's spatial shapes are dynamic (Tile by fed multiples): sizes from the original
    try (Graph original = new Graph()) {
      GraphImport.into(original, model.graph());
      this.largest = PairChunks.largestActivation(original);
    }
    this.session = new ModelSession(model.with(feed.graph(), model.variables()), allowedOps);
    try {
      Graph g = session.graph();
      String scope = SCOPE;
      for (int i = 1; g.operation(scope) != null || hasPrefix(g, scope + "/"); i++) {
        scope = SCOPE + "_" + i;
      }
      Ops tf = Ops.create(g).withSubScope(scope);
      for (String node : measured) {
        String src = node.equals(feedNode) ? feed.tensor() : node;
        org.tensorflow.GraphOperation op = g.operationOrThrow(src);
        // a Pad is read at its unpadded interior (PaddedInterior: the border has no signal)
        addStatistics(tf, PaddedInterior.of(tf, op, op.output(0)));
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
   * fewer).
   */
  double[][] run(float[] rows, int pairs, long[] widthsOut, long[] spatial) {
    if (rows.length != 2L * pairs * features) {
      throw new IllegalArgumentException("expected " + 2L * pairs * features + " values, got "
          + rows.length);
    }
    Session.Runner r = session.session().runner();
    try (TFloat32 x = TFloat32.tensorOf(Shape.of(2L * pairs, features),
        DataBuffers.of(rows, true, false));
        TInt32 m = TInt32.vectorOf(multiples(spatial))) {
      r.feed(feed.placeholder(), x);
      if (feed.multiples() != null) {
        r.feed(feed.multiples(), m);
      }
      sums.forEach(r::fetch);
      if (widthsOut != null) {
        widths.forEach(r::fetch);
      }
      try (Result res = r.run()) {
        double[][] out = new double[sums.size()][];
        for (int i = 0; i < sums.size(); i++) {
          TFloat64 s = (TFloat64) res.get(i);
          out[i] = new double[Math.toIntExact(s.shape().size())];
          s.copyTo(DataBuffers.of(out[i], false, false));
        }
        if (widthsOut != null) {
          for (int i = 0; i < widths.size(); i++) {
            widthsOut[i] = ((TInt32) res.get(sums.size() + i)).getInt();
          }
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

  private <T extends TType> void addStatistics(Ops tf, Output<T> t) {
    Operand<TInt32> shape = tf.shape(t);
    Operand<TInt32> batch = tf.slice(shape, tf.constant(new int[] {0}), tf.constant(new int[] {1}));
    Operand<TInt32> width = tf.stridedSlice(shape, tf.constant(new int[] {-1}),
        tf.constant(new int[] {0}), tf.constant(new int[] {1}), StridedSlice.endMask(1L));
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
