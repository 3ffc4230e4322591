package dev.dks.cli;

import dev.dks.rewriter.RewriteOptions;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.solve.Method;
import java.io.PrintWriter;
import java.nio.file.Path;
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
 * depth, warnings, and what {@code dks rewrite} would change (see {@link Inspection}).
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
      description = "Method assumed for 'what would change' (default TAT).")
  private Method method;

  @Option(names = "--activation", paramLabel = "NAME",
      description = "Activation every activation would become (default: per kind).")
  private String activation;

  @Option(names = "--shortcut-weight", paramLabel = "W", defaultValue = "0",
      description = "Shortcut weight assumed for 'what would change' (default 0: remove skips).")
  private double shortcutWeight;

  @Option(names = "--keep-maxpool", description = "Assume max-pools are kept.")
  private boolean keepMaxPool;

  @Option(names = "--json", description = "Print one JSON object instead of a summary.")
  private boolean json;

  /** Reads, inspects, prints; returns 0 (errors exit 2 through the error handler). */
  @Override
  public Integer call() {
    if (activation != null) {
      Activations.byName(activation);
    }
    RewriteOptions options = RewriteOptions.defaults().withMethod(method)
        .withActivation(activation).withShortcutWeight(shortcutWeight)
        .withKeepMaxPool(keepMaxPool);
    Inspection i = Inspection.of(ModelInput.load(model), options);
    PrintWriter w = spec.commandLine().getOut();
    w.print(json ? Json.write(i.json()) : i.text());
    w.flush();
    return 0;
  }
}
