package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.savedmodels.export.ServingCheck;
import dev.dks.savedmodels.export.ServingExporter;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dks check-serving DIR}: the serving contract check ({@link ServingCheck}). DIR is loaded
 * with only the {@code serve} tag through TensorFlow's C API, {@code serving_default} is read from
 * the MetaGraphDef as TF Serving's Predict handler reads it (method name, input and output
 * TensorInfo names, dtypes, shapes), a batch of the declared shape is fed, and the outputs must
 * be finite and of the declared dtype and shape. Run from the shell this is a fresh process, as
 * TF Serving is.
 *
 * <p>Exit codes: 0 when the folder passes; {@value #CHECK_FAILED} when it does not (the reason
 * on stdout and as one {@code dks: check-serving failed: <reason>} line on stderr), which covers
 * every existing folder, e.g. no {@code saved_model.pb}, a truncated or garbage one, a missing
 * {@code variables/} folder (the reason then names it), no {@code serve} tag, no {@code
 * serving_default}; {@value
 * ErrorHandler#USAGE_ERROR} for bad arguments, including a DIR that does not exist or is a file
 * other than {@code saved_model.pb} (which stands for its folder): there is no folder to judge,
 * and an {@code --input-shape} that names no input or contradicts its declared shape.
 *
 * <p>As TF Serving judges: an input of unknown rank is served, so it is a warning (in the report
 * and the JSON {@code warnings}) and the check feeds {@code --input-shape NAME=DIMS} or a shape
 * the graph runs with; a model without variables has no checkpoint to restore and passes.
 */
@Command(
    name = "check-serving",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    sortSynopsis = false,
    description = "Check that a SavedModel folder honours TF Serving's contract: tag serve, a "
        + "predict serving_default, runs on a batch of the declared shape.",
    footer = {"", "Exit codes: 0 pass; 1 the folder fails the check (reason on stderr); 2 bad "
        + "arguments, including a DIR that does not exist.", "", "Examples:",
        "  dks check-serving serving_model",
        "  dks check-serving serving_model --input-shape x=4x10",
        "  dks check-serving serving_model --json"})
public final class CheckServingCommand implements Callable<Integer> {
  /** Exit code when the folder fails the check. */
  public static final int CHECK_FAILED = 1;

  @Spec private CommandSpec spec;
  @picocli.CommandLine.Mixin private UntrustedFlags untrusted; // --allow-ops (issue 17)

  @Parameters(index = "0", paramLabel = "DIR", description = "SavedModel folder.")
  private Path dir;

  @Option(names = "--input-shape", paramLabel = "NAME=DIMS",
      description = "Shape to feed the input NAME of serving_default, e.g. x=4x10 (repeatable; "
          + "NAME= for a scalar). Default: the declared shape with batch 2 and other unknown "
          + "dimensions 1; for an unknown rank, the first shape the graph runs with.")
  private java.util.Map<String, String> inputShapes = new java.util.LinkedHashMap<>();

  @Option(names = "--json", description = "Print one JSON object instead of a summary.")
  private boolean json;

  /** Checks, prints; returns 0 (pass) or 1 (fail). */
  @Override
  public Integer call() {
    Path abs = folder(dir);
    UntrustedFlags.requireSafeSavedModel(abs, untrusted);
    ServingCheck.Result r = ServingCheck.check(abs, shapes(inputShapes), untrusted.allowed());
    PrintWriter w = spec.commandLine().getOut();
    w.print(json ? Json.write(json(abs, r)) : text(abs, r));
    w.flush();
    if (!r.passed()) {
      PrintWriter err = spec.commandLine().getErr();
      err.println("dks: check-serving failed: " + oneLine(r.reason()));
      err.flush();
      return CHECK_FAILED;
    }
    return 0;
  }

  /** The folder to check; a missing path or another file is a usage error. */
  private static Path folder(Path p) {
    Path abs = p.toAbsolutePath().normalize();
    if (!Files.exists(abs)) {
      throw new IllegalArgumentException(abs + " does not exist: give a SavedModel folder");
    }
    if (Files.isRegularFile(abs)) {
      if (abs.getFileName().toString().equals("saved_model.pb")) {
        return abs.getParent();
      }
      throw new IllegalArgumentException(abs + " is a file: give a SavedModel folder (the one "
          + "holding saved_model.pb and variables/)");
    }
    return abs;
  }

  /** {@code --input-shape} values: DIMS as {@code 4x10} or {@code 4,10}; empty for a scalar. */
  static java.util.Map<String, long[]> shapes(java.util.Map<String, String> given) {
    java.util.Map<String, long[]> out = new java.util.LinkedHashMap<>();
    given.forEach((name, dims) -> {
      String d = dims.strip();
      try {
        out.put(name, d.isEmpty() ? new long[0]
            : java.util.Arrays.stream(d.split("[x,]")).mapToLong(v -> Long.parseLong(v.strip()))
                .toArray());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--input-shape " + name + "=" + dims
            + ": DIMS must be sizes separated by x, e.g. " + name + "=4x10");
      }
    });
    return out;
  }

  private static String oneLine(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  private static String text(Path dir, ServingCheck.Result r) {
    StringBuilder b = new StringBuilder();
    line(b, "check-serving %s: tag %s, signature serving_default", dir,
        ServingExporter.SERVE_TAG);
    rows(b, "input ", "fed", r.inputs());
    rows(b, "output", "got", r.outputs());
    r.warnings().forEach(w -> line(b, "warning: %s", w));
    line(b, "%s", r.passed() ? "PASS" : "FAIL: " + oneLine(r.reason()));
    return b.toString();
  }

  private static void rows(StringBuilder b, String what, String actual,
      List<ServingCheck.TensorCheck> checks) {
    for (ServingCheck.TensorCheck c : checks) {
      line(b, "  %s %-20s %-32s %-7s declared %-18s %s %s", what, c.key(), c.tensor(),
          ServingReport.dtype(c.dtype()), Json.shape(c.declared()), actual,
          Json.shape(c.actual()));
    }
  }

  private static ObjectNode json(Path dir, ServingCheck.Result r) {
    ObjectNode root = Json.object();
    root.put("dir", dir.toString());
    root.put("tag", ServingExporter.SERVE_TAG);
    root.put("signature", "serving_default");
    root.put("passed", r.passed());
    if (r.passed()) {
      root.putNull("reason");
    } else {
      root.put("reason", oneLine(r.reason()));
    }
    tensors(root.putArray("inputs"), r.inputs());
    tensors(root.putArray("outputs"), r.outputs());
    r.warnings().forEach(root.putArray("warnings")::add);
    return root;
  }

  private static void tensors(ArrayNode a, List<ServingCheck.TensorCheck> checks) {
    for (ServingCheck.TensorCheck c : checks) {
      ObjectNode o = a.addObject();
      o.put("key", c.key());
      o.put("tensor", c.tensor());
      o.put("dtype", c.dtype().name());
      Json.putShape(o, "declared_shape", c.declared());
      Json.putShape(o, "shape", c.actual());
    }
  }

  private static void line(StringBuilder b, String format, Object... args) {
    b.append(String.format(Locale.ROOT, format, args).stripTrailing())
        .append(System.lineSeparator());
  }
}
