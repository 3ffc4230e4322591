package dev.dks.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.solve.KernelValues;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.NetworkKernelValues;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
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

  /**
   * The JSON object, pretty-printed, with a trailing newline. Written by Jackson's streaming
   * generator with the pretty printer {@link Json#write} uses, so the text is the same as a tree's;
   * a process that only solves then never builds an {@code ObjectMapper} (about 350 classes).
   */
  public String json() {
    StringWriter text = new StringWriter();
    try (JsonGenerator g = new JsonFactory().createGenerator(text)) {
      g.useDefaultPrettyPrinter();
      write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return text + System.lineSeparator();
  }

  private void write(JsonGenerator g) throws IOException {
    g.writeStartObject();
    g.writeStringField("method", solution.method().name());
    NetworkChoice net = request.network();
    g.writeObjectFieldStart("network");
    g.writeStringField("kind", net.kind());
    g.writeNumberField("depth", net.depth());
    if (net.resnet()) {
      g.writeNumberField("shortcut_weight", net.shortcutWeight());
      g.writeStringField("version", net.version());
    }
    g.writeEndObject();
    g.writeObjectFieldStart("targets");
    if (solution.method() == Method.DKS) {
      g.writeNumberField("zeta", request.dks().zeta());
      g.writeNumberField("local_q_slope", request.dks().localQSlope());
    } else {
      g.writeNumberField("eta", request.tat().eta());
      g.writeNumberField("tau", request.tat().tau());
    }
    g.writeEndObject();
    writeFinite(g, "local_target", solution.localTarget());
    g.writeStringField("local_target_quantity", localTargetQuantity());
    Map<String, ShapedActivation> shaped = solution.activations();
    if (shaped.size() == 1) {
      ShapedActivation only = shaped.values().iterator().next();
      writeParams(g, only.params());
      writeMaps(g, only);
    }
    g.writeArrayFieldStart("activations");
    for (Map.Entry<String, ShapedActivation> e : shaped.entrySet()) {
      ShapedActivation a = e.getValue();
      g.writeStartObject();
      g.writeStringField("name", e.getKey());
      writeParams(g, a.params());
      writeMaps(g, a);
      g.writeNumberField("start_index", a.startIndex());
      g.writeNumberField("evaluations", a.evaluations());
      g.writeArrayFieldStart("warnings");
      for (String w : a.warnings()) {
        g.writeString(w);
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    g.writeEndArray();
    g.writeEndObject();
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

  private static void writeParams(JsonGenerator g, ShapingParams p) throws IOException {
    g.writeObjectFieldStart("params");
    for (Map.Entry<String, Double> e : p.asMap().entrySet()) {
      g.writeNumberField(e.getKey(), e.getValue());
    }
    g.writeEndObject();
  }

  private static void writeMaps(JsonGenerator g, ShapedActivation a) throws IOException {
    g.writeObjectFieldStart("maps");
    KernelValues l = a.local();
    writeFinite(g, "q1", l.q1());
    writeFinite(g, "q_slope_1", l.qSlope1());
    writeFinite(g, "c0", l.c0());
    writeFinite(g, "c_slope_0", l.cSlope0());
    writeFinite(g, "c_slope_1", l.cSlope1());
    writeFinite(g, "c_curvature_1", l.cCurvature1());
    g.writeObjectFieldStart("network");
    writeFinite(g, "c_slope_1", a.network().cSlope1());
    writeFinite(g, "c_curvature_1", a.network().cCurvature1());
    writeFinite(g, "c0", a.network().c0());
    g.writeEndObject();
    g.writeEndObject();
  }

  private static void writeFinite(JsonGenerator g, String key, double value) throws IOException {
    if (Double.isFinite(value)) {
      g.writeNumberField(key, value);
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
