package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SolveErrorsTest {

  /** Each case: the arguments after {@code solve}, then a fragment of the expected message. */
  @ParameterizedTest
  @ValueSource(strings = {
    "--method DKS --activation nope --depth 5|unknown activation 'nope'",
    "--method DKS --activation tanh --depth 5 --zeta 1.0|zeta",
    "--method DKS --activation tanh --depth 5 --resnet 50|mutually exclusive",
    "--method DKS --activation tanh|--depth",
    "--method TAT --activation relu --depth 5|relu",
    "--method TAT --activation leaky_relu --resnet 33|unsupported ResNet depth 33",
    "--method DKS --activation tanh --depth 0|depth >= 1",
    "--method DKS --activation tanh --depth x|--depth",
    "--method FOO --activation tanh --depth 5|unknown method 'FOO'",
    "--method TAT --activation tanh --depth 5 --zeta 2|--zeta",
    "--method DKS --activation tanh --depth 5 --v1|--resnet only",
    "--method DKS --activation tanh --resnet 50 --shortcut-weight 2|shortcut weight",
    "--method TAT --activation tanh --depth 5 --bogus|--bogus"
  })
  void badArgumentsExitTwoWithOneLine(String spec) {
    String[] parts = spec.split("\\|");
    Cli r = Cli.run(("solve " + parts[0]).split(" "));
    assertEquals(2, r.code(), r.err());
    assertEquals("", r.out());
    assertTrue(r.err().startsWith("dks: error: "), r.err());
    assertEquals(1, r.err().lines().count(), r.err());
    assertTrue(r.err().contains(parts[1]), r.err());
  }

  @Test
  void unknownActivationListsTheValidNames() {
    Cli r = Cli.run("solve", "--method", "DKS", "--activation", "nope", "--depth", "5");
    assertTrue(r.err().contains("tanh") && r.err().contains("leaky_relu"), r.err());
  }

  @Test
  void missingSubcommandIsAUsageError() {
    Cli r = Cli.run();
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("dks: error: missing subcommand"), r.err());
  }
}
