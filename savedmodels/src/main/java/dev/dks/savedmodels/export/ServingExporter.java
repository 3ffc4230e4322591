package dev.dks.savedmodels.export;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.safety.OpGate;
import dev.dks.rewriter.safety.UnsafeOpsException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 *
 * <p>Untrusted models (issue 17): a model whose serving path holds an op of {@link
 * dev.dks.rewriter.safety.OpPolicy} (file or stream I/O) is refused before anything is written
 * ({@link UnsafeOpsException}), unless the caller allows its op type.
 */
public final class ServingExporter {
  /** The tag TF Serving loads. */
  public static final String SERVE_TAG = "serve";

  private ServingExporter() {}

  /**
   * Exports {@code model} into the new folder {@code dir}.
   *
   * @throws UnsafeOpsException when the serving path holds an op with effects outside the tensors
   */
  public static void export(Model model, Path dir) {
    export(model, dir, Map.of());
  }

  /**
   * Exports {@code model} into the new folder {@code dir}, with extra files (by plain file name)
   * in {@code assets.extra/}, e.g. the shaping record {@code dks-shaping.json}; they are written
   * into the temporary folder before the rename, so they appear with the model or not at all.
   *
   * @throws UnsafeOpsException when the serving path holds an op with effects outside the tensors
   */
  public static void export(Model model, Path dir, Map<String, byte[]> assetsExtra) {
    export(model, dir, assetsExtra, Set.of());
  }

  /**
   * As {@link #export(Model, Path, Map)}, accepting the policy ops in {@code allowedOps} (op
   * types, e.g. {@code PrintV2}, for a model the caller trusts).
   *
   * @throws UnsafeOpsException when the serving path holds another op with effects outside the
   *     tensors; nothing is written then
   */
  public static void export(Model model, Path dir, Map<String, byte[]> assetsExtra,
      Set<String> allowedOps) {
    Path target = dir.toAbsolutePath().normalize();
    OpGate.requireServingSafe(model, allowedOps, "the model exported to " + target);
    ExportSupport.checkAssetsExtra(assetsExtra);
    ExportSupport.refuseNonEmpty(target);
    ExportSupport.MetaGraphAndValues served =
        ExportSupport.servingMetaGraph(model, List.of(SERVE_TAG));
    SavedModel sm = SavedModel.newBuilder().setSavedModelSchemaVersion(1)
        .addMetaGraphs(served.meta()).build();
    ExportSupport.writeAtomically(target, sm, served.values(), assetsExtra);
  }
}
