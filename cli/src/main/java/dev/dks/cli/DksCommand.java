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
    description = "Deep Kernel Shaping (DKS) and Tailored Activation Transformations (TAT).")
public final class DksCommand implements Callable<Integer> {
  /** The subcommands, in the order {@code dks --help} lists them. */
  private static final String[] SUBCOMMANDS = {"solve", "activations", "build", "inspect",
      "rewrite", "verify", "convert", "export", "check-serving", "train", "demo", "scan"};

  @Spec private CommandSpec spec;

  @Option(names = "--verbose", scope = ScopeType.INHERIT,
      description = "Also print TensorFlow's C++ log lines (hidden by default).")
  boolean verbose;

  /**
   * Runs {@code dks} with the process arguments and exits with its exit code. Only the named
   * subcommand's picocli model is built (building all twelve from their annotations cost about
   * 0.25 s of CPU, a third of a {@code dks solve}); without a known subcommand name, all are.
   */
  public static void main(String[] args) {
    System.exit(newCommandLine(args).execute(args));
  }

  /**
   * A command line for {@code dks} with every subcommand and the project's error handlers
   * installed; set its output and error writers before {@code execute} to capture them.
   */
  public static CommandLine newCommandLine() {
    return newCommandLine(new String[0]);
  }

  /**
   * A command line for {@code args}: with only the subcommand {@code args} names (its first
   * argument that is not an option; {@code dks}'s own options take no value), or with all of them
   * when it names none (for {@code dks --help} and for picocli's "did you mean" on a misspelling).
   */
  static CommandLine newCommandLine(String[] args) {
    CommandLine cl = new CommandLine(new DksCommand());
    String named = subcommandName(args);
    for (String name : SUBCOMMANDS) {
      if (named == null || named.equals(name)) {
        cl.addSubcommand(name, subcommand(name));
      }
    }
    ErrorHandler handler = new ErrorHandler();
    return cl.setCaseInsensitiveEnumValuesAllowed(true)
        .setParameterExceptionHandler(handler)
        .setExecutionExceptionHandler(handler)
        .setExecutionStrategy(DksCommand::runQuietUnlessVerbose);
  }

  /** The known subcommand {@code args} names, or null. */
  private static String subcommandName(String[] args) {
    for (String a : args) {
      if (!a.startsWith("-")) {
        return subcommand(a) == null ? null : a;
      }
    }
    return null;
  }

  /** The class of the subcommand {@code name}, or null (a switch: only that class is loaded). */
  private static Class<?> subcommand(String name) {
    return switch (name) {
      case "solve" -> SolveCommand.class;
      case "activations" -> ActivationsCommand.class;
      case "build" -> BuildCommand.class;
      case "inspect" -> InspectCommand.class;
      case "rewrite" -> RewriteCommand.class;
      case "verify" -> VerifyCommand.class;
      case "convert" -> ConvertCommand.class;
      case "export" -> ExportCommand.class;
      case "check-serving" -> CheckServingCommand.class;
      case "train" -> TrainCommand.class;
      case "demo" -> DemoCommand.class;
      case "scan" -> ScanCommand.class;
      default -> null;
    };
  }

  /**
   * Sets the TF log filter from {@code --verbose}, then runs the last subcommand as usual. Commands
   * that run no TensorFlow ({@link NoTensorFlow}) skip the filter: it starts a thread and a pipe.
   */
  private static int runQuietUnlessVerbose(ParseResult parsed) {
    ParseResult last = parsed;
    while (last.subcommand() != null) {
      last = last.subcommand();
    }
    if (last.commandSpec().userObject() instanceof NoTensorFlow) {
      return new RunLast().execute(parsed);
    }
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
