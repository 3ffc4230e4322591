package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.init.ScaledUniformOrthogonal;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * A transposed convolution left with trained weights ({@link Unpredictable}): a width-64 TAT
 * leaky-ReLU MLP whose fourth layer reads a Conv2DBackpropInput with a "trained" gain-3 kernel
 * (on a 1x1 image, so only its centre tap acts: 3 times an orthogonal matrix). The shaped leaky
 * ReLU keeps q exactly (Q(q) = q), so q after that op is 9 times q before it, about 9, where the
 * maps (which take the op for the identity) predict 1: the last layer's input cannot be judged.
 * The check judges the deepest measured tensor before the op instead, says so, and passes.
 * Negative control: a layer before the op scaled by 2 still fails.
 */
class UnpredictableTest {
  private static final int WIDTH = 64;
  private static final int DEPTH = 6;
  private static final int BEFORE = 3;

  /** TAT leaky ReLU solved for a 20-layer chain (eta 0.9 needs that depth); any slope will do. */
  private static ShapingSolution solution() {
    return TatSolver.solve(List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.plainChain(20)), TatTargets.defaults());
  }

  /** dense+act x 3, reshape to 1x1, Conv2DBackpropInput (gain 3), reshape back, dense+act x 3. */
  private static Model withTransposedConv(ShapedActivation act, float scaleBefore) {
    DenseNets n = new DenseNets(WIDTH);
    TensorName x = TensorName.of("input");
    for (int i = 0; i < BEFORE; i++) {
      x = ActivationEmitter.emit(n.g, "act" + i, n.dense(x), act.base(), act.params(),
          DataType.DT_FLOAT);
    }
    n.g.add(Nodes.constant("img/shape", ints(new long[] {4}, -1, 1, 1, WIDTH)));
    n.g.add(Nodes.op("Reshape", "img").input(x).input("img/shape")
        .type("T", DataType.DT_FLOAT).type("Tshape", DataType.DT_INT32).build());
    n.g.add(Nodes.op("Shape", "img/size").input("img").type("T", DataType.DT_FLOAT)
        .type("out_type", DataType.DT_INT32).build());
    float[] k = new float[3 * 3 * WIDTH * WIDTH];
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < k.length; i++) {
      k[i] = (float) (0.1 * r.nextGaussian()); // off-centre taps: never read on a 1x1 image
    }
    float[] centre = new ScaledUniformOrthogonal().sample(new long[] {WIDTH, WIDTH}, 99)
        .toFloatArray();
    int off = (1 * 3 + 1) * WIDTH * WIDTH;
    for (int i = 0; i < centre.length; i++) {
      k[off + i] = 3 * centre[i];
    }
    n.g.add(Nodes.constant("tconv/filter", TensorProtos.ofFloats(
        new long[] {3, 3, WIDTH, WIDTH}, k)));
    n.g.add(Nodes.op("Conv2DBackpropInput", "tconv").input("img/size").input("tconv/filter")
        .input("img").type("T", DataType.DT_FLOAT)
        .attr("strides", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
            .addI(1).addI(1).addI(1).addI(1)).build())
        .attr("padding", AttrValue.newBuilder().setS(com.google.protobuf.ByteString
            .copyFromUtf8("SAME")).build()).build());
    n.g.add(Nodes.constant("back/shape", ints(new long[] {2}, -1, WIDTH)));
    n.g.add(Nodes.op("Reshape", "back").input("tconv").input("back/shape")
        .type("T", DataType.DT_FLOAT).type("Tshape", DataType.DT_INT32).build());
    x = TensorName.of("back");
    for (int i = BEFORE; i < DEPTH; i++) {
      x = ActivationEmitter.emit(n.g, "act" + i, n.dense(x), act.base(), act.params(),
          DataType.DT_FLOAT);
    }
    Model m = n.model(n.dense(x));
    if (scaleBefore == 1f) {
      return m;
    }
    Map<String, TensorProto> vars = new HashMap<>(m.variables());
    float[] v = TensorProtos.floats(vars.get("dense2/kernel"));
    for (int i = 0; i < v.length; i++) {
      v[i] *= scaleBefore;
    }
    vars.put("dense2/kernel", TensorProtos.ofFloats(new long[] {WIDTH, WIDTH}, v));
    return m.with(m.graph(), vars);
  }

  private static TensorProto ints(long[] shape, int... v) {
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(shape));
    for (int x : v) {
      b.addIntVal(x);
    }
    return b.build();
  }

  @Test
  void judgedBeforeATrainedTransposedConvolution() {
    ShapingSolution sol = solution();
    KernelReport r = KernelCheck.run(withTransposedConv(sol.get("leaky_relu"), 1f), sol,
        KernelCheck.Options.defaults().withDraws(6));
    // the third layer's input (act1's output): the deepest measured tensor before tconv; the
    // last layer's input is act5's output
    assertTrue(r.judgedTensor().startsWith("act1"), r.toText());
    assertTrue(r.judgedNote() != null && r.judgedNote().contains("'tconv' (Conv2DBackpropInput)")
        && r.judgedNote().contains("act5"), r.judgedNote());
    assertTrue(r.passed(), r.toText());
    // why: the maps would take the op for the identity and predict q = 1, while the trained
    // gain 3 makes it 9 (TReLU keeps q, an orthogonal matrix times 3 multiplies |x|^2 by 9
    // exactly); the row is measured only, not predicted
    for (KernelMeasurement m : r.rows()) {
      if (m.tensor().equals("back")) {
        assertTrue(m.pastJudged() && Double.isNaN(m.predictedQ()), m.toString());
        assertTrue(m.pastJudgedNote().contains("'tconv' (Conv2DBackpropInput)"), m.toString());
        assertEquals(9.0, m.measuredQ(), 2.0, r.toText());
      }
    }
    assertTrue(r.rows().stream().anyMatch(m -> m.tensor().equals("back")), r.toText());
  }

  @Test
  void aMisScaledLayerBeforeTheOpStillFails() {
    ShapingSolution sol = solution();
    KernelReport r = KernelCheck.run(withTransposedConv(sol.get("leaky_relu"), 2f), sol,
        KernelCheck.Options.defaults().withDraws(6));
    assertTrue(r.judgedTensor().startsWith("act1"), r.toText());
    assertFalse(r.passed(), r.toText());
  }

  /**
   * dense+act x 3, then a GatherV2 of the features (axis 1, batch_dims 1) at indices either
   * computed from them (Cast(x * 0): all zeros, but a function of the input, as a spatial
   * transformer's are) or constant (the same zeros), then dense+act x 3.
   */
  private static Model withGather(ShapedActivation act, boolean computedIndices) {
    DenseNets n = new DenseNets(WIDTH);
    TensorName x = TensorName.of("input");
    for (int i = 0; i < BEFORE; i++) {
      x = ActivationEmitter.emit(n.g, "act" + i, n.dense(x), act.base(), act.params(),
          DataType.DT_FLOAT);
    }
    if (computedIndices) {
      n.g.add(Nodes.constant("zero", TensorProtos.ofFloats(new long[0], new float[] {0f})));
      n.g.add(Nodes.op("Mul", "idx/f").input(x).input("zero").type("T", DataType.DT_FLOAT)
          .build());
      n.g.add(Nodes.op("Cast", "idx").input("idx/f").type("SrcT", DataType.DT_FLOAT)
          .type("DstT", DataType.DT_INT32).build());
    } else {
      n.g.add(Nodes.constant("idx", ints(new long[] {1, WIDTH}, new int[WIDTH])));
    }
    n.g.add(Nodes.constant("axis", ints(new long[0], 1)));
    n.g.add(Nodes.op("GatherV2", "gather").input(x).input("idx").input("axis")
        .type("Tparams", DataType.DT_FLOAT).type("Tindices", DataType.DT_INT32)
        .type("Taxis", DataType.DT_INT32)
        .attr("batch_dims", AttrValue.newBuilder().setI(computedIndices ? 1 : 0).build())
        .build());
    x = TensorName.of("gather");
    if (!computedIndices) {
      // [N, 1, 64] -> [N, 64]
      n.g.add(Nodes.constant("flat/shape", ints(new long[] {2}, -1, WIDTH)));
      n.g.add(Nodes.op("Reshape", "flat").input("gather").input("flat/shape")
          .type("T", DataType.DT_FLOAT).type("Tshape", DataType.DT_INT32).build());
      x = TensorName.of("flat");
    }
    for (int i = BEFORE; i < DEPTH; i++) {
      x = ActivationEmitter.emit(n.g, "act" + i, n.dense(x), act.base(), act.params(),
          DataType.DT_FLOAT);
    }
    return n.model(n.dense(x));
  }

  @Test
  void judgedBeforeAGatherAtIndicesComputedFromTheInput() {
    ShapingSolution sol = solution();
    KernelCheck.Options o = KernelCheck.Options.defaults().withDraws(2);
    KernelReport r = KernelCheck.run(withGather(sol.get("leaky_relu"), true), sol, o);
    assertTrue(r.judgedTensor().startsWith("act1"), r.toText());
    assertTrue(r.judgedNote() != null && r.judgedNote().contains("'gather' (GatherV2)"),
        r.judgedNote());
    // control: the same gather at constant indices is a fixed selection, judged as usual
    KernelReport c = KernelCheck.run(withGather(sol.get("leaky_relu"), false), sol, o);
    assertTrue(c.judgedTensor().startsWith("act5"), c.toText());
    assertEquals(null, c.judgedNote());
  }

  /**
   * TReLU's C map in closed form (the normalized leaky ReLU of slope s, e.g. Zhang et al. 2022,
   * eq. for the leaky ReLU kernel): c + (1 - s)^2 / (pi (1 + s^2)) (sqrt(1 - c^2) - c acos c).
   */
  private static double treluC(double s, double c) {
    return c + (1 - s) * (1 - s) / (Math.PI * (1 + s * s))
        * (Math.sqrt(1 - c * c) - c * Math.acos(c));
  }

  /**
   * The rows past the gather (the gather's output, the later layers' inputs, the output) are
   * measured only: no prediction, no allowance, no error, flagged with the op; the summary's
   * largest c error counts only the predicted rows. The rows before it keep their predictions,
   * which follow TReLU's closed-form C map from the measured input c (up to the finite-width
   * simulation's bias at width 64) with q 1 (TReLU keeps q, orthogonal layers keep |x|^2).
   */
  @Test
  void rowsPastTheGatherAreMeasuredNotPredicted() {
    ShapingSolution sol = solution();
    double slope = sol.get("leaky_relu").params().negativeSlope().orElseThrow();
    KernelReport r = KernelCheck.run(withGather(sol.get("leaky_relu"), true), sol,
        KernelCheck.Options.defaults().withDraws(2));
    java.util.Set<String> past = new java.util.HashSet<>();
    Map<Double, Double> inputC = new HashMap<>();
    r.rows().stream().filter(m -> m.depth() == 0)
        .forEach(m -> inputC.put(m.inputC(), m.measuredC()));
    for (KernelMeasurement m : r.rows()) {
      if (m.depth() >= BEFORE) {
        // gather (depth 3), act3, act4 (the later layers' inputs) and the output
        assertTrue(m.pastJudged(), m.toString());
        assertTrue(m.pastJudgedNote().contains("'gather' (GatherV2)"), m.pastJudgedNote());
        assertTrue(Double.isNaN(m.predictedQ()) && Double.isNaN(m.predictedC())
            && Double.isNaN(m.cError()) && Double.isNaN(m.qError())
            && Double.isNaN(m.cAllowed()) && Double.isNaN(m.qAllowed())
            && Double.isNaN(m.predictedLogQ()), m.toString());
        assertTrue(Double.isFinite(m.measuredQ()) && Double.isFinite(m.measuredC()),
            m.toString());
        past.add(m.tensor());
        continue;
      }
      assertFalse(m.pastJudged(), m.toString());
      double want = inputC.get(m.inputC());
      for (int k = 0; k < m.depth(); k++) {
        want = treluC(slope, want);
      }
      assertEquals(want, m.predictedC(), 0.02, m + " slope " + slope);
      assertEquals(want, m.measuredC(), 0.05, m.toString());
      assertEquals(1.0, m.predictedQ(), 0.1, m.toString());
    }
    // gather, act3, act4, act5 (the last layer's input) and the output, 3 input c values each
    assertEquals(5, past.size(), r.toText());
    assertTrue(past.contains("gather") && past.contains("output"), past.toString());
    assertEquals(5 * 3, r.pastJudgedRows().size(), r.toText());
    assertTrue(r.rowsWithoutCError().isEmpty(), r.toText());
    // the largest c error is over the predicted rows alone
    assertEquals(r.rows().stream().filter(m -> !m.pastJudged())
        .mapToDouble(KernelMeasurement::cError).max().orElseThrow(), r.maxCError(), 0);
    String text = r.toText();
    assertTrue(text.contains("(not predicted)") && text.contains("lie past 'gather' "
        + "(GatherV2): measured only, neither predicted nor judged, and not errors"), text);
    assertFalse(text.contains("NaN"), text);
    // control: without the gather nothing is past the judged tensor
    KernelReport c = KernelCheck.run(withGather(sol.get("leaky_relu"), false), sol,
        KernelCheck.Options.defaults().withDraws(2));
    assertTrue(c.pastJudgedRows().isEmpty(), c.toText());
    assertFalse(c.toText().contains("not predicted"), c.toText());
  }

  @Test
  void withoutTheOpTheLastLayersInputIsJudged() {
    Map<Integer, String> none = Map.of();
    List<String> measured = List.of("in", "a", "b", "out");
    assertEquals(2, Unpredictable.judgedIndex(measured, Map.of("in", 0, "a", 1, "b", 2,
        "out", 3), none));
    assertEquals(1, Unpredictable.judgedIndex(measured, Map.of("in", 0, "a", 1, "b", 2,
        "out", 3), Map.of(2, "x", 3, "x")));
    assertEquals(-1, Unpredictable.judgedIndex(measured, Map.of("in", 0, "a", 1, "b", 2,
        "out", 3), Map.of(1, "x", 2, "x", 3, "x")));
  }
}
