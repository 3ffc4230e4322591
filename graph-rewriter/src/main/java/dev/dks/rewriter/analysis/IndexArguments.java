package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * Index and shape arguments: the data inputs of an op whose values select, size or lay out its
 * output rather than flow into it (GatherV2/GatherNd indices, Slice begin/size, StridedSlice
 * begin/end/strides, Reshape's shape, CropAndResize's boxes, box indices and crop size, reduction
 * axes, paddings, tile multiples, ...; every input of Shape, Size and Rank, which read only the
 * shape). A tensor every one of whose paths to an output ends in such an argument is index
 * arithmetic, not a feature: the crop and sampling coordinates an attention model computes from
 * its predicted landmarks (facemesh-attention's SpatialTransformer) have no kernel of their own,
 * and the features they select keep the kernel of the gathered tensor.
 *
 * <p>Data input positions count only the data (non-control) inputs, from 0.
 */
final class IndexArguments {
  private IndexArguments() {}

  /** Data input positions that are index or shape arguments, by op (ConcatV2: see below). */
  private static final Map<String, Set<Integer>> SLOTS = Map.ofEntries(
      Map.entry("GatherV2", Set.of(1, 2)),
      Map.entry("Gather", Set.of(1)),
      Map.entry("ResourceGather", Set.of(1)),
      Map.entry("GatherNd", Set.of(1)),
      Map.entry("ResourceGatherNd", Set.of(1)),
      Map.entry("Slice", Set.of(1, 2)),
      Map.entry("StridedSlice", Set.of(1, 2, 3)),
      Map.entry("Reshape", Set.of(1)),
      Map.entry("ExpandDims", Set.of(1)),
      Map.entry("Transpose", Set.of(1)),
      Map.entry("Tile", Set.of(1)),
      Map.entry("BroadcastTo", Set.of(1)),
      Map.entry("Pad", Set.of(1)),
      Map.entry("PadV2", Set.of(1)),
      Map.entry("MirrorPad", Set.of(1)),
      Map.entry("CropAndResize", Set.of(1, 2, 3)),
      Map.entry("ResizeBilinear", Set.of(1)),
      Map.entry("ResizeNearestNeighbor", Set.of(1)),
      Map.entry("ResizeBicubic", Set.of(1)),
      Map.entry("ResizeArea", Set.of(1)),
      Map.entry("Fill", Set.of(0)),
      Map.entry("Range", Set.of(0, 1, 2)),
      Map.entry("Split", Set.of(0)),
      Map.entry("SplitV", Set.of(1, 2)),
      Map.entry("Sum", Set.of(1)),
      Map.entry("Mean", Set.of(1)),
      Map.entry("Max", Set.of(1)),
      Map.entry("Min", Set.of(1)),
      Map.entry("Prod", Set.of(1)),
      Map.entry("All", Set.of(1)),
      Map.entry("Any", Set.of(1)),
      Map.entry("ArgMax", Set.of(1)),
      Map.entry("ArgMin", Set.of(1)),
      Map.entry("Cumsum", Set.of(1)),
      Map.entry("ReverseV2", Set.of(1)),
      Map.entry("Roll", Set.of(1, 2)),
      Map.entry("OneHot", Set.of(1)),
      Map.entry("TopKV2", Set.of(1)),
      Map.entry("ScatterNd", Set.of(0, 2)),
      Map.entry("TensorScatterUpdate", Set.of(1)),
      Map.entry("TensorScatterAdd", Set.of(1)),
      Map.entry("SegmentSum", Set.of(1)),
      Map.entry("SegmentMean", Set.of(1)),
      Map.entry("SegmentMax", Set.of(1)),
      Map.entry("SegmentMin", Set.of(1)),
      Map.entry("UnsortedSegmentSum", Set.of(1, 2)),
      Map.entry("UnsortedSegmentMax", Set.of(1, 2)),
      Map.entry("UnsortedSegmentMin", Set.of(1, 2)),
      Map.entry("SpaceToBatchND", Set.of(1, 2)),
      Map.entry("BatchToSpaceND", Set.of(1, 2)),
      Map.entry("MaxPoolV2", Set.of(1, 2)),
      Map.entry("Conv2DBackpropInput", Set.of(0)),
      Map.entry("MatrixBandPart", Set.of(1, 2)));

  /** Ops that read only the shape of every input (their output does not depend on its values). */
  private static final Set<String> SHAPE_READERS =
      Set.of("Shape", "ShapeN", "Size", "Rank", "ZerosLike", "OnesLike");

  /**
   * Whether {@code op} reads only the shape of its inputs (Shape, ShapeN, Size, Rank, ZerosLike,
   * OnesLike): its output is the same for every input of that size, so it carries no signal.
   */
  static boolean readsShapeOnly(String op) {
    return SHAPE_READERS.contains(op);
  }

  /** Whether data input {@code slot} of {@code n} is an index or shape argument. */
  static boolean isIndexSlot(NodeDef n, int slot) {
    String op = n.getOp();
    if (SHAPE_READERS.contains(op)) {
      return true;
    }
    if (op.equals("ConcatV2")) {
      // values..., axis: the axis is the last data input
      return n.containsAttr("N") && slot == n.getAttrOrThrow("N").getI();
    }
    if (op.equals("Concat")) {
      return slot == 0;
    }
    return SLOTS.getOrDefault(op, Set.of()).contains(slot);
  }

  /**
   * Whether {@code consumer} reads an output of {@code producer} at some data input that is not
   * an index or shape argument.
   */
  static boolean readsValues(NodeDef consumer, String producer) {
    int slot = 0;
    for (String in : consumer.getInputList()) {
      TensorName t = TensorName.parse(in);
      if (t.isControl()) {
        continue;
      }
      if (t.node().equals(producer) && !isIndexSlot(consumer, slot)) {
        return true;
      }
      slot++;
    }
    return false;
  }

  /**
   * The nodes of {@code order} (the outputs' ancestors in topological order) every one of whose
   * data paths to an output ends in an index or shape argument: each consumer among {@code live}
   * (the outputs' ancestors, {@code order} plus the nodes in or after control-flow loops) reads
   * the node only at index or shape arguments, or is such a node itself. A node read by none of
   * them, an output, or one read by a node in or after a loop (not in {@code order}) is not.
   */
  static Set<String> indexOnly(GraphView g, List<String> order, Set<String> live,
      List<String> outputs) {
    Set<String> ordered = new HashSet<>(order);
    Set<String> out = new HashSet<>();
    for (int i = order.size() - 1; i >= 0; i--) {
      String name = order.get(i);
      if (outputs.contains(name)) {
        continue;
      }
      boolean read = false;
      boolean feature = false;
      for (String c : g.consumers(name)) {
        if (!live.contains(c)) {
          continue;
        }
        NodeDef cn = g.get(c);
        int slot = 0;
        for (String in : cn.getInputList()) {
          TensorName t = TensorName.parse(in);
          if (t.isControl()) {
            continue;
          }
          if (t.node().equals(name)) {
            read = true;
            feature |= !isIndexSlot(cn, slot) && !(ordered.contains(c) && out.contains(c));
          }
          slot++;
        }
      }
      if (read && !feature) {
        out.add(name);
      }
    }
    return out;
  }
}
