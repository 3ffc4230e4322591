package dev.dks.trainers.kfac;

import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * The Kronecker-factored block {@code T A (x) G} of a dense or Conv2D layer (kfac.md 1.1-1.2):
 * {@code A} is the second moment of the input rows (patches for a conv, with a homogeneous 1 when
 * the layer has a bias), {@code G} that of the per-example output gradients, both averaged over
 * examples and output locations, and {@code T} the number of output locations (1 for dense).
 * The parameters are stacked as {@code Theta = [W; b]}, {@code [d_in (+1), d_out]}, with the
 * HWIO conv kernel flattened row-major; the preconditioned gradient of {@code V} is
 * {@code A'^-1 V G'^-1 / T} with the damped factors of {@link InverseMethod}. A KFC-expand conv
 * block may estimate A from sampled patch rows ({@link KfacOptions#patchRowsPerDimension}).
 *
 * <p>State: accumulators {@code a_acc}, {@code g_acc}, their EMA weight {@code weight}, and the
 * cached {@code a_inv}, {@code g_inv} (for {@link InverseMethod#EIGEN}: eigenvectors {@code a_q},
 * {@code g_q} and clipped eigenvalues {@code a_s}, {@code g_s}).
 */
final class KroneckerBlock implements CurvatureBlock {
  /** Apart from the seed's first word, so that no two blocks' patch row draws coincide. */
  private static final long SALT_STRIDE = 0x9E3779B97F4A7C15L >>> 20;
  private final RegisteredLayer layer;
  private final InverseMethod method;
  /** A from per-example mean patches (K-FAC-reduce). */
  private final boolean reduce;
  /** G from per-example sums of output gradients over locations (reduce and hybrid). */
  private final boolean summedG;
  private final long sampledRows;
  private final long salt;
  private final int dA;
  private final int dG;
  private final Variable<TFloat32> aAcc;
  private final Variable<TFloat32> gAcc;
  private final Variable<TFloat32> weight;
  private final Variable<TFloat32> aInv;
  private final Variable<TFloat32> gInv;
  private final Variable<TFloat32> aEig;
  private final Variable<TFloat32> gEig;

  /**
   * @param index the block's position, which salts its stream of sampled patch rows
   */
  KroneckerBlock(Ops scope, int index, RegisteredLayer layer, KfacOptions options) {
    this.layer = layer;
    this.method = options.inverse();
    boolean conv = layer.kind() == RegisteredLayer.Kind.CONV2D;
    this.reduce = conv && options.conv() == ConvApproximation.REDUCE;
    this.summedG = conv && options.conv() != ConvApproximation.EXPAND;
    this.sampledRows = conv && !reduce && options.patchRowsPerDimension() > 0
        ? (long) Math.ceil(options.patchRowsPerDimension() * layer.inputDim()) : 0;
    this.salt = index + 1L;
    this.dA = layer.inputDim();
    this.dG = layer.outputDim();
    aAcc = scope.withName("a_acc").variable(Shape.of(dA, dA), TFloat32.class);
    gAcc = scope.withName("g_acc").variable(Shape.of(dG, dG), TFloat32.class);
    weight = scope.withName("weight").variable(Shape.scalar(), TFloat32.class);
    String inv = method == InverseMethod.EIGEN ? "_q" : "_inv";
    aInv = scope.withName("a" + inv).variable(Shape.of(dA, dA), TFloat32.class);
    gInv = scope.withName("g" + inv).variable(Shape.of(dG, dG), TFloat32.class);
    if (method == InverseMethod.EIGEN) {
      aEig = scope.withName("a_s").variable(Shape.of(dA), TFloat32.class);
      gEig = scope.withName("g_s").variable(Shape.of(dG), TFloat32.class);
    } else {
      aEig = null;
      gEig = null;
    }
  }

  /** A tensor in {@code node}, {@code node:k} syntax. */
  static Output<TFloat32> output(Graph graph, String tensor) {
    TensorName t = TensorName.parse(tensor);
    return graph.operationOrThrow(t.node()).output(t.index());
  }

  RegisteredLayer layer() {
    return layer;
  }

  /** T for a KFC-expand conv block (its F is {@code T A (x) G}), else 1. */
  long scale() {
    return summedG ? 1 : layer.locations();
  }

  /** The rows per example that A averages over: T unless A comes from mean patches. */
  private long aRowsPerExample() {
    return reduce ? 1 : layer.locations();
  }

  @Override
  public List<String> variables() {
    return layer.hasBias() ? List.of(layer.kernelVariable(), layer.biasVariable())
        : List.of(layer.kernelVariable());
  }

  @Override
  public List<Variable<TFloat32>> state() {
    List<Variable<TFloat32>> s = new ArrayList<>(List.of(aAcc, gAcc, weight, aInv, gInv));
    if (aEig != null) {
      s.add(aEig);
      s.add(gEig);
    }
    return s;
  }

  @Override
  public List<Op> initState(Ops tf) {
    List<Op> out = new ArrayList<>();
    for (Variable<TFloat32> v : state()) {
      out.add(tf.assign(v, tf.zerosLike(v)));
    }
    return out;
  }

  @Override
  public List<Operand<TFloat32>> batchStatistics(Ops tf, StatisticsPasses backward) {
    Operand<TInt32> m = backward.examples();
    // whole batch or a sub-batch forward copy: the tensors hold exactly the used rows, no slice
    Output<TFloat32> input = backward.layerInputs().get(layer.input());
    Operand<TFloat32> a = backward.sliced() ? firstRows(tf, input, m) : input;
    // a replica's share: sums over its used rows / (global examples / replicas) / T
    Operand<TFloat32> count = tf.math.mul(backward.perReplicaExamples(tf),
        tf.constant((float) scale()));
    Operand<TFloat32> countA = tf.math.mul(backward.perReplicaExamples(tf),
        tf.constant((float) aRowsPerExample()));
    Operand<TFloat32> aBatch;
    if (sampledRows > 0) {
      aBatch = FactorOps.secondMoment(tf, Patches.sampledRows(tf, layer, a, sampledRows,
          tf.math.add(backward.seed(), tf.constant(new long[] {salt * SALT_STRIDE, 0})),
          backward.firstExample(), backward.globalExamples()),
          tf.constant((float) sampledRows / backward.replicas()));
    } else {
      Operand<TFloat32> rowsA = reduce ? Patches.meanRows(tf, layer, a)
          : Patches.rows(tf, layer, a);
      aBatch = FactorOps.secondMoment(tf, rowsA, countA);
    }
    Operand<TFloat32> gBatch = null;
    for (Output<TFloat32> out : backward.outputGradients().get(layer.output())) {
      Operand<TFloat32> g = backward.sliced() ? firstRows(tf, out, m) : out;
      Operand<TFloat32> rowsG = summedG ? Patches.summedOutputRows(tf, layer, g)
          : Patches.outputRows(tf, layer, g);
      Operand<TFloat32> term = FactorOps.secondMoment(tf, rowsG, count);
      gBatch = gBatch == null ? term : tf.math.add(gBatch, term);
    }
    // static shapes, as an all-reduce needs them
    return List.of(tf.reshape(aBatch, tf.constant(new long[] {dA, dA})),
        tf.reshape(gBatch, tf.constant(new long[] {dG, dG})));
  }

  @Override
  public List<Op> accumulate(Ops tf, List<Operand<TFloat32>> statistics,
      StatisticsPasses backward, Operand<TFloat32> rho) {
    return List.of(FactorOps.accumulate(tf, aAcc, statistics.get(0), rho),
        FactorOps.accumulate(tf, gAcc, statistics.get(1), rho),
        FactorOps.countBatch(tf, weight, rho));
  }

  @Override
  public List<Op> updateInverses(Ops tf, Operand<TFloat32> damping) {
    Operand<TFloat32> a = FactorOps.average(tf, aAcc, weight);
    Operand<TFloat32> g = FactorOps.average(tf, gAcc, weight);
    if (method == InverseMethod.EIGEN) {
      Operand<TFloat32>[] ea = FactorOps.eigen(tf, a);
      Operand<TFloat32>[] eg = FactorOps.eigen(tf, g);
      return List.of(tf.assign(aEig, ea[0]), tf.assign(aInv, ea[1]), tf.assign(gEig, eg[0]),
          tf.assign(gInv, eg[1]));
    }
    Operand<TFloat32> lambda = tf.math.div(damping, tf.constant((float) scale()));
    Operand<TFloat32> sqrtLambda = tf.math.sqrt(lambda);
    Operand<TFloat32> pi = FactorOps.pi(tf, FactorOps.meanTrace(tf, a, dA),
        FactorOps.meanTrace(tf, g, dG));
    return List.of(
        tf.assign(aInv, FactorOps.dampedInverse(tf, a, tf.math.mul(pi, sqrtLambda), dA, method)),
        tf.assign(gInv, FactorOps.dampedInverse(tf, g, tf.math.div(sqrtLambda, pi), dG,
            method)));
  }

  @Override
  public Operand<TFloat32> quadratic(Ops tf, List<Operand<TFloat32>> deltas) {
    Operand<TFloat32> v = stacked(tf, deltas);
    Operand<TFloat32> fv = tf.linalg.matMul(tf.linalg.matMul(FactorOps.average(tf, aAcc, weight),
        v), FactorOps.average(tf, gAcc, weight));
    return tf.math.mul(tf.constant((float) scale()), tf.reduceSum(tf.math.mul(v, fv),
        tf.constant(new int[] {0, 1})));
  }

  /** The parameters' values (gradients, changes) stacked as {@code [d_in (+1), d_out]}. */
  private Operand<TFloat32> stacked(Ops tf, List<Operand<TFloat32>> values) {
    int dIn = dA - (layer.hasBias() ? 1 : 0);
    Operand<TFloat32> v = tf.reshape(values.get(0), tf.constant(new long[] {dIn, dG}));
    if (layer.hasBias()) {
      v = tf.concat(List.of(v, tf.reshape(values.get(1), tf.constant(new long[] {1, dG}))),
          tf.constant(0));
    }
    return v;
  }

  @Override
  public List<Operand<TFloat32>> precondition(Ops tf, List<Operand<TFloat32>> gradients,
      Operand<TFloat32> damping) {
    long[] k = layer.kernelShape();
    int dIn = dA - (layer.hasBias() ? 1 : 0);
    Operand<TFloat32> v = stacked(tf, gradients);
    Operand<TFloat32> t = tf.constant((float) scale());
    Operand<TFloat32> u;
    if (method == InverseMethod.EIGEN) {
      Operand<TFloat32> lambda = tf.math.div(damping, t);
      Operand<TFloat32> rotated = tf.linalg.matMul(tf.linalg.matMul(aInv, v,
          MatMul.transposeA(true)), gInv);
      Operand<TFloat32> denom = tf.math.add(tf.linalg.matMul(
          tf.reshape(aEig, tf.constant(new long[] {dA, 1})),
          tf.reshape(gEig, tf.constant(new long[] {1, dG}))), lambda);
      u = tf.linalg.matMul(tf.linalg.matMul(aInv, tf.math.div(rotated, denom)), gInv,
          MatMul.transposeB(true));
    } else {
      u = tf.linalg.matMul(tf.linalg.matMul(aInv, v), gInv);
    }
    u = tf.math.div(u, t);
    List<Operand<TFloat32>> out = new ArrayList<>();
    Operand<TFloat32> uW = layer.hasBias()
        ? tf.slice(u, tf.constant(new int[] {0, 0}), tf.constant(new int[] {dIn, dG})) : u;
    out.add(tf.reshape(uW, tf.constant(k)));
    if (layer.hasBias()) {
      out.add(tf.reshape(tf.slice(u, tf.constant(new int[] {dIn, 0}),
          tf.constant(new int[] {1, dG})), tf.constant(new long[] {dG})));
    }
    return out;
  }

  /** The first {@code m} entries of {@code x} along axis 0. */
  static Operand<TFloat32> firstRows(Ops tf, Operand<TFloat32> x, Operand<TInt32> m) {
    return tf.stridedSlice(x, tf.constant(new int[] {0}), tf.reshape(m, tf.constant(new int[] {1})),
        tf.constant(new int[] {1}));
  }
}
