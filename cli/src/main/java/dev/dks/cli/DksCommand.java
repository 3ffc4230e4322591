package dev.dks.cli;

import dev.dks.rewriter.console.NativeStderrFilter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.RunLast;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The top command {@code dks}: holds the subcommands ({@code solve}, {@code activations}, {@code
 * build}, {@code inspect}, {@code rewrite}, {@code verify}, {@code convert}, {@code export},
 * {@code check-serving}, {@code train}) and the error handling shared by all of them (one {@code dks: error:
 * ...} line on stderr, exit code {@value ErrorHandler#USAGE_ERROR}).
 *
 * <p>Output is quiet by default: before a subcommand runs, TensorFlow's C++ log lines are filtered
 * out of stderr ({@link NativeStderrFilter}); the global option {@code --verbose} (accepted before
 * or after the subcommand) lets them through, at the level {@code TF_CPP_MIN_LOG_LEVEL} selects.
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

  @Option(names = "--verbose", scope = ScopeType.INHERIT,
      description = "Also print TensorFlow's C++ log lines (hidden by default).")
  boolean verbose;

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
        .setExecutionExceptionHandler(handler)
        .setExecutionStrategy(DksCommand::runQuietUnlessVerbose);
  }

  /** Sets the TF log filter from {@code --verbose}, then runs the last subcommand as usual. */
  private static int runQuietUnlessVerbose(ParseResult parsed) {
    if (verbose(parsed)) {
      NativeStderrFilter.verbose();
    } else {
      NativeStderrFilter.quiet();
    }
    return new RunLast().execute(parsed);
  }

  private static boolean verbose(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("--verbose")) {
        return true;
      }
    }
    return false;
  }

  /** Without a subcommand there is nothing to do: a usage error. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(),
        "missing subcommand: use 'dks solve', 'dks activations', 'dks build', 'dks inspect', "
        + "'dks rewrite', 'dks verify', 'dks convert', 'dks export', 'dks check-serving' or 'dks train'");
  }
}
