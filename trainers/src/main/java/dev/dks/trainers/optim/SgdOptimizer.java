package dev.dks.trainers.optim;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

/**
 * Stochastic gradient descent, plain or with (Nesterov) momentum, emitted as explicit TF update
 * ops over an explicit list of variables (never {@code Optimizer.minimize}, which takes every
 * variable of the graph, see the TF Java notes R3). With learning rate {@code lr} and momentum
 * {@code mu} (both scalar operands, normally placeholders fed every step so schedules work):
 *
 * <ul>
 *   <li>{@link Kind#SGD}: {@code w -= lr g};
 *   <li>{@link Kind#MOMENTUM}: {@code v = mu v + g; w -= lr v};
 *   <li>{@link Kind#NESTEROV}: {@code v = mu v + g; w -= lr (g + mu v)} (with the new v).
 * </ul>
 *
 * <p><b>Slot variables</b> (the velocities v) are {@code VariableV2} nodes named
 * {@code <scope>/var<i>/velocity}, shaped like their variable. They are created without an
 * initializer, so they are <i>not</i> in the graph's init scope: TF Java would otherwise run
 * their initializer before the first {@code run} of every session on this graph and a restore of
 * optimizer state could be overwritten. Instead {@link Update#initSlots()} assigns zeros (through
 * {@code ZerosLike}, no constants embedded) and the caller runs it once, before the first step,
 * or assigns restored values instead.
 *
 * <p>All updates carry control dependencies on every gradient, so no variable changes before the
 * whole backward pass has read the old values.
 */
public final class SgdOptimizer {

  /** The update rule. */
  public enum Kind {
    /** Plain SGD, no slots. */
    SGD,
    /** Heavy-ball momentum. */
    MOMENTUM,
    /** Nesterov momentum (the formulation used by TF's {@code use_nesterov}). */
    NESTEROV
  }

  /**
   * The emitted ops.
   *
   * @param apply target that performs one update of every variable (and slot)
   * @param initSlots target that zeroes every slot variable (a NoOp for plain SGD)
   * @param slots the slot variables, in the order of the variables (empty for plain SGD)
   */
  public record Update(Op apply, Op initSlots, List<Variable<TFloat32>> slots) {
    /** Copies the list. */
    public Update {
      slots = List.copyOf(slots);
    }
  }

  private final Kind kind;

  /** An optimizer of this kind. */
  public SgdOptimizer(Kind kind) {
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** The update rule. */
  public Kind kind() {
    return kind;
  }

  /**
   * Emits the update ops.
   *
   * @param tf ops in the scope under which to create them (e.g. {@code withSubScope("sgd")})
   * @param variables the variables to update (float32 {@code VariableV2} ref outputs)
   * @param gradients their gradients, same order
   * @param lr scalar learning rate
   * @param momentum scalar momentum (unused by plain SGD)
   */
  public Update emit(Ops tf, List<Output<TFloat32>> variables, List<Output<TFloat32>> gradients,
      Operand<TFloat32> lr, Operand<TFloat32> momentum) {
    if (variables.size() != gradients.size()) {
      throw new IllegalArgumentException(variables.size() + " variables but "
          + gradients.size() + " gradients");
    }
    Ops gradScope = tf.withSubScope("gradients_ready");
    List<Op> gradDeps = new ArrayList<>();
    for (Output<TFloat32> g : gradients) {
      gradDeps.add(gradScope.identity(g));
    }
    List<Op> updates = new ArrayList<>();
    List<Op> inits = new ArrayList<>();
    List<Variable<TFloat32>> slots = new ArrayList<>();
    for (int i = 0; i < variables.size(); i++) {
      Output<TFloat32> w = variables.get(i);
      Output<TFloat32> g = gradients.get(i);
      Ops scope = tf.withSubScope("var" + i);
      Ops at = gradDeps.isEmpty() ? scope : scope.withControlDependencies(gradDeps);
      switch (kind) {
        case SGD -> updates.add(at.assignSub(w, at.math.mul(lr, g)));
        case MOMENTUM, NESTEROV -> {
          Variable<TFloat32> v = scope.withName("velocity").variable(w.shape(), TFloat32.class);
          slots.add(v);
          inits.add(scope.withName("init_velocity").assign(v, scope.zerosLike(w)));
          Operand<TFloat32> vNew = at.assign(v, at.math.add(at.math.mul(momentum, v), g));
          Operand<TFloat32> step = kind == Kind.MOMENTUM ? vNew
              : at.math.add(g, at.math.mul(momentum, vNew));
          updates.add(at.assignSub(w, at.math.mul(lr, step)));
        }
        default -> throw new AssertionError(kind);
      }
    }
    Op apply = tf.withControlDependencies(updates).withName("apply").noOp();
    Op init = inits.isEmpty() ? tf.withName("init_slots").noOp()
        : tf.withControlDependencies(inits).withName("init_slots").noOp();
    return new Update(apply, init, slots);
  }
}
