package dev.dks.savedmodels.export;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * "pad-summand-v2": writes a float {@code Pad} whose output is added ({@code Add}/{@code AddV2})
 * as {@code PadV2(x, paddings, 0)}, the same function (Pad pads with zeros).
 *
 * <p>Why: with oneDNN on ({@code ./dks}'s environment), grappler fuses {@code Conv2D + BiasAdd +
 * AddV2(pad, ...)} into a {@code _FusedConv2D} whose summand is the Pad's output, and TensorFlow
 * 2.18's {@code MklLayoutRewritePass} then takes that Pad for the conv's input padding and merges
 * them, leaving a node whose inputs it cannot fill: the JVM dies with SIGSEGV ({@code
 * RewriteNodeForJustOpNameChange -> FillInputs}) when a session first runs the graph. The pass
 * matches only the op type {@code Pad}, so a {@code PadV2} is left alone (measured on the TF.js
 * blazepose-heavy, whose residual blocks add a channel-padded max pool to a 1x1 conv: BENCHMARKS.md,
 * "oneDNN"). Only Pads with an add among their readers are rewritten (such a Pad loses oneDNN's
 * Pad+Conv2D fusion where a convolution reads it too); a Pad read only by convolutions or other ops
 * keeps it. Match ({@link #matches}) is separate from the rewrite.
 */
public final class PadSummandPass implements RewritePass {
  /** The pass name. */
  public static final String NAME = "pad-summand-v2";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "write a float Pad feeding an Add/AddV2 as PadV2(x, paddings, 0) (avoids a oneDNN "
        + "graph-rewrite crash)";
  }

  /** Whether {@code n} is a float {@code Pad} whose output feeds an {@code Add} or {@code AddV2}. */
  public static boolean matches(GraphView g, NodeDef n) {
    if (!n.getOp().equals("Pad") || n.getInputCount() < 2
        || n.getAttrOrDefault("T", AttrValue.getDefaultInstance()).getType()
            != DataType.DT_FLOAT) {
      return false;
    }
    for (String c : g.consumers(n.getName())) {
      String op = g.get(c).getOp();
      if (op.equals("AddV2") || op.equals("Add")) {
        return true;
      }
    }
    return false;
  }

  @Override
  public PassOutcome run(RewriteContext context) {
    GraphView g = context.graph();
    List<NodeDef> hits = new ArrayList<>();
    for (NodeDef n : g.nodes()) {
      if (matches(g, n)) {
        hits.add(n);
      }
    }
    if (hits.isEmpty()) {
      return PassOutcome.unchanged(NAME, "no float Pad feeds an add");
    }
    List<String> notes = new ArrayList<>();
    for (NodeDef n : hits) {
      String zero = g.uniqueName(n.getName() + "/constant_values");
      g.add(NodeDef.newBuilder().setName(zero).setOp("Const").setDevice(n.getDevice())
          .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build())
          .putAttr("value", AttrValue.newBuilder().setTensor(TensorProto.newBuilder()
              .setDtype(DataType.DT_FLOAT).setTensorShape(TensorShapeProto.getDefaultInstance())
              .addFloatVal(0f)).build())
          .build());
      List<String> data = new ArrayList<>();
      List<String> control = new ArrayList<>();
      for (String in : n.getInputList()) {
        (in.startsWith("^") ? control : data).add(in);
      }
      g.put(n.toBuilder().setOp("PadV2").clearInput().addAllInput(data).addInput(zero)
          .addAllInput(control).build());
      notes.add("wrote Pad '" + n.getName() + "' as PadV2(x, paddings, 0)");
    }
    return new PassOutcome(NAME, hits.size(), notes);
  }
}
