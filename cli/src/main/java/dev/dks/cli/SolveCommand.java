package dev.dks.cli;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatTargets;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code dks solve}: shapes one or more activations for a network by DKS or TAT and prints the
 * parameters and the resulting local and network kernel values, as a table or as one JSON object.
 */
@Command(
    name = "solve",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    sortSynopsis = false,
    description = "Solve the DKS or TAT activation parameters for a network.",
    footer = {"", "Examples:",
        "  dks solve --method TAT --activation leaky_relu --resnet 50 --json",
        "  dks solve --method DKS --activation tanh,softplus --depth 100"})
public final class SolveCommand implements Callable<Integer>, NoTensorFlow {
  @Spec private CommandSpec spec;

  @Option(names = "--method", required = true, paramLabel = "DKS|TAT",
      converter = MethodConverter.class, description = "Shaping method: DKS or TAT.")
  private Method method;

  @Option(names = "--activation", required = true, split = ",", paramLabel = "NAME",
      description = "Activation(s) used in the network; repeat or comma-separate "
          + "(see 'dks activations').")
  private List<String> activationNames = new ArrayList<>();

  @Option(names = "--depth", paramLabel = "L",
      description = "Plain chain of L nonlinear layers.")
  private Integer depth;

  @Option(names = "--resnet", paramLabel = "D",
      description = "ResNet of depth D (18, 34, 50, 101, 152 or 200).")
  private Integer resnet;

  @Option(names = "--shortcut-weight", paramLabel = "W",
      description = "ResNet shortcut weight in [0, 1] (default 0.0: no skip connections).")
  private Double shortcutWeight;

  @Option(names = "--v1", description = "ResNet v1 blocks (activation after the sum); default v2.")
  private boolean v1;

  @Option(names = "--zeta", paramLabel = "Z",
      description = "DKS: the network's C'(1), > 1 (default " + DksTargets.DEFAULT_ZETA + ").")
  private Double zeta;

  @Option(names = "--q-slope", paramLabel = "Q",
      description = "DKS: each activation's Q'(1), > 0 (default "
          + DksTargets.DEFAULT_LOCAL_Q_SLOPE + ").")
  private Double qSlope;

  @Option(names = "--eta", paramLabel = "E",
      description = "TAT with leaky_relu: the network's C(0), in [0, 1] (default "
          + TatTargets.DEFAULT_ETA + ").")
  private Double eta;

  @Option(names = "--tau", paramLabel = "T",
      description = "TAT with smooth activations: the network's C''(1), > 0 (default "
          + TatTargets.DEFAULT_TAU + ").")
  private Double tau;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  private boolean json;

  /** Validates the options, solves, prints the result; returns the exit code. */
  @Override
  public Integer call() {
    SolveRequest request = request();
    ShapingSolution solution = request.solve();
    SolveReport report = new SolveReport(request, solution);
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? report.json() : report.table());
    out.flush();
    return 0;
  }

  /** The validated request (throws ParameterException or the solver's argument errors). */
  SolveRequest request() {
    NetworkChoice network = network();
    DksTargets dks = DksTargets.defaults();
    TatTargets tat = TatTargets.defaults();
    if (method == Method.DKS) {
      rejectOthers("TAT", "--eta", eta, "--tau", tau);
      dks = new DksTargets(orDefault(zeta, DksTargets.DEFAULT_ZETA),
          orDefault(qSlope, DksTargets.DEFAULT_LOCAL_Q_SLOPE));
    } else {
      rejectOthers("DKS", "--zeta", zeta, "--q-slope", qSlope);
      tat = new TatTargets(orDefault(eta, TatTargets.DEFAULT_ETA),
          orDefault(tau, TatTargets.DEFAULT_TAU));
    }
    List<Activation> activations = new ArrayList<>();
    for (String name : activationNames) {
      activations.add(Activations.byName(name));
    }
    return new SolveRequest(method, List.copyOf(activations), network, dks, tat);
  }

  private NetworkChoice network() {
    if (depth != null && resnet != null) {
      throw usage("--depth and --resnet are mutually exclusive: give exactly one");
    }
    if (depth == null && resnet == null) {
      throw usage("missing network: give --depth L (plain chain) or --resnet D");
    }
    if (resnet == null && (shortcutWeight != null || v1)) {
      throw usage("--shortcut-weight and --v1 apply to --resnet only");
    }
    NetworkChoice network = resnet != null
        ? NetworkChoice.resNet(resnet, orDefault(shortcutWeight, 0.0), !v1)
        : NetworkChoice.chain(depth);
    network.structure(); // validates depth and shortcut weight before the solve
    return network;
  }

  private void rejectOthers(String other, String opt1, Double value1, String opt2, Double value2) {
    if (value1 != null || value2 != null) {
      throw usage(opt1 + " and " + opt2 + " are " + other + " targets; they do not apply to --method "
          + method);
    }
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  private static double orDefault(Double value, double fallback) {
    return value == null ? fallback : value;
  }

  /** Parses {@code --method}: DKS or TAT, case-insensitive. */
  static final class MethodConverter implements ITypeConverter<Method> {
    @Override
    public Method convert(String value) {
      String v = value.trim().toUpperCase(Locale.ROOT);
      if (v.equals("DKS")) {
        return Method.DKS;
      }
      if (v.equals("TAT")) {
        return Method.TAT;
      }
      throw new TypeConversionException("unknown method '" + value + "': use DKS or TAT");
    }
  }
}
