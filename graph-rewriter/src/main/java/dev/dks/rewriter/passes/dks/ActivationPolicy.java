package dev.dks.rewriter.passes.dks;

import dev.dks.solver.solve.Method;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which activation each activation kind found in a graph becomes before it is shaped. Defaults:
 * under TAT the ReLU family (relu, relu6, leaky_relu, prelu: its learned per-channel slopes give
 * way to the solved one) becomes leaky_relu (a TReLU) and selu
 * becomes elu (TAT needs a finite C''(1)); under DKS the ReLU family becomes softplus (the
 * reference example's activation); under both, hard_swish becomes swish; every other kind keeps
 * its own activation. {@link #withOverride} replaces one kind, {@link #all} every kind. Under TAT
 * a body mixing the ReLU family with smooth activations takes softplus for the ReLU family
 * ({@link #forBody}).
 */
public final class ActivationPolicy {
  private final Method method;
  private final Map<String, String> overrides;
  private final String all;

  private ActivationPolicy(Method method, Map<String, String> overrides, String all) {
    this.method = method;
    this.overrides = Map.copyOf(overrides);
    this.all = all;
  }

  /** The defaults for a method. */
  public static ActivationPolicy defaults(Method method) {
    return new ActivationPolicy(method, Map.of(), null);
  }

  /** Every kind becomes {@code activation}. */
  public ActivationPolicy all(String activation) {
    return new ActivationPolicy(method, overrides, activation);
  }

  /** Kind {@code kind} becomes {@code activation}. */
  public ActivationPolicy withOverride(String kind, String activation) {
    Map<String, String> m = new HashMap<>(overrides);
    m.put(kind, activation);
    return new ActivationPolicy(method, m, all);
  }

  /**
   * The policy for a body whose activations have these kinds. Under TAT with the per-kind
   * defaults, a body that mixes the ReLU family (TReLU, solved for the C(0) target eta) with
   * smooth activations (solved for the C''(1) target tau) cannot be solved as one network: TAT
   * defines no joint target. The ReLU family then becomes softplus, the smooth ReLU-like
   * activation DKS uses, so every activation takes TAT's smooth form with target tau. Otherwise
   * this policy.
   */
  public ActivationPolicy forBody(java.util.Collection<String> kinds) {
    if (method != Method.TAT || all != null) {
      return this;
    }
    boolean relu = kinds.stream().anyMatch(k -> target(k).equals("leaky_relu"));
    boolean smooth = kinds.stream().anyMatch(k -> !target(k).equals("leaky_relu"));
    if (!relu || !smooth) {
      return this;
    }
    Map<String, String> m = new HashMap<>(overrides);
    for (String k : List.of("relu", "relu6", "leaky_relu", "prelu")) {
      if (!overrides.containsKey(k)) {
        m.put(k, "softplus");
      }
    }
    return new ActivationPolicy(method, m, null);
  }

  /** The dks-solver activation id for a found kind. */
  public String target(String kind) {
    if (overrides.containsKey(kind)) {
      return overrides.get(kind);
    }
    if (all != null) {
      return all;
    }
    boolean reluFamily = kind.equals("relu") || kind.equals("relu6") || kind.equals("leaky_relu")
        || kind.equals("prelu");
    if (reluFamily) {
      return method == Method.TAT ? "leaky_relu" : "softplus";
    }
    if (kind.equals("hard_swish")) {
      return "swish";
    }
    if (kind.equals("selu") && method == Method.TAT) {
      return "elu";
    }
    return kind;
  }
}
