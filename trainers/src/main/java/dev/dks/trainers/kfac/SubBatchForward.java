package dev.dks.trainers.kfac;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A second copy of the network's forward pass (input to logits) that reads only the first rows of
 * the batch, so that K-FAC statistics from a sub-batch ({@link KfacOptions#statisticsExamples})
 * cost what a sub-batch costs: the sampled backward pass, the most expensive part of the
 * statistics (Conv2DBackpropInput at every layer), then runs on {@code m} rows instead of the
 * whole batch. Masking the seeds of the other rows, the alternative, gives the same statistics but
 * still back-propagates through every row.
 *
 * <p>The copy holds, under {@code prefix/}, every node of the model that depends on the input and
 * leads to the logits; it reads the input through {@code prefix/input}, the first {@code rows}
 * examples of it. Everything else (variables and their reads, constants) is shared, so the copy
 * adds no variables and always sees the current weights. It is added to the GraphDef before import
 * (TF Java 1.1.0's import cannot map inputs to nodes already in a graph).
 *
 * <p>Rows, for a data-parallel replica of rank {@code r} with local batch {@code b} (one process:
 * {@code r = 0}): {@code max(1, min(b, max(0, m - r b)))}, i.e. the replica's part of the first
 * {@code m} examples of the global batch, but at least one row: with an empty batch this TF
 * build's oneDNN Conv2D returns an empty tensor of the wrong shape (its input's channels), so a
 * replica whose part is empty reads one row and the statistics mask it ({@link StatisticsPasses}
 * counts the true part).
 *
 * <p>The copy computes the same function as the original only when examples do not interact:
 * batch normalization with batch statistics (training form) does, so the trainer does not build a
 * copy then (the statistics fall back to masked seeds).
 *
 * @param prefix the copy's name scope
 * @param copied the original names of the copied nodes
 * @param inputNode the original input node (read through {@code prefix/input} by the copy)
 */
public record SubBatchForward(String prefix, Set<String> copied, String inputNode) {

  /** Copies the set. */
  public SubBatchForward {
    copied = Set.copyOf(copied);
  }

  /** The base of the copy's name scope ({@code kfac_statistics}, or with a suffix if taken). */
  public static final String BASE_PREFIX = "kfac_statistics";

  /** A GraphDef with the copy added, and the copy. */
  public record WithCopy(GraphDef graph, SubBatchForward forward) {}

  /**
   * Adds the copy to {@code def}.
   *
   * @param def the model's graph (training form)
   * @param input the model input the trainer feeds (float32, batch first)
   * @param logits the logits node
   * @param examples m, the statistics' examples of the global batch (&gt; 0)
   * @param rank this replica's rank (0 for one process)
   * @throws IllegalArgumentException when the logits do not depend on the input
   */
  public static WithCopy add(GraphDef def, TensorName input, String logits, int examples,
      int rank) {
    if (examples <= 0) {
      throw new IllegalArgumentException("statistics examples must be > 0, got " + examples);
    }
    Set<String> copy = copiedNodes(def, input, logits);
    String prefix = Nodes.freeScope(def, BASE_PREFIX);
    SubBatchForward f = new SubBatchForward(prefix, copy, input.node());
    GraphDef.Builder out = def.toBuilder();
    f.addSlice(out, input, examples, rank);
    for (NodeDef n : def.getNodeList()) {
      if (!copy.contains(n.getName())) {
        continue;
      }
      NodeDef.Builder b = n.toBuilder().setName(prefix + "/" + n.getName()).clearInput();
      for (String in : n.getInputList()) {
        b.addInput(f.tensor(in));
      }
      out.addNode(b);
    }
    return new WithCopy(out.build(), f);
  }

  /** The nodes that depend on the input and lead to the logits: those the copy holds. */
  private static Set<String> copiedNodes(GraphDef def, TensorName input, String logits) {
    GraphView view = GraphView.of(def);
    Set<String> upstream = view.ancestors(List.of(logits));
    if (!upstream.contains(input.node())) {
      throw new IllegalArgumentException("the logits " + logits + " do not depend on the input "
          + input.node());
    }
    Set<String> copy = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>(view.consumers(input.node()));
    while (!todo.isEmpty()) {
      String n = todo.pop();
      if (!upstream.contains(n) || !copy.add(n)) {
        continue;
      }
      todo.addAll(view.consumers(n));
    }
    return copy;
  }

  /**
   * A node the copy would hold that fixes the batch size in a constant shape operand (a
   * {@code Reshape} or {@code BroadcastTo} of an input-dependent tensor whose shape is a
   * {@code Const} with a positive first entry, e.g. a flatten exported as {@code [128, -1]}), or
   * null when there is none. The copy reads fewer rows than the batch, so such a node would fail
   * at run time or, when the sizes happen to divide, mix rows silently: the trainer then takes the
   * sub-batch statistics by masking seeds instead (a whole-batch backward pass, the same
   * statistics).
   *
   * @throws IllegalArgumentException when the logits do not depend on the input
   */
  public static String fixedBatchNode(GraphDef def, TensorName input, String logits) {
    Set<String> copy = copiedNodes(def, input, logits);
    Map<String, NodeDef> byName = new HashMap<>();
    def.getNodeList().forEach(n -> byName.put(n.getName(), n));
    for (NodeDef n : def.getNodeList()) {
      if (!copy.contains(n.getName()) || n.getInputCount() < 2
          || !(n.getOp().equals("Reshape") || n.getOp().equals("BroadcastTo"))) {
        continue;
      }
      NodeDef shape = byName.get(TensorName.parse(n.getInput(1)).node());
      if (shape != null && shape.getOp().equals("Const") && firstEntry(shape) > 0) {
        return n.getName();
      }
    }
    return null;
  }

  /** The first entry of an int32/int64 Const, or -1 when it has none or another type. */
  private static long firstEntry(NodeDef constant) {
    TensorProto t = constant.getAttrOrDefault("value", AttrValue.getDefaultInstance()).getTensor();
    ByteBuffer content = t.getTensorContent().asReadOnlyByteBuffer()
        .order(ByteOrder.LITTLE_ENDIAN);
    return switch (t.getDtype()) {
      case DT_INT32 -> t.getIntValCount() > 0 ? t.getIntVal(0)
          : content.remaining() >= 4 ? content.getInt(0) : -1;
      case DT_INT64 -> t.getInt64ValCount() > 0 ? t.getInt64Val(0)
          : content.remaining() >= 8 ? content.getLong(0) : -1;
      default -> -1;
    };
  }

  /**
   * The copy's counterpart of a tensor of the original graph ({@code node}, {@code node:k} or
   * {@code ^node}): the copied node's output, the sliced input for the input, else the tensor
   * itself (shared).
   */
  public String tensor(String original) {
    TensorName t = TensorName.parse(original);
    if (t.node().equals(inputNode) && !t.isControl()) {
      return input();
    }
    return copied.contains(t.node()) ? new TensorName(prefix + "/" + t.node(), t.index())
        .toString() : original;
  }

  /** The copy's input: the first {@link #rows()} examples of the batch. */
  public String input() {
    return prefix + "/input";
  }

  /** The local batch size, from the fed input's shape (int32 scalar tensor). */
  public String batch() {
    return prefix + "/batch";
  }

  /** The number of examples the copy reads, at least 1 (int32 scalar tensor). */
  public String rows() {
    return prefix + "/rows";
  }

  private void addSlice(GraphDef.Builder out, TensorName input, int examples, int rank) {
    String p = prefix + "/";
    out.addNode(Nodes.op("Shape", p + "shape").input(input).type("T", DataType.DT_FLOAT)
        .type("out_type", DataType.DT_INT32).build());
    out.addNode(intConst(p + "zero_vector", 0, true));
    out.addNode(intConst(p + "one_vector", 1, true));
    out.addNode(Nodes.op("StridedSlice", p + "batch").input(p + "shape").input(p + "zero_vector")
        .input(p + "one_vector").input(p + "one_vector").type("T", DataType.DT_INT32)
        .type("Index", DataType.DT_INT32).attr("shrink_axis_mask", intAttr(1)).build());
    out.addNode(intConst(p + "examples", examples, false));
    out.addNode(intConst(p + "rank", rank, false));
    out.addNode(intConst(p + "zero", 0, false));
    out.addNode(binary("Mul", p + "first", p + "batch", p + "rank"));
    out.addNode(binary("Sub", p + "left", p + "examples", p + "first"));
    out.addNode(binary("Maximum", p + "left_or_none", p + "left", p + "zero"));
    out.addNode(binary("Minimum", p + "share", p + "batch", p + "left_or_none"));
    out.addNode(intConst(p + "one", 1, false));
    out.addNode(binary("Maximum", p + "rows", p + "share", p + "one"));
    out.addNode(Nodes.op("Reshape", p + "end").input(p + "rows").input(p + "one_vector")
        .type("T", DataType.DT_INT32).type("Tshape", DataType.DT_INT32).build());
    out.addNode(Nodes.op("StridedSlice", p + "input").input(input).input(p + "zero_vector")
        .input(p + "end").input(p + "one_vector").type("T", DataType.DT_FLOAT)
        .type("Index", DataType.DT_INT32).build());
  }

  private static NodeDef binary(String op, String name, String x, String y) {
    return Nodes.op(op, name).input(x).input(y).type("T", DataType.DT_INT32).build();
  }

  private static AttrValue intAttr(long v) {
    return AttrValue.newBuilder().setI(v).build();
  }

  private static NodeDef intConst(String name, int value, boolean vector) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    if (vector) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(1));
    }
    return Nodes.constant(name, TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(shape).addIntVal(value).build());
  }
}
