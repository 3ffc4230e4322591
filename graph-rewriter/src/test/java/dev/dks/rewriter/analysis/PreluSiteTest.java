package dev.dks.rewriter.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.Method;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;

/**
 * PReLU as the TF.js reader splits it, relu(x) - alpha * relu(-x) with per-channel alpha, is one
 * activation site of kind prelu (the ReLU family: TAT leaky_relu, DKS softplus), not two relus
 * joined by a Sub: dense -> prelu -> dense has slope map x (one nonlinear layer) and no warning.
 * Control: with relu(x) in place of relu(-x) the Sub joins two relu sites (slope x, averaged, with
 * a warning naming the Sub).
 */
class PreluSiteTest {
  private static DenseNets net(boolean negated) {
    DenseNets n = new DenseNets();
    TensorName x = n.dense(TensorName.of("input"));
    n.g.add(Nodes.op("Relu", "p/pos").input(x).type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Neg", "p/neg").input(x).type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Relu", "p/neg_relu").input(negated ? "p/neg" : x.toString())
        .type("T", DataType.DT_FLOAT).build());
    float[] alpha = new float[DenseNets.WIDTH];
    java.util.Arrays.fill(alpha, 0.25f);
    n.g.add(Nodes.constant("p/alpha", TensorProtos.ofFloats(new long[] {DenseNets.WIDTH},
        alpha)));
    n.g.add(Nodes.op("Mul", "p/scaled").input("p/alpha").input("p/neg_relu")
        .type("T", DataType.DT_FLOAT).build());
    n.g.add(Nodes.op("Sub", "p").input("p/pos").input("p/scaled").type("T", DataType.DT_FLOAT)
        .build());
    n.model(n.dense(TensorName.of("p")));
    return n;
  }

  @Test
  void theSplitPreluIsOneReluFamilySite() {
    NetworkAnalysis a = StructureAnalyzer.analyze(net(true).g, List.of("input"),
        List.of("output"));
    assertEquals(1, a.activations().size(), a.activations().toString());
    ActivationSite s = a.activations().get(0);
    assertEquals("prelu", s.kind());
    assertEquals("p", s.output());
    assertEquals(TensorName.of("dense1/BiasAdd"), s.input());
    assertEquals(5, s.nodes().size());
    assertEquals(1.3, NetworkMaps.of(a.structure()).maxSlope(1.3), 1e-12);
    assertTrue(a.warnings().isEmpty(), a.warnings().toString());
    assertEquals("leaky_relu", ActivationPolicy.defaults(Method.TAT).target("prelu"));
    assertEquals("softplus", ActivationPolicy.defaults(Method.DKS).target("prelu"));
  }

  @Test
  void twoRelusOfTheSameSignAreNoPrelu() {
    NetworkAnalysis a = StructureAnalyzer.analyze(net(false).g, List.of("input"),
        List.of("output"));
    assertEquals(List.of("relu", "relu"), a.activations().stream().map(ActivationSite::kind)
        .toList());
    assertTrue(a.warnings().stream().anyMatch(w -> w.contains("'p' (Sub)")),
        a.warnings().toString());
  }
}
