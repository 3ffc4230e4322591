package dev.dks.cli;

import dev.dks.rewriter.pipeline.GraphVerificationException;
import dev.dks.rewriter.safety.UnsafeOpsException;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.export.ExportException;
import dev.dks.solver.solve.ShapingException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import org.tensorflow.exceptions.TensorFlowException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Turns every error into one line {@code dks: error: <message>} on stderr, never a stack trace.
 * Bad arguments, solver errors ({@link ShapingException}, {@link IllegalArgumentException}) and
 * bad input models (unreadable or unsupported files: {@link ModelFormatException}; graphs the
 * rewrite cannot handle: {@link GraphVerificationException}; graphs TensorFlow rejects: {@link
 * TensorFlowException}; models the serving writer refuses, e.g. a non-standard op or a variable
 * without a value: {@link ExportException}; unreadable or unwritable paths: {@link
 * UncheckedIOException}; models holding file or stream I/O ops: {@link UnsafeOpsException}) exit
 * with
 * {@value #USAGE_ERROR}; anything else is a bug and exits with {@value #INTERNAL_ERROR}.
 */
public final class ErrorHandler implements IParameterExceptionHandler, IExecutionExceptionHandler {
  /** Exit code for bad arguments and for targets the solver cannot meet. */
  public static final int USAGE_ERROR = 2;
  /** Exit code for unexpected failures (bugs). */
  public static final int INTERNAL_ERROR = 1;

  /** Reports a command-line parsing or validation error. */
  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    String help = "'" + cmd.getCommandSpec().qualifiedName() + " --help'";
    report(cmd.getErr(), ex.getMessage() + " (see " + help + ")");
    return USAGE_ERROR;
  }

  /** Reports an exception thrown while a command ran. */
  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    if (ex instanceof ShapingException || ex instanceof IllegalArgumentException
        || ex instanceof ModelFormatException || ex instanceof ExportException
        || ex instanceof UncheckedIOException || ex instanceof UnsafeOpsException) {
      report(cmd.getErr(), ex.getMessage());
      return USAGE_ERROR;
    }
    if (ex instanceof GraphVerificationException) {
      report(cmd.getErr(), "graph check failed " + ex.getMessage());
      return USAGE_ERROR;
    }
    if (ex instanceof TensorFlowException) {
      report(cmd.getErr(), "TensorFlow: " + ex.getMessage());
      return USAGE_ERROR;
    }
    report(cmd.getErr(), "internal error: " + ex);
    return INTERNAL_ERROR;
  }

  private static void report(PrintWriter err, String message) {
    String line = message == null ? "unknown error" : message.strip().replaceAll("\\s*\\R\\s*", " ");
    err.println("dks: error: " + line);
    err.flush();
  }
}
