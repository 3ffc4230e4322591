package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.solve.KernelValues;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.NetworkKernelValues;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import java.util.Locale;
import java.util.Map;

/**
 * Renders a solve as one JSON object or as a table. JSON keys follow the reference: parameters
 * as {@link ShapingParams#asMap()} (identity operations omitted), kernel values as {@code q1},
 * {@code q_slope_1}, {@code c0}, {@code c_slope_0}, {@code c_slope_1}, {@code c_curvature_1};
 * non-finite values (an infinite C''(1), a C(0) that was not computed) are omitted. With exactly
 * one activation the top level repeats its {@code params} and {@code maps}.
 */
public final class SolveReport {
  private static final String[] PARAM_KEYS = {ShapingParams.INPUT_SCALE,
      ShapingParams.INPUT_SHIFT, ShapingParams.OUTPUT_SHIFT, ShapingParams.OUTPUT_SCALE};

  private final SolveRequest request;
  private final ShapingSolution solution;

  /** A report of {@code solution}, the result of {@code request}. */
  public SolveReport(SolveRequest request, ShapingSolution solution) {
    this.request = request;
    this.solution = solution;
  }

  /** The JSON object, pretty-printed, with a trailing newline. */
  public String json() {
    return Json.write(jsonTree());
  }

  /** The JSON object as a tree. */
  public ObjectNode jsonTree() {
    ObjectNode root = Json.object();
    root.put("method", solution.method().name());
    NetworkChoice net = request.network();
    ObjectNode network = root.putObject("network");
    network.put("kind", net.kind());
    network.put("depth", net.depth());
    if (net.resnet()) {
      network.put("shortcut_weight", net.shortcutWeight());
      network.put("version", net.version());
    }
    ObjectNode targets = root.putObject("targets");
    if (solution.method() == Method.DKS) {
      targets.put("zeta", request.dks().zeta());
      targets.put("local_q_slope", request.dks().localQSlope());
    } else {
      targets.put("eta", request.tat().eta());
      targets.put("tau", request.tat().tau());
    }
    putFinite(root, "local_target", solution.localTarget());
    root.put("local_target_quantity", localTargetQuantity());
    Map<String, ShapedActivation> shaped = solution.activations();
    if (shaped.size() == 1) {
      ShapedActivation only = shaped.values().iterator().next();
      root.set("params", params(only.params()));
      root.set("maps", maps(only));
    }
    var list = root.putArray("activations");
    shaped.forEach((name, a) -> {
      ObjectNode o = list.addObject();
      o.put("name", name);
      o.set("params", params(a.params()));
      o.set("maps", maps(a));
      o.put("start_index", a.startIndex());
      o.put("evaluations", a.evaluations());
      var warnings = o.putArray("warnings");
      a.warnings().forEach(warnings::add);
    });
    return root;
  }

  /** The human-readable table, ending with a newline. */
  public String table() {
    StringBuilder sb = new StringBuilder();
    line(sb, "%s solve for %s", solution.method(), request.network().describe());
    if (solution.method() == Method.DKS) {
      line(sb, "targets: zeta = %s (network C'(1)), local Q'(1) = %s",
          request.dks().zeta(), request.dks().localQSlope());
    } else {
      line(sb, "targets: eta = %s (network C(0), leaky_relu), tau = %s (network C''(1), smooth)",
          request.tat().eta(), request.tat().tau());
    }
    line(sb, "per-layer target: %s = %s", switch (localTargetQuantity()) {
      case "c_slope_1" -> "xi (local C'(1))";
      case "c_curvature_1" -> "tau_loc (local C''(1))";
      default -> "s (leaky ReLU negative slope)";
    }, number(solution.localTarget()));
    solution.activations().forEach((name, a) -> {
      line(sb, "");
      line(sb, "activation %s", name);
      line(sb, "  %-16s %-24s", "parameter", "value");
      Map<String, Double> p = a.params().asMap();
      double[] raw = {a.params().inputScale(), a.params().inputShift(),
          a.params().outputShift(), a.params().outputScale()};
      for (int i = 0; i < PARAM_KEYS.length; i++) {
        row(sb, PARAM_KEYS[i], number(raw[i]), p.containsKey(PARAM_KEYS[i]) ? "" : "(identity)");
      }
      a.params().negativeSlope()
          .ifPresent(s -> row(sb, ShapingParams.NEGATIVE_SLOPE, number(s), ""));
      line(sb, "");
      line(sb, "  %-16s %-24s %s", "kernel value", "local", "network");
      KernelValues l = a.local();
      NetworkKernelValues n = a.network();
      row(sb, "Q(1)", number(l.q1()), "");
      row(sb, "Q'(1)", number(l.qSlope1()), "");
      row(sb, "C(0)", number(l.c0()), number(n.c0()));
      row(sb, "C'(0)", number(l.cSlope0()), "");
      row(sb, "C'(1)", number(l.cSlope1()), number(n.cSlope1()));
      row(sb, "C''(1)", number(l.cCurvature1()), number(n.cCurvature1()));
      line(sb, "");
      if (a.warnings().isEmpty()) {
        line(sb, "  warnings: none");
      } else {
        line(sb, "  warnings:");
        a.warnings().forEach(w -> line(sb, "    - %s", w));
      }
    });
    return sb.toString();
  }

  /** Which per-layer quantity {@code local_target} is: c_slope_1, c_curvature_1 or negative_slope. */
  private String localTargetQuantity() {
    if (solution.method() == Method.DKS) {
      return "c_slope_1";
    }
    boolean leaky = solution.activations().values().stream()
        .anyMatch(a -> a.params().negativeSlope().isPresent());
    return leaky ? ShapingParams.NEGATIVE_SLOPE : "c_curvature_1";
  }

  private static ObjectNode params(ShapingParams p) {
    ObjectNode o = Json.object();
    p.asMap().forEach(o::put);
    return o;
  }

  private static ObjectNode maps(ShapedActivation a) {
    ObjectNode o = Json.object();
    KernelValues l = a.local();
    putFinite(o, "q1", l.q1());
    putFinite(o, "q_slope_1", l.qSlope1());
    putFinite(o, "c0", l.c0());
    putFinite(o, "c_slope_0", l.cSlope0());
    putFinite(o, "c_slope_1", l.cSlope1());
    putFinite(o, "c_curvature_1", l.cCurvature1());
    ObjectNode n = o.putObject("network");
    putFinite(n, "c_slope_1", a.network().cSlope1());
    putFinite(n, "c_curvature_1", a.network().cCurvature1());
    putFinite(n, "c0", a.network().c0());
    return o;
  }

  private static void putFinite(ObjectNode o, String key, double value) {
    if (Double.isFinite(value)) {
      o.put(key, value);
    }
  }

  private static String number(double v) {
    if (Double.isNaN(v)) {
      return "n/a";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "inf" : "-inf";
    }
    return Double.toString(v);
  }

  private static void row(StringBuilder sb, String name, String value, String extra) {
    line(sb, "  %-16s %-24s %s", name, value, extra);
  }

  private static void line(StringBuilder sb, String format, Object... args) {
    sb.append(String.format(Locale.ROOT, format, args).stripTrailing())
        .append(System.lineSeparator());
  }
}
