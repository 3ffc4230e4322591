package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.InputLayout;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.TensorProtos;
import java.util.List;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.TensorProto;

/**
 * The kernel check's input, built inside the graph: a copy of a GraphDef in which every data use
 * of the fed tensor ({@code node:0}, rank r, static example shape {@code [d1, ..., d(r-1)]})
 * reads instead {@code Tile(Reshape(pairs, [-1, 1, ..., 1, F]), multiples)}, where {@code pairs}
 * is a new float32 placeholder of shape {@code [-1, F]} (F = d(r-1), one row per example) and
 * {@code multiples} a new int32 placeholder of shape {@code [r]}, fed {@code [1, d1, ..., d(r-2),
 * 1]} for the model's own example shape (or smaller spatial sizes, see {@link PairSums}). So the
 * same feature vector sits at every location, while Java feeds only examples x features floats
 * (never examples x locations x features). Downstream of the Tile the spatial dimensions are no
 * longer static. Control inputs on placeholders are dropped (nothing feeds the replaced input).
 *
 * @param graph the rewritten copy
 * @param placeholder the node to feed, float32 {@code [examples, features]}
 * @param tensor the tensor that now stands for the fed one (the Tile output, or the placeholder
 *     itself at rank 2)
 * @param multiples the int32 placeholder of the Tile's multiples (null at rank 2)
 * @param spatial the fed node's own spatial dimensions {@code [d1, ..., d(r-2)]}
 */
record PairFeed(GraphDef graph, String placeholder, String tensor, String multiples,
    long[] spatial) {
  /** Prefix of the nodes this class adds. */
  static final String PREFIX = "dks_kernel_feed";

  /**
   * Rewrites {@code graph} as above.
   *
   * @param feedNode the node whose output 0 is replaced
   * @param shape its static shape, batch first (any value); every other dimension positive
   */
  static PairFeed of(GraphDef graph, String feedNode, long[] shape) {
    if (shape.length < 2) {
      throw new IllegalArgumentException("the kernel check feeds '" + feedNode + "' with a batch "
          + "axis and a feature axis, but its shape has rank " + shape.length);
    }
    int r = shape.length;
    int features = Math.toIntExact(shape[r - 1]);
    GraphView g = GraphView.of(graph);
    String scope = g.uniqueName(PREFIX);
    String ph = scope + "/pairs";
    g.add(Nodes.op("Placeholder", ph).type("dtype", DataType.DT_FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {-1, features}))
            .build()).build());
    String out = ph;
    String multiples = null;
    if (r > 2) {
      int[] target = new int[r];
      target[0] = -1;
      for (int i = 1; i < r - 1; i++) {
        target[i] = 1;
      }
      target[r - 1] = features;
      g.add(Nodes.constant(scope + "/shape", ints(target)));
      multiples = scope + "/multiples";
      g.add(Nodes.op("Placeholder", multiples).type("dtype", DataType.DT_INT32).attr("shape",
          AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {r})).build())
          .build());
      g.add(Nodes.op("Reshape", scope + "/reshape").input(ph).input(scope + "/shape")
          .type("T", DataType.DT_FLOAT).type("Tshape", DataType.DT_INT32).build());
      g.add(Nodes.op("Tile", scope + "/tile").input(scope + "/reshape")
          .input(scope + "/multiples").type("T", DataType.DT_FLOAT)
          .type("Tmultiples", DataType.DT_INT32).build());
      out = scope + "/tile";
    }
    // a channels-first entry (InputLayout; shape is given channels-last): the model reads the
    // built pairs transposed back to its layout, the statistics read them channels-last
    int[] layout = InputLayout.toChannelsLast(GraphView.of(graph), feedNode);
    String read = out;
    if (layout != null && layout.length == r) {
      read = scope + "/to_model_layout";
      g.add(Nodes.constant(scope + "/to_model_layout/perm", ints(InputLayout.inverse(layout))));
      g.add(Nodes.op("Transpose", read).input(out).input(scope + "/to_model_layout/perm")
          .type("T", DataType.DT_FLOAT).type("Tperm", DataType.DT_INT32).build());
    }
    g.replaceUses(TensorName.of(feedNode, 0), TensorName.of(read), List.of(read));
    dropPlaceholderControlInputs(g);
    long[] spatial = java.util.Arrays.copyOfRange(shape, 1, r - 1);
    return new PairFeed(g.toGraphDef(), ph, out, multiples, spatial);
  }

  /**
   * Removes control inputs on the model's placeholders ({@code ^input_1} on constants, as the
   * TF.js converter writes them: handskeleton): the fed tensor is replaced, so its placeholder
   * (or, behind a Cast entry, the integer input) is no longer fed, and TensorFlow would refuse to
   * run a node with a control dependency on an unfed placeholder. Such a dependency orders
   * nothing (a placeholder has no effect), so dropping it changes no value.
   */
  private static void dropPlaceholderControlInputs(GraphView g) {
    java.util.Set<String> placeholders = new java.util.HashSet<>();
    for (org.tensorflow.proto.NodeDef n : g.nodes()) {
      if (n.getOp().equals("Placeholder")) {
        placeholders.add(n.getName());
      }
    }
    for (org.tensorflow.proto.NodeDef n : List.copyOf(g.nodes())) {
      List<String> kept = n.getInputList().stream().filter(i -> !(i.startsWith("^")
          && placeholders.contains(i.substring(1)))).toList();
      if (kept.size() != n.getInputCount()) {
        g.put(n.toBuilder().clearInput().addAllInput(kept).build());
      }
    }
  }

  private static TensorProto ints(int[] v) {
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(new long[] {v.length}));
    for (int x : v) {
      b.addIntVal(x);
    }
    return b.build();
  }
}
