package dev.dks.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/** Runs {@code dks} in-process and captures its exit code, stdout and stderr. */
record Cli(int code, String out, String err) {

  static Cli run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = DksCommand.newCommandLine();
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    int code = cmd.execute(args);
    return new Cli(code, out.toString(), err.toString());
  }

  /** Runs {@code args} (with --json appended) expecting success; returns the parsed object. */
  static JsonNode json(String... args) {
    String[] withJson = java.util.Arrays.copyOf(args, args.length + 1);
    withJson[args.length] = "--json";
    Cli r = run(withJson);
    if (r.code() != 0) {
      throw new AssertionError("exit " + r.code() + ": " + r.err());
    }
    try {
      return new ObjectMapper().readTree(r.out());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
