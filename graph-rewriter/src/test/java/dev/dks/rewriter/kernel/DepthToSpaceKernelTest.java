package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.rewriter.passes.dks.DksInitPass;
import dev.dks.rewriter.passes.dks.ShapeActivationsPass;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;

/**
 * A depth-to-space rearrangement in a narrow network (blazepose-detector, issue 12: its heads read
 * {@code DepthToSpace} outputs, 96 channels to 24). With spatially constant inputs, location 0
 * of the output holds the first quarter of the units (block 2), which is what the check
 * measures; the c of a 2-unit slice of a 32-unit activation output is biased away from the c of
 * the whole (for an isotropic pair in R^32 at c 0.5, by about -0.09), and the narrow layers after
 * it add their own finite-width bias. The network: input (8 channels) -> 1x1 conv to 32 -> DKS
 * softplus -> DepthToSpace (block 4: 2 channels) -> 1x1 conv to 16 -> DKS softplus -> 1x1 conv.
 * The independent numbers are the c measured through TensorFlow (its own DepthToSpace kernel, 32
 * weight draws, 4096 pairs per input c): the prediction must be within max(0.02, 3 standard
 * errors of the measurement) of them at the judged tensor (measured 0.134, 0.453, 0.832 at input
 * c 0, 0.5, 0.9; predicted 0.127, 0.446, 0.829). Negative control: the infinite-width maps,
 * C(C(c)), which the check predicted before (the simulation did not know DepthToSpace and gave up
 * on the whole network), are further than that and than the default c tolerance 0.03 from the
 * measurement at input c 0 and 0.5 (0 and 0.401). About 15 s of CPU.
 */
class DepthToSpaceKernelTest {
  private static final int WIDE = 32;
  private static final int BLOCK = 4;

  private static Pipeline.Result shaped() {
    TestGraph t = new TestGraph(5);
    String x = t.placeholder("input", -1, 2, 2, 8);
    String k0 = t.normalVariable("conv0/kernel", 0, 0.1, 1, 1, 8, WIDE);
    x = t.op("Relu", "conv0/relu", t.conv("conv0/Conv2D", x, k0));
    x = t.add(Nodes.op("DepthToSpace", "d2s").input(x).type("T", DataType.DT_FLOAT)
        .attr("block_size", AttrValue.newBuilder().setI(BLOCK).build())
        .attr("data_format", "NHWC").build());
    int narrow = WIDE / (BLOCK * BLOCK);
    String k1 = t.normalVariable("conv1/kernel", 0, 0.1, 1, 1, narrow, 16);
    x = t.op("Relu", "conv1/relu", t.conv("conv1/Conv2D", x, k1));
    String k = t.normalVariable("out/kernel", 0, 0.1, 1, 1, 16, 16);
    String out = t.conv("out/Conv2D", x, k);
    Model raw = t.model("input", new long[] {-1, 2, 2, 8}, out);
    return Pipeline.builder()
        .add(new ShapeActivationsPass(Method.DKS,
            ActivationPolicy.defaults(Method.DKS).all("softplus"), DksTargets.defaults(),
            TatTargets.defaults()))
        .add(new DksInitPass(11)).build().run(raw);
  }

  /**
   * The layout reads the channels-last DepthToSpace as a slice to in / block^2 units (its static
   * output shape: 2 channels), so every node of the network has a known width.
   */
  @Test
  void layoutReadsDepthToSpaceAsASlice() {
    Model m = shaped().model();
    GraphView g = GraphView.of(m.graph());
    NetworkAnalysis a = StructureAnalyzer.analyze(g, List.of("input"), m.outputNodes());
    try (Graph tg = new Graph()) {
      GraphImport.into(tg, m.graph());
      FiniteWidthPairs.Layout layout = FiniteWidthPairs.layout(tg, g, a);
      int d2s = a.dagIndex().get("d2s");
      assertEquals(FiniteWidthPairs.Op.SLICE, layout.op()[d2s]);
      assertEquals(WIDE / (BLOCK * BLOCK), layout.width()[d2s]);
      for (int i = 0; i < layout.width().length; i++) {
        assertTrue(layout.width()[i] > 0, "node " + i + " of " + a.dag());
      }
    }
  }

  @Test
  void depthToSpaceSliceIsPredictedAtFiniteWidth() {
    Pipeline.Result res = shaped();
    ShapingSolution sol = res.fact(ShapingSolution.class).orElseThrow();
    KernelReport r = KernelCheck.run(res.model(), sol,
        new KernelCheck.Options(new double[] {0.0, 0.5, 0.9}, 4096, 99, 0.03, 0.5, 32));
    System.out.println(r.toText());
    LocalMaps maps = LocalMaps.of(sol.get("softplus").transformed());
    // the measurement's standard error (the largest over the input c values, weights and pairs)
    double se = r.sampling().cStandardError();
    double tol = Math.max(0.02, 3 * se);
    List<KernelMeasurement> judged = r.judgedRows();
    assertEquals(3, judged.size(), r.toText());
    int controls = 0;
    for (KernelMeasurement m : judged) {
      String what = "input c " + m.inputC() + ", tolerance " + tol + "\n" + r.toText();
      assertEquals(m.measuredC(), m.predictedC(), tol, what);
      if (m.inputC() < 0.9) {
        // the maps (conv layers keep c at infinite width, the depth-to-space slice too)
        double infinite = maps.c(maps.c(m.inputC()));
        assertTrue(Math.abs(infinite - m.measuredC()) > Math.max(0.03, tol),
            "control: the maps' c " + infinite + "\n" + what);
        controls++;
      }
    }
    assertEquals(2, controls);
    assertTrue(r.passed(), r.toText());
  }
}
