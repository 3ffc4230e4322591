package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.safety.OpPolicy;
import dev.dks.rewriter.safety.OpScanner.Finding;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.UntrustedOps;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dks scan MODEL}: lists the nodes whose ops have effects outside the tensors ({@link
 * OpPolicy}) and where each sits (serving, init, restore, unused), in the spirit of {@code
 * saved_model_cli scan}. A SavedModel is scanned from its {@code saved_model.pb} without loading
 * it (TensorFlow's loader would run its init and restore). Exit 0 when nothing would be refused,
 * {@value #FOUND} when some node would be (an op on the serving path, in the init or restore other
 * than the saver's own restore), 2 for a bad path or an unreadable model.
 */
@Command(name = "scan", mixinStandardHelpOptions = true,
    description = "List the ops of a model with effects outside the tensors (file I/O, print, "
        + "summaries, ...) and where they sit.")
final class ScanCommand implements Callable<Integer> {
  /** Exit code when an op would be refused. */
  static final int FOUND = 1;

  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL", description = "The model (any format 'dks "
      + "convert' reads).")
  Path model;

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Override
  public Integer call() {
    Path abs = model.toAbsolutePath().normalize();
    if (!Files.exists(abs)) {
      throw new IllegalArgumentException(abs + " does not exist");
    }
    List<Finding> fs = UntrustedOps.savedModelDir(abs) != null
        ? UntrustedOps.scanSavedModel(UntrustedOps.savedModelDir(abs))
        : UntrustedOps.scan(ModelReaders.readDetailed(abs).model());
    long refused = fs.stream().filter(Finding::refused).count();
    PrintWriter w = spec.commandLine().getOut();
    if (json) {
      ObjectNode o = JsonNodeFactory.instance.objectNode();
      o.put("model", abs.toString());
      o.put("refused", refused);
      ArrayNode a = o.putArray("findings");
      for (Finding f : fs) {
        ObjectNode n = a.addObject();
        n.put("node", f.node());
        n.put("op", f.op());
        n.put("group", OpPolicy.group(f.op()));
        if (f.function() != null) {
          n.put("function", f.function());
        }
        n.put("region", f.region().label());
        n.put("saverRestore", f.saver());
        n.put("refused", f.refused());
      }
      w.print(Json.write(o));
    } else {
      w.println(abs + ": " + (refused == 0 ? "clean" : refused + " node(s) dks refuses to write "
          + "or run") + (fs.isEmpty() ? "" : " (" + fs.size() + " listed)"));
      for (Finding f : fs) {
        w.println("  " + (f.refused() ? "REFUSED " : "ok      ") + f.describe()
            + (f.region() == dev.dks.rewriter.safety.OpScanner.Region.UNUSED
                ? ": never run" : ""));
      }
    }
    w.flush();
    return refused == 0 ? 0 : FOUND;
  }
}
