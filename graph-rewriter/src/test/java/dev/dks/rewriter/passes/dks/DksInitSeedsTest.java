package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.init.ScaledUniformOrthogonal;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * dks-init samples its layers in parallel: layer i (1-based, in the structure analysis's order)
 * still gets exactly the kernel of a direct sequential draw with seed + i.
 */
class DksInitSeedsTest {
  @Test
  void everyLayerHasTheKernelOfItsOwnSeed() {
    DenseNets n = new DenseNets();
    TensorName h = TensorName.of("input");
    for (int i = 0; i < 7; i++) {
      h = n.act("relu", n.dense(h));
    }
    Model raw = n.model(n.dense(h));
    long seed = 11;
    Model m = Pipeline.builder().add(new DksInitPass(seed)).build().run(raw).model();
    List<LayerSite> layers = StructureAnalyzer.analyze(GraphView.of(raw.graph()),
        raw.inputNodes(), raw.outputNodes()).layers();
    assertEquals(8, layers.size());
    for (int i = 0; i < layers.size(); i++) {
      String k = layers.get(i).kernelVariable();
      long[] shape = TensorProtos.shape(raw.variables().get(k));
      float[] expected = new ScaledUniformOrthogonal().sample(shape, seed + i + 1).toFloatArray();
      assertArrayEquals(expected, TensorProtos.floats(m.variables().get(k)), 0f, "layer " + i);
    }
  }
}
