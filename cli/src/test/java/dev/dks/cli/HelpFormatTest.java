package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Every subcommand's help renders without picocli falling back to the raw text: a description is
 * a format string, so a lone {@code %} (e.g. "18% cheaper") makes picocli print a warning on
 * every {@code --help} and leave {@code %n} unreplaced. Negative control: a command with such a
 * description does warn, so the capture sees the warning when there is one.
 */
class HelpFormatTest {

  @Test
  void everySubcommandsHelpFormatsWithoutAWarning() {
    Map<String, CommandLine> subs = DksCommand.newCommandLine().getSubcommands();
    assertTrue(subs.containsKey("train"), subs.keySet().toString());
    for (Map.Entry<String, CommandLine> e : subs.entrySet()) {
      String err = stderrOf(() -> e.getValue().getUsageMessage());
      assertFalse(err.contains("picocli WARN"), e.getKey() + " --help: " + err);
    }
  }

  @Test
  void aLonePercentSignIsCaught() {
    String err = stderrOf(() -> new CommandLine(new Broken()).getUsageMessage());
    assertTrue(err.contains("picocli WARN"), "the capture must see picocli's warning: " + err);
  }

  @Command(name = "broken")
  static final class Broken {
    @Option(names = "--x", description = "about 18% cheaper")
    int x;
  }

  private static String stderrOf(Runnable r) {
    PrintStream old = System.err;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setErr(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }
}
