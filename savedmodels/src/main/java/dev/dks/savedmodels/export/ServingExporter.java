package dev.dks.savedmodels.export;

import dev.dks.rewriter.model.Model;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.SavedModel;

/**
 * Writes a {@link Model} as a SavedModel that TF Serving loads: one MetaGraphDef tagged {@code
 * serve}, the graph pruned to what the signatures need plus a standard TF1 saver, every variable a
 * {@code VariableV2} whose value lives in the V2 checkpoint {@code variables/variables.*} (so
 * {@code saved_model.pb} stays small: no weight constants), a {@code serving_default} signature
 * with method {@code tensorflow/serving/predict} and the model's own input and output names, and
 * only ops the TensorFlow runtime registers (no TF-internal {@code _}-prefixed ops, no resource
 * variables). The folder is written next to the target and renamed into place atomically; an
 * existing non-empty target is refused.
 */
public final class ServingExporter {
  /** The tag TF Serving loads. */
  public static final String SERVE_TAG = "serve";

  private ServingExporter() {}

  /** Exports {@code model} into the new folder {@code dir}. */
  public static void export(Model model, Path dir) {
    export(model, dir, Map.of());
  }

  /**
   * Exports {@code model} into the new folder {@code dir}, with extra files (by plain file name)
   * in {@code assets.extra/}, e.g. the shaping record {@code dks-shaping.json}; they are written
   * into the temporary folder before the rename, so they appear with the model or not at all.
   */
  public static void export(Model model, Path dir, Map<String, byte[]> assetsExtra) {
    Path target = dir.toAbsolutePath().normalize();
    ExportSupport.checkAssetsExtra(assetsExtra);
    ExportSupport.refuseNonEmpty(target);
    ExportSupport.MetaGraphAndValues served =
        ExportSupport.servingMetaGraph(model, List.of(SERVE_TAG));
    SavedModel sm = SavedModel.newBuilder().setSavedModelSchemaVersion(1)
        .addMetaGraphs(served.meta()).build();
    ExportSupport.writeAtomically(target, sm, served.values(), assetsExtra);
  }
}
