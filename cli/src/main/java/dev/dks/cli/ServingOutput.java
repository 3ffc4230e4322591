package dev.dks.cli;

import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.export.ExportException;
import dev.dks.savedmodels.export.ServingExporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SignatureDef;

/**
 * Where the model commands ({@code build}, {@code rewrite}, {@code convert}, {@code export})
 * write: {@link #requireWritable} refuses a non-empty output folder before any work is done, and
 * {@link #export} writes the serving SavedModel with {@link ServingExporter} (tag {@code serve},
 * {@code serving_default} with method {@code tensorflow/serving/predict}, {@code VariableV2}
 * values in the checkpoint, written into a temporary folder beside the target and renamed into
 * place; an {@link ExportException} leaves nothing behind) and reads back what was written for
 * the commands' reports.
 */
final class ServingOutput {
  private static final String SERVING_DEFAULT = "serving_default";

  private ServingOutput() {}

  /**
   * What was written.
   *
   * @param dir the absolute SavedModel folder
   * @param nodes nodes of the saved graph (the saver's included)
   * @param variables {@code VariableV2} nodes of the saved graph
   * @param savedModelBytes size of {@code saved_model.pb}
   * @param variablesBytes total size of the files under {@code variables/}
   * @param signatures the saved SignatureDefs by key, as TF Serving reads them ({@code
   *     serving_default} first, then by key)
   */
  record Written(Path dir, int nodes, int variables, long savedModelBytes, long variablesBytes,
      Map<String, SignatureDef> signatures) {}

  /**
   * Fails unless {@code dir} is absent or an empty folder.
   *
   * @throws IllegalArgumentException naming the folder
   */
  static void requireWritable(Path dir) {
    Path abs = dir.toAbsolutePath().normalize();
    if (!Files.exists(abs)) {
      return;
    }
    if (!Files.isDirectory(abs)) {
      throw new IllegalArgumentException("output " + abs + " exists and is not a folder");
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(abs)) {
      if (s.iterator().hasNext()) {
        throw new IllegalArgumentException("output folder " + abs + " exists and is not empty: "
            + "choose a new folder or remove it");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read output folder " + abs, e);
    }
  }

  /**
   * Exports {@code model} into {@code dir} (absent or empty) as a serving SavedModel, atomically.
   *
   * @throws ExportException when the model cannot be served (nothing is written)
   */
  static Written export(Model model, Path dir) {
    return export(model, dir, Map.of());
  }

  /**
   * {@link #export(Model, Path)} with extra files in {@code assets.extra/} (the shaping record,
   * see {@link ModelShaping}), written inside the same atomic folder write.
   */
  static Written export(Model model, Path dir, Map<String, byte[]> assetsExtra) {
    return export(model, dir, assetsExtra, null);
  }

  /**
   * {@link #export(Model, Path, Map)} accepting the ops {@code --allow-ops} names ({@code flags},
   * null: none) on the serving path.
   */
  static Written export(Model model, Path dir, Map<String, byte[]> assetsExtra,
      UntrustedFlags flags) {
    Path target = dir.toAbsolutePath().normalize();
    requireWritable(target);
    ServingExporter.export(model, target, assetsExtra, UntrustedFlags.allowed(flags));
    return describe(target);
  }

  /** Reads the summary of a SavedModel folder that {@link #export} wrote. */
  static Written describe(Path dir) {
    try {
      SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
      MetaGraphDef meta = sm.getMetaGraphs(0);
      int vars = 0;
      for (NodeDef n : meta.getGraphDef().getNodeList()) {
        if (n.getOp().equals("VariableV2")) {
          vars++;
        }
      }
      long varBytes = 0;
      Path varDir = dir.resolve("variables");
      if (Files.isDirectory(varDir)) {
        try (Stream<Path> s = Files.list(varDir)) {
          for (Path p : s.toList()) {
            varBytes += Files.size(p);
          }
        }
      }
      Map<String, SignatureDef> sigs = new LinkedHashMap<>();
      SignatureDef serving = meta.getSignatureDefMap().get(SERVING_DEFAULT);
      if (serving != null) {
        sigs.put(SERVING_DEFAULT, serving);
      }
      sigs.putAll(new TreeMap<>(meta.getSignatureDefMap()));
      return new Written(dir, meta.getGraphDef().getNodeCount(), vars,
          Files.size(dir.resolve("saved_model.pb")), varBytes, sigs);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read back the SavedModel written to " + dir, e);
    }
  }
}
