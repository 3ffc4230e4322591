package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.InputLayout;
import dev.dks.rewriter.analysis.InputPreprocessing;
import dev.dks.rewriter.graph.ConstReads;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorSpec;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Where the kernel check starts: the first float32 tensor of the model's first input. A float32
 * input is its own entry. An integer image input (uint8, int32, ...) whose every data use is one
 * {@code Cast} to float32 (faceboxes: uint8; movenet: int32) enters at the Cast's output: q and
 * c are defined for real vectors, the pairs of chosen c are real-valued, and the Cast of an
 * integer image is where the network's real computation starts; the report says so ({@link
 * #note()}). Any other non-integer input whose features the graph computes (a DT_STRING of
 * WAV bytes decoded into MFCCs: ARM's keyword-spotting DS-CNN) enters at the float32 tensor the
 * network's first layer reads, fed directly ({@link ComputedFeatureEntry}, {@link
 * #computedFeature()}); one from which no layer reads a float32 tensor, and an integer input
 * not read by a single Cast, are refused with the reason. When the rewrite put the
 * per-location normalization after the model's own constant preprocessing ({@link
 * InputPreprocessing}), the entry is the preprocessing's end.
 *
 * <p>An image input whose spatial size is not fixed ({@code [-1, -1, -1, 3]}: faceboxes) is fed
 * at {@value #DEFAULT_SPATIAL} per unknown spatial dimension, and the note says so: the check's
 * inputs hold one vector at every location and Delta-initialized layers act per location, so
 * the kernel does not depend on the spatial size (the check runs at fewer locations whenever it
 * can anyway, {@link PairSums}).
 *
 * <p>A channels-first entry (an ONNX model's NCHW input) has its shape given channels-last
 * ({@link InputLayout}); {@link PairFeed} transposes the built pairs back.
 *
 * @param node the node whose output 0 receives the pairs
 * @param shape its static shape (the input's, batch first; channels-last, see above)
 * @param input the signature input
 * @param note why the entry is not the input itself, or null when it is
 * @param computedFeature whether the entry is a tensor the graph computes from a non-float input
 *     by more than a Cast (the decoding ops before it do not run in the check)
 */
public record KernelEntry(String node, long[] shape, TensorSpec input, String note,
    boolean computedFeature) {
  /** An entry that is the input, its Cast or the end of its preprocessing. */
  public KernelEntry(String node, long[] shape, TensorSpec input, String note) {
    this(node, shape, input, note, false);
  }

  /** The size fed per unknown spatial dimension of an image input. */
  public static final int DEFAULT_SPATIAL = 64;

  /** The entry of {@code model}'s first signature's first input. */
  public static KernelEntry of(Model model) {
    if (model.signatures().isEmpty() || model.signatures().get(0).inputs().isEmpty()) {
      throw new IllegalArgumentException("the model's first signature has no input to feed");
    }
    var e = model.signatures().get(0).inputs().entrySet().iterator().next();
    TensorSpec in = e.getValue();
    String name = in.tensor().node();
    long[] shape = in.shape() == null ? null : in.shape().clone();
    String sized = null;
    if (shape != null && shape.length >= 3 && shape[shape.length - 1] > 0) {
      for (int i = 1; i < shape.length - 1; i++) {
        if (shape[i] < 1) {
          shape[i] = DEFAULT_SPATIAL;
          sized = "input '" + e.getKey() + "' has no fixed spatial size: the check feeds "
              + DEFAULT_SPATIAL + " per unknown dimension (the kernel at initialization does "
              + "not depend on it)";
        }
      }
    }
    GraphView g = GraphView.of(model.graph());
    if (in.dtype() == DataType.DT_FLOAT) {
      return channelsLast(g, afterPreprocessing(g, model, new KernelEntry(name, shape, in,
          sized)));
    }
    List<String> users = g.consumers(name).stream()
        .filter(u -> g.get(u).getInputList().stream().anyMatch(i -> !i.startsWith("^")
            && TensorName.parse(i).node().equals(name)))
        .toList();
    NodeDef cast = users.size() == 1 ? g.get(users.get(0)) : null;
    if (cast == null || !cast.getOp().equals("Cast")
        || cast.getAttrOrDefault("DstT", null) == null
        || cast.getAttrOrThrow("DstT").getType() != DataType.DT_FLOAT) {
      // an integer input keeps the Cast rule (an image read elsewhere too is refused as before)
      ComputedFeatureEntry.Found f = integer(in.dtype()) ? null
          : ComputedFeatureEntry.find(model, g, e.getKey(), name, in.dtype());
      if (f != null) {
        return new KernelEntry(f.node(), f.shape(), in, f.note(), true);
      }
      throw new IllegalArgumentException("input '" + e.getKey() + "' is " + in.dtype()
          + " and is not read by a single Cast to float32 (its readers: " + users + ")"
          + (integer(in.dtype()) ? "" : ", and no Conv2D, DepthwiseConv2dNative or MatMul "
          + "layer on the path to the outputs reads a float32 tensor computed from it")
          + "; the kernel check feeds real-valued pairs at the first float32 tensor the "
          + "network's layers read");
    }
    String cast32 = "input '" + e.getKey() + "' is " + in.dtype() + ": the pairs are fed at '"
        + cast.getName() + "', its Cast to float32 (the first float tensor)";
    return channelsLast(g, afterPreprocessing(g, model, new KernelEntry(cast.getName(), shape,
        in, sized == null ? cast32 : cast32 + "; " + sized)));
  }

  /**
   * {@code e} with its shape channels-last when its tensor is channels-first ({@link
   * InputLayout}: an ONNX model's NCHW input): the check builds its pairs channels-last, one
   * feature vector at every location, and {@link PairFeed} transposes them to the entry's own
   * layout, so the feature vector lies on the channel axis.
   */
  private static KernelEntry channelsLast(GraphView g, KernelEntry e) {
    int[] p = InputLayout.toChannelsLast(g, e.node());
    if (p == null || e.shape() == null || e.shape().length != p.length) {
      return e;
    }
    long[] canonical = new long[p.length];
    for (int k = 0; k < p.length; k++) {
      canonical[k] = e.shape()[p[k]];
    }
    String note = "'" + e.node() + "' is channels-first (a Transpose by "
        + java.util.Arrays.toString(p) + " makes it channels-last for its layers): the pairs' "
        + "feature vectors go on its axis " + p[p.length - 1];
    return new KernelEntry(e.node(), canonical, e.input(), e.note() == null ? note
        : e.note() + "; " + note);
  }

  /**
   * {@code e}, or, when the rewrite normalized per location after the model's own constant
   * elementwise preprocessing ({@link InputPreprocessing}: a node {@code P/pln/normalized} at the
   * chain's end P), the entry at P: the pairs of chosen c are fed where the network proper starts
   * (fed at the input, mobileface's {@code (x - 127.5) / 128} makes every pair about collinear).
   * The chain is elementwise, so P has the input's shape.
   */
  private static KernelEntry afterPreprocessing(GraphView g, Model model, KernelEntry e) {
    List<String> chain = InputPreprocessing.chain(g, e.node(), model.outputNodes());
    String end = chain.get(chain.size() - 1);
    if (end.equals(e.node()) || !g.contains(end + "/pln/normalized")) {
      return e;
    }
    String note = "the pairs are fed at '" + end + "', after the model's constant elementwise "
        + "preprocessing of '" + e.input().tensor().node() + "', where the per-location "
        + "normalization starts";
    long[] shape = e.shape() == null ? null : e.shape().clone();
    for (String s : chain) {
      NodeDef pad = g.get(s);
      if (!InputPreprocessing.PADS.contains(pad.getOp())) {
        continue;
      }
      int[] p = ConstReads.ints(g, TensorName.parse(pad.getInput(1)));
      if (p != null && shape != null && p.length == 2 * shape.length) {
        for (int i = 1; i < shape.length; i++) {
          shape[i] = shape[i] < 0 ? shape[i] : shape[i] + p[2 * i] + p[2 * i + 1];
        }
      }
      note += "; the pairs enter after the pad '" + s + "', so no location holds its border ("
          + (p == null ? "its sizes are computed from the input's shape" : "its sizes "
          + java.util.Arrays.toString(p) + " are added to the fed shape") + ")";
    }
    return new KernelEntry(end, shape, e.input(), e.note() == null ? note
        : e.note() + "; " + note);
  }

  /** Whether {@code t} is an integer type (an image or index input: the Cast rule applies). */
  private static boolean integer(DataType t) {
    return switch (t) {
      case DT_UINT8, DT_UINT16, DT_UINT32, DT_UINT64, DT_INT8, DT_INT16, DT_INT32, DT_INT64 ->
          true;
      default -> false;
    };
  }

}
