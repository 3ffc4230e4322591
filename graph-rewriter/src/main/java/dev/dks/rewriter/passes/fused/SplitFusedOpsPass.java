package dev.dks.rewriter.passes.fused;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.passes.fused.FusedOpMatch.Stage;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * "split-fused": replaces each fused contraction found by {@link FusedOpMatcher} by the standard
 * ops it stands for, e.g. {@code _FusedConv2D[BiasAdd, Relu]} by {@code Conv2D -> BiasAdd ->
 * Relu}, {@code _FusedConv2D[FusedBatchNorm, Relu6]} by {@code Conv2D -> FusedBatchNormV3
 * (is_training=false) -> Relu6}. The last op keeps the fused node's name (so its consumers need
 * no rewiring); the others get fresh names under it ({@code name/Conv2D}, {@code name/BiasAdd},
 * ...). Control inputs move to the contraction; the device is copied to every new node.
 */
public final class SplitFusedOpsPass implements RewritePass {
  /** The pass name. */
  public static final String NAME = "split-fused";

  /** Attributes each base op takes from the fused node (when present). */
  private static final Map<String, List<String>> BASE_ATTRS = Map.of(
      "Conv2D", List.of("T", "strides", "padding", "explicit_paddings", "data_format",
          "dilations", "use_cudnn_on_gpu"),
      "DepthwiseConv2dNative", List.of("T", "strides", "padding", "explicit_paddings",
          "data_format", "dilations"),
      "MatMul", List.of("T", "transpose_a", "transpose_b"));

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "split _FusedConv2D, _FusedMatMul and _FusedDepthwiseConv2dNative into standard ops";
  }

  @Override
  public PassOutcome run(RewriteContext context) {
    GraphView g = context.graph();
    FusedOpMatcher.Result found = FusedOpMatcher.scan(g);
    List<String> notes = new ArrayList<>(found.notes());
    int changes = 0;
    for (FusedOpMatch m : found.matches()) {
      List<String> created = split(g, m);
      changes++;
      notes.add("split " + m.op() + " '" + m.node() + "' into " + created);
    }
    if (changes == 0 && notes.isEmpty()) {
      notes.add("no fused contraction in the graph");
    }
    return new PassOutcome(NAME, changes, notes);
  }

  /** Applies one match; returns the new ops as {@code "name (Op)"}, in data-flow order. */
  static List<String> split(GraphView g, FusedOpMatch m) {
    NodeDef fused = OpRegistry.get().withDefaults(g.get(m.node()));
    String device = fused.getDevice();
    AttrValue t = AttrValue.newBuilder().setType(m.dtype()).build();
    String dataFormat = fused.containsAttr("data_format")
        ? fused.getAttrOrThrow("data_format").getS().toStringUtf8() : "NHWC";
    int total = 1 + m.stages().size();
    List<NodeDef> out = new ArrayList<>();
    List<String> reserved = new ArrayList<>();

    NodeDef.Builder base = NodeDef.newBuilder().setOp(m.baseOp())
        .setName(nameFor(g, m, 0, total, m.baseOp(), reserved)).setDevice(device)
        .addInput(m.input()).addInput(m.filter()).addAllInput(m.controlInputs());
    for (String a : BASE_ATTRS.get(m.baseOp())) {
      if (fused.containsAttr(a)) {
        base.putAttr(a, fused.getAttrOrThrow(a));
      }
    }
    out.add(base.build());
    String prev = out.get(0).getName();
    for (int i = 0; i < m.stages().size(); i++) {
      Stage s = m.stages().get(i);
      NodeDef.Builder b = NodeDef.newBuilder().setOp(s.op())
          .setName(nameFor(g, m, i + 1, total, s.op(), reserved)).setDevice(device)
          .addInput(prev).addAllInput(s.args()).putAttr("T", t);
      switch (s.kind()) {
        case BIAS_ADD -> b.putAttr("data_format", str(m.baseOp().equals("MatMul") ? "NHWC"
            : dataFormat));
        case ADD -> { }
        case BATCH_NORM -> b.putAttr("U", AttrValue.newBuilder().setType(DataType.DT_FLOAT)
                .build())
            .putAttr("epsilon", AttrValue.newBuilder().setF(s.value()).build())
            .putAttr("is_training", AttrValue.newBuilder().setB(false).build())
            .putAttr("exponential_avg_factor", AttrValue.newBuilder().setF(1f).build())
            .putAttr("data_format", str(dataFormat));
        case ACTIVATION -> {
          if (s.op().equals("LeakyRelu")) {
            b.putAttr("alpha", AttrValue.newBuilder().setF(s.value()).build());
          }
        }
        default -> throw new IllegalStateException("unknown stage " + s.kind());
      }
      out.add(b.build());
      prev = out.get(out.size() - 1).getName();
    }
    List<String> created = new ArrayList<>();
    for (NodeDef n : out) {
      if (n.getName().equals(m.node())) {
        g.put(n);
      } else {
        g.add(n);
      }
      created.add(n.getName() + " (" + n.getOp() + ")");
    }
    return created;
  }

  private static String nameFor(GraphView g, FusedOpMatch m, int index, int total, String op,
      List<String> reserved) {
    if (index == total - 1) {
      return m.node();
    }
    String base = m.node() + "/" + op;
    String name = base;
    for (int k = 1; g.contains(name) || reserved.contains(name); k++) {
      name = base + "_" + k;
    }
    reserved.add(name);
    return name;
  }

  private static AttrValue str(String s) {
    return AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8(s)).build();
  }
}
