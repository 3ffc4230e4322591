package dev.dks.cli;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;

/**
 * Writes a {@link Model} as a SavedModel folder (tag {@code serve}) through TF Java's exporter:
 * the model is loaded in a {@link ModelSession} (its variables assigned), exported with each of
 * its signatures (method name kept; TF Serving's Predict needs {@code tensorflow/serving/predict})
 * into a temporary folder beside the target, which is then renamed to the target atomically.
 *
 * <p>Interim: the savedmodels module's writer replaces this. Known by-products of TF Java's
 * exporter: the saved graph also holds the exporter's {@code save/*} ops and the {@code
 * dks_assign/*} Placeholder/Assign ops ModelSession used to set the variables (never run by a
 * signature).
 */
final class SavedModelExport {
  private SavedModelExport() {}

  /**
   * Fails unless {@code dir} is absent or an empty folder.
   *
   * @throws IllegalArgumentException naming the folder
   */
  static void requireWritable(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("output " + dir + " exists and is not a folder");
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      if (s.iterator().hasNext()) {
        throw new IllegalArgumentException("output folder " + dir + " exists and is not empty: "
            + "choose a new folder or remove it");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read output folder " + dir, e);
    }
  }

  /**
   * Exports {@code model} to {@code dir} (absent or empty), atomically.
   *
   * @return the absolute path written
   */
  static Path export(Model model, Path dir) throws IOException {
    Path target = dir.toAbsolutePath().normalize();
    requireWritable(target);
    Path parent = target.getParent();
    Files.createDirectories(parent);
    // not Files.createTempDirectory: its folder is private (rwx------), and the rename would
    // hand those permissions to the SavedModel folder
    Path tmp = parent.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid()
        + "-" + Long.toHexString(System.nanoTime()));
    Files.createDirectory(tmp);
    try {
      try (ModelSession session = new ModelSession(model)) {
        SavedModelBundle.Exporter exporter = SavedModelBundle.exporter(tmp.toString())
            .withSession(session.session());
        for (dev.dks.rewriter.model.Signature sig : model.signatures()) {
          exporter.withSignature(signature(session.graph(), sig));
        }
        exporter.export();
      }
      if (Files.isDirectory(target)) {
        Files.delete(target); // empty, checked above
      }
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } catch (IOException | RuntimeException e) {
      deleteTree(tmp);
      throw e;
    }
  }

  private static Signature signature(Graph g, dev.dks.rewriter.model.Signature sig) {
    Signature.Builder b = Signature.builder().key(sig.key()).methodName(sig.methodName());
    for (Map.Entry<String, TensorSpec> in : sig.inputs().entrySet()) {
      b.input(in.getKey(), output(g, in.getValue()));
    }
    for (Map.Entry<String, TensorSpec> out : sig.outputs().entrySet()) {
      b.output(out.getKey(), output(g, out.getValue()));
    }
    return b.build();
  }

  private static Output<?> output(Graph g, TensorSpec spec) {
    GraphOperation op = g.operation(spec.tensor().node());
    if (op == null) {
      throw new IllegalArgumentException("the signature names node '" + spec.tensor().node()
          + "', which the graph does not have");
    }
    return op.output(spec.tensor().index());
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      s.sorted(Comparator.reverseOrder()).forEach(q -> {
        try {
          Files.deleteIfExists(q);
        } catch (IOException ignored) {
          // best effort: the temporary folder is hidden and named after the target
        }
      });
    } catch (IOException ignored) {
      // best effort
    }
  }
}
