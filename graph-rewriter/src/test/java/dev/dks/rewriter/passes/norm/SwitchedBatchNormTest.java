package dev.dks.rewriter.passes.norm;

import static dev.dks.rewriter.passes.norm.TestGraph.hasAny;
import static dev.dks.rewriter.passes.norm.TestGraph.maxAbsDiff;
import static dev.dks.rewriter.passes.norm.TestGraph.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.StripNormalizationPass.Mode;
import dev.dks.rewriter.pipeline.Pipeline;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * strip-norm on the unfused TF1 BatchNorm of {@code tf.layers.batch_normalization(training=t)}
 * with a tensor t (the form of the Vespa batch-norm MNIST model): tf.nn.moments of x, a Select by
 * the bool flag between the batch moments and the moving statistics, the moving-average updates
 * (AssignSub), and {@code x * (gamma * rsqrt(var + eps)) + (beta - mean * gamma * rsqrt(var +
 * eps))}. The rewrite is checked against a second graph built without the BN from the same
 * weights.
 */
class SwitchedBatchNormTest {
  static final Set<String> GONE = Set.of("Rsqrt", "Mean", "SquaredDifference", "StopGradient",
      "Select", "AssignSub");
  static final long[] IN = {4, 6};

  /** What feeds the variance's Rsqrt. */
  enum Variant {
    /** the Select of tf.layers by a bool PlaceholderWithDefault, with moving-average updates */
    SWITCHED,
    /** the batch variance directly (tf.nn.moments, no switch) */
    MOMENTS_ONLY,
    /** negative control: the Select picks the batch MEAN of x, not a variance */
    SWITCHED_MEAN,
    /** negative control: the Select's condition is computed from the data, not a flag */
    DATA_CONDITION
  }

  static TestGraph graph(Variant v) {
    TestGraph t = new TestGraph(21);
    t.placeholder("x", -1, 6);
    t.normalVariable("w", 0, 0.5, 6, 5);
    t.normalVariable("b", 0, 0.5, 5);
    t.op("MatMul", "mm", "x", "w");
    t.op("BiasAdd", "z", "mm", "b");
    t.uniformVariable("bn/gamma", 0.5, 1.5, 5);
    t.normalVariable("bn/beta", 0, 0.5, 5);
    t.normalVariable("bn/moving_mean", 0, 0.5, 5);
    t.uniformVariable("bn/moving_variance", 0.5, 2, 5);
    t.op("Identity", "bn/moving_mean/read", "bn/moving_mean");
    t.op("Identity", "bn/moving_variance/read", "bn/moving_variance");
    t.ints("axes", 0);
    t.mean("bn/moments/mean", "z", "axes");
    t.op("StopGradient", "bn/moments/StopGradient", "bn/moments/mean");
    t.op("SquaredDifference", "bn/moments/SquaredDifference", "z", "bn/moments/StopGradient");
    t.mean("bn/moments/variance", "bn/moments/SquaredDifference", "axes");
    squeeze(t, "bn/moments/Squeeze", "bn/moments/mean");
    squeeze(t, "bn/moments/Squeeze_1", "bn/moments/variance");
    String mean;
    String variance;
    if (v == Variant.MOMENTS_ONLY) {
      mean = "bn/moments/Squeeze";
      variance = "bn/moments/Squeeze_1";
    } else {
      TensorProto no = TensorProto.newBuilder().setDtype(DataType.DT_BOOL)
          .setTensorShape(TensorProtos.shapeProto(new long[0])).addBoolVal(false).build();
      t.add(Nodes.constant("training/default", no));
      t.add(Nodes.op("PlaceholderWithDefault", "training").input("training/default")
          .type("dtype", DataType.DT_BOOL).attr("shape", AttrValue.newBuilder()
              .setShape(TensorProtos.shapeProto(new long[0])).build()).build());
      String flag = "training";
      if (v == Variant.DATA_CONDITION) {
        t.ints("all", 0, 1);
        t.add(Nodes.op("Mean", "data/m").input("z").input("all").type("T", DataType.DT_FLOAT)
            .type("Tidx", DataType.DT_INT32).build());
        t.scalar("data/zero", 0f);
        t.op("Greater", "data/cond", "data/m", "data/zero");
        flag = "data/cond";
      }
      String batchVar = v == Variant.SWITCHED_MEAN ? "bn/moments/Squeeze" : "bn/moments/Squeeze_1";
      mean = select(t, "bn/sel_mean", flag, "bn/moments/Squeeze", "bn/moving_mean/read");
      variance = select(t, "bn/sel_var", flag, batchVar, "bn/moving_variance/read");
      if (v == Variant.SWITCHED) {
        // the moving-average updates, run by a training op through control edges
        t.scalar("bn/momentum_train", 0.9f);
        t.scalar("bn/momentum_infer", 1.0f);
        String momentum = select(t, "bn/sel_momentum", flag, "bn/momentum_train",
            "bn/momentum_infer");
        update(t, "bn/AssignMovingAvg", "bn/moving_mean", mean, momentum);
        update(t, "bn/AssignMovingAvg_1", "bn/moving_variance", variance, momentum);
        t.add(Nodes.op("NoOp", "train").input("^bn/AssignMovingAvg")
            .input("^bn/AssignMovingAvg_1").build());
      }
    }
    t.scalar("bn/batchnorm/add/y", 1e-3f);
    t.op("Add", "bn/batchnorm/add", variance, "bn/batchnorm/add/y");
    t.op("Rsqrt", "bn/batchnorm/Rsqrt", "bn/batchnorm/add");
    t.op("Mul", "bn/batchnorm/mul", "bn/batchnorm/Rsqrt", "bn/gamma");
    t.op("Mul", "bn/batchnorm/mul_1", "z", "bn/batchnorm/mul");
    t.op("Mul", "bn/batchnorm/mul_2", mean, "bn/batchnorm/mul");
    t.op("Sub", "bn/batchnorm/sub", "bn/beta", "bn/batchnorm/mul_2");
    t.op("Add", "bn/batchnorm/add_1", "bn/batchnorm/mul_1", "bn/batchnorm/sub");
    t.op("Tanh", "y", "bn/batchnorm/add_1");
    return t;
  }

  private static void squeeze(TestGraph t, String name, String in) {
    t.add(Nodes.op("Squeeze", name).input(in).type("T", DataType.DT_FLOAT)
        .attr("squeeze_dims", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
            .addI(0)).build()).build());
  }

  /** tf.layers' smart select: Squeeze(Select(Reshape(flag, [1]), ExpandDims(a), ExpandDims(b))). */
  private static String select(TestGraph t, String name, String flag, String a, String b) {
    t.ints(name + "/shape", 1);
    t.add(Nodes.op("Reshape", name + "/flag").input(flag).input(name + "/shape")
        .type("T", DataType.DT_BOOL).type("Tshape", DataType.DT_INT32).build());
    t.ints(name + "/dim", 0);
    for (String[] e : new String[][] {{a, "/a"}, {b, "/b"}}) {
      t.add(Nodes.op("ExpandDims", name + e[1]).input(e[0]).input(name + "/dim")
          .type("T", DataType.DT_FLOAT).type("Tdim", DataType.DT_INT32).build());
    }
    t.add(Nodes.op("Select", name).input(name + "/flag").input(name + "/a").input(name + "/b")
        .type("T", DataType.DT_FLOAT).build());
    squeeze(t, name + "/out", name);
    return name + "/out";
  }

  /** AssignSub(var, (var - stat) * (1 - momentum)), as moving_averages writes it. */
  private static void update(TestGraph t, String name, String var, String stat,
      String momentum) {
    t.scalar(name + "/one", 1f);
    t.op("Sub", name + "/sub", name + "/one", momentum);
    t.op("Sub", name + "/sub_1", var + "/read", stat);
    t.op("Mul", name + "/mul", name + "/sub_1", name + "/sub");
    t.add(Nodes.op("AssignSub", name).input(var).input(name + "/mul")
        .type("T", DataType.DT_FLOAT).build());
  }

  /** MatMul, BiasAdd, Tanh with the same w and b: the network without its BN. */
  static Model stripped(TestGraph t) {
    TestGraph ref = new TestGraph(0);
    ref.placeholder("x", -1, 6);
    ref.variable("w", new long[] {6, 5}, TensorProtos.floats(t.variables().get("w")));
    ref.variable("b", new long[] {5}, TensorProtos.floats(t.variables().get("b")));
    ref.op("MatMul", "mm", "x", "w");
    ref.op("BiasAdd", "ba", "mm", "b");
    ref.op("Tanh", "y", "ba");
    return ref.model("x", IN, "y");
  }

  @Test
  void matchesTheSwitchedBatchNormWithItsUpdates() {
    List<NormalizationMatch> found = NormalizationMatcher.find(
        GraphView.of(graph(Variant.SWITCHED).graph()));
    assertEquals(1, found.size(), found.toString());
    NormalizationMatch m = found.get(0);
    assertEquals(NormKind.BATCH_NORM, m.kind());
    assertTrue(m.batchStatistics());
    assertEquals(TensorName.of("z"), m.input());
    assertEquals(TensorName.of("bn/batchnorm/add_1"), m.output());
    assertTrue(m.nodes().containsAll(List.of("bn/sel_var", "bn/sel_mean", "bn/moments/variance",
        "bn/AssignMovingAvg", "bn/AssignMovingAvg_1/mul")), m.nodes().toString());
    assertFalse(m.nodes().contains("training"), "the flag is shared, never part of a match");
  }

  @Test
  void removesTheSwitchedBatchNormAndItsMovingAverageUpdates() {
    TestGraph t = graph(Variant.SWITCHED);
    Pipeline.Result r = WrittenOutNormTest.pipeline(Mode.REMOVE).run(t.model("x", IN, "y"));
    GraphView g = GraphView.of(r.model().graph());
    assertFalse(hasAny(r.model().graph(), GONE), TestGraph.ops(r.model().graph()).toString());
    assertEquals(Set.of("w", "b"), r.model().variables().keySet());
    assertTrue(g.get("train").getInputList().isEmpty(), "control edges to removed updates");
    for (String gone : List.of("bn/moving_mean", "bn/sel_momentum", "bn/sel_momentum/flag",
        "bn/AssignMovingAvg/one", "bn/gamma")) {
      assertFalse(g.contains(gone), gone);
    }
    TensorProto x = t.randomInput(IN);
    assertEquals(0.0, maxAbsDiff(run(r.model(), "x", x, "y"), run(stripped(t), "x", x, "y")),
        1e-6);
  }

  @Test
  void removesTheMomentsFormWithoutASwitch() {
    TestGraph t = graph(Variant.MOMENTS_ONLY);
    Pipeline.Result r = WrittenOutNormTest.pipeline(Mode.REMOVE).run(t.model("x", IN, "y"));
    assertFalse(hasAny(r.model().graph(), GONE), TestGraph.ops(r.model().graph()).toString());
    TensorProto x = t.randomInput(IN);
    assertEquals(0.0, maxAbsDiff(run(r.model(), "x", x, "y"), run(stripped(t), "x", x, "y")),
        1e-6);
  }

  @Test
  void foldRefusesTheSwitchedFormAndKeepsItsFunction() {
    TestGraph t = graph(Variant.SWITCHED);
    Model m = t.model("x", IN, "y");
    Pipeline.Result r = WrittenOutNormTest.pipeline(Mode.FOLD).run(m);
    assertTrue(GraphView.of(r.model().graph()).contains("bn/batchnorm/Rsqrt"));
    TensorProto x = t.randomInput(IN);
    assertEquals(0.0, maxAbsDiff(run(m, "x", x, "y"), run(r.model(), "x", x, "y")), 0.0);
  }

  @Test
  void aSelectThatIsNotATrainingSwitchOfAVarianceStays() {
    for (Variant v : List.of(Variant.SWITCHED_MEAN, Variant.DATA_CONDITION)) {
      TestGraph t = graph(v);
      Model m = t.model("x", IN, "y");
      assertEquals(List.of(), NormalizationMatcher.find(GraphView.of(t.graph())), v.name());
      Pipeline.Result r = WrittenOutNormTest.pipeline(Mode.REMOVE).run(m);
      GraphView g = GraphView.of(r.model().graph());
      assertTrue(g.contains("bn/batchnorm/Rsqrt") && g.contains("bn/sel_var"), v.name());
      TensorProto x = t.randomInput(IN);
      float[] before = run(m, "x", x, "y");
      assertEquals(0.0, maxAbsDiff(before, run(r.model(), "x", x, "y")), 0.0, v.name());
      // and the graph is not the stripped network (the control is not vacuous)
      assertTrue(maxAbsDiff(before, run(stripped(t), "x", x, "y")) > 1e-2, v.name());
    }
  }
}
