package dev.dks.savedmodels;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.safety.OpGate;
import dev.dks.rewriter.safety.OpScanner;
import dev.dks.rewriter.safety.OpScanner.Finding;
import dev.dks.rewriter.safety.TensorBounds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.SavedModel;

/**
 * Applies {@link dev.dks.rewriter.safety.OpPolicy} to model files (untrusted models, issue 17).
 * A SavedModel is scanned from its {@code saved_model.pb(txt)} <em>before</em> TensorFlow loads
 * it, since the loader itself runs the init and restore ops; every meta graph is scanned. Other
 * formats (frozen graphs, TF.js, Keras) have no init op: their graph as read is scanned from its
 * signatures' outputs.
 */
public final class UntrustedOps {
  private UntrustedOps() {}

  /**
   * The findings of the SavedModel folder {@code dir}, every meta graph, after checking that the
   * files its loader would read (assets, variables) lie inside {@code dir} ({@link
   * SavedModelFiles}).
   */
  public static List<Finding> scanSavedModel(Path dir) {
    List<Finding> out = new ArrayList<>();
    SavedModel sm = SavedModelReader.parseSavedModel(dir);
    requireSafeContents(dir, sm);
    for (MetaGraphDef mg : sm.getMetaGraphsList()) {
      out.addAll(OpScanner.scan(mg));
    }
    return out;
  }

  /**
   * The findings of {@code dir}, or none when its saved_model.pb(txt) cannot be parsed: TensorFlow
   * cannot load it either (so runs nothing), and the command reports that failure its own way.
   * The files the loader would read must lie inside {@code dir} ({@link SavedModelFiles}).
   */
  private static List<Finding> scanIfParsable(Path dir) {
    SavedModelReader.requireWithinLimits(dir);
    SavedModel sm;
    try {
      sm = SavedModelReader.parseSavedModel(dir);
    } catch (ModelFormatException e) {
      return List.of();
    }
    requireSafeContents(dir, sm);
    List<Finding> out = new ArrayList<>();
    for (MetaGraphDef mg : sm.getMetaGraphsList()) {
      out.addAll(OpScanner.scan(mg));
    }
    return out;
  }

  /**
   * What must hold before TensorFlow loads the SavedModel {@code dir} (parsed as {@code sm}),
   * besides the op policy: the files its loader reads lie inside the folder ({@link
   * SavedModelFiles}) and the tensors its graphs hold are within bounds ({@link TensorBounds}).
   *
   * @throws ModelFormatException naming the folder and the asset, file or node
   */
  public static void requireSafeContents(Path dir, SavedModel sm) {
    SavedModelFiles.requireInside(dir, sm);
    for (MetaGraphDef mg : sm.getMetaGraphsList()) {
      try {
        TensorBounds.requireWithin(mg.getGraphDef());
      } catch (TensorBounds.TensorBoundsException e) {
        throw new ModelFormatException(dir + ": " + e.getMessage(), e);
      }
    }
  }

  /** The variable ops whose nodes {@link SavedModelReader} fetches (or reads) by name. */
  private static final Set<String> VARIABLE_OPS = Set.of("VariableV2", "Variable",
      "VarHandleOp");

  /**
   * Refuses a SavedModel whose reading by {@link SavedModelReader} would run an op of the policy
   * not in {@code allowed}: TensorFlow's loader runs the init and restore ops, and the reader then
   * fetches every variable node by name, which runs its inputs and control inputs too (so a
   * {@code WriteFile} wired as a control input of a variable is found here, as {@code serving}).
   *
   * @throws dev.dks.rewriter.safety.UnsafeOpsException naming the folder and the nodes
   */
  public static void requireReadableSavedModel(Path path, Set<String> allowed) {
    Path dir = savedModelDir(path);
    if (dir == null) {
      return;
    }
    SavedModelReader.requireWithinLimits(dir);
    SavedModel sm;
    try {
      sm = SavedModelReader.parseSavedModel(dir);
    } catch (ModelFormatException e) {
      return; // TensorFlow cannot load it either; the reader reports it
    }
    List<Finding> fs = new ArrayList<>();
    for (MetaGraphDef mg : sm.getMetaGraphsList()) {
      OpScanner.scan(mg).stream().filter(f -> f.region() != OpScanner.Region.SERVING)
          .forEach(fs::add);
      List<String> variables = mg.getGraphDef().getNodeList().stream()
          .filter(n -> VARIABLE_OPS.contains(n.getOp())).map(n -> n.getName()).toList();
      fs.addAll(OpScanner.scan(mg.getGraphDef(), variables));
    }
    refuse(dir, OpScanner.refused(fs, allowed));
  }

  /** The findings of a model already read (its serving path only). */
  public static List<Finding> scan(Model m) {
    return OpScanner.scan(m.graph(), m.outputNodes());
  }

  /** The SavedModel folder of {@code path}, or null when it is not a SavedModel. */
  public static Path savedModelDir(Path path) {
    Path abs = path.toAbsolutePath().normalize();
    try {
      if (!Files.exists(abs) || ModelReaders.formatOf(abs) != ModelReaders.Format.SAVED_MODEL) {
        return null;
      }
    } catch (RuntimeException e) {
      return null; // not a model at all: the command's own reader reports it
    }
    return Files.isDirectory(abs) ? abs : abs.getParent();
  }

  /**
   * Refuses a SavedModel whose serving path, init or restore holds an op of the policy not in
   * {@code allowed} (the saver's own restore passes); does nothing for other formats.
   *
   * @throws dev.dks.rewriter.safety.UnsafeOpsException naming the folder and the nodes
   * @throws ModelFormatException when a file the loader would read lies outside the folder
   */
  public static void requireSafeSavedModel(Path path, Set<String> allowed) {
    Path dir = savedModelDir(path);
    if (dir != null) {
      refuse(dir, OpScanner.refused(scanIfParsable(dir), allowed));
    }
  }

  /**
   * Refuses a SavedModel whose init or restore (which TensorFlow's loader runs when it loads the
   * folder) holds an op of the policy not in {@code allowed}; the serving path is not checked.
   *
   * @throws dev.dks.rewriter.safety.UnsafeOpsException naming the folder and the nodes
   */
  public static void requireLoadableSavedModel(Path path, Set<String> allowed) {
    Path dir = savedModelDir(path);
    if (dir != null) {
      refuse(dir, OpScanner.refused(scanIfParsable(dir).stream()
          .filter(f -> f.region() != OpScanner.Region.SERVING).toList(), allowed));
    }
  }

  /**
   * One warning line per policy op the loader or the serving path would run ({@code unsafe op:
   * node (Op, region)}): for a SavedModel from its meta graphs, else from {@code m}'s serving path.
   */
  public static List<String> warnings(Path path, Model m) {
    List<Finding> fs = findings(path, m);
    return OpScanner.refused(fs, Set.of()).stream().map(d -> "unsafe op: " + d
        + ": an effect outside the tensors (file or stream I/O); dks refuses to write or run it "
        + "without --allow-ops").toList();
  }

  /**
   * Every finding of the model at {@code path}: for a SavedModel from its meta graphs (serving,
   * init, restore, unused), else from {@code m}'s serving path (read from {@code path}).
   */
  public static List<Finding> findings(Path path, Model m) {
    Path dir = savedModelDir(path);
    return dir != null ? scanIfParsable(dir) : scan(m);
  }

  /**
   * Refuses a model read from {@code path} whose serving path holds an op of the policy.
   *
   * @throws dev.dks.rewriter.safety.UnsafeOpsException naming the path and the nodes
   */
  public static void requireSafe(Path path, Model m, Set<String> allowed) {
    refuse(path.toAbsolutePath().normalize(), OpScanner.refused(scan(m), allowed));
  }

  private static void refuse(Path where, List<String> nodes) {
    OpGate.refuse(where.toString(), nodes);
  }
}
