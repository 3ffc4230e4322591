package dev.dks.savedmodels.tfjs;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.passes.fused.FusedOpMatcher;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * "tfjs-prelu": replaces the TF.js-only {@code Prelu} op (inputs {@code x}, {@code alpha}; {@code
 * x} where {@code x >= 0}, {@code alpha * x} elsewhere) by standard ops: {@code Relu(x) - alpha *
 * Relu(-x)}. The final {@code Sub} keeps the Prelu node's name, so consumers need no rewiring; the
 * other nodes are named {@code name/pos}, {@code name/neg}, {@code name/neg_relu}, {@code
 * name/scaled}.
 *
 * <p>A fused contraction whose {@code fused_ops} end in {@code Prelu} (the TF.js converter writes
 * {@code _FusedConv2D}, {@code FusedDepthwiseConv2dNative} and {@code _FusedMatMul} with {@code
 * [BiasAdd, Prelu]}, the alpha as last argument) first loses that stage: the node is renamed
 * {@code name/fused} with one argument less and a {@code Prelu} named {@code name} is put after
 * it, which is then expanded as above. Run it before {@code split-fused}.
 */
public final class SplitPreluPass implements RewritePass {
  /** The pass name. */
  public static final String NAME = "tfjs-prelu";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "replace TF.js Prelu (standalone or as the last fused op) by Relu/Neg/Mul/Sub";
  }

  @Override
  public PassOutcome run(RewriteContext context) {
    GraphView g = context.graph();
    List<String> notes = new ArrayList<>();
    int changes = 0;
    for (NodeDef n : g.nodes()) {
      if (FusedOpMatcher.isFusedContraction(n.getOp()) && endsInPrelu(n)) {
        String why = peel(g, n);
        if (why != null) {
          notes.add("left fused node '" + n.getName() + "' (" + n.getOp() + ") alone: " + why);
        } else {
          notes.add("moved Prelu out of " + n.getOp() + " '" + n.getName() + "'");
        }
      }
    }
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("Prelu")) {
        String why = expand(g, n);
        if (why != null) {
          notes.add("left Prelu '" + n.getName() + "' alone: " + why);
        } else {
          changes++;
          notes.add("replaced Prelu '" + n.getName() + "' by Relu(x) - alpha * Relu(-x)");
        }
      }
    }
    if (notes.isEmpty()) {
      notes.add("no Prelu in the graph");
    }
    return new PassOutcome(NAME, changes, notes);
  }

  private static boolean endsInPrelu(NodeDef n) {
    AttrValue f = n.getAttrOrDefault("fused_ops", null);
    if (f == null || f.getList().getSCount() == 0) {
      return false;
    }
    List<ByteString> ops = f.getList().getSList();
    return ops.get(ops.size() - 1).toStringUtf8().equals("Prelu");
  }

  /** Splits the Prelu stage off a fused node; returns why not, or null when done. */
  private static String peel(GraphView g, NodeDef n) {
    List<ByteString> ops = n.getAttrOrThrow("fused_ops").getList().getSList();
    if (ops.size() < 2) {
      return "Prelu is its only fused op";
    }
    List<String> data = new ArrayList<>();
    List<String> control = new ArrayList<>();
    for (String in : n.getInputList()) {
      (in.startsWith("^") ? control : data).add(in);
    }
    long numArgs = n.containsAttr("num_args") ? n.getAttrOrThrow("num_args").getI() : -1;
    if (numArgs < 1 || data.size() != 2 + numArgs) {
      return "num_args=" + numArgs + " but it has " + data.size() + " data inputs";
    }
    String fusedName = unique(g, n.getName() + "/fused");
    String alpha = data.get(data.size() - 1);
    NodeDef.Builder fb = n.toBuilder().setName(fusedName).clearInput()
        .addAllInput(data.subList(0, data.size() - 1)).addAllInput(control)
        .putAttr("num_args", AttrValue.newBuilder().setI(numArgs - 1).build())
        .putAttr("fused_ops", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
            .addAllS(ops.subList(0, ops.size() - 1))).build());
    if (n.containsAttr("TArgs")) {
      List<DataType> types = n.getAttrOrThrow("TArgs").getList().getTypeList();
      if (types.size() == numArgs) {
        fb.putAttr("TArgs", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
            .addAllType(types.subList(0, types.size() - 1))).build());
      }
    }
    NodeDef prelu = NodeDef.newBuilder().setName(n.getName()).setOp("Prelu")
        .setDevice(n.getDevice()).addInput(fusedName).addInput(alpha)
        .putAttr("T", n.getAttrOrDefault("T", type(DataType.DT_FLOAT))).build();
    g.add(fb.build());
    g.put(prelu);
    return null;
  }

  /** Expands a standalone Prelu; returns why not, or null when done. */
  private static String expand(GraphView g, NodeDef n) {
    List<String> data = new ArrayList<>();
    List<String> control = new ArrayList<>();
    for (String in : n.getInputList()) {
      (in.startsWith("^") ? control : data).add(in);
    }
    if (data.size() != 2) {
      return "it has " + data.size() + " data inputs, expected x and alpha";
    }
    AttrValue t = n.getAttrOrDefault("T", type(DataType.DT_FLOAT));
    String name = n.getName();
    String dev = n.getDevice();
    String pos = unique(g, name + "/pos");
    String neg = unique(g, name + "/neg");
    String negRelu = unique(g, name + "/neg_relu");
    String scaled = unique(g, name + "/scaled");
    g.add(node("Relu", pos, dev, t).addInput(data.get(0)).addAllInput(control).build());
    g.add(node("Neg", neg, dev, t).addInput(data.get(0)).addAllInput(control).build());
    g.add(node("Relu", negRelu, dev, t).addInput(neg).build());
    g.add(node("Mul", scaled, dev, t).addInput(data.get(1)).addInput(negRelu).build());
    g.put(node("Sub", name, dev, t).addInput(pos).addInput(scaled).build());
    return null;
  }

  private static NodeDef.Builder node(String op, String name, String device, AttrValue t) {
    return NodeDef.newBuilder().setOp(op).setName(name).setDevice(device).putAttr("T", t);
  }

  private static AttrValue type(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }

  private static String unique(GraphView g, String base) {
    String name = base;
    for (int k = 1; g.contains(name); k++) {
      name = base + "_" + k;
    }
    return name;
  }
}
