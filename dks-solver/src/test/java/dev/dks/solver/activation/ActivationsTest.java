package dev.dks.solver.activation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Name lookup: the table of dks-math.md section 6, aliases, and the unknown-name error. */
class ActivationsTest {
  @Test
  void namesAreTheReferenceTable() {
    assertEquals(List.of("tanh", "sigmoid", "softplus", "erf", "elu", "selu", "swish", "gelu",
        "gelu_exact", "relu", "leaky_relu", "atan", "asinh", "softsign", "bentid", "square", "sin",
        "cos"), Activations.names());
  }

  @Test
  void everyNameRoundTrips() {
    for (String n : Activations.names()) {
      assertEquals(n, Activations.byName(n).id());
    }
  }

  @Test
  void lookupIsCaseInsensitiveAndTrims() {
    assertSame(StandardActivation.TANH, Activations.byName("  TaNh "));
    assertSame(StandardActivation.SWISH, Activations.byName("silu"));
    assertSame(StandardActivation.SWISH, Activations.byName("SiLU"));
  }

  @Test
  void leakyReluGetsTheReferenceDefaultSlope() {
    Activation a = Activations.byName("leaky_relu");
    LeakyRelu l = assertInstanceOf(LeakyRelu.class, a);
    assertEquals(0.01, l.negativeSlope(), 0.0);
    assertEquals(-0.02, a.value(-2), 1e-17);
  }

  @Test
  void unknownNameListsTheValidOnes() {
    UnknownActivationException e =
        assertThrows(UnknownActivationException.class, () -> Activations.byName("mish"));
    String m = e.getMessage();
    assertTrue(m.contains("mish"), m);
    assertTrue(m.contains("use"), m);
    for (String n : Activations.names()) {
      assertTrue(m.contains(n), "message lists " + n + ": " + m);
    }
    assertInstanceOf(IllegalArgumentException.class, e);
  }
}
