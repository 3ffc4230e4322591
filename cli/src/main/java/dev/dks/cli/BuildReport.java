package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.BuiltModel;
import dev.dks.rewriter.builder.LayerInfo;
import dev.dks.rewriter.builder.Pooling;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.solve.ShapedActivation;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The output of {@code dks build}: a short summary or one JSON object with the spec, the layer
 * counts and list, the parameter counts, the activation parameters (shaped builds: the solve's
 * per-layer target and parameters as {@link ShapingParams#asMap()}) and the folder written.
 */
final class BuildReport {

  private final BuiltModel built;
  private final Path written;

  BuildReport(BuiltModel built, Path written) {
    this.built = built;
    this.written = written;
  }

  /** The summary, ending with a newline. */
  String text() {
    ArchitectureSpec s = built.spec();
    StringBuilder sb = new StringBuilder();
    sb.append("built ").append(s.describe()).append('\n');
    StringBuilder counts = new StringBuilder();
    layerCounts().forEach((k, n) -> counts.append(counts.length() == 0 ? "" : ", ")
        .append(n).append(' ').append(k));
    sb.append("layers: ").append(built.layers().size()).append(" (").append(counts)
        .append(")\n");
    sb.append(String.format(Locale.ROOT, "parameters: %,d (trainable %,d)%n",
        built.parameterCount(), built.trainableParameterCount()));
    if (s.shaped()) {
      ShapedActivation a = built.shaping().get(s.activationFunction().id());
      sb.append("activation: ").append(s.activationFunction().id()).append(" shaped by ")
          .append(built.shaping().method()).append(String.format(Locale.ROOT,
              " (per-layer target %.6g):", built.shaping().localTarget()));
      a.params().asMap().forEach((k, v) -> sb.append(' ').append(k).append('=')
          .append(String.format(Locale.ROOT, "%.6g", v)));
      sb.append('\n');
      a.warnings().forEach(w -> sb.append("warning: ").append(w).append('\n'));
    } else {
      sb.append("activation: ").append(s.activationFunction().id()).append(" (raw)\n");
    }
    sb.append("written to ").append(written).append(" (SavedModel, tag serve, signature "
        + "serving_default: input [-1,").append(s.input().height()).append(',')
        .append(s.input().width()).append(',').append(s.input().channels())
        .append("] -> logits [-1,").append(s.classes()).append("])\n");
    ShapingMetadataFiles.find(written).ifPresent(f -> sb.append("shaping recorded in ")
        .append(f).append('\n'));
    return sb.toString();
  }

  /** The JSON object, pretty-printed, ending with a newline. */
  String json() {
    return Json.write(jsonTree());
  }

  ObjectNode jsonTree() {
    ArchitectureSpec s = built.spec();
    ObjectNode root = Json.object();
    root.put("arch", s.arch().cliName());
    root.put("depth", s.depth());
    root.put("width", s.width());
    root.put("batch_norm", s.batchNorm());
    root.put("activation", s.activationFunction().id());
    ArrayNode in = root.putArray("input");
    in.add(s.input().height()).add(s.input().width()).add(s.input().channels());
    root.put("classes", s.classes());
    if (s.arch() == Architecture.RESNET) {
      root.put("version", s.resnetV2() ? "v2" : "v1");
      root.put("stem", s.smallInputStem() ? "small" : "imagenet");
      if (s.effectiveShortcutWeight().isPresent()) {
        root.put("shortcut_weight", s.effectiveShortcutWeight().getAsDouble());
      } else {
        root.putNull("shortcut_weight");
      }
    }
    if (s.pooling().kind() != Pooling.Kind.NONE) {
      ObjectNode p = root.putObject("pooling");
      p.put("kind", s.pooling().kind().cliName());
      p.put("every", s.pooling().every());
    }
    root.put("seed", s.seed());
    root.put("shaped", s.shaped());
    if (s.shaped()) {
      root.put("method", built.shaping().method().name());
      root.put("local_target", built.shaping().localTarget());
      ObjectNode params = root.putObject("params");
      built.activationParams().asMap().forEach(params::put);
      ArrayNode warnings = root.putArray("warnings");
      built.shaping().get(s.activationFunction().id()).warnings().forEach(warnings::add);
    }
    root.put("structure_depth", built.structure().depth());
    root.put("parameters", built.parameterCount());
    root.put("trainable_parameters", built.trainableParameterCount());
    ObjectNode counts = root.putObject("layer_counts");
    layerCounts().forEach(counts::put);
    ArrayNode layers = root.putArray("layers");
    for (LayerInfo l : built.layers()) {
      ObjectNode o = layers.addObject();
      o.put("name", l.name());
      o.put("kind", l.kind().label());
      ArrayNode vars = o.putArray("variables");
      l.variables().forEach(vars::add);
      o.put("output", l.output().toString());
    }
    root.put("out", written.toString());
    root.put("shaping_record", ShapingMetadataFiles.find(written).map(Path::toString)
        .orElse(null));
    ObjectNode sig = root.putObject("signature");
    sig.put("key", "serving_default");
    sig.put("method_name", "tensorflow/serving/predict");
    sig.put("input", "input");
    sig.put("output", "logits");
    return root;
  }

  private Map<String, Integer> layerCounts() {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (LayerInfo.Kind k : LayerInfo.Kind.values()) {
      int n = built.layers(k).size();
      if (n > 0) {
        m.put(k.label(), n);
      }
    }
    return m;
  }
}
