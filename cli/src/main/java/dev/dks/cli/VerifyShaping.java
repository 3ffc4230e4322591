package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.savedmodels.shaping.ShapingMetadata;
import dev.dks.savedmodels.shaping.ShapingMetadataJson;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatTargets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How {@code verify} learns the shaping it predicts with: from the model's shaping record
 * ({@link ShapingMetadata}) where it has one, with every explicitly given flag ({@code --method},
 * {@code --activation}, {@code --zeta}, {@code --eta}, {@code --tau}) overriding the record's
 * value, and said so. A model with neither a record nor a shaping flag is taken as unshaped: an
 * error (exit 2) saying so, instead of a guess.
 *
 * @param method the method in force
 * @param dks the DKS targets in force
 * @param tat the TAT targets in force
 * @param activationByKind the shaped activation each activation kind of the graph is, by kind
 * @param source {@code model}, {@code flags} or {@code model+flags}
 * @param record the model's record, or null
 * @param overrides one line per flag that overrode a recorded value
 * @param notes other remarks (trained weights, ...)
 */
record VerifyShaping(
    Method method,
    DksTargets dks,
    TatTargets tat,
    Map<String, String> activationByKind,
    String source,
    ShapingMetadata record,
    List<String> overrides,
    List<String> notes) {

  /**
   * Resolves the shaping of the model at {@code path}, whose graph has activation {@code kinds}.
   *
   * @throws IllegalArgumentException (exit 2) for an unshaped model, an activation flag or record
   *     that contradicts the graph
   */
  static VerifyShaping resolve(ShapingFlags flags, Optional<ShapingMetadata> recorded, Path path,
      Set<String> kinds) {
    ShapingMetadata md = recorded.orElse(null);
    if (md == null && !flags.anyGiven()) {
      throw new IllegalArgumentException(path + " is not a shaped model, or does not say how it "
          + "was shaped: it has no shaping record (" + ShapingMetadataFiles.RELATIVE_PATH + ", "
          + "written by 'dks build --shaped' and 'dks rewrite') and no --method/--activation "
          + "flag was given (activations found: " + kinds + "). Shape it with 'dks rewrite', "
          + "or give the --method, --activation and targets it was shaped with");
    }
    List<String> overrides = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    Method method = flags.method;
    if (md != null && !flags.given("--method")) {
      method = md.method();
    } else if (md != null && flags.method != md.method()) {
      overrides.add("--method " + flags.method + " overrides " + md.method() + " (the record's "
          + "targets are not used)");
    }
    flags.validate(method);
    boolean sameMethod = md != null && md.method() == method;
    DksTargets dks = sameMethod && md.dksTargets().isPresent() ? md.dksTargets().get()
        : DksTargets.defaults();
    TatTargets tat = sameMethod && md.tatTargets().isPresent() ? md.tatTargets().get()
        : TatTargets.defaults();
    if (flags.zeta != null) {
      overrides.add(override("--zeta", flags.zeta, sameMethod ? md : null, ShapingMetadata.ZETA));
      dks = new DksTargets(flags.zeta, dks.localQSlope());
    }
    if (flags.etaAuto()) {
      overrides.add("--eta auto (0.9, or the largest C(0) the network reaches)");
      tat = TatTargets.autoEta(tat.tau());
    } else if (flags.eta != null) {
      overrides.add(override("--eta", flags.eta, sameMethod ? md : null, ShapingMetadata.ETA));
      tat = new TatTargets(flags.eta, tat.tau());
    }
    if (flags.tau != null) {
      overrides.add(override("--tau", flags.tau, sameMethod ? md : null, ShapingMetadata.TAU));
      tat = new TatTargets(tat.eta(), flags.tau, tat.etaAuto());
    }
    Map<String, String> byKind = new LinkedHashMap<>();
    for (String k : kinds) {
      if (flags.activation != null) {
        if (!k.equals(flags.activation)) {
          throw new IllegalArgumentException(path + ": the model's activations are " + kinds
              + ", not --activation " + flags.activation + " (verify checks an already shaped"
              + " model: give the activation it was shaped with, or leave --activation out)");
        }
        byKind.put(k, flags.activation);
        continue;
      }
      String a = md == null ? k : md.activationForKind(k).orElse(k);
      if (!a.equals(k)) {
        throw new IllegalArgumentException(path + ": its shaping record ("
            + ShapingMetadataFiles.RELATIVE_PATH + ") says the " + k + " sites are shaped "
            + a + ", but the graph computes " + k + ": the record does not describe this "
            + "graph; give --activation " + k + " (and the method and targets it was shaped "
            + "with) to check it anyway");
      }
      byKind.put(k, a);
    }
    if (md != null && flags.activation != null) {
      String rec = md.activations().stream().map(ShapingMetadata.ShapedEntry::activation)
          .toList().toString();
      if (!rec.equals(List.of(flags.activation).toString())) {
        overrides.add("--activation " + flags.activation + " overrides " + rec);
      }
    }
    if (md != null && md.trainedSteps() > 0) {
      notes.add("the weights were trained " + md.trainedSteps() + " step"
          + (md.trainedSteps() == 1 ? "" : "s") + " after shaping; the prediction is for "
          + "initialization, so larger errors are expected");
    }
    String source = md == null ? "flags" : overrides.isEmpty() ? "model" : "model+flags";
    return new VerifyShaping(method, dks, tat, byKind, source, md, List.copyOf(overrides),
        List.copyOf(notes));
  }

  private static String override(String flag, double value, ShapingMetadata md, String key) {
    Double rec = md == null ? null : md.targets().get(key);
    return flag + " " + num(value) + " overrides "
        + (rec == null ? "the default" : key + " " + num(rec)
            + " from the model");
  }

  /**
   * Where the recorded parameters differ from {@code solved} (the re-solve for the graph's
   * structure with the settings in force) by more than 1e-6 relative: one line per activation;
   * empty when they agree, without a record, or when a flag changed the method or a target.
   */
  List<String> compare(ShapingSolution solved) {
    List<String> out = new ArrayList<>();
    if (record == null || solved == null || record.method() != method || !overrides.isEmpty()) {
      return out;
    }
    for (ShapedActivation a : solved.activations().values()) {
      Optional<ShapingMetadata.ShapedEntry> rec = record.activation(a.base().id());
      if (rec.isEmpty()) {
        continue;
      }
      Map<String, Double> now = a.params().asMap();
      Map<String, Double> then = rec.get().params();
      List<String> diffs = new ArrayList<>();
      for (String k : union(now.keySet(), then.keySet())) {
        double x = then.getOrDefault(k, identity(k));
        double y = now.getOrDefault(k, identity(k));
        if (Math.abs(x - y) > 1e-6 * Math.max(1.0, Math.max(Math.abs(x), Math.abs(y)))) {
          diffs.add(k + " " + num(x) + " recorded, " + num(y) + " re-solved");
        }
      }
      if (!diffs.isEmpty()) {
        out.add("the recorded " + a.base().id() + " parameters differ from the re-solve for "
            + "this graph's structure (" + String.join("; ", diffs) + "); the prediction uses "
            + "the re-solve");
      }
    }
    return out;
  }

  private static List<String> union(Set<String> a, Set<String> b) {
    List<String> out = new ArrayList<>(a);
    b.stream().filter(k -> !a.contains(k)).forEach(out::add);
    return out;
  }

  /** The value of a parameter key where {@link ShapingParams#asMap()} omits it. */
  private static double identity(String key) {
    return key.equals(ShapingParams.INPUT_SCALE) || key.equals(ShapingParams.OUTPUT_SCALE)
        ? 1.0 : key.equals(ShapingParams.NEGATIVE_SLOPE) ? Double.NaN : 0.0;
  }

  /** The {@code shaping} object of {@code verify --json}. */
  ObjectNode json(List<String> recordNotes) {
    ObjectNode o = Json.object();
    o.put("source", source);
    if (record == null) {
      o.putNull("record");
    } else {
      o.set("record", ShapingMetadataJson.tree(record));
    }
    ObjectNode t = o.putObject("targets");
    ShapingMetadata.targetsOf(method, dks, tat).forEach(t::put);
    ObjectNode acts = o.putObject("activation_by_kind");
    activationByKind.forEach(acts::put);
    ArrayNode ov = o.putArray("overrides");
    overrides.forEach(ov::add);
    ArrayNode ns = o.putArray("notes");
    notes.forEach(ns::add);
    recordNotes.forEach(ns::add);
    return o;
  }

  /** The lines {@code verify} prints before its table (no trailing newline on each). */
  List<String> textLines() {
    List<String> out = new ArrayList<>();
    if (record != null) {
      out.add("shaping from the model: " + record.summary());
    } else {
      out.add(String.format(Locale.ROOT, "shaping from the flags: %s (the model has no shaping "
          + "record)", method));
    }
    overrides.forEach(out::add);
    notes.forEach(n -> out.add("note: " + n));
    return out;
  }

  /** A number for text: 6 significant digits without trailing zeros, e.g. 1.5. */
  private static String num(double v) {
    String s = Json.num(v);
    return s.contains(".") && !s.contains("e") ? s.replaceAll("0+$", "").replaceAll("\\.$", "")
        : s;
  }
}
