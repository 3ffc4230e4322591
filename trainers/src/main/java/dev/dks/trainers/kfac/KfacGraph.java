package dev.dks.trainers.kfac;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * The K-FAC ops in a training graph and the schedule that says which of them the Java loop runs
 * at each step. Built by {@link KfacOptimizer#emit}.
 *
 * <p>Feeds: every target that touches statistics needs the batch, {@link #rho()} and
 * {@link #seed()} ({@code [options.seed, step]}); updates need the trainer's learning rate and
 * momentum. The damping is the state variable {@link #damping()} (initialized to the options'
 * value, changed through {@link #newDamping()} and {@link #setDamping()}); feeding the tensor
 * {@code <scope>/damping} overrides it for one run.
 *
 * @param options the hyper-parameters
 * @param registration which variable went to which block
 * @param statistics target: fold this batch's statistics into the moving averages
 * @param inverses target: recompute the cached inverses from the averages
 * @param apply target: one preconditioned momentum update
 * @param statisticsAndApply target: statistics and update from one forward pass (the update waits
 *     for the statistics, which read the pre-update weights)
 * @param statisticsInversesAndApply target: statistics, then the inverse refresh from the averages
 *     they updated, then the update with the fresh inverses, from one forward pass
 * @param initState target: zero every state variable and velocity, set the damping to the
 *     options' value
 * @param rho the EMA decay placeholder
 * @param seed the int64 {@code [2]} seed placeholder of the sampled targets
 * @param damping the damping lambda's state variable (the L2 coefficient is added inside)
 * @param newDamping the placeholder {@link #setDamping} assigns to {@link #damping}
 * @param setDamping target: assign {@link #newDamping} to {@link #damping}
 * @param applyOutputs what the {@link #apply} update can fetch
 * @param statisticsAndApplyOutputs what the {@link #statisticsAndApply} update can fetch
 * @param statisticsInversesAndApplyOutputs what the {@link #statisticsInversesAndApply} update
 *     can fetch
 * @param batchLoss the training loss of the fed batch without any update (the replicas' mean in a
 *     data-parallel run: an all-reduce every replica must run)
 * @param batchAccuracy likewise for the accuracy
 * @param state every state variable (block statistics, inverses, velocities, damping),
 *     checkpointed
 * @param wholeBatch with statistics from a sub-batch forward copy ({@link SubBatchForward}): the
 *     statistics targets on the training forward pass, for global batches of at most
 *     {@link KfacOptions#statisticsExamples} rows (where the copy would redo the whole forward
 *     pass; {@link #forBatch} picks); else null
 */
public record KfacGraph(
    KfacOptions options,
    Registration registration,
    Op statistics,
    Op inverses,
    Op apply,
    Op statisticsAndApply,
    Op statisticsInversesAndApply,
    Op initState,
    Placeholder<TFloat32> rho,
    Placeholder<TInt64> seed,
    Variable<TFloat32> damping,
    Placeholder<TFloat32> newDamping,
    Op setDamping,
    UpdateOutputs applyOutputs,
    UpdateOutputs statisticsAndApplyOutputs,
    UpdateOutputs statisticsInversesAndApplyOutputs,
    Output<TFloat32> batchLoss,
    Output<TFloat32> batchAccuracy,
    List<Variable<TFloat32>> state,
    WholeBatchRuns wholeBatch) {

  /**
   * The statistics targets that read the training forward pass, used instead of those of a
   * sub-batch copy when the global batch has at most m rows. Their statistics equal the copy's
   * for any batch (they mask the seeds of the rows after the first m), at the cost of a
   * whole-batch backward pass.
   *
   * @param replicas data-parallel replicas (1: one process): global batch = replicas x local
   */
  public record WholeBatchRuns(int replicas, Op statistics, Op statisticsAndApply,
      Op statisticsInversesAndApply, UpdateOutputs statisticsAndApplyOutputs,
      UpdateOutputs statisticsInversesAndApplyOutputs) {}

  /**
   * The targets to run on a batch of {@code localBatch} rows per replica: these, or, with a
   * sub-batch copy and a global batch of at most {@link KfacOptions#statisticsExamples} rows, the
   * same graph with the {@link #wholeBatch} statistics targets (equal statistics, one forward
   * pass fewer).
   */
  public KfacGraph forBatch(long localBatch) {
    if (wholeBatch == null || localBatch * wholeBatch.replicas() > options.statisticsExamples()) {
      return this;
    }
    return new KfacGraph(options, registration, wholeBatch.statistics(), inverses, apply,
        wholeBatch.statisticsAndApply(), wholeBatch.statisticsInversesAndApply(), initState, rho,
        seed, damping, newDamping, setDamping, applyOutputs,
        wholeBatch.statisticsAndApplyOutputs(), wholeBatch.statisticsInversesAndApplyOutputs(),
        batchLoss, batchAccuracy, state, null);
  }

  /**
   * What an update run can fetch.
   *
   * @param loss the training loss of the fed batch before the update (in a data-parallel run, the
   *     replicas' mean: the global batch's loss)
   * @param accuracy likewise for the accuracy
   * @param gradientDotUpdate {@code grad . u} (= {@code u^T F u} for the damped approximate
   *     Fisher) before clipping
   * @param clip the norm-constraint coefficient
   * @param modelChange the loss change K-FAC's quadratic model predicts for the update
   */
  public record UpdateOutputs(Output<TFloat32> loss, Output<TFloat32> accuracy,
      Output<TFloat32> gradientDotUpdate, Output<TFloat32> clip,
      Output<TFloat32> modelChange) {}

  /** Copies the list. */
  public KfacGraph {
    state = List.copyOf(state);
  }

  /** One session run of a step, in order. */
  public enum Phase {
    /** Run {@link KfacGraph#statistics()} on the step's batch. */
    STATISTICS,
    /** Run {@link KfacGraph#inverses()}. */
    INVERSES,
    /** Run {@link KfacGraph#statisticsAndApply()} on the step's batch. */
    STATISTICS_AND_APPLY,
    /** Run {@link KfacGraph#apply()} on the step's batch. */
    APPLY,
    /** Run {@link KfacGraph#statisticsInversesAndApply()} on the step's batch. */
    STATISTICS_INVERSES_AND_APPLY
  }

  /**
   * The session runs of global step {@code step}: statistics at every step below
   * {@code denseStatisticsSteps} and at multiples of {@code curvatureEvery}, inverses at
   * multiples of {@code inverseEvery} (so always at step 0,
   * after that step's statistics and before its update). A step with statistics is one session
   * run, one forward pass: statistics, inverses and update are ordered inside the graph by
   * control dependencies (and, across replicas, share the step's one all-reduce); an inverse
   * refresh without statistics runs the inverses, then the update.
   */
  public List<Phase> phases(long step) {
    boolean stats = options.statisticsAt(step);
    boolean inv = step % options.inverseEvery() == 0;
    List<Phase> out = new ArrayList<>();
    if (inv) {
      if (stats) {
        out.add(Phase.STATISTICS_INVERSES_AND_APPLY);
      } else {
        out.add(Phase.INVERSES);
        out.add(Phase.APPLY);
      }
    } else {
      out.add(stats ? Phase.STATISTICS_AND_APPLY : Phase.APPLY);
    }
    return out;
  }

  /**
   * The EMA decay fed for the statistics update of global step {@code step} in regular training:
   * {@code rho^gap}, with {@code gap} the steps since the previous statistics update, so that the
   * average forgets at the same rate per step whatever the period: 1 below
   * {@code denseStatisticsSteps}, then {@code min(curvatureEvery, step - dense + 1)} (the first
   * periodic update after a dense start follows the last dense one closely), and
   * {@code curvatureEvery} throughout without a dense start (step 0 included, as if the burn-in
   * ended one period before it).
   */
  public double decayPerUpdate(long step) {
    int dense = options.denseStatisticsSteps();
    int period = options.curvatureEvery();
    long gap = step < dense ? 1 : dense > 0 ? Math.min(period, step - dense + 1) : period;
    return Math.pow(options.curvatureEma(), gap);
  }
}
