package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.analysis.ActivationSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.kernel.KernelCheck;
import dev.dks.rewriter.kernel.KernelEntry;
import dev.dks.rewriter.kernel.KernelMeasurement;
import dev.dks.rewriter.kernel.KernelReport;
import dev.dks.rewriter.kernel.OutputCheck;
import dev.dks.rewriter.kernel.QOverflow;
import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.shaping.ShapingMetadata;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingException;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.ShapingSolver;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dks verify MODEL}: the kernel check of a shaped model at its current weights. The
 * structure is derived from the graph ({@link StructureAnalyzer}, from the first input of the
 * first signature to the outputs); the shaping solution is re-solved for that structure with the
 * method and targets of the model's shaping record ({@code assets.extra/dks-shaping.json}, see
 * {@link VerifyShaping}; explicit flags override it, and a model with neither record nor flags is
 * refused as unshaped, exit 2), one shaped activation per activation kind found in the graph (the
 * activations of a rewritten or shaped-built model are already the targets, so each kind is its
 * own target; {@code --activation}, when given, must name that kind); then {@link KernelCheck}
 * feeds input pairs of chosen cosine similarity through TensorFlow and compares the measured q
 * and c with the prediction (one example at a time when the model's batch is fixed, e.g. at 1;
 * JSON {@code fed_one_at_a_time}). An input that is not a float feature (a string of WAV bytes
 * decoded in the graph) is fed at the float32 tensor the first layer reads (JSON {@code
 * fed_at}, {@code fed_note}, {@code fed_computed_feature}; {@link KernelEntry}). Before
 * measuring, the analysed layers' biases that are not zero (the prediction assumes zero) are
 * named in a warning and JSON {@code nonzero_biases} ({@link
 * dev.dks.rewriter.kernel.InitialBiases}); rows past an op the maps cannot predict after
 * are measured only (JSON {@code past_judged}). Exit 0 when the output is within the
 * tolerances, 1 (with the reason on stderr) when not, 2 for a model it cannot check.
 */
@Command(
    name = "verify",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    sortSynopsis = false,
    description = "Check a shaped model's kernel at initialization: measured vs predicted q and "
        + "c per layer; exit 1 beyond the tolerance.",
    footer = {"", "MODEL is a SavedModel folder, a frozen GraphDef (.pb), a TensorFlow.js "
        + "model.json or a Keras .h5. How it was shaped is read from its shaping record "
        + "(assets.extra/dks-shaping.json, written by build --shaped and rewrite); --method, "
        + "--activation and the targets override it, and are needed for models without one.",
        "", "Examples:",
        "  dks verify resnet50_tat",
        "  dks verify mlp_dks --method DKS --activation tanh --json"})
public final class VerifyCommand implements Callable<Integer> {
  /** Exit code when the check fails. */
  public static final int CHECK_FAILED = 1;

  @Spec private CommandSpec spec;
  @picocli.CommandLine.Mixin private UntrustedFlags untrusted; // --allow-ops (issue 17)

  @Parameters(index = "0", paramLabel = "MODEL",
      description = "SavedModel folder, frozen GraphDef (.pb), model.json or Keras .h5.")
  private Path model;

  @Mixin private ShapingFlags shaping;

  @Option(names = "--c-tolerance", paramLabel = "T", defaultValue = "0.03",
      description = "Allowed |measured - predicted| c at the output (default 0.03).")
  private double cTolerance;

  @Option(names = "--q-tolerance", paramLabel = "T", defaultValue = "0.5",
      description = "Allowed |measured - predicted| q at the output (default 0.5: q "
          + "fluctuates by about sqrt(2 depth / width) at finite width).")
  private double qTolerance;

  @Option(names = "--pairs", paramLabel = "N", defaultValue = "128",
      description = "Input pairs per input c value (default 128), split over the weight draws "
          + "(with --draws 0, more per draw where pairs are cheap).")
  private int pairs;

  @Option(names = "--draws", paramLabel = "N", defaultValue = "0",
      description = "Weight draws (the model's weights and Haar-rotated copies) the measurements "
          + "are averaged over; 0 picks them from the widths (default 0: more for narrow nets, "
          + "whose single draw deviates from the prediction by O(1/sqrt(width))), then adds "
          + "draws, where they are cheap, until the standard errors of the output c and log q "
          + "are under a quarter of their tolerances; when the cost budget (about 15 s of CPU) "
          + "stops them short, "
          + "the report says the pass is weak.")
  private int draws;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "1234",
      description = "Seed of the random inputs (default 1234).")
  private long seed;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  private boolean json;

  /** Reads, solves, checks, prints; returns 0 (pass) or 1 (fail). */
  @Override
  public Integer call() {
    if (!(cTolerance > 0) || !(qTolerance > 0)) {
      throw new IllegalArgumentException("--c-tolerance and --q-tolerance must be > 0");
    }
    if (pairs < 1) {
      throw new IllegalArgumentException("--pairs must be >= 1, got " + pairs);
    }
    if (draws < 0) {
      throw new IllegalArgumentException("--draws must be >= 0 (0: automatic), got " + draws);
    }
    ModelReaders.Loaded loaded = ModelInput.load(model, untrusted);
    Model m = loaded.model();
    KernelEntry entry = checkableInput(m, loaded.path());
    Optional<ShapingMetadata> record = ModelShaping.read(loaded.path());
    // the record's sites: Sin/Cos are activations only where the model declares them
    Map<String, String> declared = ModelShaping.declaredSites(record);
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(m.graph()),
        List.of(entry.node()), m.outputNodes(), null, declared);
    VerifyShaping how = VerifyShaping.resolve(shaping, record, loaded.path(), kinds(a));
    ShapingSolution solution = solve(a, loaded.path(), how);
    List<String> recordNotes = how.compare(solution);
    KernelCheck.Options o = new KernelCheck.Options(KernelCheck.Options.defaults().inputCs(),
        pairs, seed, cTolerance, qTolerance, draws, declared);
    KernelReport r = KernelCheck.run(m, solution, o, untrusted.allowed());
    String reason = r.passed() ? null : reason(r);
    PrintWriter w = spec.commandLine().getOut();
    w.print(json ? Json.write(json(loaded, entry, a, solution, r, reason, how, recordNotes))
        : text(loaded, entry, a, solution, r, how, recordNotes));
    w.flush();
    if (json && r.biasWarning() != null) {
      // the text table carries it; with --json, say it where a person sees it too
      PrintWriter err = spec.commandLine().getErr();
      err.println("dks: warning: " + r.biasWarning());
      err.flush();
    }
    if (!r.passed()) {
      PrintWriter err = spec.commandLine().getErr();
      err.println("dks: verify failed: " + reason);
      err.flush();
      return CHECK_FAILED;
    }
    return 0;
  }

  /**
   * Where the check feeds: the first float32 tensor of the first input (the input, or the Cast
   * of an integer image input, {@link KernelEntry}), with a fixed example shape.
   */
  private static KernelEntry checkableInput(Model m, Path path) {
    KernelEntry entry;
    try {
      entry = KernelEntry.of(m);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
    }
    var e = m.signatures().get(0).inputs().entrySet().iterator().next();
    long[] s = entry.shape();
    boolean fixed = s != null && s.length >= 2;
    for (int i = 1; fixed && i < s.length; i++) {
      fixed = s[i] > 0;
    }
    if (!fixed) {
      String where = entry.node().equals(e.getValue().tensor().node()) ? "input '" + e.getKey()
          + "'" : "'" + entry.node() + "', where input '" + e.getKey() + "' is fed,";
      throw new IllegalArgumentException(path + ": " + where + " has shape "
          + Json.shape(s) + "; the kernel check needs a batch axis and fixed example "
          + "dimensions");
    }
    return entry;
  }

  /** The activation kinds found on the path, in graph order. */
  private static Set<String> kinds(NetworkAnalysis a) {
    Set<String> kinds = new LinkedHashSet<>();
    for (ActivationSite s : a.activations()) {
      kinds.add(s.kind());
    }
    return kinds;
  }

  /** One shaped activation per kind found, solved for the analysed structure. */
  private static ShapingSolution solve(NetworkAnalysis a, Path path, VerifyShaping how) {
    Set<String> kinds = how.activationByKind().keySet();
    if (kinds.isEmpty()) {
      return null;
    }
    List<Activation> acts = new ArrayList<>();
    for (String k : kinds) {
      try {
        acts.add(Activations.byName(k));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(path + ": activation kind '" + k + "' (node '"
            + a.activations().stream().filter(s -> s.kind().equals(k)).findFirst().get().output()
            + "') has no kernel map in dks-solver; rewrite the model first", e);
      }
    }
    try {
      return ShapingSolver.solve(how.method(), acts, NetworkMaps.of(a.structure()),
          how.dks(), how.tat());
    } catch (ShapingException e) {
      throw new IllegalArgumentException(path + ": cannot re-solve " + how.method()
          + " for the model's activations " + kinds + " (verify checks a model that is already "
          + "shaped, with the options it was shaped with): " + e.getMessage(), e);
    }
  }

  /**
   * Why the check failed: the worst row beyond a tolerance at the tensor the check judges
   * ({@link KernelReport#judgedTensor()}).
   */
  static String reason(KernelReport r) {
    QOverflow overflow = r.qOverflow();
    if (overflow != null) {
      // the cause, not the NaN it leaves downstream: see QOverflow
      return overflow.describe() + "; the shaping does not hold q (rewrite with --method TAT, "
          + "or another --activation)";
    }
    if (r.outputs().size() > 1) {
      for (OutputCheck o : r.outputs()) {
        if (o.checked() && !o.report().passed()) {
          return "output '" + o.output() + "': " + reason(o.report());
        }
      }
    }
    if (r.rows().isEmpty()) {
      return "nothing was measured";
    }
    String judged = r.judgedTensor();
    KernelMeasurement worstC = null;
    KernelMeasurement worstQ = null;
    for (KernelMeasurement m : r.rows()) {
      if (!m.tensor().equals(judged)) {
        continue;
      }
      if (m.cError() > allowedC(r, m) && (worstC == null || m.cError() > worstC.cError())) {
        worstC = m;
      }
      if (m.qFails(r.qTolerance()) && (worstQ == null || qExcess(r, m) > qExcess(r, worstQ))) {
        worstQ = m;
      }
    }
    if (worstC != null) {
      return String.format(Locale.ROOT, "at '%s' (depth %d, input c %.2f) the measured c is "
          + "%.4f but %.4f is predicted: error %.4f > allowed c error %.4f", worstC.tensor(),
          worstC.depth(), worstC.inputC(), worstC.measuredC(), worstC.predictedC(),
          worstC.cError(), allowedC(r, worstC));
    }
    if (worstQ != null && worstQ.judgesLogQ()) {
      return String.format(Locale.ROOT, "at '%s' (depth %d, input c %.2f) the measured mean "
          + "log q is %.4f (q %.4f) but %.4f is predicted: error %.4f > allowed log q error "
          + "%.3f", worstQ.tensor(), worstQ.depth(), worstQ.inputC(), worstQ.measuredLogQ(),
          Math.exp(worstQ.measuredLogQ()), worstQ.predictedLogQ(), worstQ.logQError(),
          worstQ.logQAllowed());
    }
    if (worstQ != null) {
      return String.format(Locale.ROOT, "at '%s' (depth %d, input c %.2f) the measured q is "
          + "%.4g but %.4g is predicted: error %.4g > allowed q error %.3f", worstQ.tensor(),
          worstQ.depth(), worstQ.inputC(), worstQ.measuredQ(), worstQ.predictedQ(),
          worstQ.qError(), allowedQ(r, worstQ));
    }
    String text = r.toText().strip();
    return text.substring(text.lastIndexOf('\n') + 1);
  }

  /** The c error allowed at row {@code m}: its own (widened by the standard error) or r's. */
  private static double allowedC(KernelReport r, KernelMeasurement m) {
    return Double.isNaN(m.cAllowed()) ? r.cTolerance() : m.cAllowed();
  }

  /** How far row {@code m}'s q error exceeds its allowance (log q or mean q), as a ratio. */
  private static double qExcess(KernelReport r, KernelMeasurement m) {
    return m.judgesLogQ() ? m.logQError() / m.logQAllowed() : m.qError() / allowedQ(r, m);
  }

  /** The q error allowed at row {@code m}: its own (widened by the draws' spread) or r's. */
  private static double allowedQ(KernelReport r, KernelMeasurement m) {
    return Double.isNaN(m.qAllowed()) ? r.qTolerance() : m.qAllowed();
  }

  private String text(ModelReaders.Loaded loaded, KernelEntry entry, NetworkAnalysis a,
      ShapingSolution s, KernelReport r, VerifyShaping how, List<String> recordNotes) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "model: %s (%s), structure depth %d%n", loaded.path(),
        loaded.format().label(), a.dag().depth()));
    if (entry.note() != null) {
      b.append("note: ").append(entry.note()).append('\n');
    }
    how.textLines().forEach(l -> b.append(l).append('\n'));
    recordNotes.forEach(l -> b.append("note: ").append(l).append('\n'));
    if (s == null) {
      b.append("no activation on the path: the network is linear\n");
    } else {
      for (ShapedActivation sa : s.activations().values()) {
        StringBuilder p = new StringBuilder();
        sa.params().asMap().forEach((k, v) -> p.append(p.length() == 0 ? "" : ", ").append(k)
            .append('=').append(Json.num(v)));
        b.append(String.format(Locale.ROOT, "predicted with %s-shaped %s: %s%n", s.method(),
            sa.base().id(), p));
      }
    }
    b.append(r.toText());
    return b.toString();
  }

  private ObjectNode json(ModelReaders.Loaded loaded, KernelEntry entry, NetworkAnalysis a,
      ShapingSolution s, KernelReport r, String reason, VerifyShaping how,
      List<String> recordNotes) {
    ObjectNode root = Json.object();
    root.put("model", loaded.path().toString());
    root.put("format", loaded.format().label());
    // where the pairs are fed: the input, or the Cast of an integer image input (and why)
    root.put("fed_at", entry.node());
    if (entry.note() == null) {
      root.putNull("fed_note");
    } else {
      root.put("fed_note", entry.note());
    }
    // added in session 19: true when fed_at is a float tensor the graph computes from a
    // non-float input (a string of WAV bytes decoded into MFCCs), fed directly; fed_note says how
    root.put("fed_computed_feature", entry.computedFeature());
    // a graph with a fixed batch (e.g. 1) gets each example of a pair alone: same statistics
    root.put("fed_one_at_a_time", r.fedOneAtATime());
    if (r.fedOneAtATime()) {
      root.put("fed_one_at_a_time_why", r.oneAtATime());
    } else {
      root.putNull("fed_one_at_a_time_why");
    }
    root.put("method", how.method().name());
    root.set("shaping", how.json(recordNotes));
    root.put("structure_depth", a.dag().depth());
    ArrayNode acts = root.putArray("activations");
    if (s != null) {
      for (ShapedActivation sa : s.activations().values()) {
        ObjectNode o = acts.addObject();
        o.put("activation", sa.base().id());
        ObjectNode params = o.putObject("params");
        sa.params().asMap().forEach((k, v) -> Json.put(params, k, v));
      }
    }
    root.put("c_tolerance", r.cTolerance());
    root.put("q_tolerance", r.qTolerance());
    root.put("width", r.width());
    // how much was measured: weight draws x pairs, and how precisely c is known where judged
    root.put("draws", r.sampling().draws());
    root.put("pairs_per_draw", r.sampling().pairsPerDraw());
    root.put("added_draws", r.sampling().addedDraws());
    root.put("pairs_per_added_draw", r.sampling().addedPairsPerDraw());
    root.put("draw_rule", r.sampling().rule());
    Json.put(root, "c_standard_error", r.sampling().cStandardError());
    // added in session 18: the log q standard error, the cost cap's draws, and a weak pass (an
    // allowance wider than its tolerance, so errors up to it pass unseen)
    Json.put(root, "log_q_standard_error", r.sampling().logQStandardError());
    root.put("draw_cap", r.sampling().drawCap());
    root.put("draws_budget_limited", r.drawsBudgetLimited());
    root.put("passed", r.passed());
    root.put("weak_pass", r.weakPass());
    widened(root, r);
    QOverflow overflow = r.qOverflow();
    if (overflow == null) {
      root.putNull("q_overflow");
    } else {
      ObjectNode q = root.putObject("q_overflow");
      q.put("tensor", overflow.tensor());
      q.put("depth", overflow.depth());
      q.put("input_c", overflow.inputC());
      q.put("predicted_q", Double.isFinite(overflow.predictedQ()) ? overflow.predictedQ()
          : Double.MAX_VALUE);
      q.put("limit", QOverflow.LIMIT);
    }
    if (reason == null) {
      root.putNull("reason");
    } else {
      root.put("reason", reason);
    }
    Json.put(root, "max_c_error", r.maxCError());
    // rows left out of max_c_error: their measured or predicted c is not a number
    root.put("rows_without_c_error", r.rowsWithoutCError().size());
    root.put("judged_tensor", r.judgedTensor());
    // why the judged tensor is not the last layer's input (an op the maps cannot predict past)
    putNullable(root, "judged_note", r.judgedNote());
    // added in session 19: the analysed layers' biases that are not zero (the prediction
    // assumes them zero; a warning, not part of the verdict)
    ArrayNode biases = root.putArray("nonzero_biases");
    for (var b : r.nonZeroBiases()) {
      ObjectNode o = biases.addObject();
      o.put("layer", b.layer());
      o.put("bias", b.bias());
      Json.put(o, "rms", b.rms());
    }
    rows(root.putArray("rows"), r);
    // every output: its own verdict and rows, or why it was not checked
    ArrayNode outs = root.putArray("outputs");
    List<OutputCheck> checks = r.outputs().isEmpty()
        ? List.of(new OutputCheck(loaded.model().outputNodes().get(0), r, null)) : r.outputs();
    for (OutputCheck c : checks) {
      ObjectNode o = outs.addObject();
      o.put("output", c.output());
      o.put("checked", c.checked());
      if (!c.checked()) {
        o.put("not_checked", c.notChecked());
        continue;
      }
      KernelReport k = c.report();
      o.put("judged_tensor", k.judgedTensor());
      putNullable(o, "judged_note", k.judgedNote());
      o.put("width", k.width());
      o.put("passed", k.passed());
      if (k.passed()) {
        o.putNull("reason");
      } else {
        o.put("reason", reason(k));
      }
      Json.put(o, "max_c_error", k.maxCError());
      o.put("rows_without_c_error", k.rowsWithoutCError().size());
      widened(o, k);
      Json.put(o, "judged_c_error", k.judgedRows().stream()
          .mapToDouble(KernelMeasurement::cError).max().orElse(0));
      Json.put(o, "judged_q_error", k.judgedRows().stream()
          .mapToDouble(KernelMeasurement::qError).max().orElse(0));
      rows(o.putArray("rows"), k);
    }
    return root;
  }

  /** {@code widened_allowances}: the judged allowances wider than their tolerances, by name. */
  private static void widened(ObjectNode o, KernelReport r) {
    ObjectNode w = o.putObject("widened_allowances");
    r.widenedAllowancesOfCheckedOutputs().forEach((name, v) -> Json.put(w, name, v));
  }

  private static void putNullable(ObjectNode o, String key, String value) {
    if (value == null) {
      o.putNull(key);
    } else {
      o.put(key, value);
    }
  }

  /** The rows of {@code r} as JSON objects, one per measurement. */
  static void rows(ArrayNode rows, KernelReport r) {
    for (KernelMeasurement m : r.rows()) {
      ObjectNode o = rows.addObject();
      o.put("tensor", m.tensor());
      o.put("depth", m.depth());
      o.put("input_c", m.inputC());
      Json.put(o, "predicted_q", m.predictedQ());
      Json.put(o, "measured_q", m.measuredQ());
      Json.put(o, "predicted_c", m.predictedC());
      Json.put(o, "measured_c", m.measuredC());
      Json.put(o, "c_error", m.cError());
      Json.put(o, "q_allowed", m.qAllowed());
      Json.put(o, "c_allowed", m.cAllowed());
      Json.put(o, "predicted_log_q", m.predictedLogQ());
      Json.put(o, "measured_log_q", m.measuredLogQ());
      Json.put(o, "log_q_allowed", m.logQAllowed());
      // added in session 19: a row past an op the maps predict nothing after (judged_note) is
      // measured only: its predicted values, allowances and errors above are null
      o.put("past_judged", m.pastJudged());
      putNullable(o, "past_judged_note", m.pastJudgedNote());
    }
  }
}
