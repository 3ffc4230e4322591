package dev.dks.cli;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.passes.freeze.ConstantsToVariablesPass;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.export.PadSummandPass;
import java.io.PrintWriter;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dks convert IN --out DIR}: reads a model of any format {@link ModelReaders} reads
 * (SavedModel folder, frozen {@code .pb}, TensorFlow.js graph or layers {@code model.json}, Keras
 * {@code .h5}) and writes it unchanged in function as a serving SavedModel (tag {@code serve},
 * {@code serving_default} with method {@code tensorflow/serving/predict}, every signature the
 * reader found). Graphs whose weights are constants (frozen GraphDefs, TF.js graph models) get
 * their float32 layer kernels and biases turned into {@code VariableV2} with the same values
 * (the {@code constants-to-variables} pass), so the weights live in the checkpoint and {@code
 * saved_model.pb} stays small; {@code --keep-constants} skips that. A float {@code Pad} feeding an
 * add is written as the equivalent {@code PadV2(x, paddings, 0)} ({@link PadSummandPass}: with
 * oneDNN on, TensorFlow's graph rewrite crashes the JVM on the Pad; JSON {@code pads_as_padv2}
 * counts them). Written atomically; a
 * non-empty DIR is refused before anything is read. A SavedModel's shaping record ({@code
 * assets.extra/dks-shaping.json}, see {@link ModelShaping}) is carried over unchanged.
 */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    sortSynopsis = false,
    description = "Convert a model of any supported format into a serving SavedModel (same "
        + "function; tag serve, serving_default).",
    footer = {"", "IN is a SavedModel folder, a frozen GraphDef (.pb), a TensorFlow.js graph or "
        + "layers model (model.json or its folder) or a Keras HDF5 file (.h5).", "",
        "Examples:",
        "  dks convert frozen_model.pb --out cifar_serving",
        "  dks convert nsfwjs/mobilenet_v2_mid/model.json --out nsfw --json",
        "  dks convert resnet8.h5 --out resnet8 && dks check-serving resnet8"})
public final class ConvertCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;
  @picocli.CommandLine.Mixin private UntrustedFlags untrusted; // --allow-ops (issue 17)

  @Parameters(index = "0", paramLabel = "IN",
      description = "SavedModel folder, frozen GraphDef (.pb), model.json or Keras .h5.")
  private Path model;

  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "SavedModel folder to write (must not exist, or be empty).")
  private Path out;

  @Option(names = "--keep-constants",
      description = "Keep constant weights as graph constants (default: layer kernels and "
          + "biases held in Consts become variables, stored in the checkpoint).")
  private boolean keepConstants;

  @Option(names = "--json", description = "Print one JSON object instead of a summary.")
  private boolean json;

  /** Reads, converts, writes, prints; returns 0 (errors exit 2 through the error handler). */
  @Override
  public Integer call() {
    ServingOutput.requireWritable(out);
    ModelReaders.Loaded loaded = ModelInput.load(model, untrusted);
    ServingReport report = new ServingReport("convert", loaded.path(), loaded.format().label(),
        null, loaded.warnings(), loaded.model());
    Model m = loaded.model();
    Integer moved = null;
    if (!keepConstants && hasFloatConstants(m)) {
      PassOutcome o;
      try {
        Pipeline.Result r = Pipeline.builder().add(new ConstantsToVariablesPass()).build().run(m);
        o = r.outcomes().get(0);
        moved = o.changes();
        m = r.model();
      } catch (RuntimeException e) {
        // best effort: a graph the structure analysis cannot follow keeps its constants
        o = null;
        report.step("weights: kept as graph constants (the layer analysis failed: "
            + e.getMessage() + ")");
      }
      if (o != null && (o.changes() > 0 || m.variables().isEmpty())) {
        report.step("weights: " + o.changes() + " layer constant" + (o.changes() == 1 ? "" : "s")
            + " turned into variables (constants-to-variables)");
        for (String n : o.notes()) {
          if (n.startsWith("left ")) {
            report.step("  " + n);
          }
        }
      }
    } else if (keepConstants) {
      report.step("weights: constants kept (--keep-constants)");
    }
    if (moved == null) {
      report.extra().putNull("constants_to_variables");
    } else {
      report.extra().put("constants_to_variables", moved);
    }
    // oneDNN's graph rewrite crashes the JVM on a Pad added to a fused conv (PadSummandPass)
    Pipeline.Result padRun = Pipeline.builder().add(new PadSummandPass()).build().run(m);
    PassOutcome pads = padRun.outcomes().get(0);
    if (pads.changes() > 0) {
      m = padRun.model();
      report.step("pads: " + pads.changes() + " Pad" + (pads.changes() == 1 ? "" : "s")
          + " feeding an add written as PadV2(x, paddings, 0) (" + PadSummandPass.NAME
          + ": oneDNN's graph rewrite crashes on them)");
    }
    report.extra().put("pads_as_padv2", pads.changes());
    Map<String, byte[]> shaping = ModelShaping.carried(loaded.path());
    ModelShaping.read(loaded.path()).ifPresentOrElse(
        s -> report.step("shaping record carried over: " + s.summary()),
        () -> report.extra().putNull("shaping_record"));
    report.written(ServingOutput.export(m, out, shaping, untrusted));
    if (!shaping.isEmpty()) {
      report.extra().put("shaping_record", ShapingMetadataFiles.find(out).orElseThrow()
          .toString());
    }
    PrintWriter w = spec.commandLine().getOut();
    w.print(json ? Json.write(report.json()) : report.text());
    w.flush();
    return 0;
  }

  private static boolean hasFloatConstants(Model m) {
    for (NodeDef n : m.graph().getNodeList()) {
      if (n.getOp().equals("Const") && n.containsAttr("value")
          && n.getAttrOrThrow("value").getTensor().getDtype() == DataType.DT_FLOAT) {
        return true;
      }
    }
    return false;
  }
}
