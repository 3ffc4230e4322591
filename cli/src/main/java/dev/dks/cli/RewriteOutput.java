package dev.dks.cli;

import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.kernel.KernelCheck;
import dev.dks.rewriter.kernel.QOverflow;
import dev.dks.rewriter.kernel.QOverflowException;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import dev.dks.solver.solve.ShapingSolution;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code dks rewrite --out DIR} writes, for callers outside the command line (the corpus
 * run, which then runs {@code dks verify} on it): the rewritten model as a serving SavedModel,
 * written atomically, with its shaping record ({@code assets.extra/dks-shaping.json}) made from
 * the pipeline's result and the options exactly as {@link RewriteCommand} makes it.
 */
public final class RewriteOutput {
  private RewriteOutput() {}

  /**
   * Writes {@code result}'s model into {@code dir} (absent or empty) with the record of a rewrite
   * under {@code options}; returns the written folder.
   */
  public static Path write(Pipeline.Result result, RewriteOptions options, Path dir) {
    refuseQOverflow(result, options);
    return ServingOutput.export(result.model(), dir,
        ShapingMetadataFiles.assetsExtra(ModelShaping.ofRewrite(result, options))).dir();
  }

  /**
   * Refuses ({@link QOverflowException}) a rewrite whose shaped model the kernel check predicts
   * a q past float32's range for ({@link KernelCheck#predictedOverflow}: networks that multiply
   * streams only); {@code dks verify} would measure NaN there.
   */
  static void refuseQOverflow(Pipeline.Result result, RewriteOptions options) {
    ShapingSolution solution = result.fact(ShapingSolution.class).orElse(null);
    if (solution == null) {
      return;
    }
    Map<String, String> declared =
        ModelShaping.declaredSites(Optional.of(ModelShaping.ofRewrite(result, options)));
    QOverflow overflow = KernelCheck.predictedOverflow(result.model(), solution, declared);
    if (overflow != null) {
      throw new QOverflowException(overflow);
    }
  }

  /** As {@link #write(Pipeline.Result, RewriteOptions, Path)}, under the command's --allow-ops. */
  static Path write(Pipeline.Result result, RewriteOptions options, Path dir,
      UntrustedFlags untrusted) {
    return ServingOutput.export(result.model(), dir,
        ShapingMetadataFiles.assetsExtra(ModelShaping.ofRewrite(result, options)), untrusted)
        .dir();
  }
}
