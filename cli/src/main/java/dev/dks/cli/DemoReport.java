package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.kernel.KernelMeasurement;
import dev.dks.rewriter.kernel.KernelReport;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.savedmodels.export.ServingCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What {@link DemoCommand} found, as progress lines, the closing table and one JSON object. */
final class DemoReport {
  private DemoData data;
  private BuiltModel built;
  private Path builtDir;
  private Pipeline.Result rewrite;
  private KernelReport kernel;
  private int kernelWidth;
  private KernelReport twinKernel;
  private int twinWidth;
  private String device = "";
  private final List<DemoCommand.Run> runs = new ArrayList<>();
  private Path plot;
  private Path serving;
  private ServingCheck.Result check;

  void data(DemoData d) {
    data = d;
  }

  void built(BuiltModel b, Path dir) {
    built = b;
    builtDir = dir;
  }

  void rewrite(Pipeline.Result r, String text) {
    rewrite = r;
  }

  void kernel(KernelReport k, int width) {
    kernel = k;
    kernelWidth = width;
  }

  void twinKernel(KernelReport k, int width) {
    twinKernel = k;
    twinWidth = width;
  }

  /** The verdict: the demo network's check, or its wider twin's when that was needed. */
  boolean kernelPassed() {
    return twinKernel != null ? twinKernel.passed() : kernel.passed();
  }

  void device(String label) {
    device = label;
  }

  void run(DemoCommand.Run r) {
    runs.add(r);
  }

  void plot(Path png) {
    plot = png;
  }

  void serving(Path dir, ServingCheck.Result r) {
    serving = dir;
    check = r;
  }

  String dataLine() {
    StringBuilder b = new StringBuilder();
    data.notes().forEach(n -> b.append("note: ").append(n).append('\n'));
    b.append(String.format(Locale.ROOT, "%s: %d training and %d test examples of %dx%dx%d, %d "
        + "classes", data.train().name(), data.train().size(), data.test().size(),
        data.train().h(), data.train().w(), data.train().c(), data.train().classes()));
    return b.toString();
  }

  String builtLine() {
    return String.format(Locale.ROOT, "%s: %,d parameters, written to %s", built.spec()
        .describe(), built.parameterCount(), builtDir);
  }

  String kernelLine() {
    return line("kernel check", kernel, kernelWidth)
        + (kernel.passed() ? "" : " (finite width: the prediction is for infinite width)");
  }

  String twinKernelLine() {
    return line("kernel check of the same rewrite", twinKernel, twinWidth);
  }

  private static String line(String what, KernelReport k, int baseWidth) {
    String q = judgesLogQ(k)
        ? String.format(Locale.ROOT, "log q error %.3f (allowed %.3f)", logQError(k),
            logQAllowed(k))
        : String.format(Locale.ROOT, "q error %.3f (tolerance %.2f)",
            k.judgedRows().stream().mapToDouble(r -> r.qError()).max().orElse(0),
            k.qTolerance());
    return String.format(Locale.ROOT, "%s at base width %d: %s at %s (%d channels): c error "
        + "%.4f (tolerance %.2f), %s", what, baseWidth,
        k.passed() ? "passed" : "FAILED", k.judgedTensor(), k.width(),
        k.judgedRows().stream().mapToDouble(r -> r.cError()).max().orElse(0), k.cTolerance(), q)
        + weak(k);
  }

  /**
   * A weak pass in plain words: the allowances that stayed wider than their tolerances (the
   * draws' noise, {@link KernelReport#widenedAllowances}); empty otherwise.
   */
  private static String weak(KernelReport k) {
    if (!k.weakPass()) {
      return "";
    }
    StringBuilder b = new StringBuilder("; weak pass: allowed");
    k.widenedAllowancesOfCheckedOutputs().forEach((name, v) -> b.append(String.format(
        Locale.ROOT, " %s %.3f", name.replace('_', ' '), v)));
    return b.append(" (the draws' noise; see dks verify)").toString();
  }

  /** Whether the check judged q by its mean log q (several draws, finite-width prediction). */
  private static boolean judgesLogQ(KernelReport k) {
    return k.judgedRows().stream().anyMatch(KernelMeasurement::judgesLogQ);
  }

  private static double logQError(KernelReport k) {
    return k.judgedRows().stream().filter(KernelMeasurement::judgesLogQ)
        .mapToDouble(KernelMeasurement::logQError).max().orElse(0);
  }

  private static double logQAllowed(KernelReport k) {
    return k.judgedRows().stream().filter(KernelMeasurement::judgesLogQ)
        .mapToDouble(KernelMeasurement::logQAllowed).min().orElse(0);
  }

  String servingLine() {
    return "serving check " + (check.passed() ? "passed" : "FAILED: " + check.reason())
        + " for " + serving;
  }

  /** The closing table. */
  String table() {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%n%-16s %-9s %6s %11s %10s %9s %8s%n", "network",
        "optimizer", "steps", "train loss", "test loss", "test acc", "steps/s"));
    for (DemoCommand.Run r : runs) {
      b.append(String.format(Locale.ROOT, "%-16s %-9s %6d %11.4f %10.4f %9.4f %8.2f%s%n",
          r.name(), r.optimizer(), r.steps(), r.trainLoss(), r.testLoss(), r.testAccuracy(),
          r.stepsPerSecond(), r.status().equals("completed") ? "" : "  (" + r.status() + ")"));
    }
    b.append(String.format(Locale.ROOT, "%ndata %s (test: %s), device %s%n", data.train().name(),
        data.test().name(), device));
    b.append(kernelLine()).append('\n');
    if (twinKernel != null) {
      b.append(twinKernelLine()).append('\n');
    }
    b.append(servingLine()).append('\n');
    b.append("plot of the loss curves: ").append(plot).append('\n');
    return b.toString();
  }

  private static void kernelJson(ObjectNode k, KernelReport r, int baseWidth) {
    k.put("base_width", baseWidth);
    k.put("passed", r.passed());
    k.put("judged_tensor", r.judgedTensor());
    k.put("c_error", r.judgedRows().stream().mapToDouble(x -> x.cError()).max().orElse(0));
    k.put("c_tolerance", r.cTolerance());
    k.put("q_error", r.judgedRows().stream().mapToDouble(x -> x.qError()).max().orElse(0));
    k.put("q_tolerance", r.qTolerance());
    // a pass whose allowances stayed wider than the tolerances (added in session 18)
    k.put("weak_pass", r.weakPass());
    if (judgesLogQ(r)) {
      // q judged by its mean log q: these decide, q_error stays for readers of the old keys
      k.put("log_q_error", logQError(r));
      k.put("log_q_allowed", logQAllowed(r));
    }
  }

  /** The JSON object (also written to the demo folder). */
  ObjectNode json() {
    ObjectNode o = Json.object();
    ObjectNode d = o.putObject("data");
    d.put("train", data.train().name());
    d.put("test", data.test().name());
    d.put("train_examples", data.train().size());
    d.put("test_examples", data.test().size());
    ArrayNode notes = d.putArray("notes");
    data.notes().forEach(notes::add);
    ObjectNode m = o.putObject("bn_resnet");
    m.put("spec", built.spec().describe());
    m.put("parameters", built.parameterCount());
    m.put("path", builtDir.toString());
    ObjectNode rw = o.putObject("rewrite");
    for (PassOutcome p : rewrite.outcomes()) {
      rw.put(p.pass(), p.changes());
    }
    ObjectNode k = o.putObject("kernel_check");
    k.put("passed", kernelPassed());
    kernelJson(k.putObject("demo_network"), kernel, kernelWidth);
    if (twinKernel != null) {
      kernelJson(k.putObject("wide_twin"), twinKernel, twinWidth);
    }
    o.put("device", device);
    ArrayNode rs = o.putArray("runs");
    for (DemoCommand.Run r : runs) {
      ObjectNode j = rs.addObject();
      j.put("network", r.name());
      j.put("optimizer", r.optimizer());
      j.put("status", r.status());
      j.put("steps", r.steps());
      j.put("train_loss", r.trainLoss());
      j.put("test_loss", r.testLoss());
      j.put("test_accuracy", r.testAccuracy());
      j.put("steps_per_second", r.stepsPerSecond());
    }
    o.put("plot", plot == null ? null : plot.toString());
    ObjectNode s = o.putObject("serving");
    s.put("path", serving == null ? null : serving.toString());
    s.put("passed", check != null && check.passed());
    if (check != null && !check.passed()) {
      s.put("reason", check.reason());
    }
    return o;
  }
}
