package dev.dks.cli;

import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.savedmodels.shaping.ShapingMetadata;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import dev.dks.savedmodels.shaping.ShapingRecorder;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatTargets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The shaping record ({@link ShapingMetadata}, {@code assets.extra/dks-shaping.json}) as the
 * commands make and read it: {@code build --shaped} and {@code rewrite} record how they shaped the
 * model; {@code convert}, {@code export} and {@code train} carry a source SavedModel's record to
 * what they write; {@code verify}, {@code inspect} and {@code train} read it.
 */
final class ModelShaping {
  /** The name of the shape-activations pass, whose run makes a rewrite a shaped model. */
  private static final String SHAPE_PASS = "shape-activations";

  private ModelShaping() {}

  /** The tool and version recorded, e.g. {@code "dks 0.1.0"}. */
  static String tool() {
    return "dks " + VersionProvider.version();
  }

  /** The record of a shaped build, or null for a raw one. */
  static ShapingMetadata ofBuild(BuiltModel b) {
    ArchitectureSpec s = b.spec();
    if (!s.shaped()) {
      return null;
    }
    Double w = s.effectiveShortcutWeight().isPresent()
        ? s.effectiveShortcutWeight().getAsDouble() : null;
    return ShapingRecorder.record(b.model(), "build", tool(), b.shaping().method(),
        s.dksTargets(), recordedTat(s.tatTargets(), b.shaping()), b.shaping(), w, null,
        ShapingRecorder.oneOpSites(b.model(), BUILT_ONE_OPS));
  }

  /**
   * Ops that are activations in every model {@code dks build} writes (it writes no geometry),
   * and that the structure analysis takes as activations only where declared: Sin, Cos.
   */
  private static final Map<String, String> BUILT_ONE_OPS = Map.of("Sin", "sin", "Cos", "cos");

  /**
   * The activation sites a shaping record declares, node name to kind (empty without a record),
   * for {@link dev.dks.rewriter.analysis.StructureAnalyzer#analyze(
   * dev.dks.rewriter.graph.GraphView, java.util.List, java.util.List, Map, Map)}.
   */
  static Map<String, String> declaredSites(Optional<ShapingMetadata> record) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    record.ifPresent(r -> r.sites().forEach(s -> m.put(s.node(), s.kind())));
    return m;
  }

  /**
   * The record of a rewrite, or null when its shape-activations pass was skipped (the model is
   * then not shaped).
   */
  static ShapingMetadata ofRewrite(Pipeline.Result r, RewriteOptions o) {
    Optional<ShapingSolution> s = r.fact(ShapingSolution.class);
    boolean ran = r.outcomes().stream().filter(p -> p.pass().equals(SHAPE_PASS))
        .anyMatch(p -> !p.notes().equals(PassOutcome.unchanged(SHAPE_PASS, "skipped on request")
            .notes()));
    if (s.isEmpty() && !ran) {
      return null;
    }
    return ShapingRecorder.record(r.model(), "rewrite", tool(), o.method(), o.dks(),
        recordedTat(o.tat(), s.orElse(null)), s.orElse(null), o.shortcutWeight(), o.inputNormalization() == null ? null
            : o.inputNormalization().referenceName());
  }

  /**
   * The TAT targets to record: under {@code --eta auto} the eta the solve used (the leaky ReLU's
   * network C(0), the largest the network reaches when 0.9 is out of reach), so that {@code dks
   * verify} re-solves the same shaping from the record.
   */
  static TatTargets recordedTat(TatTargets tat, ShapingSolution s) {
    if (!tat.etaAuto()) {
      return tat;
    }
    if (s != null) {
      for (var a : s.activations().values()) {
        if (a.params().negativeSlope().isPresent() && Double.isFinite(a.network().c0())
            && a.network().c0() < tat.eta() - 1e-6) { // lowered by the auto rule
          return new TatTargets(a.network().c0(), tat.tau());
        }
      }
    }
    return new TatTargets(tat.eta(), tat.tau());
  }

  /** The record of the model at {@code path}, when it is a SavedModel folder that has one. */
  static Optional<ShapingMetadata> read(Path path) {
    return ShapingMetadataFiles.read(path);
  }

  /**
   * The exporters' {@code assetsExtra} carrying the record of the SavedModel at {@code source}
   * over unchanged (byte for byte, so keys of a later schema survive); empty when it has none.
   */
  static Map<String, byte[]> carried(Path source) {
    return ShapingMetadataFiles.readBytes(source).map(ShapingMetadataFiles::assetsExtra)
        .orElse(Map.of());
  }
}
