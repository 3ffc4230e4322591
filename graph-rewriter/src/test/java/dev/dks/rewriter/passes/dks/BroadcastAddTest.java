package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.rewriter.testing.DenseNets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * A residual merge is an add of two body tensors of the same static shape. The network: a dense
 * stem, one residual block (same-shape AddV2, a skip), then a head that adds a [-1,16] tensor (a
 * dense layer after a tanh) and a [-1,1] one (the block's row sums) (a broadcasting add of two paths from the input, as in a keypoint-decoding head).
 * The skips pass must remove the block's skip and leave the head's add, saying why.
 */
class BroadcastAddTest {
  private static final int W = DenseNets.WIDTH;

  private static Model network() {
    return DenseNets.residualBlockAndBroadcastHead();
  }


  @Test
  void theAnalysisTakesOnlyTheSameShapeAddForAResidualMerge() {
    Model m = network();
    NetworkAnalysis a = StructureAnalyzer.analyze(GraphView.of(m.graph()), List.of("input"),
        List.of("output"));
    assertEquals(List.of("block/add"), a.residualMerges().stream().map(MergeSite::node).toList());
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("'head/add'")
        && w.contains(StructureAnalyzer.NOT_A_SKIP) && w.contains("[-1, 16]")
        && w.contains("[-1, 1]")), a.warnings().toString());
  }

  @Test
  void theSkipsPassLeavesTheBroadcastingAddAndSaysWhy() {
    Model in = network();
    NodeDef before = GraphView.of(in.graph()).get("head/add");
    Pipeline.Result r = Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(true)).add(new SkipConnectionPass(0)).build().run(in);
    PassOutcome o = r.outcomes().get(0);
    assertEquals(1, o.changes(), o.toString());
    assertTrue(o.notes().contains("removed the skip connection at 'block/add'"), o.toString());
    assertTrue(o.notes().stream().anyMatch(s -> s.contains("'head/add'")
        && s.contains(StructureAnalyzer.NOT_A_SKIP)), o.toString());
    GraphView g = GraphView.of(r.model().graph());
    assertEquals(before.getInputList(), g.get("head/add").getInputList());
    assertTrue(g.consumers("block/add").isEmpty() || !g.contains("block/add"));

    // the head still broadcasts: output = dense branch [4,16] + row sums [4,1], by hand
    float[] x = new float[4 * W];
    Random rnd = new Random(3);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    String act = before.getInput(0);
    try (ModelSession s = new ModelSession(r.model())) {
      Map<String, TensorProto> got = s.run(Map.of("input",
          TensorProtos.ofFloats(new long[] {4, W}, x)), List.of("output", act, "head/sum"));
      float[] out = TensorProtos.floats(got.get("output"));
      float[] t = TensorProtos.floats(got.get(act));
      float[] sum = TensorProtos.floats(got.get("head/sum"));
      assertEquals(4, sum.length);
      assertEquals(4 * W, out.length);
      for (int i = 0; i < 4; i++) {
        for (int j = 0; j < W; j++) {
          assertEquals(t[i * W + j] + sum[i], out[i * W + j], 1e-5f);
        }
      }
    }
  }
}
