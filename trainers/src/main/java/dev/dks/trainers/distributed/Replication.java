package dev.dks.trainers.distributed;

import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The hook through which {@code TrainingGraph} becomes one replica of a data-parallel run: it
 * lets the replication average the step's gradients, loss and accuracy across replicas before the
 * optimizer's update ops consume them, and opens the session (on the local task's server).
 * Without a replication (null) the training graph is the single-process one, unchanged.
 */
public interface Replication {

  /**
   * Emits the cross-replica mean of {@code values} (gradients, then the step's loss and accuracy).
   *
   * @param tf the scope to emit in
   * @param values float32 tensors with fully known shapes
   * @return the averaged values in the same order
   */
  List<Operand<TFloat32>> mean(Ops tf, List<? extends Operand<TFloat32>> values);

  /**
   * Emits a copy of rank 0's value of each of {@code values} (merge {@code Add} of rank 0's value
   * and zeros elsewhere: exactly rank 0's bits on every replica).
   */
  List<Operand<TFloat32>> fromRank0(Ops tf, List<? extends Operand<TFloat32>> values);

  /** Opens the replica's session on {@code graph} (initializers not run: see TargetSessions). */
  Session openSession(Graph graph);

  /** This replica's rank (0 has the chief duties). */
  int rank();

  /** The number of replicas. */
  int replicas();
}
