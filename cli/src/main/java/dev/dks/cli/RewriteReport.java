package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.RewritePass;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The output of {@code dks rewrite}: the model read, the options, every pass's outcome (name,
 * description, changes, notes; skipped passes say so), the shaping solution ({@code local_target}:
 * the solve's per-layer target with every layer taken as Gaussian; per activation its parameters,
 * the network's C'(1), C''(1) and C(0), and {@code chain_matched_local_target}: the per-layer
 * target that activation was solved for under the depthwise chains' maps, null without), node and
 * parameter counts before and after, and where the SavedModel went (nothing with {@code
 * --dry-run}).
 */
final class RewriteReport {
  private final ModelReaders.Loaded loaded;
  private final RewriteOptions options;
  private final List<RewritePass> passes;
  private final Pipeline.Result result;
  private final Path written;
  private final boolean dryRun;

  RewriteReport(ModelReaders.Loaded loaded, RewriteOptions options, List<RewritePass> passes,
      Pipeline.Result result, Path written, boolean dryRun) {
    this.loaded = loaded;
    this.options = options;
    this.passes = passes;
    this.result = result;
    this.written = written;
    this.dryRun = dryRun;
  }

  private String description(String pass) {
    return passes.stream().filter(p -> p.name().equals(pass)).map(RewritePass::description)
        .findFirst().orElse("");
  }

  private static int nodes(Model m) {
    return GraphView.of(m.graph()).size();
  }

  /** The JSON object. */
  ObjectNode json() {
    ObjectNode root = Json.object();
    root.put("model", loaded.path().toString());
    root.put("format", loaded.format().label());
    ArrayNode rw = root.putArray("reader_warnings");
    loaded.warnings().forEach(rw::add);
    ObjectNode o = root.putObject("options");
    o.put("method", options.method().name());
    if (options.activation() == null) {
      o.putNull("activation");
    } else {
      o.put("activation", options.activation());
    }
    o.put("zeta", options.dks().zeta());
    o.put("eta", options.tat().eta());
    if (options.tat().etaAuto()) {
      o.put("eta_auto", true);
    }
    o.put("tau", options.tat().tau());
    o.put("shortcut_weight", options.shortcutWeight());
    o.put("keep_maxpool", options.keepMaxPool());
    if (options.inputNormalization() == null) {
      o.putNull("pln");
    } else {
      o.put("pln", options.inputNormalization().referenceName());
    }
    o.put("seed", options.seed());
    ArrayNode ps = root.putArray("passes");
    for (PassOutcome p : result.outcomes()) {
      ObjectNode n = ps.addObject();
      n.put("pass", p.pass());
      n.put("description", description(p.pass()));
      n.put("changes", p.changes());
      ArrayNode notes = n.putArray("notes");
      p.notes().forEach(notes::add);
    }
    Optional<ShapingSolution> s = result.fact(ShapingSolution.class);
    if (s.isEmpty()) {
      root.putNull("solution");
    } else {
      ObjectNode sol = root.putObject("solution");
      sol.put("method", s.get().method().name());
      Json.put(sol, "local_target", s.get().localTarget());
      ArrayNode acts = sol.putArray("activations");
      for (ShapedActivation a : s.get().activations().values()) {
        ObjectNode n = acts.addObject();
        n.put("activation", a.base().id());
        ObjectNode params = n.putObject("params");
        a.params().asMap().forEach((k, v) -> Json.put(params, k, v));
        ObjectNode net = n.putObject("network");
        Json.put(net, "c_slope_1", a.network().cSlope1());
        Json.put(net, "c_curvature_1", a.network().cCurvature1());
        Json.put(net, "c0", a.network().c0());
        Json.put(n, "chain_matched_local_target", a.chainMatchedTarget());
        ArrayNode ws = n.putArray("warnings");
        a.warnings().forEach(ws::add);
      }
    }
    ObjectNode before = root.putObject("before");
    before.put("nodes", nodes(loaded.model()));
    before.put("variables", loaded.model().variables().size());
    before.put("parameters", Inspection.parameters(loaded.model()));
    ObjectNode after = root.putObject("after");
    after.put("nodes", nodes(result.model()));
    after.put("variables", result.model().variables().size());
    after.put("parameters", Inspection.parameters(result.model()));
    root.put("dry_run", dryRun);
    if (written == null) {
      root.putNull("out");
    } else {
      root.put("out", written.toString());
    }
    root.put("shaping_record", written == null ? null : ShapingMetadataFiles.find(written)
        .map(Path::toString).orElse(null));
    return root;
  }

  /** The readable report, ending with a newline. */
  String text() {
    StringBuilder b = new StringBuilder();
    line(b, "read %s (%s): %d nodes, %d variables", loaded.path(), loaded.format().label(),
        nodes(loaded.model()), loaded.model().variables().size());
    for (String w : loaded.warnings()) {
      line(b, "  warning: %s", w);
    }
    line(b, "rewrite: %s%s, shortcut weight %s%s, input normalization %s, seed %d",
        options.method(), options.activation() == null ? ""
            : ", every activation " + options.activation(),
        Json.num(options.shortcutWeight()),
        options.keepMaxPool() ? ", max-pools kept" : "",
        options.inputNormalization() == null ? "none"
            : options.inputNormalization().referenceName(), options.seed());
    line(b, "passes:");
    for (PassOutcome p : result.outcomes()) {
      line(b, "  %-24s %4d change%s", p.pass(), p.changes(), p.changes() == 1 ? "" : "s");
      for (String n : p.notes()) {
        line(b, "      %s", n);
      }
    }
    Optional<ShapingSolution> s = result.fact(ShapingSolution.class);
    if (s.isEmpty()) {
      line(b, "shaping: none (no activation was shaped)");
    } else {
      line(b, "shaping: %s, per-layer target %s", s.get().method(),
          Json.num(s.get().localTarget()));
      for (ShapedActivation a : s.get().activations().values()) {
        StringBuilder params = new StringBuilder();
        for (Map.Entry<String, Double> e : a.params().asMap().entrySet()) {
          params.append(params.length() == 0 ? "" : ", ").append(e.getKey()).append('=')
              .append(Json.num(e.getValue()));
        }
        line(b, "  %s: %s", a.base().id(), params);
        line(b, "      network C'(1) = %s, C''(1) = %s, C(0) = %s",
            Json.num(a.network().cSlope1()), Json.num(a.network().cCurvature1()),
            Json.num(a.network().c0()));
        if (Double.isFinite(a.chainMatchedTarget())) {
          line(b, "      solved for per-layer target %s under the depthwise chains' maps",
              Json.num(a.chainMatchedTarget()));
        }
        a.warnings().forEach(w -> line(b, "      warning: %s", w));
      }
    }
    line(b, "nodes %d -> %d, variables %d -> %d (%,d -> %,d parameters)",
        nodes(loaded.model()), nodes(result.model()), loaded.model().variables().size(),
        result.model().variables().size(), Inspection.parameters(loaded.model()),
        Inspection.parameters(result.model()));
    if (written != null) {
      line(b, "written to %s (SavedModel, tag serve, signatures %s)", written,
          result.model().signatures().stream().map(x -> x.key()).toList());
      ShapingMetadataFiles.find(written).ifPresent(f -> line(b, "shaping recorded in %s", f));
    } else {
      line(b, "dry run: nothing written");
    }
    return b.toString();
  }

  private static void line(StringBuilder b, String format, Object... args) {
    b.append(String.format(Locale.ROOT, format, args).stripTrailing())
        .append(System.lineSeparator());
  }
}
