package dev.dks.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.safety.OpScanner.Finding;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.UntrustedOps;
import dev.dks.savedmodels.shaping.ShapingMetadata;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import dev.dks.savedmodels.shaping.ShapingMetadataJson;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.solve.Method;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dks inspect MODEL}: reads a model of any supported format (SavedModel folder, frozen
 * {@code .pb}, TensorFlow.js {@code model.json}, Keras {@code .h5}) and prints its
 * signatures, node count, the op histogram of the serving path, its layers with kernel shapes,
 * activations by kind, normalizations, residual merges and concatenations, the derived structure
 * depth, warnings, what {@code dks rewrite} would change (see {@link Inspection}), and the
 * shaping the model records ({@code assets.extra/dks-shaping.json}, see {@link ModelShaping}),
 * whose method and shortcut weight are assumed unless {@code --method} / {@code
 * --shortcut-weight} are given.
 */
@Command(
    name = "inspect",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    sortSynopsis = false,
    description = "Show a model's structure and what 'dks rewrite' would change.",
    footer = {"", "MODEL is a SavedModel folder, a frozen GraphDef (.pb), a TensorFlow.js graph "
        + "or layers model (model.json) or a Keras HDF5 file (.h5).", "", "Examples:",
        "  dks inspect resnet18",
        "  dks inspect frozen_model.pb --method DKS --json"})
public final class InspectCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL",
      description = "SavedModel folder, frozen GraphDef (.pb), model.json or Keras .h5.")
  private Path model;

  @Option(names = "--method", paramLabel = "DKS|TAT", defaultValue = "TAT",
      converter = SolveCommand.MethodConverter.class,
      description = "Method assumed for 'what would change' (default: the model's shaping "
          + "record, else TAT).")
  private Method method;

  @Option(names = "--activation", paramLabel = "NAME",
      description = "Activation every activation would become (default: per kind).")
  private String activation;

  @Option(names = "--shortcut-weight", paramLabel = "W", defaultValue = "0",
      description = "Shortcut weight assumed for 'what would change' (default: the model's "
          + "shaping record, else 0: remove skips).")
  private double shortcutWeight;

  @Option(names = "--keep-maxpool", description = "Assume max-pools are kept.")
  private boolean keepMaxPool;

  // reading runs the init and restore ops; a refusal of those names --allow-ops (issue 17)
  @picocli.CommandLine.Mixin private UntrustedFlags untrusted;

  @Option(names = "--json", description = "Print one JSON object instead of a summary.")
  private boolean json;

  /** Reads, inspects, prints; returns 0 (errors exit 2 through the error handler). */
  @Override
  public Integer call() {
    if (activation != null) {
      Activations.byName(activation);
    }
    ModelReaders.Loaded loaded = ModelInput.loadForInspection(model, untrusted);
    Optional<ShapingMetadata> recorded = ModelShaping.read(loaded.path());
    var parsed = spec.commandLine().getParseResult();
    Method m = method;
    double w0 = shortcutWeight;
    if (recorded.isPresent() && (parsed == null || !parsed.hasMatchedOption("--method"))) {
      m = recorded.get().method(); // flags override the record
    }
    if (recorded.isPresent() && recorded.get().shortcutWeight() != null
        && (parsed == null || !parsed.hasMatchedOption("--shortcut-weight"))) {
      w0 = recorded.get().shortcutWeight();
    }
    RewriteOptions options = RewriteOptions.defaults().withMethod(m)
        .withActivation(activation).withShortcutWeight(w0)
        .withKeepMaxPool(keepMaxPool);
    Inspection i = Inspection.of(loaded, options);
    PrintWriter w = spec.commandLine().getOut();
    if (json) {
      ObjectNode root = i.json();
      root.set("shaping", recorded.<JsonNode>map(ShapingMetadataJson::tree)
          .orElse(NullNode.getInstance()));
      root.set("unsafe_ops", unsafeOps(UntrustedOps.findings(loaded.path(), loaded.model())));
      w.print(Json.write(root));
    } else {
      w.print(i.text());
      w.println(recorded.map(r -> "shaping recorded in the model: " + r.summary())
          .orElse("shaping record: none (" + ShapingMetadataFiles.RELATIVE_PATH
              + " absent: not shaped by dks, or by an older version)"));
    }
    w.flush();
    return 0;
  }

  /**
   * The {@code unsafe_ops} key: one object per node with an op of the untrusted-model policy
   * ({@code node}, {@code op}, {@code where}: serving, init, restore or unused, {@code function}
   * when it sits in a library function, {@code saver_restore} for the saver's own restore, and
   * {@code refused}: whether convert, rewrite, export, check-serving, verify and train refuse it
   * without --allow-ops). Empty for a clean model.
   */
  static ArrayNode unsafeOps(List<Finding> findings) {
    ArrayNode a = JsonNodeFactory.instance.arrayNode();
    for (Finding f : findings) {
      ObjectNode o = a.addObject();
      o.put("node", f.node());
      o.put("op", f.op());
      o.put("where", f.region().label());
      if (f.function() != null) {
        o.put("function", f.function());
      }
      o.put("saver_restore", f.saver());
      o.put("refused", f.refused());
    }
    return a;
  }
}
