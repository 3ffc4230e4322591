package dev.dks.trainers.kfac;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * One block of K-FAC's block-diagonal curvature: the state it keeps (moving-average statistics,
 * cached inverses) as {@code VariableV2} slots, and the ops that update the statistics, refresh
 * the inverses and precondition the gradients of its variables. Blocks emit ops only; when they
 * run is decided by {@link KfacGraph}.
 */
public interface CurvatureBlock {

  /** The trainable variables this block preconditions, in the order of {@link #precondition}. */
  List<String> variables();

  /** The block's state variables (checkpointed with the optimizer slots). */
  List<Variable<TFloat32>> state();

  /** Ops that zero every state variable. */
  List<Op> initState(Ops tf);

  /**
   * This replica's share of one batch's statistics, float32 tensors of fully known shapes whose
   * mean over the replicas is the global batch's statistics (one process: the batch's
   * statistics). Distributed runs average them with the gradients in one all-reduce.
   *
   * @param backward the seeded backward passes of this statistics update
   */
  List<Operand<TFloat32>> batchStatistics(Ops tf, StatisticsPasses backward);

  /**
   * Ops that fold the (replica-averaged) {@link #batchStatistics} into the moving averages with
   * decay {@code rho}.
   */
  List<Op> accumulate(Ops tf, List<Operand<TFloat32>> statistics, StatisticsPasses backward,
      Operand<TFloat32> rho);

  /** Ops that recompute the cached inverses for damping {@code damping} (already incl. L2). */
  List<Op> updateInverses(Ops tf, Operand<TFloat32> damping);

  /**
   * The preconditioned gradients {@code (F + damping I)^-1 grad} of {@link #variables()}, shaped
   * like the variables, from the cached state.
   */
  List<Operand<TFloat32>> precondition(Ops tf, List<Operand<TFloat32>> gradients,
      Operand<TFloat32> damping);

  /**
   * {@code delta^T F delta} for a change {@code delta} of {@link #variables()} (shaped like them),
   * with the block's current undamped curvature estimate (the moving averages, not the cached
   * inverses): the curvature term of K-FAC's quadratic model.
   */
  Operand<TFloat32> quadratic(Ops tf, List<Operand<TFloat32>> deltas);
}
