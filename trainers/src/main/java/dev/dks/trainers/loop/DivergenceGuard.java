package dev.dks.trainers.loop;

import dev.dks.trainers.data.Batch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.tensorflow.GraphOperation;
import org.tensorflow.proto.TensorProto;

/**
 * Stops the run when a step's loss is NaN or infinite, or above a ceiling of {@code factor x
 * max(1, the run's first loss)} (default factor 100: a softmax classifier starts near ln K, and a
 * loss a hundred times that, finite only because the logits saturate, is a dead run that would
 * otherwise finish "successfully"), and says where it went wrong: it fetches
 * the variables after the bad step and names the first one, in graph order (the order of the
 * nodes in the graph, i.e. from the input towards the logits for a built or imported model),
 * that holds a non-finite value, lists every such variable, and checks whether the batch of
 * that step itself contained non-finite inputs or targets (the batches are a pure function of
 * the step, so it is simply recomputed).
 *
 * <p>The run ends after that step with {@link TrainingOutcome.Status#DIVERGED}; every listener
 * gets {@code onDivergence} with the {@link DivergenceReport}. The last good checkpoint is left as
 * it is ({@link CheckpointListener} never writes a non-finite state). Add the guard first so that
 * listeners after it already see {@link TrainingContext#diverged()} for the bad step.
 */
public final class DivergenceGuard implements TrainingListener {
  /** The default ceiling factor. */
  public static final double DEFAULT_CEILING_FACTOR = 100;

  private final double ceilingFactor;
  private double ceiling = Double.NaN;
  private DivergenceReport report;

  /** A guard with the default ceiling factor. */
  public DivergenceGuard() {
    this(DEFAULT_CEILING_FACTOR);
  }

  /**
   * A guard whose loss ceiling is {@code ceilingFactor x max(1, first loss)};
   * {@code Double.POSITIVE_INFINITY} stops on non-finite losses only.
   */
  public DivergenceGuard(double ceilingFactor) {
    if (!(ceilingFactor > 1)) {
      throw new IllegalArgumentException("the loss ceiling factor must be > 1, got "
          + ceilingFactor);
    }
    this.ceilingFactor = ceilingFactor;
  }

  /** The report of the last divergence this guard saw, or null. */
  public DivergenceReport report() {
    return report;
  }

  @Override
  public void onStep(TrainingContext context, StepResult result) {
    if (context.diverged()) {
      return;
    }
    if (Double.isNaN(ceiling) && result.finite()) {
      ceiling = ceilingFactor * Math.max(1, result.loss());
    }
    boolean aboveCeiling = result.finite() && result.loss() > ceiling;
    if (result.finite() && !aboveCeiling) {
      return;
    }
    Map<String, TensorProto> vars = context.graph().variables();
    Map<String, Integer> order = new HashMap<>();
    Iterator<GraphOperation> ops = context.graph().graph().operations();
    for (int i = 0; ops.hasNext(); i++) {
      order.put(ops.next().name(), i);
    }
    List<String> names = new ArrayList<>(vars.keySet());
    names.sort((a, b) -> Integer.compare(order.getOrDefault(a, Integer.MAX_VALUE),
        order.getOrDefault(b, Integer.MAX_VALUE)));
    List<String> bad = new ArrayList<>();
    String first = null;
    for (String n : names) {
      long k = CheckpointListener.nonFinite(vars.get(n));
      if (k > 0) {
        if (first == null) {
          first = n;
        }
        bad.add(n + "=" + k);
      }
    }
    Batch b = context.batches().batchAt(result.step());
    boolean inputFinite = finite(b.images()) && finite(b.oneHot());
    report = new DivergenceReport(result.step(), result.epoch(), result.loss(),
        aboveCeiling ? ceiling : Double.NaN, inputFinite, first, bad,
        context.lastCheckpoint().orElse(null), context.lastCheckpointStep());
    context.reportDivergence(report);
  }

  private static boolean finite(float[] v) {
    for (float x : v) {
      if (!Float.isFinite(x)) {
        return false;
      }
    }
    return true;
  }
}
