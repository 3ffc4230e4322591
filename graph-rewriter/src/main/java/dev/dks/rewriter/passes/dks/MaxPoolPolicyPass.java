package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * "max-pool": max-pooling is outside the kernel theory of DKS/TAT; this pass replaces every {@code
 * MaxPool} by an {@code AvgPool} with the same window, strides, padding and data format (which is
 * linear, hence invisible to the kernel maps), unless asked to keep them. {@code MaxPoolV2}
 * (window as tensors) and max-pools with explicit padding (AvgPool has none) are left alone with
 * a note.
 *
 * <p><b>Padding written out for the max.</b> Converters from ONNX pad a max-pool's input with
 * {@code PadV2} of {@code -inf} (or the lowest float) and pool VALID: the max never picks the
 * padding. An average would ({@code -inf} makes every border window {@code -inf}, and the NaNs
 * follow: nanodet). When the pooled tensor is such a PadV2 (seen through Identity, Transpose,
 * Reshape, ExpandDims, Squeeze, each read only by the next), its pad value becomes 0: the average
 * pool then zero-pads like a convolution does. A PadV2 that other nodes read as well keeps its
 * value, and so does the max-pool (note).
 */
public final class MaxPoolPolicyPass implements RewritePass {
  /** Below this a pad value is taken for the max's "never picked" padding. */
  private static final double LOWEST = -1e30;

  /** Ops that move values without computing, between a PadV2 and its max-pool. */
  private static final Set<String> MOVES = Set.of("Identity", "Transpose", "Reshape",
      "ExpandDims", "Squeeze");

  private final boolean keep;

  /** {@code keep = true} leaves max-pools as they are (the reference example keeps its stem's). */
  public MaxPoolPolicyPass(boolean keep) {
    this.keep = keep;
  }

  @Override
  public String name() {
    return "max-pool";
  }

  @Override
  public String description() {
    return keep ? "keep max-pooling" : "replace max-pooling by average pooling";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    GraphView g = ctx.graph();
    List<String> notes = new ArrayList<>();
    int changed = 0;
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("MaxPool")) {
        if (keep) {
          notes.add("kept max-pool '" + n.getName() + "' (outside the kernel theory)");
          continue;
        }
        if (n.containsAttr("padding")
            && n.getAttrOrThrow("padding").getS().toStringUtf8().equals("EXPLICIT")) {
          notes.add("left max-pool '" + n.getName() + "' alone: its padding is EXPLICIT, which "
              + "AvgPool does not take");
          continue;
        }
        Optional<MaxPadding> pad = maxPadding(g, n);
        if (pad.isPresent() && pad.get().shared()) {
          notes.add("kept max-pool '" + n.getName() + "': '" + pad.get().pad().getName()
              + "' pads its input with " + pad.get().value() + " for the max, and other nodes "
              + "read that padded tensor too");
          continue;
        }
        if (pad.isPresent()) {
          NodeDef padNode = pad.get().pad();
          DataType t = padNode.getAttrOrThrow("T").getType();
          String zero = g.uniqueName(padNode.getName() + "/dks_zero_pad");
          g.add(NodeDef.newBuilder().setOp("Const").setName(zero)
              .putAttr("dtype", AttrValue.newBuilder().setType(t).build())
              .putAttr("value", AttrValue.newBuilder().setTensor(zeroScalar(t)).build())
              .build());
          g.put(padNode.toBuilder().setInput(2, zero).build());
          notes.add("max-pool '" + n.getName() + "': the pad value of '" + padNode.getName()
              + "' (" + pad.get().value() + ", written for the max) "
              + "set to 0 for the average");
        }
        NodeDef.Builder b = n.toBuilder().setOp("AvgPool");
        b.removeAttr("explicit_paddings");
        g.put(b.build());
        changed++;
      } else if (n.getOp().equals("MaxPoolV2")) {
        notes.add("left MaxPoolV2 '" + n.getName() + "' alone (window given as tensors)");
      }
    }
    notes.add(changed + " max-pools replaced by average pools");
    return new PassOutcome(name(), changed, notes);
  }

  /**
   * A PadV2 whose pad value only a max ignores.
   *
   * @param pad the PadV2
   * @param value its pad value
   * @param shared true when a node other than the pool reads the padded tensor (or a tensor
   *     between it and the pool)
   */
  record MaxPadding(NodeDef pad, double value, boolean shared) {}

  /**
   * The PadV2 that pads the pool's input with a value only a max ignores (non-finite or below
   * {@link #LOWEST}), if any.
   */
  static Optional<MaxPadding> maxPadding(GraphView g, NodeDef pool) {
    TensorName t = TensorName.parse(pool.getInput(0));
    String reader = pool.getName();
    boolean shared = false;
    for (int hops = 0; hops < 6; hops++) {
      Optional<NodeDef> p = g.find(t.node());
      if (p.isEmpty() || t.index() != 0) {
        return Optional.empty();
      }
      shared |= !g.consumers(p.get().getName()).equals(List.of(reader));
      if (p.get().getOp().equals("PadV2") && p.get().getInputCount() >= 3) {
        Optional<Double> v = padValue(g, p.get());
        if (v.isEmpty() || (Double.isFinite(v.get()) && v.get() > LOWEST)) {
          return Optional.empty();
        }
        return Optional.of(new MaxPadding(p.get(), v.get(), shared));
      }
      if (!MOVES.contains(p.get().getOp())) {
        return Optional.empty();
      }
      reader = p.get().getName();
      t = TensorName.parse(p.get().getInput(0));
    }
    return Optional.empty();
  }

  /** The PadV2's constant value when it is a scalar float/double Const. */
  private static Optional<Double> padValue(GraphView g, NodeDef pad) {
    Optional<NodeDef> c = g.find(TensorName.parse(pad.getInput(2)).node());
    if (c.isEmpty() || !c.get().getOp().equals("Const") || !c.get().containsAttr("value")) {
      return Optional.empty();
    }
    TensorProto v = c.get().getAttrOrThrow("value").getTensor();
    if (v.getFloatValCount() == 1) {
      return Optional.of((double) v.getFloatVal(0));
    }
    if (v.getDoubleValCount() == 1) {
      return Optional.of(v.getDoubleVal(0));
    }
    ByteBuffer b = v.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    if (v.getDtype() == DataType.DT_FLOAT && b.remaining() == 4) {
      return Optional.of((double) b.getFloat());
    }
    if (v.getDtype() == DataType.DT_DOUBLE && b.remaining() == 8) {
      return Optional.of(b.getDouble());
    }
    return Optional.empty();
  }

  private static TensorProto zeroScalar(DataType t) {
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(t)
        .setTensorShape(TensorShapeProto.getDefaultInstance());
    if (t == DataType.DT_DOUBLE) {
      b.addDoubleVal(0);
    } else if (t == DataType.DT_FLOAT) {
      b.addFloatVal(0);
    } else {
      b.setTensorContent(com.google.protobuf.ByteString.copyFrom(new byte[
          t == DataType.DT_HALF || t == DataType.DT_BFLOAT16 ? 2 : 4]));
    }
    return b.build();
  }
}
