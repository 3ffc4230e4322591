package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.network.Dag;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * A tensor whose every path to the output ends in an index argument (here the indices of a
 * GatherV2, computed from the features by a dense layer, a tanh, another dense layer, a sum,
 * Floor and Cast: the crop arithmetic of an attention model in small) is no feature: its
 * activation is no activation site, its dense layers are no layers, it is not on the kernel DAG,
 * and the DAG is the one of the same network gathering with constant indices. Control: when the
 * tanh's output is also the gather's params, it is a feature (site, layer, DAG node) and only
 * the arithmetic after it is index-only.
 */
public class IndexPathTest {
  /** Where the gather's indices come from and what it gathers. */
  public enum Variant {
    /** Constant indices (the reference: no index arithmetic on the path). */
    CONSTANT,
    /** Indices computed from the features; params: the second feature layer's relu. */
    FROM_FEATURES,
    /** Indices computed from the tanh, which is also the gather's params. */
    PARAMS_ON_INDEX_PATH
  }

  /** The tanh on the index path. */
  public static final String TANH = "index/tanh";

  private static TensorProto ints(long[] shape, int... v) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : shape) {
      s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(s);
    for (int x : v) {
      t.addIntVal(x);
    }
    return t.build();
  }

  private static void op(DenseNets n, String op, String name, DataType t, String... in) {
    n.g.add(Nodes.op(op, name).inputs(List.of(in)).type("T", t).build());
  }

  /**
   * input, dense + relu (h), then the index path from h: dense + tanh ({@value #TANH}) + dense,
   * summed to a scalar, |.|, Floor, Cast to int32, added to 0..W-1 and taken mod W: a rotation
   * of the channels, the indices of a GatherV2 along axis 1 of dense + relu of h (or of the
   * tanh); then dense + relu + dense to the output. The index path's nodes are written in every variant (unused by the
   * constant one), so that all three have the same node names.
   */
  public static Model net(Variant v) {
    int w = DenseNets.WIDTH;
    DenseNets n = new DenseNets();
    TensorName h = n.act("relu", n.dense(TensorName.of("input")));
    TensorName t0 = n.act("tanh", n.dense(h));
    n.g.add(Nodes.op("Identity", TANH).input(t0).type("T", DataType.DT_FLOAT).build());
    TensorName s = n.dense(TensorName.of(TANH));
    int[] base = new int[w];
    int[] reversed = new int[w];
    for (int i = 0; i < w; i++) {
      base[i] = i;
      reversed[i] = w - 1 - i;
    }
    n.g.add(Nodes.constant("index/axes", ints(new long[] {2}, 0, 1)));
    n.g.add(Nodes.constant("index/base", ints(new long[] {w}, base)));
    n.g.add(Nodes.constant("index/width", ints(new long[0], w)));
    n.g.add(Nodes.constant("index/axis", ints(new long[0], 1)));
    n.g.add(Nodes.constant("index/constant", ints(new long[] {w}, reversed)));
    n.g.add(Nodes.op("Sum", "index/sum").input(s).input("index/axes")
        .type("T", DataType.DT_FLOAT).type("Tidx", DataType.DT_INT32)
        .attr("keep_dims", AttrValue.newBuilder().setB(false).build()).build());
    op(n, "Abs", "index/abs", DataType.DT_FLOAT, "index/sum");
    op(n, "Floor", "index/floor", DataType.DT_FLOAT, "index/abs");
    n.g.add(Nodes.op("Cast", "index/cast").input("index/floor")
        .type("SrcT", DataType.DT_FLOAT).type("DstT", DataType.DT_INT32)
        .attr("Truncate", AttrValue.newBuilder().setB(false).build()).build());
    op(n, "AddV2", "index/shifted", DataType.DT_INT32, "index/base", "index/cast");
    op(n, "FloorMod", "index/rotation", DataType.DT_INT32, "index/shifted", "index/width");
    TensorName h2 = n.act("relu", n.dense(h));
    String params = v == Variant.PARAMS_ON_INDEX_PATH ? TANH : h2.toString();
    String indices = v == Variant.CONSTANT ? "index/constant" : "index/rotation";
    n.g.add(Nodes.op("GatherV2", "gather").input(params).input(indices).input("index/axis")
        .type("Tparams", DataType.DT_FLOAT).type("Tindices", DataType.DT_INT32)
        .type("Taxis", DataType.DT_INT32)
        .attr("batch_dims", AttrValue.newBuilder().setI(0).build()).build());
    return n.model(n.dense(n.act("relu", n.dense(TensorName.of("gather")))));
  }

  private static NetworkAnalysis analyze(Model m) {
    return StructureAnalyzer.analyze(GraphView.of(m.graph()), List.of("input"),
        List.of("output"));
  }

  /** The DAG as text: kind, inputs and fractions of every node. */
  private static List<String> text(Dag d) {
    List<String> out = new ArrayList<>();
    for (Dag.Node x : d.nodes()) {
      out.add(x.kind() + Arrays.toString(x.inputs()) + Arrays.toString(x.fractions()));
    }
    return out;
  }

  private static List<String> layerNodes(NetworkAnalysis a) {
    return a.layers().stream().map(LayerSite::node).toList();
  }

  @Test
  void indexArithmeticIsNoFeature() {
    NetworkAnalysis a = analyze(net(Variant.FROM_FEATURES));
    NetworkAnalysis constant = analyze(net(Variant.CONSTANT));
    // the layers and activations of the feature path only, as with constant indices
    assertEquals(List.of("dense1/MatMul", "dense4/MatMul", "dense5/MatMul", "dense6/MatMul"),
        layerNodes(a));
    assertEquals(layerNodes(constant), layerNodes(a));
    assertEquals(List.of("relu", "relu", "relu"), a.activations().stream().map(ActivationSite::kind)
        .toList());
    for (String node : List.of(TANH, "dense2/MatMul", "dense3/BiasAdd", "index/sum",
        "index/cast", "index/rotation")) {
      assertFalse(a.dagIndex().containsKey(node), node + " is on the kernel DAG");
      assertFalse(a.body().contains(node), node + " is in the body");
    }
    // the gather reads one path (its params): the DAG, hence every prediction, is unchanged
    assertEquals(text(constant.dag()), text(a.dag()));
    assertTrue(a.warnings().stream().noneMatch(x -> x.contains("equal-weight average")),
        a.warnings().toString());
    // still known as computed from the input (the kernel check cannot predict past the gather)
    assertTrue(a.indexArithmetic().containsAll(List.of(TANH, "index/rotation")),
        a.indexArithmetic().toString());
    assertTrue(constant.indexArithmetic().isEmpty(), constant.indexArithmetic().toString());
  }

  @Test
  void aTensorThatIsAlsoGatheredIsAFeature() {
    NetworkAnalysis a = analyze(net(Variant.PARAMS_ON_INDEX_PATH));
    assertEquals(List.of("dense1/MatMul", "dense2/MatMul", "dense5/MatMul", "dense6/MatMul"),
        layerNodes(a));
    assertEquals(List.of("relu", "tanh", "relu"), a.activations().stream()
        .map(ActivationSite::kind).toList());
    assertTrue(a.dagIndex().containsKey(TANH));
    assertTrue(a.body().contains(TANH));
    // the arithmetic after the tanh still only feeds the indices
    for (String node : List.of("dense3/MatMul", "index/sum", "index/rotation")) {
      assertFalse(a.dagIndex().containsKey(node), node + " is on the kernel DAG");
    }
    assertFalse(a.indexArithmetic().contains(TANH));
  }
}
