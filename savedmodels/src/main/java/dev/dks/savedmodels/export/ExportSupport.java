package dev.dks.savedmodels.export;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * What {@link ServingExporter} and {@link TrainingExporter} share: the serving meta graph (pruned
 * graph, standard saver, predict {@code serving_default}), signature and op checks, and the
 * atomic folder write (temp folder next to the target, then rename).
 */
final class ExportSupport {
  /** The SavedModel folder for files of other tools, which TF and TF Serving do not load. */
  static final String ASSETS_EXTRA = "assets.extra";

  private ExportSupport() {}

  /**
   * A meta graph and the variable values its saver restores.
   *
   * @param meta the MetaGraphDef (tags, graph with saver, saver_def, signatures)
   * @param values checkpoint values by variable node name, in graph order
   */
  record MetaGraphAndValues(MetaGraphDef meta, Map<String, TensorProto> values) {}

  /**
   * The serving meta graph of {@code model} (see {@link ServingExporter}): tagged {@code tags},
   * the graph pruned to the signatures, only standard ops and VariableV2 variables.
   */
  static MetaGraphAndValues servingMetaGraph(Model model, List<String> tags) {
    Map<String, Signature> signatures = servingSignatures(model);
    GraphView g = GraphView.of(model.graph());
    Set<String> roots = new HashSet<>();
    for (Signature s : signatures.values()) {
      s.inputs().values().forEach(t -> roots.add(t.tensor().node()));
      s.outputs().values().forEach(t -> roots.add(t.tensor().node()));
    }
    g.prune(roots);
    checkServingOps(g);
    List<String> vars = new ArrayList<>();
    List<DataType> dtypes = new ArrayList<>();
    Map<String, TensorProto> values = new LinkedHashMap<>();
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("VariableV2")) {
        TensorProto v = model.variables().get(n.getName());
        if (v == null) {
          throw new ExportException("variable '" + n.getName() + "' has no value in the model: "
              + "initialize it (e.g. with the dks-init pass) before exporting");
        }
        vars.add(n.getName());
        dtypes.add(n.getAttrOrThrow("dtype").getType());
        values.put(n.getName(), v);
      }
    }
    SaverDef saver = vars.isEmpty() ? null : SaverGraph.add(g, vars, dtypes);
    MetaGraphDef.Builder meta = metaGraph(tags, g, saver);
    signatures.forEach((k, s) -> meta.putSignatureDef(k, signatureDef(s)));
    return new MetaGraphAndValues(meta.build(), values);
  }

  /** A MetaGraphDef with these tags, graph and (nullable) saver; no signatures yet. */
  static MetaGraphDef.Builder metaGraph(List<String> tags, GraphView g, SaverDef saver) {
    MetaGraphDef.Builder meta = MetaGraphDef.newBuilder()
        .setMetaInfoDef(MetaGraphDef.MetaInfoDef.newBuilder().addAllTags(tags)
            .setTensorflowVersion(TensorFlow.version()).setTensorflowGitVersion("dks-java")
            .setStrippedDefaultAttrs(false))
        .setGraphDef(g.toGraphDef());
    if (saver != null) {
      meta.setSaverDef(saver);
    }
    return meta;
  }

  /** The signatures to export: all of the model's, serving_default first and set to predict. */
  static Map<String, Signature> servingSignatures(Model model) {
    if (model.signatures().isEmpty()) {
      throw new ExportException("the model has no signature: TF Serving needs a serving_default "
          + "signature naming its inputs and outputs");
    }
    Map<String, Signature> out = new LinkedHashMap<>();
    Signature first = model.signatures().stream()
        .filter(s -> s.key().equals(Signature.SERVING_DEFAULT)).findFirst()
        .orElse(model.signatures().get(0));
    out.put(Signature.SERVING_DEFAULT, new Signature(Signature.SERVING_DEFAULT,
        Signature.PREDICT_METHOD, first.inputs(), first.outputs()));
    for (Signature s : model.signatures()) {
      if (!s.key().equals(first.key())) {
        out.put(s.key(), s);
      }
    }
    return out;
  }

  /** Refuses ops TF Serving's standard build lacks and resource variable ops (serving rules). */
  static void checkServingOps(GraphView g) {
    for (NodeDef n : g.nodes()) {
      checkStandardOp(n);
      if (n.getOp().equals("VarHandleOp") || n.getOp().equals("ReadVariableOp")) {
        throw new ExportException("node '" + n.getName() + "' is a resource variable op ("
            + n.getOp() + "): only VariableV2 variables are exported; run the "
            + "resource-to-ref-vars pass first");
      }
    }
  }

  /** Refuses a TF-internal ({@code _}-prefixed) or unregistered op, naming the node. */
  static void checkStandardOp(NodeDef n) {
    if (n.getOp().startsWith("_") || !OpRegistry.get().contains(n.getOp())) {
      throw new ExportException("node '" + n.getName() + "' has op '" + n.getOp() + "', which "
          + "TF Serving's standard build does not have: rewrite it into standard ops first "
          + "(e.g. the split-fused pass)");
    }
  }

  static SignatureDef signatureDef(Signature s) {
    SignatureDef.Builder b = SignatureDef.newBuilder().setMethodName(s.methodName());
    s.inputs().forEach((k, t) -> b.putInputs(k, tensorInfo(t)));
    s.outputs().forEach((k, t) -> b.putOutputs(k, tensorInfo(t)));
    return b.build();
  }

  static TensorInfo tensorInfo(TensorSpec t) {
    TensorName n = t.tensor();
    TensorInfo.Builder b = TensorInfo.newBuilder().setName(n.node() + ":" + n.index())
        .setDtype(t.dtype());
    if (t.shape() != null) {
      b.setTensorShape(TensorProtos.shapeProto(t.shape()));
    } else {
      b.setTensorShape(TensorShapeProto.newBuilder().setUnknownRank(true));
    }
    return b.build();
  }

  /** Fails unless {@code target} is absent or an empty folder. */
  static void refuseNonEmpty(Path target) {
    if (Files.isRegularFile(target)) {
      throw new ExportException(target + " is a file: give a folder that does not exist yet");
    }
    if (Files.isDirectory(target)) {
      try (Stream<Path> s = Files.list(target)) {
        if (s.findAny().isPresent()) {
          throw new ExportException(target + " exists and is not empty: give a new folder");
        }
      } catch (IOException e) {
        throw new ExportException("cannot read " + target + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Writes {@code saved_model.pb} and the checkpoint {@code variables/variables.*} into a hidden
   * temp folder next to {@code target}, then renames it into place (atomically where the file
   * system can); the temp folder is removed on failure. {@code assetsExtra} files (by plain file
   * name) go into {@code assets.extra/}, which TensorFlow's loaders and TF Serving leave alone.
   */
  static void writeAtomically(Path target, SavedModel sm, Map<String, TensorProto> vals,
      Map<String, byte[]> assetsExtra) {
    checkAssetsExtra(assetsExtra);
    Path parent = target.getParent();
    Path tmp = null;
    try {
      Files.createDirectories(parent);
      tmp = parent.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid()
          + "-" + System.nanoTime());
      Files.createDirectory(tmp);
      Files.write(tmp.resolve("saved_model.pb"), sm.toByteArray());
      Path varsDir = Files.createDirectory(tmp.resolve("variables"));
      if (!vals.isEmpty()) {
        CheckpointWriter.write(varsDir.resolve("variables"), vals);
      }
      if (!assetsExtra.isEmpty()) {
        Path extra = Files.createDirectory(tmp.resolve(ASSETS_EXTRA));
        for (Map.Entry<String, byte[]> e : assetsExtra.entrySet()) {
          Files.write(extra.resolve(e.getKey()), e.getValue());
        }
      }
      if (Files.isDirectory(target)) {
        Files.delete(target); // empty, checked above
      }
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target);
      }
      tmp = null;
    } catch (IOException | RuntimeException e) {
      if (e instanceof ExportException ee) {
        throw ee;
      }
      throw new ExportException("cannot write the SavedModel into " + target + ": "
          + e.getMessage(), e);
    } finally {
      if (tmp != null) {
        deleteQuietly(tmp);
      }
    }
  }

  /** Refuses an {@code assets.extra} file name that is not a plain name (no folders). */
  static void checkAssetsExtra(Map<String, byte[]> assetsExtra) {
    for (String name : assetsExtra.keySet()) {
      if (name.isEmpty() || name.contains("/") || name.contains("\\") || name.equals(".")
          || name.equals("..")) {
        throw new ExportException("assets.extra file name '" + name + "' is not a plain file "
            + "name");
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // best effort: a leftover temp folder is hidden and named as such
    }
  }
}
