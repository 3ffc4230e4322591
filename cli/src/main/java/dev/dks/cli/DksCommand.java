package dev.dks.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The top command {@code dks}: holds the subcommands ({@code solve}, {@code activations}, {@code
 * build}, {@code inspect}, {@code rewrite}, {@code verify}, {@code convert}, {@code export},
 * {@code check-serving}, {@code train}) and the error handling shared by all of them (one {@code dks: error:
 * ...} line on stderr, exit code {@value ErrorHandler#USAGE_ERROR}).
 */
@Command(
    name = "dks",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = "Deep Kernel Shaping (DKS) and Tailored Activation Transformations (TAT).",
    subcommands = {SolveCommand.class, ActivationsCommand.class, BuildCommand.class,
        InspectCommand.class, RewriteCommand.class, VerifyCommand.class, ConvertCommand.class,
        ExportCommand.class, CheckServingCommand.class, TrainCommand.class,
        DemoCommand.class, ScanCommand.class})
public final class DksCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;

  /** Runs {@code dks} with the process arguments and exits with its exit code. */
  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /**
   * A command line for {@code dks} with the project's error handlers installed; set its output
   * and error writers before {@code execute} to capture them.
   */
  public static CommandLine newCommandLine() {
    ErrorHandler handler = new ErrorHandler();
    return new CommandLine(new DksCommand())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setParameterExceptionHandler(handler)
        .setExecutionExceptionHandler(handler);
  }

  /** Without a subcommand there is nothing to do: a usage error. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(),
        "missing subcommand: use 'dks solve', 'dks activations', 'dks build', 'dks inspect', "
        + "'dks rewrite', 'dks verify', 'dks convert', 'dks export', 'dks check-serving' or 'dks train'");
  }
}
