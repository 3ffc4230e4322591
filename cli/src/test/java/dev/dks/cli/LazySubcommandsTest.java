package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code dks}'s entry point builds only the named subcommand's model: the others are absent, the
 * named one behaves as in the full command line, and without a known name all twelve are there.
 */
class LazySubcommandsTest {
  private static final List<String> ALL = List.of("solve", "activations", "build", "inspect",
      "rewrite", "verify", "convert", "export", "check-serving", "train", "demo", "scan");

  @Test
  void onlyTheNamedSubcommandIsBuilt() {
    assertEquals(List.of("solve"), names("--verbose", "solve", "--method", "TAT"));
    assertEquals(List.of("train"), names("train", "--help"));
  }

  @Test
  void withoutAKnownNameAllAreBuiltInHelpOrder() {
    assertEquals(ALL, names("--help"));
    assertEquals(ALL, names("solv", "--method", "TAT"));
    assertEquals(ALL, names());
    assertEquals(ALL, List.copyOf(DksCommand.newCommandLine().getSubcommands().keySet()));
  }

  @Test
  void theLeanCommandLinePrintsWhatTheFullOneDoes() {
    String[] args = {"solve", "--method", "TAT", "--activation", "tanh", "--depth", "3", "--json",
        "--verbose"};
    assertEquals(run(DksCommand.newCommandLine(), args), run(DksCommand.newCommandLine(args), args));
    String[] bad = {"solve", "--method", "XYZ", "--activation", "tanh", "--depth", "3"};
    assertEquals(run(DksCommand.newCommandLine(), bad), run(DksCommand.newCommandLine(bad), bad));
  }

  private static List<String> names(String... args) {
    return List.copyOf(DksCommand.newCommandLine(args).getSubcommands().keySet());
  }

  private static String run(CommandLine cl, String[] args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return code + "\n" + out + "\n" + err;
  }
}
