package dev.dks.cli;

import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import java.nio.file.Path;

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
    return ServingOutput.export(result.model(), dir,
        ShapingMetadataFiles.assetsExtra(ModelShaping.ofRewrite(result, options))).dir();
  }

  /** As {@link #write(Pipeline.Result, RewriteOptions, Path)}, under the command's --allow-ops. */
  static Path write(Pipeline.Result result, RewriteOptions options, Path dir,
      UntrustedFlags untrusted) {
    return ServingOutput.export(result.model(), dir,
        ShapingMetadataFiles.assetsExtra(ModelShaping.ofRewrite(result, options)), untrusted)
        .dir();
  }
}
