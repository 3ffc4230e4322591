package dev.dks.cli;

import dev.dks.solver.activation.Activations;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code dks activations}: lists the names {@code --activation} accepts, one per line. */
@Command(
    name = "activations",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "List the activation names accepted by 'dks solve --activation'.")
public final class ActivationsCommand implements Callable<Integer>, NoTensorFlow {
  @Spec private CommandSpec spec;

  /** Prints the names. */
  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    Activations.names().forEach(out::println);
    out.flush();
    return 0;
  }
}
