package dev.dks.savedmodels.shaping;

import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.TatTargets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How a model's activations were shaped, as recorded in {@code assets.extra/dks-shaping.json}
 * of the SavedModel folder (see {@link ShapingMetadataFiles}). Written by {@code dks build
 * --shaped} and {@code dks rewrite}, carried over by {@code convert}, {@code export} and {@code
 * train} (which adds its step count), read by {@code verify}, {@code inspect} and {@code train}.
 *
 * <p>The file is one UTF-8 JSON object, format {@value #FORMAT} version {@value #VERSION}:
 *
 * <pre>{@code
 * {
 *   "format": "dks-shaping",            // always this string
 *   "version": 1,                       // schema version; readers refuse a higher one
 *   "tool": "dks 0.1.0",                // the tool and version that shaped the model
 *   "shaped_by": "rewrite",             // the command that shaped it: build or rewrite
 *   "method": "DKS",                    // DKS, TAT or UNTRANSFORMED
 *   "targets": {"zeta": 1.5, "local_q_slope": 1.0},  // DKS; TAT: {"eta": 0.9, "tau": 0.3}
 *   "local_target": 1.0081,             // per-layer target of the solve (xi, tau_loc or slope)
 *                                       // with every layer's input taken as Gaussian
 *   "shortcut_weight": 0.0,             // w of the normalized skips (0: none); null: no skips
 *   "pln": "one",                       // per-location input normalization mode, null: none
 *   "structure": {"depth": 20, "sites": 20},   // nonlinear layers in series; activation sites
 *   "activations": [                    // one per shaped activation, solved parameters
 *     {"activation": "softplus",
 *      "params": {"input_scale": 1.2, "input_shift": 0.1, "output_shift": -0.7,
 *                 "output_scale": 1.6},  // leaky_relu: also "negative_slope"
 *      "network": {"c_slope_1": 1.5, "c_curvature_1": 0.4, "c0": 0.0},
 *      "chain_matched_local_target": null}  // its own xi / tau_loc under depthwise chains
 *   ],
 *   "sites": [                          // every activation site of the graph, in graph order
 *     {"node": "dense_1/Softplus", "kind": "softplus", "activation": "softplus"}
 *   ],
 *   "trained_steps": 0                  // optimizer steps since shaping (dks train adds them)
 * }
 * }</pre>
 *
 * <p>Parameter keys are those of {@link dev.dks.solver.activation.ShapingParams#asMap()} (an
 * identity operation is omitted). Numbers that are not finite are written as {@code null}.
 * Readers ignore unknown keys: adding a key does not change the version; renaming or removing
 * one does.
 *
 * @param version the schema version ({@value #VERSION} for everything this code writes)
 * @param tool the tool and version that shaped the model, e.g. {@code "dks 0.1.0"}
 * @param shapedBy the command that shaped it ({@code build}, {@code rewrite}, ...)
 * @param method the shaping method
 * @param targets the method's targets by key ({@link #ZETA}, {@link #LOCAL_Q_SLOPE}, {@link
 *     #ETA}, {@link #TAU})
 * @param localTarget the per-layer target of the solve, NaN when there is none
 * @param shortcutWeight the shortcut weight of normalized skips, null where the network has no
 *     skips to weigh
 * @param pln the per-location input normalization mode ({@code one}, {@code avg_q}, {@code
 *     off}), null for none
 * @param structureDepth nonlinear layers in series along the analysed structure
 * @param activations the shaped activations, in solve order
 * @param sites the activation sites of the graph
 * @param trainedSteps optimizer steps the weights took since they were initialized
 */
public record ShapingMetadata(
    int version,
    String tool,
    String shapedBy,
    Method method,
    Map<String, Double> targets,
    double localTarget,
    Double shortcutWeight,
    String pln,
    int structureDepth,
    List<ShapedEntry> activations,
    List<Site> sites,
    long trainedSteps) {

  /** The value of the {@code format} key. */
  public static final String FORMAT = "dks-shaping";
  /** The schema version written. */
  public static final int VERSION = 1;
  /** Target key: DKS zeta (network C'(1)). */
  public static final String ZETA = "zeta";
  /** Target key: DKS local Q'(1). */
  public static final String LOCAL_Q_SLOPE = "local_q_slope";
  /** Target key: TAT eta (network C(0) for leaky ReLU). */
  public static final String ETA = "eta";
  /** Target key: TAT tau (network C''(1) for smooth activations). */
  public static final String TAU = "tau";

  /**
   * One shaped activation.
   *
   * @param activation the dks-solver id, e.g. {@code softplus}, {@code leaky_relu}
   * @param params the solved parameters by {@link dev.dks.solver.activation.ShapingParams} key
   * @param cSlope1 the network's maximal C'(1) with it
   * @param cCurvature1 the network's maximal C''(1) (infinite for leaky ReLU)
   * @param c0 the network's maximal C(0), NaN where not computed
   * @param chainMatchedTarget the per-layer target this activation was solved for when the solve
   *     matched it under the network's depthwise chains (DKS xi, TAT tau_loc of this activation);
   *     NaN when it was solved for the record's {@link ShapingMetadata#localTarget()}
   */
  public record ShapedEntry(String activation, Map<String, Double> params, double cSlope1,
      double cCurvature1, double c0, double chainMatchedTarget) {
    /** Copies the parameters (order kept). */
    public ShapedEntry {
      params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }

    /** An entry solved for the record's local target (no chain-matched one). */
    public ShapedEntry(String activation, Map<String, Double> params, double cSlope1,
        double cCurvature1, double c0) {
      this(activation, params, cSlope1, cCurvature1, c0, Double.NaN);
    }
  }

  /**
   * One activation site of the graph.
   *
   * @param node the node computing the activation (its kind's op)
   * @param kind what the structure analysis sees there ({@code softplus}, {@code leaky_relu}, ...)
   * @param activation the id of the {@link ShapedEntry} it uses
   */
  public record Site(String node, String kind, String activation) {}

  /** Copies the collections. */
  public ShapingMetadata {
    targets = Collections.unmodifiableMap(new LinkedHashMap<>(targets));
    activations = List.copyOf(activations);
    sites = List.copyOf(sites);
  }

  /** The targets of {@code method}: DKS {@link #ZETA} and {@link #LOCAL_Q_SLOPE}. */
  public static Map<String, Double> targetsOf(Method method, DksTargets dks, TatTargets tat) {
    Map<String, Double> m = new LinkedHashMap<>();
    if (method == Method.DKS) {
      m.put(ZETA, dks.zeta());
      m.put(LOCAL_Q_SLOPE, dks.localQSlope());
    } else if (method == Method.TAT) {
      m.put(ETA, tat.eta());
      m.put(TAU, tat.tau());
    }
    return m;
  }

  /** The recorded DKS targets (defaults for what is not recorded), when the method is DKS. */
  public Optional<DksTargets> dksTargets() {
    if (method != Method.DKS) {
      return Optional.empty();
    }
    return Optional.of(new DksTargets(targets.getOrDefault(ZETA, DksTargets.DEFAULT_ZETA),
        targets.getOrDefault(LOCAL_Q_SLOPE, DksTargets.DEFAULT_LOCAL_Q_SLOPE)));
  }

  /** The recorded TAT targets (defaults for what is not recorded), when the method is TAT. */
  public Optional<TatTargets> tatTargets() {
    if (method != Method.TAT) {
      return Optional.empty();
    }
    return Optional.of(new TatTargets(targets.getOrDefault(ETA, TatTargets.DEFAULT_ETA),
        targets.getOrDefault(TAU, TatTargets.DEFAULT_TAU)));
  }

  /** The shaped activation with this id. */
  public Optional<ShapedEntry> activation(String id) {
    return activations.stream().filter(a -> a.activation().equals(id)).findFirst();
  }

  /**
   * The shaped activation the sites of {@code kind} use: the sites' recorded activation, else an
   * activation of that id.
   */
  public Optional<String> activationForKind(String kind) {
    Optional<String> bySite = sites.stream().filter(s -> s.kind().equals(kind))
        .map(Site::activation).findFirst();
    return bySite.isPresent() ? bySite : activation(kind).map(ShapedEntry::activation);
  }

  /** A copy with {@code steps} more trained steps. */
  public ShapingMetadata withTrainedSteps(long steps) {
    return new ShapingMetadata(version, tool, shapedBy, method, targets, localTarget,
        shortcutWeight, pln, structureDepth, activations, sites, steps);
  }

  /**
   * One line for people, e.g. {@code DKS softplus (zeta 1.5), shortcut weight 0, PLN one,
   * structure depth 20, shaped by rewrite (dks 0.1.0)}.
   */
  public String summary() {
    List<String> parts = new ArrayList<>();
    StringBuilder head = new StringBuilder(method.name());
    for (ShapedEntry a : activations) {
      head.append(head.length() == method.name().length() ? " " : ", ").append(a.activation());
    }
    if (activations.isEmpty()) {
      head.append(" (no activation: linear)");
    }
    if (!targets.isEmpty()) {
      List<String> t = new ArrayList<>();
      targets.forEach((k, v) -> {
        if (!k.equals(LOCAL_Q_SLOPE) || v != DksTargets.DEFAULT_LOCAL_Q_SLOPE) {
          t.add(k + " " + num(v));
        }
      });
      head.append(" (").append(String.join(", ", t)).append(')');
    }
    parts.add(head.toString());
    if (shortcutWeight != null) {
      parts.add("shortcut weight " + num(shortcutWeight));
    }
    parts.add("PLN " + (pln == null ? "none" : pln));
    parts.add("structure depth " + structureDepth);
    parts.add("shaped by " + shapedBy + " (" + tool + ")");
    if (trainedSteps > 0) {
      parts.add("trained " + trainedSteps + " step" + (trainedSteps == 1 ? "" : "s"));
    }
    return String.join(", ", parts);
  }

  /** A number for text: up to 6 significant digits, no trailing zeros. */
  static String num(double v) {
    if (!Double.isFinite(v)) {
      return Double.toString(v);
    }
    String s = String.format(Locale.ROOT, "%.6g", v);
    if (s.contains("e") || s.contains("E")) {
      return s;
    }
    return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
  }
}
