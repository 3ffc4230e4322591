package dev.dks.trainers.loop;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Why and where a run diverged, from {@link DivergenceGuard}.
 *
 * @param step the 0-based step whose loss was NaN, infinite or above the ceiling
 * @param epoch its epoch
 * @param loss the loss it reported
 * @param lossCeiling the ceiling a finite loss went above, or NaN when the loss was not finite
 * @param inputFinite whether every input value and target of that step's batch was finite (false
 *     points at the data rather than at the optimization)
 * @param firstNonFiniteVariable the first variable, in graph order, holding a NaN or infinite
 *     value after the step; null when every variable is still finite (the forward pass alone
 *     overflowed)
 * @param nonFiniteVariables every such variable in graph order with its count of non-finite
 *     values, as {@code name=count}
 * @param lastCheckpoint the last good checkpoint written in this run or the one it resumed from,
 *     or null; the guard never overwrites it
 * @param lastCheckpointStep the completed steps recorded in it, or -1
 */
public record DivergenceReport(long step, long epoch, double loss, double lossCeiling,
    boolean inputFinite, String firstNonFiniteVariable, List<String> nonFiniteVariables,
    Path lastCheckpoint, long lastCheckpointStep) {

  /** Copies the list. */
  public DivergenceReport {
    nonFiniteVariables = List.copyOf(nonFiniteVariables);
  }

  /** The first non-finite variable, if any. */
  public Optional<String> firstNonFinite() {
    return Optional.ofNullable(firstNonFiniteVariable);
  }

  /** One human-readable paragraph. */
  public String message() {
    StringBuilder sb = new StringBuilder();
    sb.append("training diverged at step ").append(step).append(" (epoch ").append(epoch)
        .append("): loss ").append(loss);
    if (!Double.isNaN(lossCeiling)) {
      sb.append(", above the divergence ceiling ").append(lossCeiling)
          .append(" (a multiple of the run's first loss)");
    }
    sb.append('.');
    if (!inputFinite) {
      sb.append(" The batch of that step contains non-finite inputs or targets.");
    }
    if (firstNonFiniteVariable != null) {
      sb.append(" First non-finite variable in graph order: ").append(firstNonFiniteVariable)
          .append(" (all: ").append(String.join(", ", nonFiniteVariables)).append(").");
    } else {
      sb.append(" Every variable is still finite.");
    }
    sb.append(lastCheckpoint == null ? " No checkpoint was written."
        : " Last good checkpoint: " + lastCheckpoint + " at step " + lastCheckpointStep + ".");
    return sb.toString();
  }
}
