package dev.dks.savedmodels.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.analysis.ActivationSite;
import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.TestAssets;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatSolver;
import dev.dks.solver.solve.TatTargets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;

/**
 * The whole DKS/TAT rewrite ({@link DksRewrite} with {@link RewriteOptions#defaults()}) on a real
 * TF 1.15 SavedModel: Teachable Machine's MobileNetV2 alpha 0.35, 224x224, with 52
 * FusedBatchNormV3, 10 residual AddV2 and Relu6 activations on the serving path. After the
 * rewrite no normalization, no residual merge and no Relu6 is left, every activation is the
 * leaky ReLU with the slope dks-solver gives for the structure of the rewritten graph, the model
 * runs, and it trains (SGD on softmax cross-entropy, one-hot labels).
 */
class MobileNetV2RewriteTest {
  static final String MODEL = "tm_mobilenetv2_035_tf115";

  static Model original;
  static NetworkAnalysis before;
  /** The pipeline up to max-pool (shape-activations and every later pass skipped). */
  static Pipeline.Result partial;
  /** The full pipeline. */
  static Pipeline.Result full;

  @BeforeAll
  static void rewrite() {
    Path dir = TestAssets.sharedModel(MODEL);
    long t0 = System.nanoTime();
    original = SavedModelReader.read(dir);
    long read = RealModels.millisSince(t0);
    before = StructureAnalyzer.analyze(GraphView.of(original.graph()), original.inputNodes(),
        original.outputNodes());

    t0 = System.nanoTime();
    full = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(original);
    long fullMs = RealModels.millisSince(t0);

    t0 = System.nanoTime();
    partial = RealModels.pipelineUpTo(RewriteOptions.defaults(), "max-pool").build()
        .run(original);
    long partialMs = RealModels.millisSince(t0);

    System.out.printf("[timing] %s: read %d ms, full TAT rewrite %d ms (%d -> %d nodes), "
        + "rewrite up to max-pool %d ms%n", MODEL, read, fullMs,
        original.graph().getNodeCount(), full.model().graph().getNodeCount(), partialMs);
    for (PassOutcome o : full.outcomes()) {
      System.out.println("  " + o.pass() + ": " + o.changes() + " changes; "
          + abbreviate(o.notes()));
    }
  }

  private static String abbreviate(List<String> notes) {
    String s = String.join(" | ", notes);
    return s.length() > 400 ? s.substring(0, 400) + "..." : s;
  }

  private static GraphView graphOf(Pipeline.Result r) {
    return GraphView.of(r.model().graph());
  }

  @Test
  void normalizationAndResidualMergesAreRemoved() {
    Map<String, Integer> opsBefore = RealModels.opsOnPath(GraphView.of(original.graph()),
        RealModels.servingOutputs(original));
    int bnBefore = RealModels.NORM_OPS.stream().mapToInt(o -> opsBefore.getOrDefault(o, 0)).sum();
    assertEquals(52, bnBefore, opsBefore.toString());
    List<MergeSite> residuals = before.residualMerges();
    assertEquals(10, residuals.size(), residuals.toString());
    for (MergeSite m : residuals) {
      assertEquals("AddV2", GraphView.of(original.graph()).get(m.node()).getOp(), m.node());
    }

    GraphView g = graphOf(full);
    Map<String, Integer> opsAfter = RealModels.opsOnPath(g, RealModels.servingOutputs(
        full.model()));
    for (String op : RealModels.NORM_OPS) {
      assertFalse(opsAfter.containsKey(op), op + " left on the serving path: " + opsAfter);
    }
    NetworkAnalysis after = StructureAnalyzer.analyze(g, full.model().inputNodes(),
        full.model().outputNodes());
    assertEquals(List.of(), after.residualMerges());
    Set<String> live = g.ancestors(RealModels.servingOutputs(full.model()));
    for (MergeSite m : residuals) {
      assertFalse(live.contains(m.node()), "residual merge " + m.node() + " is still there");
    }
    System.out.printf("%s: FusedBatchNorm* on the serving path %d -> 0, residual AddV2 %d -> "
        + "%d; ops after: %s%n", MODEL, bnBefore, residuals.size(), after.residualMerges().size(),
        opsAfter);
  }

  @Test
  void everyActivationIsTheSolversLeakyRelu() {
    // the structure the shaping pass sees: after the norm/skip/max-pool passes, before shaping
    NetworkAnalysis a = StructureAnalyzer.analyze(graphOf(partial), partial.model().inputNodes(),
        partial.model().outputNodes());
    assertTrue(a.residualMerges().isEmpty(), a.residualMerges().toString());
    long relu6 = a.activations().stream().filter(s -> s.kind().equals("relu6")).count();
    assertEquals(35, relu6, a.activations().stream().map(ActivationSite::kind).toList()
        .toString());
    ShapingParams want = TatSolver.solve(List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(a.structure()), TatTargets.defaults()).get("leaky_relu").params();
    double slope = want.negativeSlope().orElseThrow();
    assertTrue(slope > 0 && slope < 1, "slope " + slope);

    // the pipeline stored the same solution
    ShapingSolution sol = full.fact(ShapingSolution.class).orElseThrow();
    assertEquals(Method.TAT, sol.method());
    assertEquals(slope, sol.get("leaky_relu").params().negativeSlope().orElseThrow(), 1e-12);

    GraphView g = graphOf(full);
    Set<String> live = g.ancestors(RealModels.servingOutputs(full.model()));
    int leaky = 0;
    for (NodeDef n : g.nodes()) {
      assertFalse(n.getOp().equals("Relu6"), "Relu6 left: " + n.getName());
      if (!live.contains(n.getName())) {
        continue;
      }
      assertFalse(n.getOp().equals("Relu"), "Relu left on the serving path: " + n.getName());
      if (n.getOp().equals("LeakyRelu")) {
        leaky++;
        assertEquals((float) slope, n.getAttrOrThrow("alpha").getF(), 0f, n.getName());
        assertOutputScale(g, n, want.outputScale());
      }
    }
    for (ActivationSite s : a.activations()) {
      assertFalse(live.contains(s.output()), "activation " + s.output() + " (" + s.kind()
          + ") is still on the serving path");
    }
    assertEquals(a.activations().size(), leaky, "one LeakyRelu per activation site");
    System.out.printf("%s: %d activation sites (%d Relu6) -> %d LeakyRelu, alpha %.6f, output "
        + "scale %.6f, structure depth %d%n", MODEL, a.activations().size(), relu6, leaky, slope,
        want.outputScale(), a.dag().depth());
  }

  /** The TReLU's output scale: the LeakyRelu's only consumer multiplies by it. */
  private static void assertOutputScale(GraphView g, NodeDef leaky, double scale) {
    List<String> consumers = g.consumers(leaky.getName());
    assertEquals(1, consumers.size(), leaky.getName() + " consumers " + consumers);
    NodeDef mul = g.get(consumers.get(0));
    assertEquals("Mul", mul.getOp(), mul.getName());
    boolean found = false;
    for (String in : mul.getInputList()) {
      NodeDef c = g.get(TensorName.parse(in).node());
      if (c.getOp().equals("Const")) {
        float[] v = TensorProtos.floats(c.getAttrOrThrow("value").getTensor());
        assertEquals(1, v.length);
        assertEquals((float) scale, v[0], 1e-6f, mul.getName());
        found = true;
      }
    }
    assertTrue(found, mul.getName() + " multiplies by no constant");
  }

  @Test
  void rewrittenModelRunsWithFiniteOutputs() {
    long t0 = System.nanoTime();
    float[] y = RealModels.runOnGaussian(full.model(), new long[] {1, 224, 224, 3}, 11);
    long ms = RealModels.millisSince(t0);
    assertEquals(2, y.length);
    assertEquals(-1, RealModels.firstNonFinite(y), java.util.Arrays.toString(y));
    assertEquals(1.0, y[0] + y[1], 1e-5, "softmax row");
    System.out.printf("%s: rewritten model output on N(0,1) input %s (load + run %d ms)%n",
        MODEL, java.util.Arrays.toString(y), ms);
  }

  /**
   * Trains the rewritten model: its GraphDef imported into a fresh graph, the variables assigned,
   * softmax cross-entropy on the logits (the final Softmax's input) with one-hot labels (TF has
   * no gradient for the sparse form), gradients for the model's variables only, and plain SGD
   * per variable. Five steps on one fixed batch of four must lower the loss.
   */
  @Test
  @Tag("slow")
  void rewrittenModelTrains() {
    Model m = full.model();
    GraphView view = GraphView.of(m.graph());
    String outNode = RealModels.servingOutputs(m).get(0);
    NodeDef softmax = view.get(outNode);
    assertEquals("Softmax", softmax.getOp(), outNode);
    TensorName logitsName = TensorName.parse(softmax.getInput(0));
    String in = RealModels.servingInput(m);
    int batch = 4;
    int classes = 2;
    float lr = 0.001f;
    Random rnd = new Random(3);
    TensorProto xs = RealModels.gaussian(new long[] {batch, 224, 224, 3}, rnd);
    float[] labels = new float[batch * classes];
    for (int i = 0; i < batch; i++) {
      labels[i * classes + (i % classes)] = 1f;
    }

    // the variables the loss depends on must be exactly the model's variables
    Set<String> live = view.ancestors(List.of(logitsName.node()));
    List<String> vars = new ArrayList<>();
    for (String v : m.variables().keySet()) {
      assertTrue(live.contains(v), "variable " + v + " does not reach the logits");
      vars.add(v);
    }
    assertFalse(vars.isEmpty());

    float[] losses = new float[6];
    long t0 = System.nanoTime();
    try (Graph g = new Graph()) {
      GraphImport.into(g, m.graph());
      Ops tf = Ops.create(g);
      Ops train = tf.withSubScope("dks_train");
      Operand<TFloat32> logits = g.operation(logitsName.node()).output(logitsName.index());
      Placeholder<TFloat32> y = train.placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(batch, classes)));
      Operand<TFloat32> loss = train.math.mean(
          train.nn.softmaxCrossEntropyWithLogits(logits, y).loss(), train.constant(0));
      Output<?>[] varOuts = new Output<?>[vars.size()];
      for (int i = 0; i < vars.size(); i++) {
        varOuts[i] = g.operation(vars.get(i)).output(0);
      }
      Output<?>[] grads = g.addGradients(loss.asOutput(), varOuts);
      assertEquals(vars.size(), grads.length);
      Operand<TFloat32> rate = train.constant(lr);
      List<Operand<?>> updates = new ArrayList<>();
      for (int i = 0; i < vars.size(); i++) {
        @SuppressWarnings("unchecked")
        Operand<TFloat32> v = (Operand<TFloat32>) varOuts[i];
        @SuppressWarnings("unchecked")
        Operand<TFloat32> d = (Operand<TFloat32>) grads[i];
        updates.add(train.train.applyGradientDescent(v, rate, d));
      }
      Ops assign = tf.withSubScope("dks_assign");
      List<Tensor> open = new ArrayList<>();
      try (Session s = new Session(g)) {
        Session.Runner init = s.runner();
        for (String v : vars) {
          Placeholder<TFloat32> ph = assign.placeholder(TFloat32.class);
          TFloat32 t = TensorProtos.toTensor(m.variables().get(v));
          open.add(t);
          init.feed(ph, t).addTarget(assign.assign(g.operation(v).<TFloat32>output(0), ph));
        }
        init.run().close();
        TFloat32 xt = TensorProtos.toTensor(xs);
        open.add(xt);
        TFloat32 yt = TensorProtos.toTensor(TensorProtos.ofFloats(new long[] {batch, classes},
            labels));
        open.add(yt);
        for (int step = 0; step < 6; step++) {
          Session.Runner r = s.runner().feed(in, xt).feed(y, yt).fetch(loss);
          if (step < 5) {
            updates.forEach(r::addTarget);
          }
          try (Result res = r.run()) {
            losses[step] = ((TFloat32) res.get(0)).getFloat();
          }
        }
      } finally {
        open.forEach(Tensor::close);
      }
    }
    long ms = RealModels.millisSince(t0);
    System.out.printf("%s: SGD lr %s on a fixed batch of %d, %d variables: loss per step %s "
        + "(last value after the 5th update) (%d ms)%n", MODEL, lr, batch, vars.size(),
        java.util.Arrays.toString(losses), ms);
    assertEquals(-1, RealModels.firstNonFinite(losses), java.util.Arrays.toString(losses));
    assertTrue(losses[4] < losses[0], "loss did not decrease: "
        + java.util.Arrays.toString(losses));
    assertTrue(losses[5] < losses[0], "loss did not decrease: "
        + java.util.Arrays.toString(losses));
  }

  @Test
  void dksInitReinitializedTheLayers() {
    // every layer kernel changed, and the biases on the path are zero
    NetworkAnalysis a = StructureAnalyzer.analyze(graphOf(full), full.model().inputNodes(),
        full.model().outputNodes());
    int layers = 0;
    for (var l : a.layers()) {
      TensorProto now = full.model().variables().get(l.kernelVariable());
      TensorProto was = original.variables().get(l.kernelVariable());
      if (now == null || was == null) {
        continue;
      }
      layers++;
      assertFalse(java.util.Arrays.equals(TensorProtos.floats(now), TensorProtos.floats(was)),
          l.node() + " kept its trained kernel");
      if (!l.biasVariable().isEmpty()) {
        for (float b : TensorProtos.floats(full.model().variables().get(l.biasVariable()))) {
          assertEquals(0f, b, 0f, l.biasVariable());
        }
      }
    }
    assertEquals(a.layers().size(), layers, "every layer's kernel is a variable with a value");
    System.out.printf("%s: %d layers re-initialized (%s)%n", MODEL, layers,
        RealModels.opsOnPath(graphOf(full), RealModels.servingOutputs(full.model())).entrySet()
            .stream().filter(e -> Set.of("Conv2D", "DepthwiseConv2dNative", "MatMul")
                .contains(e.getKey())).toList());
  }
}
