package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activations;
import org.junit.jupiter.api.Test;

class SolveTableTest {

  @Test
  void tableShowsParametersMapsAndWarnings() {
    Cli r = Cli.run("solve", "--method", "DKS", "--activation", "relu", "--depth", "10");
    assertEquals(0, r.code(), r.err());
    for (String s : new String[] {"input_scale", "input_shift", "output_shift", "output_scale",
        "C'(1)", "C''(1)", "network", "warnings:", "partially supported", "plain chain of 10"}) {
      assertTrue(r.out().contains(s), s + " missing from:\n" + r.out());
    }
  }

  @Test
  void tableMarksIdentityOperations() {
    Cli r = Cli.run("solve", "--method", "TAT", "--activation", "leaky_relu", "--resnet", "50");
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("(identity)"), r.out());
    assertTrue(r.out().contains("1.301119175166785"), r.out());
  }

  @Test
  void activationsListsEveryName() {
    Cli r = Cli.run("activations");
    assertEquals(0, r.code());
    assertEquals(Activations.names(), r.out().lines().toList());
  }

  @Test
  void versionAndHelpExitZero() {
    assertTrue(Cli.run("--version").out().startsWith("dks "));
    Cli help = Cli.run("solve", "--help");
    assertEquals(0, help.code());
    assertTrue(help.out().contains("--shortcut-weight"));
  }
}
