package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.LayerNodes;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.dks.DksInitPass;
import dev.dks.rewriter.passes.freeze.ConstantsToVariablesPass;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.init.ScaledUniformOrthogonal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * Keras Dense on a 4-d tensor, as TF.js writes it in the meet model's squeeze-and-excitation
 * gates (tensordot: {@code MatMul -> Reshape [N, 1, 1, C] -> BiasAdd}), has its bias found by the
 * analysis and zeroed by DKS initialization. Measured by brute force on a small net built here:
 * after init, a square orthogonal kernel with zero bias keeps every example's sum of squares
 * exactly ({@code |x W|^2 = |x|^2}); negative control: the same identity with the bias the model
 * came with (what init left before, when the bias after the Reshape was not the layer's) is off
 * by about the bias's sum of squares. Controls of the match: a Reshape that changes the units'
 * axis (bias of another length) is not the layer's bias, nor is a bias of the units' length that
 * an add broadcasts against {@code [N, U, 1]} (giving {@code [N, U, U]}) or an NCHW BiasAdd adds
 * on axis 1 of {@code [N, U, 1, U]}; the same adds on {@code [N, 1, 1, U]} (AddV2) or in NHWC are.
 */
class ReshapedBiasTest {
  private static final int W = DenseNets.WIDTH;

  /** input -> dense -> tanh -> tensordot dense (bias after a Reshape to [-1,1,1,W]) -> dense. */
  private static Model gateLikeNet(float[] tdBias, long[] reshapeTo) {
    return gateLikeNet(tdBias, reshapeTo, "BiasAdd", "NHWC");
  }

  /** The same with the bias added by {@code op} (BiasAdd in {@code format}, or Add/AddV2). */
  private static Model gateLikeNet(float[] tdBias, long[] reshapeTo, String op, String format) {
    DenseNets n = new DenseNets();
    TensorName h = n.act("tanh", n.dense(TensorName.of("input")));
    n.g.add(Nodes.op("VariableV2", "td/kernel").type("dtype", DataType.DT_FLOAT)
        .attr("shape", LayerNodes.shape(new long[] {W, W})).build());
    n.vars.put("td/kernel", TensorProtos.ofFloats(new long[] {W, W},
        new ScaledUniformOrthogonal().sample(new long[] {W, W}, 99).toFloatArray()));
    n.g.add(Nodes.constant("td/bias", TensorProtos.ofFloats(new long[] {tdBias.length}, tdBias)));
    n.g.add(Nodes.op("MatMul", "td/MatMul").input(h).input("td/kernel")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.constant("td/shape", LayerNodes.int32Vector(reshapeTo)));
    n.g.add(LayerNodes.reshape("td/Reshape", TensorName.of("td/MatMul"),
        TensorName.of("td/shape")));
    var add = Nodes.op(op, "td/BiasAdd").input("td/Reshape").input("td/bias")
        .type("T", DataType.DT_FLOAT);
    n.g.add((op.equals("BiasAdd") ? add.attr("data_format", format) : add).build());
    n.g.add(Nodes.constant("back/shape", LayerNodes.int32Vector(-1, W)));
    n.g.add(LayerNodes.reshape("back", TensorName.of("td/BiasAdd"), TensorName.of("back/shape")));
    return n.model(n.dense(TensorName.of("back")));
  }

  private static float[] bias(long seed) {
    java.util.Random r = new java.util.Random(seed);
    float[] b = new float[W];
    for (int i = 0; i < W; i++) {
      b[i] = (float) (0.5 * r.nextGaussian());
    }
    return b;
  }

  private static LayerSite site(Model m, String node) {
    return StructureAnalyzer.analyze(GraphView.of(m.graph()), m.inputNodes(), m.outputNodes())
        .layers().stream().filter(l -> l.node().equals(node)).findFirst().orElseThrow();
  }

  /**
   * Largest relative change of the sum of squares, {@code ||y|^2 - |h|^2| / |h|^2}, over 32
   * Gaussian examples: h the tensordot layer's input, y its output (after the bias add).
   */
  private static double worstNormChange(Model m) {
    TensorProto x = DenseNets.gaussianInput(32, W, 5);
    String hName = GraphView.of(m.graph()).get("td/MatMul").getInput(0);
    float[] h;
    float[] y;
    try (ModelSession s = new ModelSession(m)) {
      Map<String, TensorProto> out = s.run(Map.of("input", x), List.of(hName, "back:0"));
      h = TensorProtos.floats(out.get(hName));
      y = TensorProtos.floats(out.get("back:0"));
    }
    double worst = 0;
    for (int e = 0; e < h.length / W; e++) {
      double hh = 0;
      double yy = 0;
      for (int i = 0; i < W; i++) {
        hh += h[e * W + i] * (double) h[e * W + i];
        yy += y[e * W + i] * (double) y[e * W + i];
      }
      worst = Math.max(worst, Math.abs(yy - hh) / hh);
    }
    return worst;
  }

  @Test
  void theBiasAfterTheTensordotReshapeIsTheLayersAndInitZeroesIt() {
    float[] b = bias(7);
    Model raw = gateLikeNet(b, new long[] {-1, 1, 1, W});
    LayerSite s = site(raw, "td/MatMul");
    assertEquals("td/BiasAdd", s.biasNode());
    assertEquals("td/bias", s.biasVariable());

    Model init = Pipeline.builder().add(new ConstantsToVariablesPass()).add(new DksInitPass(3))
        .build().run(raw).model();
    float[] after = TensorProtos.floats(init.variables().get("td/bias"));
    assertEquals(W, after.length);
    for (float v : after) {
      assertEquals(0f, v);
    }
    // brute force: an orthogonal square kernel with zero bias keeps each example's |.|^2
    assertTrue(worstNormChange(init) < 1e-4, "init: " + worstNormChange(init));
    // negative control: with the model's own bias the same identity is far off
    double sumSq = 0;
    for (float v : b) {
      sumSq += v * v;
    }
    assertTrue(sumSq > 1, "the control bias must be visible: " + sumSq);
    assertTrue(worstNormChange(raw) > 0.05, "raw: " + worstNormChange(raw));
  }

  @Test
  void aReshapeThatMovesTheUnitsAxisKeepsItsAddOutOfTheLayer() {
    // [-1, W] -> [-1, W/2, 2]: the add's bias of length 2 acts on a new last axis, not the units
    float[] two = {0.5f, -0.5f};
    DenseNets n = new DenseNets();
    TensorName h = n.act("tanh", n.dense(TensorName.of("input")));
    n.g.add(Nodes.op("MatMul", "td/MatMul").input(h).input("dense1/kernel")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.constant("td/shape", LayerNodes.int32Vector(-1, W / 2, 2)));
    n.g.add(LayerNodes.reshape("td/Reshape", TensorName.of("td/MatMul"),
        TensorName.of("td/shape")));
    n.g.add(Nodes.constant("td/bias", TensorProtos.ofFloats(new long[] {2}, two)));
    n.g.add(Nodes.op("BiasAdd", "td/BiasAdd").input("td/Reshape").input("td/bias")
        .type("T", DataType.DT_FLOAT).attr("data_format", "NHWC").build());
    n.g.add(Nodes.constant("back/shape", LayerNodes.int32Vector(-1, W)));
    n.g.add(LayerNodes.reshape("back", TensorName.of("td/BiasAdd"), TensorName.of("back/shape")));
    Model m = n.model(n.dense(TensorName.of("back")));
    LayerSite s = site(m, "td/MatMul");
    assertEquals("", s.biasNode());
    assertEquals("", s.biasVariable());
  }

  @Test
  void aBiasBroadcastAgainstTheReshapeIsNotTheLayers() {
    float[] b = bias(11);
    // [N, W] -> [N, W, 1] + b[W] = [N, W, W]: b's length is the units', but it is broadcast
    LayerSite broadcast = site(gateLikeNet(b, new long[] {-1, W, 1}, "AddV2", ""), "td/MatMul");
    assertEquals("", broadcast.biasNode());
    assertEquals("", broadcast.biasVariable());
    // control: the same AddV2 on [N, 1, 1, W] keeps the shape and is the layer's bias
    LayerSite kept = site(gateLikeNet(b, new long[] {-1, 1, 1, W}, "AddV2", ""), "td/MatMul");
    assertEquals("td/BiasAdd", kept.biasNode());
    assertEquals("td/bias", kept.biasVariable());
  }

  @Test
  void anNchwBiasAddAfterTheReshapeIsNotTheLayers() {
    // [N, W] -> [N/W, W, 1, W]: the last axis is the units', but NCHW adds b on axis 1
    float[] b = bias(13);
    long[] to = {-1, W, 1, W};
    assertEquals("", site(gateLikeNet(b, to, "BiasAdd", "NCHW"), "td/MatMul").biasNode());
    // control: NHWC adds it on the last axis, the units
    assertEquals("td/BiasAdd", site(gateLikeNet(b, to, "BiasAdd", "NHWC"), "td/MatMul")
        .biasNode());
  }
}
