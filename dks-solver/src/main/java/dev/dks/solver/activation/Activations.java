package dev.dks.solver.activation;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/** Looks activations up by their reference names ({@code tanh}, {@code gelu_exact}, ...). */
public final class Activations {
  private Activations() {}

  /** Every name {@link #byName} accepts, in table order. */
  public static List<String> names() {
    List<String> names = new ArrayList<>();
    for (StandardActivation a : StandardActivation.values()) {
      names.add(a.id());
      if (a == StandardActivation.RELU) {
        names.add(LeakyRelu.ID);
      }
    }
    return Collections.unmodifiableList(names);
  }

  /**
   * The activation called {@code name} (case-insensitive; {@code silu} is an alias of {@code
   * swish}). {@code leaky_relu} gets the reference's default slope 0.01.
   *
   * @throws UnknownActivationException when no activation has that name
   */
  public static Activation byName(String name) {
    String n = name.trim().toLowerCase(Locale.ROOT);
    if (n.equals("silu")) {
      n = "swish";
    }
    if (n.equals(LeakyRelu.ID)) {
      return new LeakyRelu(LeakyRelu.DEFAULT_NEGATIVE_SLOPE);
    }
    for (StandardActivation a : StandardActivation.values()) {
      if (a.id().equals(n)) {
        return a;
      }
    }
    throw new UnknownActivationException(name, names());
  }
}
