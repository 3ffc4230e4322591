package dev.dks.cli;

import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.TatTargets;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The shaping options {@code rewrite} and {@code verify} share (a picocli mixin): the method
 * (default TAT), the activation every activation becomes, and the method's targets.
 */
final class ShapingFlags {
  @Spec(Spec.Target.MIXEE) private CommandSpec spec;

  @Option(names = "--method", paramLabel = "DKS|TAT", defaultValue = "TAT",
      converter = SolveCommand.MethodConverter.class,
      description = "Shaping method (default TAT).")
  Method method;

  @Option(names = "--activation", paramLabel = "NAME",
      description = "The activation every activation becomes (default: per kind; TAT turns the "
          + "ReLU family into leaky_relu, DKS into softplus; see 'dks activations').")
  String activation;

  @Option(names = "--zeta", paramLabel = "Z",
      description = "DKS: the network's C'(1) target, > 1 (default 1.5).")
  Double zeta;

  @Option(names = "--eta", paramLabel = "E|auto", converter = EtaConverter.class,
      description = "TAT: the network's C(0) target for leaky_relu, in [0, 1], or 'auto' (the "
          + "default): 0.9, or the largest C(0) the network reaches when that is less (a "
          + "shallow network: ReLU, TReLU slope 0), said in the output. A number is exact: a "
          + "network that cannot reach it is refused.")
  Double eta;

  /** {@code --eta auto} (held as NaN in {@link #eta}). */
  boolean etaAuto() {
    return eta != null && eta.isNaN();
  }

  /** Parses {@code --eta}: a number, or {@code auto} (NaN). */
  static final class EtaConverter implements picocli.CommandLine.ITypeConverter<Double> {
    @Override
    public Double convert(String value) {
      if (value.equalsIgnoreCase("auto")) {
        return Double.NaN;
      }
      double v;
      try {
        v = Double.parseDouble(value);
      } catch (NumberFormatException e) {
        v = Double.NaN;
      }
      if (Double.isNaN(v)) {
        throw new picocli.CommandLine.TypeConversionException("'" + value + "' is not a number "
            + "in [0, 1] nor 'auto'");
      }
      return v;
    }
  }

  @Option(names = "--tau", paramLabel = "T",
      description = "TAT: the network's C''(1) target for smooth activations, > 0 "
          + "(default 0.3).")
  Double tau;

  /** Validates the combination (targets of the other method, unknown activation). */
  void validate() {
    validate(method);
  }

  /**
   * Validates the flags against the method in force, which for {@code verify} may come from the
   * model's shaping record rather than {@code --method}.
   */
  void validate(Method method) {
    if (method == Method.TAT && zeta != null) {
      throw new ParameterException(spec.commandLine(), "--zeta applies to --method DKS only");
    }
    if (method == Method.DKS && (eta != null || tau != null)) {
      throw new ParameterException(spec.commandLine(),
          "--eta and --tau apply to --method TAT only");
    }
    if (activation != null) {
      Activations.byName(activation); // throws UnknownActivationException naming it
    }
  }

  /** Whether {@code option} (e.g. {@code --zeta}) was given on the command line. */
  boolean given(String option) {
    var parsed = spec.commandLine().getParseResult();
    return parsed != null && parsed.hasMatchedOption(option);
  }

  /** Whether any shaping flag was given (method, activation or a target). */
  boolean anyGiven() {
    return given("--method") || activation != null || zeta != null || eta != null || tau != null;
  }

  /** The DKS targets (defaults where not given). */
  DksTargets dks() {
    return zeta == null ? DksTargets.defaults() : DksTargets.ofZeta(zeta);
  }

  /** The TAT targets (defaults where not given). */
  TatTargets tat() {
    double t = tau == null ? TatTargets.DEFAULT_TAU : tau;
    if (eta == null || etaAuto()) {
      return TatTargets.autoEta(t);
    }
    return new TatTargets(eta, t);
  }

  /** Which activation each found kind becomes. */
  ActivationPolicy policy() {
    ActivationPolicy p = ActivationPolicy.defaults(method);
    return activation == null ? p : p.all(activation);
  }

  /** These flags applied to {@code base}. */
  RewriteOptions apply(RewriteOptions base) {
    return base.withMethod(method).withActivation(activation).withTargets(dks(), tat());
  }
}
