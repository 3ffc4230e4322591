package dev.dks.trainers.kfac;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.PlaceholderWithDefault;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * K-FAC (Martens and Grosse 2015; KFC for convolutions, Grosse and Martens 2016) emitted as TF ops
 * into a training graph, the way the TAT paper trains deep plain networks (kfac.md).
 *
 * <p>Per step, with gradient {@code grad} of the training loss (mean cross-entropy plus the L2
 * term), learning rate {@code lr} and momentum {@code mu} (fed):
 *
 * <ol>
 *   <li>{@code u = (F + (lambda + l2) I)^-1 grad} block by block ({@link KroneckerBlock} for
 *       dense/conv layers, {@link DiagonalBlock} for the rest), from the cached inverses;
 *   <li>norm constraint: {@code c = min(1, sqrt(C_max / (lr^2 grad . u)))} (1 when off or when
 *       {@code grad . u <= 0});
 *   <li>{@code delta = mu delta - lr c u}; {@code theta += delta}.
 * </ol>
 *
 * <p>Statistics come from one extra backward pass from the logits to the layer outputs, seeded
 * per example ({@link FisherEstimation}); label smoothing does not enter them. Every state tensor
 * is a {@code VariableV2} (checkpointed with the optimizer slots, exported by nothing else).
 */
public final class KfacOptimizer {
  private KfacOptimizer() {}

  /**
   * Emits the K-FAC ops.
   *
   * @param graph the training graph
   * @param tf ops under the optimizer's name scope
   * @param options hyper-parameters
   * @param registration the blocks (from {@link LayerMatcher})
   * @param logits {@code [B, K]} logits
   * @param labels {@code [B, K]} one-hot labels (read only by {@link FisherEstimation#EMPIRICAL})
   * @param names the trainable variables' names, in gradient order
   * @param variables their ref outputs
   * @param gradients the loss gradients, same order
   * @param l2 the loss's L2 coefficient, added to the damping
   * @param lr scalar learning rate
   * @param momentum scalar momentum
   */
  public static KfacGraph emit(Graph graph, Ops tf, KfacOptions options,
      Registration registration, Output<TFloat32> logits, Operand<TFloat32> labels,
      List<String> names, List<Output<TFloat32>> variables, List<Output<TFloat32>> gradients,
      double l2, Operand<TFloat32> lr, Operand<TFloat32> momentum) {
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < names.size(); i++) {
      index.put(names.get(i), i);
    }
    Placeholder<TFloat32> rho = tf.withName("rho").placeholder(TFloat32.class,
        Placeholder.shape(Shape.scalar()));
    // the damping lives in a state variable (checkpointed, adapted by the trainer); feeding the
    // "damping" tensor overrides it for one run
    Variable<TFloat32> dampingState = tf.withName("damping_state").variable(Shape.scalar(),
        TFloat32.class);
    PlaceholderWithDefault<TFloat32> damping = tf.withName("damping").placeholderWithDefault(
        tf.identity(dampingState), Shape.scalar());
    Placeholder<TFloat32> newDamping = tf.withName("new_damping").placeholder(TFloat32.class,
        Placeholder.shape(Shape.scalar()));
    Op setDamping = tf.withName("set_damping").assign(dampingState, newDamping);
    Placeholder<TInt64> seed = tf.withName("seed").placeholder(TInt64.class,
        Placeholder.shape(Shape.of(2)));
    Operand<TFloat32> totalDamping = tf.withName("total_damping").math.add(damping,
        tf.constant((float) l2));

    List<CurvatureBlock> blocks = new ArrayList<>();
    int b = 0;
    for (RegisteredLayer l : registration.layers()) {
      blocks.add(new KroneckerBlock(graph, tf.withSubScope("block" + b), b, l, options));
      b++;
    }
    for (String v : registration.diagonal().keySet()) {
      blocks.add(new DiagonalBlock(tf.withSubScope("block" + b++), v,
          variables.get(index.get(v))));
    }

    Ops st = tf.withSubScope("statistics");
    StatisticsPasses passes = backwardPasses(graph, st, options, registration, logits, labels,
        variables, index, seed);
    List<Op> statOps = new ArrayList<>();
    for (CurvatureBlock block : blocks) {
      statOps.addAll(block.updateStatistics(st, passes, rho));
    }
    Op statistics = tf.withControlDependencies(statOps).withName("update_statistics").noOp();

    Ops iv = tf.withSubScope("inverses");
    List<Op> invOps = new ArrayList<>();
    for (CurvatureBlock block : blocks) {
      invOps.addAll(block.updateInverses(iv, totalDamping));
    }
    Op inverses = tf.withControlDependencies(invOps).withName("update_inverses").noOp();
    // the same refresh ordered after this batch's statistics, so that an inverse step is one
    // session run (one forward pass) instead of a statistics run and an update run
    Ops ivs = tf.withSubScope("statistics_then_inverses").withControlDependencies(
        List.of(statistics));
    List<Op> invAfterStats = new ArrayList<>();
    for (CurvatureBlock block : blocks) {
      invAfterStats.addAll(block.updateInverses(ivs, totalDamping));
    }
    Op statsThenInverses = ivs.withControlDependencies(invAfterStats)
        .withName("update_statistics_and_inverses").noOp();

    List<Variable<TFloat32>> velocities = new ArrayList<>();
    List<Op> inits = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      Variable<TFloat32> v = tf.withSubScope("var" + i).withName("velocity")
          .variable(variables.get(i).shape(), TFloat32.class);
      velocities.add(v);
      inits.add(tf.assign(v, tf.zerosLike(v)));
    }
    for (CurvatureBlock block : blocks) {
      inits.addAll(block.initState(tf.withSubScope("init")));
    }
    inits.add(tf.assign(dampingState, tf.constant((float) options.damping())));
    Op initState = tf.withControlDependencies(inits).withName("init_state").noOp();

    Ops ready = tf.withSubScope("gradients_ready");
    List<Op> gradDeps = new ArrayList<>();
    for (Output<TFloat32> g : gradients) {
      gradDeps.add(ready.identity(g));
    }
    Update plain = update(tf.withSubScope("apply_update"), gradDeps, blocks, index, variables,
        gradients, velocities, totalDamping, options, l2, lr, momentum);
    List<Op> both = new ArrayList<>(gradDeps);
    both.add(statistics);
    Update withStats = update(tf.withSubScope("statistics_and_apply_update"), both, blocks, index,
        variables, gradients, velocities, totalDamping, options, l2, lr, momentum);

    List<Op> fused = new ArrayList<>(gradDeps);
    fused.add(statsThenInverses);
    Update withInverses = update(tf.withSubScope("statistics_inverses_and_apply_update"), fused,
        blocks, index, variables, gradients, velocities, totalDamping, options, l2, lr, momentum);

    List<Variable<TFloat32>> state = new ArrayList<>();
    for (CurvatureBlock block : blocks) {
      state.addAll(block.state());
    }
    state.addAll(velocities);
    state.add(dampingState);
    return new KfacGraph(options, registration, statistics, inverses,
        tf.withControlDependencies(plain.ops).withName("apply").noOp(),
        tf.withControlDependencies(withStats.ops).withName("statistics_and_apply").noOp(),
        tf.withControlDependencies(withInverses.ops).withName("statistics_inverses_and_apply")
            .noOp(),
        initState, rho, seed, dampingState, newDamping, setDamping,
        new KfacGraph.UpdateOutputs(plain.dot, plain.clip, plain.modelChange),
        new KfacGraph.UpdateOutputs(withStats.dot, withStats.clip, withStats.modelChange),
        new KfacGraph.UpdateOutputs(withInverses.dot, withInverses.clip,
            withInverses.modelChange),
        state);
  }

  private record Update(List<Op> ops, Output<TFloat32> dot, Output<TFloat32> clip,
      Output<TFloat32> modelChange) {}

  private static Update update(Ops scope, List<Op> deps, List<CurvatureBlock> blocks,
      Map<String, Integer> index, List<Output<TFloat32>> variables,
      List<Output<TFloat32>> gradients, List<Variable<TFloat32>> velocities,
      Operand<TFloat32> damping, KfacOptions options, double l2, Operand<TFloat32> lr,
      Operand<TFloat32> momentum) {
    Ops tf = scope.withControlDependencies(deps);
    Map<Integer, Operand<TFloat32>> pre = new LinkedHashMap<>();
    Operand<TFloat32> dot = tf.constant(0f);
    for (CurvatureBlock block : blocks) {
      List<Operand<TFloat32>> g = new ArrayList<>();
      for (String v : block.variables()) {
        g.add(gradients.get(index.get(v)));
      }
      List<Operand<TFloat32>> u = block.precondition(tf, g, damping);
      for (int k = 0; k < u.size(); k++) {
        int i = index.get(block.variables().get(k));
        pre.put(i, u.get(k));
        dot = tf.math.add(dot, tf.reduceSum(tf.math.mul(u.get(k), g.get(k)),
            allAxes(tf, variables.get(i))));
      }
    }
    Output<TFloat32> dotOut = tf.withName("grad_dot_update").identity(dot).asOutput();
    Operand<TFloat32> clip;
    if (options.normConstraint() > 0) {
      Operand<TFloat32> denom = tf.math.mul(tf.math.square(lr), dot);
      Operand<TFloat32> positive = tf.dtypes.cast(tf.math.greater(denom, tf.constant(0f)),
          TFloat32.class);
      Operand<TFloat32> ratio = tf.math.minimum(tf.constant(1f), tf.math.sqrt(tf.math.div(
          tf.constant((float) options.normConstraint()),
          tf.math.maximum(denom, tf.constant(FactorOps.TINY)))));
      clip = tf.math.add(tf.math.mul(positive, ratio),
          tf.math.sub(tf.constant(1f), positive));
    } else {
      clip = tf.constant(1f);
    }
    Output<TFloat32> clipOut = tf.withName("clip").identity(clip).asOutput();
    Operand<TFloat32> step = tf.math.mul(lr, clipOut);
    List<Op> ops = new ArrayList<>();
    Map<Integer, Operand<TFloat32>> deltas = new HashMap<>();
    Operand<TFloat32> linear = tf.constant(0f);
    Operand<TFloat32> squared = tf.constant(0f);
    for (Map.Entry<Integer, Operand<TFloat32>> e : pre.entrySet()) {
      int i = e.getKey();
      Variable<TFloat32> vel = velocities.get(i);
      Operand<TFloat32> delta = tf.math.sub(tf.math.mul(momentum, vel),
          tf.math.mul(step, e.getValue()));
      deltas.put(i, delta);
      Operand<TInt32> axes = allAxes(tf, variables.get(i));
      linear = tf.math.add(linear, tf.reduceSum(tf.math.mul(gradients.get(i), delta), axes));
      squared = tf.math.add(squared, tf.reduceSum(tf.math.square(delta), axes));
      ops.add(tf.assign(vel, delta));
      ops.add(tf.assignAdd(variables.get(i), delta));
    }
    // K-FAC's quadratic model of the loss change: grad . delta + delta^T (F + l2 I) delta / 2
    Operand<TFloat32> curvature = tf.math.mul(tf.constant((float) l2), squared);
    for (CurvatureBlock block : blocks) {
      List<Operand<TFloat32>> d = new ArrayList<>();
      for (String v : block.variables()) {
        d.add(deltas.get(index.get(v)));
      }
      curvature = tf.math.add(curvature, block.quadratic(tf, d));
    }
    Output<TFloat32> model = tf.withName("model_change").identity(tf.math.add(linear,
        tf.math.mul(tf.constant(0.5f), curvature))).asOutput();
    return new Update(ops, dotOut, clipOut, model);
  }

  private static Operand<TInt32> allAxes(Ops tf, Output<TFloat32> v) {
    int rank = v.shape().numDimensions();
    int[] axes = new int[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    return tf.constant(axes);
  }

  private static StatisticsPasses backwardPasses(Graph graph, Ops tf, KfacOptions options,
      Registration registration, Output<TFloat32> logits, Operand<TFloat32> labels,
      List<Output<TFloat32>> variables, Map<String, Integer> index, Operand<TInt64> seed) {
    Operand<TInt32> batch = tf.withName("batch_size").gather(tf.shape(logits), tf.constant(0),
        tf.constant(0));
    Operand<TInt32> examples = options.statisticsExamples() > 0
        ? tf.math.minimum(batch, tf.constant(options.statisticsExamples())) : batch;
    examples = tf.withName("examples").identity(examples);
    Operand<TFloat32> mask = tf.reshape(tf.dtypes.cast(tf.math.less(
        tf.range(tf.constant(0), batch, tf.constant(1)), examples), TFloat32.class),
        tf.constant(new int[] {-1, 1}));
    if (options.estimation() == FisherEstimation.EXACT && !registration.diagonal().isEmpty()) {
      // one seed per class is shared by all examples, so the diagonal blocks' squared batch
      // gradient would keep cross-example terms; a random sign per example removes them in
      // expectation and leaves every per-example outer product (the Kronecker factors) unchanged
      Operand<TFloat32> u = tf.random.statelessRandomUniform(tf.reshape(batch,
          tf.constant(new int[] {1})), seed, TFloat32.class);
      mask = tf.math.mul(mask, tf.reshape(tf.math.sign(tf.math.sub(u, tf.constant(0.5f))),
          tf.constant(new int[] {-1, 1})));
    }
    boolean wholeBatchOnes = options.statisticsExamples() == 0
        && !(options.estimation() == FisherEstimation.EXACT && !registration.diagonal().isEmpty());
    List<Operand<TFloat32>> seeds = SeedFactory.seeds(tf, options.estimation(), logits, labels,
        seed);
    List<Output<?>> xs = new ArrayList<>();
    for (RegisteredLayer l : registration.layers()) {
      xs.add(KroneckerBlock.output(graph, l.output()));
    }
    for (String v : registration.diagonal().keySet()) {
      xs.add(variables.get(index.get(v)));
    }
    Map<String, List<Output<TFloat32>>> outGrads = new LinkedHashMap<>();
    Map<String, List<Output<TFloat32>>> varGrads = new LinkedHashMap<>();
    registration.layers().forEach(l -> outGrads.put(l.output(), new ArrayList<>()));
    registration.diagonal().keySet().forEach(v -> varGrads.put(v, new ArrayList<>()));
    int k = 0;
    for (Operand<TFloat32> s : seeds) {
      // with the whole batch and no random signs the mask is all ones
      Operand<TFloat32> masked = wholeBatchOnes ? tf.withName("seed" + k).identity(s)
          : tf.withName("seed" + k).math.mul(s, mask);
      Output<?>[] dx;
      try {
        dx = graph.addGradients(tf.scope().makeOpName("backward" + k),
            new Output<?>[] {logits}, xs.toArray(new Output<?>[0]),
            new Output<?>[] {masked.asOutput()});
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("K-FAC cannot back-propagate from the logits to the "
            + "layer outputs " + xs + ": " + e.getMessage(), e);
      }
      int j = 0;
      for (RegisteredLayer l : registration.layers()) {
        outGrads.get(l.output()).add(dx[j++].expect(TFloat32.class));
      }
      for (String v : registration.diagonal().keySet()) {
        varGrads.get(v).add(dx[j++].expect(TFloat32.class));
      }
      k++;
    }
    return new StatisticsPasses(examples, outGrads, varGrads, seed);
  }
}
