package dev.dks.trainers.kfac;

import dev.dks.trainers.distributed.Replication;
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
 *
 * <p><b>Data-parallel replicas</b> (a {@link Replication}): each replica computes its share of the
 * batch statistics ({@link CurvatureBlock#batchStatistics}) on its shard, with targets sampled per
 * global example ({@link SeedFactory}); a statistics step packs those shares with the gradients,
 * loss and accuracy into the <b>one</b> all-reduce of the step, so every replica folds the same
 * averaged statistics into bit-equal factors. Every replica then inverts <b>all</b> factors
 * itself: the inputs are bit-equal, so are the inverses, and no further exchange is needed (a split
 * by layer would save inverse time on refresh steps only, at the price of a broadcast of every
 * inverse and a refresh step as slow as its slowest worker's share). The update is then the same
 * everywhere.
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
   * @param gradients the loss gradients, same order (of this replica's batch)
   * @param loss the training loss of this replica's batch
   * @param accuracy its accuracy
   * @param l2 the loss's L2 coefficient, added to the damping
   * @param lr scalar learning rate
   * @param momentum scalar momentum
   * @param replication null for one process; else this graph is one data-parallel replica and
   *     every run that updates the statistics or the weights averages the replicas' statistics,
   *     gradients, loss and accuracy in one all-reduce (see the class comment)
   * @param forward the sub-batch copy of the forward pass the statistics run on (its first
   *     {@link KfacOptions#statisticsExamples} rows), already in {@code graph}; null: the
   *     statistics read the training forward pass (with a sub-batch, by masking the seeds of the
   *     other rows, which costs a whole-batch backward pass)
   */
  public static KfacGraph emit(Graph graph, Ops tf, KfacOptions options,
      Registration registration, Output<TFloat32> logits, Operand<TFloat32> labels,
      List<String> names, List<Output<TFloat32>> variables, List<Output<TFloat32>> gradients,
      Operand<TFloat32> loss, Operand<TFloat32> accuracy, double l2, Operand<TFloat32> lr,
      Operand<TFloat32> momentum, Replication replication, SubBatchForward forward) {
    if (forward != null && options.statisticsExamples() == 0) {
      throw new IllegalArgumentException("a sub-batch forward copy needs statistics examples > 0");
    }
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
      blocks.add(new KroneckerBlock(tf.withSubScope("block" + b), b, l, options));
      b++;
    }
    for (String v : registration.diagonal().keySet()) {
      blocks.add(new DiagonalBlock(tf.withSubScope("block" + b++), v,
          variables.get(index.get(v))));
    }

    Ops iv = tf.withSubScope("inverses");
    List<Op> invOps = new ArrayList<>();
    for (CurvatureBlock block : blocks) {
      invOps.addAll(block.updateInverses(iv, totalDamping));
    }
    Op inverses = tf.withControlDependencies(invOps).withName("update_inverses").noOp();

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

    // the update alone: one all-reduce of gradients, loss and accuracy
    Ops ap = tf.withSubScope("apply_update");
    List<Operand<TFloat32>> reduced = mean(replication, ap.withSubScope("replicas"),
        withLossAndAccuracy(gradients, loss, accuracy));
    Update plain = update(ap, ready(ap, reduced), blocks, index, variables,
        gradientsOf(reduced, gradients.size()), velocities, totalDamping, options, l2, lr,
        momentum, reduced.get(gradients.size()), reduced.get(gradients.size() + 1));
    // the loss and accuracy alone (damping adaptation's second look at the batch)
    List<Operand<TFloat32>> la = mean(replication, tf.withSubScope("loss_replicas"),
        List.of(loss, accuracy));

    Step step = new Step(blocks, index, variables, gradients, velocities, totalDamping, options,
        l2, lr, momentum, loss, accuracy, replication, rho);
    Ops st = tf.withSubScope("statistics");
    StatisticsRuns main = statisticsRuns(tf, st, step, backwardPasses(graph, st, options,
        registration, logits, labels, variables, index, seed, replication, forward));
    // with a sub-batch copy, the same runs on the training forward pass (seeds of rows after
    // the first m masked) for global batches of at most m rows, where the copy would redo the
    // whole forward pass
    KfacGraph.WholeBatchRuns wholeBatch = null;
    if (forward != null) {
      Ops wb = tf.withSubScope("whole_batch");
      Ops wst = wb.withSubScope("statistics");
      StatisticsRuns w = statisticsRuns(wb, wst, step, backwardPasses(graph, wst, options,
          registration, logits, labels, variables, index, seed, replication, null));
      wholeBatch = new KfacGraph.WholeBatchRuns(replication == null ? 1 : replication.replicas(),
          w.statistics(), w.statisticsAndApply(), w.statisticsInversesAndApply(),
          w.statisticsAndApplyOutputs(), w.statisticsInversesAndApplyOutputs());
    }

    List<Variable<TFloat32>> state = new ArrayList<>();
    for (CurvatureBlock block : blocks) {
      state.addAll(block.state());
    }
    state.addAll(velocities);
    state.add(dampingState);
    return new KfacGraph(options, registration, main.statistics(), inverses,
        tf.withControlDependencies(plain.ops).withName("apply").noOp(),
        main.statisticsAndApply(), main.statisticsInversesAndApply(),
        initState, rho, seed, dampingState, newDamping, setDamping,
        new KfacGraph.UpdateOutputs(plain.loss, plain.accuracy, plain.dot, plain.clip,
            plain.modelChange),
        main.statisticsAndApplyOutputs(), main.statisticsInversesAndApplyOutputs(),
        la.get(0).asOutput(), la.get(1).asOutput(), state, wholeBatch);
  }

  /** What every update of a step reads (shared by the statistics runs of each kind). */
  private record Step(List<CurvatureBlock> blocks, Map<String, Integer> index,
      List<Output<TFloat32>> variables, List<Output<TFloat32>> gradients,
      List<Variable<TFloat32>> velocities, Operand<TFloat32> totalDamping, KfacOptions options,
      double l2, Operand<TFloat32> lr, Operand<TFloat32> momentum, Operand<TFloat32> loss,
      Operand<TFloat32> accuracy, Replication replication, Operand<TFloat32> rho) {}

  /** The three targets that fold statistics of one kind of backward pass into the factors. */
  private record StatisticsRuns(Op statistics, Op statisticsAndApply,
      Op statisticsInversesAndApply, KfacGraph.UpdateOutputs statisticsAndApplyOutputs,
      KfacGraph.UpdateOutputs statisticsInversesAndApplyOutputs) {}

  /**
   * Under {@code tf}: {@code update_statistics}, {@code statistics_and_apply} and {@code
   * statistics_inverses_and_apply} from {@code passes}; the batch statistics under {@code st}.
   */
  private static StatisticsRuns statisticsRuns(Ops tf, Ops st, Step p,
      StatisticsPasses passes) {
    List<CurvatureBlock> blocks = p.blocks();
    Replication replication = p.replication();
    Operand<TFloat32> rho = p.rho();
    List<Output<TFloat32>> gradients = p.gradients();
    List<Operand<TFloat32>> shares = new ArrayList<>();
    List<Integer> sizes = new ArrayList<>();
    for (CurvatureBlock block : blocks) {
      List<Operand<TFloat32>> s = block.batchStatistics(st, passes);
      shares.addAll(s);
      sizes.add(s.size());
    }
    Op statistics = tf.withControlDependencies(accumulateAll(st, blocks, sizes,
        mean(replication, st, shares), passes, rho)).withName("update_statistics").noOp();

    // statistics and update from one forward pass: one all-reduce of the statistics' shares with
    // the gradients, loss and accuracy; the update waits for the statistics
    Ops sa = tf.withSubScope("statistics_and_apply_update");
    List<Operand<TFloat32>> packed = new ArrayList<>(shares);
    packed.addAll(withLossAndAccuracy(gradients, p.loss(), p.accuracy()));
    List<Operand<TFloat32>> both = mean(replication, sa.withSubScope("replicas"), packed);
    List<Operand<TFloat32>> rest = both.subList(shares.size(), both.size());
    List<Op> deps = new ArrayList<>(ready(sa, rest));
    deps.addAll(accumulateAll(sa, blocks, sizes, both.subList(0, shares.size()), passes, rho));
    Update withStats = update(sa, deps, blocks, p.index(), p.variables(),
        gradientsOf(rest, gradients.size()), p.velocities(), p.totalDamping(), p.options(),
        p.l2(), p.lr(), p.momentum(), rest.get(gradients.size()),
        rest.get(gradients.size() + 1));

    // statistics, inverse refresh and update from one forward pass, so that an inverse step is
    // one session run instead of a statistics run and an update run: the same one all-reduce as
    // above (statistics' shares, gradients, loss, accuracy); the inverses read the factors once
    // the averaged statistics are folded in (bit-equal on every replica, so are the inverses),
    // and the update waits for the inverses
    Ops sia = tf.withSubScope("statistics_inverses_and_apply_update");
    List<Operand<TFloat32>> all = mean(replication, sia.withSubScope("replicas"), packed);
    List<Operand<TFloat32>> allRest = all.subList(shares.size(), all.size());
    Ops ivs = sia.withSubScope("inverses").withControlDependencies(accumulateAll(sia, blocks,
        sizes, all.subList(0, shares.size()), passes, rho));
    List<Op> fused = new ArrayList<>(ready(sia, allRest));
    for (CurvatureBlock block : blocks) {
      fused.addAll(block.updateInverses(ivs, p.totalDamping()));
    }
    Update withInverses = update(sia, fused, blocks, p.index(), p.variables(),
        gradientsOf(allRest, gradients.size()), p.velocities(), p.totalDamping(), p.options(),
        p.l2(), p.lr(), p.momentum(), allRest.get(gradients.size()),
        allRest.get(gradients.size() + 1));
    return new StatisticsRuns(statistics,
        tf.withControlDependencies(withStats.ops).withName("statistics_and_apply").noOp(),
        tf.withControlDependencies(withInverses.ops).withName("statistics_inverses_and_apply")
            .noOp(),
        new KfacGraph.UpdateOutputs(withStats.loss, withStats.accuracy, withStats.dot,
            withStats.clip, withStats.modelChange),
        new KfacGraph.UpdateOutputs(withInverses.loss, withInverses.accuracy, withInverses.dot,
            withInverses.clip, withInverses.modelChange));
  }

  private record Update(List<Op> ops, Output<TFloat32> loss, Output<TFloat32> accuracy,
      Output<TFloat32> dot, Output<TFloat32> clip, Output<TFloat32> modelChange) {}

  /** The replicas' mean of {@code values} (one all-reduce), or the values themselves. */
  private static List<Operand<TFloat32>> mean(Replication replication, Ops tf,
      List<? extends Operand<TFloat32>> values) {
    return replication == null ? new ArrayList<>(values) : replication.mean(tf, values);
  }

  private static List<Operand<TFloat32>> withLossAndAccuracy(List<Output<TFloat32>> gradients,
      Operand<TFloat32> loss, Operand<TFloat32> accuracy) {
    List<Operand<TFloat32>> all = new ArrayList<>(gradients);
    all.add(loss);
    all.add(accuracy);
    return all;
  }

  private static List<Output<TFloat32>> gradientsOf(List<Operand<TFloat32>> reduced, int n) {
    List<Output<TFloat32>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(reduced.get(i).asOutput());
    }
    return out;
  }

  /** Identity ops the update waits for (the gradients are computed before any weight moves). */
  private static List<Op> ready(Ops scope, List<Operand<TFloat32>> values) {
    Ops ready = scope.withSubScope("gradients_ready");
    List<Op> out = new ArrayList<>();
    for (Operand<TFloat32> v : values) {
      out.add(ready.identity(v));
    }
    return out;
  }

  /** Every block's accumulate ops, block {@code b} reading the next {@code sizes[b]} tensors. */
  private static List<Op> accumulateAll(Ops tf, List<CurvatureBlock> blocks, List<Integer> sizes,
      List<Operand<TFloat32>> statistics, StatisticsPasses passes, Operand<TFloat32> rho) {
    List<Op> out = new ArrayList<>();
    int k = 0;
    for (int b = 0; b < blocks.size(); b++) {
      out.addAll(blocks.get(b).accumulate(tf, statistics.subList(k, k + sizes.get(b)), passes,
          rho));
      k += sizes.get(b);
    }
    return out;
  }

  private static Update update(Ops scope, List<Op> deps, List<CurvatureBlock> blocks,
      Map<String, Integer> index, List<Output<TFloat32>> variables,
      List<Output<TFloat32>> gradients, List<Variable<TFloat32>> velocities,
      Operand<TFloat32> damping, KfacOptions options, double l2, Operand<TFloat32> lr,
      Operand<TFloat32> momentum, Operand<TFloat32> loss, Operand<TFloat32> accuracy) {
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
    return new Update(ops, scope.withName("loss").identity(loss).asOutput(),
        scope.withName("accuracy").identity(accuracy).asOutput(), dotOut, clipOut, model);
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
      List<Output<TFloat32>> variables, Map<String, Integer> index, Operand<TInt64> seed,
      Replication replication, SubBatchForward forward) {
    // with a sub-batch copy, the batch size from the fed input (the logits' shape would run the
    // whole-batch forward pass in a statistics-only run)
    Operand<TInt32> batch = forward != null
        ? tf.withName("batch_size").identity(graph.operationOrThrow(forward.batch())
            .<TInt32>output(0))
        : tf.withName("batch_size").gather(tf.shape(logits), tf.constant(0), tf.constant(0));
    Map<String, Output<TFloat32>> layerInputs = new LinkedHashMap<>();
    for (RegisteredLayer l : registration.layers()) {
      layerInputs.put(l.input(), KroneckerBlock.output(graph,
          forward == null ? l.input() : forward.tensor(l.input())));
    }
    // positions in the global batch (equal shards: replica r holds rows [r b, (r + 1) b))
    int replicas = replication == null ? 1 : replication.replicas();
    int rank = replication == null ? 0 : replication.rank();
    Operand<TInt32> globalBatch = replicas == 1 ? batch
        : tf.withName("global_batch_size").math.mul(batch, tf.constant(replicas));
    Operand<TInt32> first = rank == 0 ? tf.constant(0)
        : tf.withName("first_example").math.mul(batch, tf.constant(rank));
    Operand<TInt32> globalExamples = options.statisticsExamples() > 0
        ? tf.math.minimum(globalBatch, tf.constant(options.statisticsExamples())) : globalBatch;
    globalExamples = tf.withName("global_examples").identity(globalExamples);
    // the statistics use the first globalExamples rows of the global batch: here a prefix
    Operand<TInt32> examples = tf.withName("examples").math.minimum(batch, tf.math.maximum(
        tf.constant(0), tf.math.sub(globalExamples, first)));
    // the rows the backward pass runs on: the batch, or the sub-batch copy's (examples, but at
    // least one: the mask below zeroes that row's seeds, the blocks slice it off)
    Output<TFloat32> statLogits = logits;
    Operand<TFloat32> statLabels = labels;
    Operand<TInt32> statRows = batch;
    if (forward != null) {
      statLogits = KroneckerBlock.output(graph, forward.tensor(
          logits.op().name() + ":" + logits.index()));
      statRows = tf.withName("copy_rows").identity(graph.operationOrThrow(forward.rows())
          .<TInt32>output(0));
      statLabels = KroneckerBlock.firstRows(tf, labels, statRows);
    }
    Operand<TFloat32> mask = tf.reshape(tf.dtypes.cast(tf.math.less(
        tf.range(tf.constant(0), statRows, tf.constant(1)), examples), TFloat32.class),
        tf.constant(new int[] {-1, 1}));
    boolean signs = options.estimation() == FisherEstimation.EXACT
        && !registration.diagonal().isEmpty();
    if (signs) {
      // one seed per class is shared by all examples, so the diagonal blocks' squared batch
      // gradient would keep cross-example terms; a random sign per example removes them in
      // expectation and leaves every per-example outer product (the Kronecker factors) unchanged
      Operand<TFloat32> u = SeedFactory.uniform(tf, seed, first, globalBatch, statLogits, 1);
      mask = tf.math.mul(mask, tf.math.sign(tf.math.sub(u, tf.constant(0.5f))));
    }
    // with the whole batch every replica uses all its examples (examples == batch); a sub-batch
    // is sliced off the layer tensors (of the copy: a no-op unless this replica's part is empty)
    boolean sliced = options.statisticsExamples() > 0;
    boolean wholeBatchOnes = !sliced && !signs;
    List<Operand<TFloat32>> seeds = SeedFactory.seeds(tf, options.estimation(), statLogits,
        statLabels, seed, first, globalBatch);
    List<Output<?>> xs = new ArrayList<>();
    for (RegisteredLayer l : registration.layers()) {
      xs.add(KroneckerBlock.output(graph, forward == null ? l.output()
          : forward.tensor(l.output())));
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
            new Output<?>[] {statLogits}, xs.toArray(new Output<?>[0]),
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
    return new StatisticsPasses(examples, first, globalExamples, replicas, outGrads, varGrads,
        seed, layerInputs, sliced);
  }
}
