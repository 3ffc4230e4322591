package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.rewriter.passes.dks.DksInitPass;
import dev.dks.rewriter.passes.dks.ShapeActivationsPass;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksSolver;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatTargets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/**
 * The kernel of a 50-layer shaped plain network of width 256 measured through TensorFlow matches
 * the C maps dks-solver predicts (the acceptance criterion), and a broken network fails.
 */
@Tag("slow")
class KernelCheckTest {
  private static final int DEPTH = 50;
  private static final int WIDTH = 256;

  private static Model shapedChain(String activation, Method method) {
    DenseNets n = new DenseNets(WIDTH);
    TensorName x = TensorName.of("input");
    for (int i = 0; i < DEPTH; i++) {
      x = n.act(activation, n.dense(x));
    }
    Model raw = n.model(n.dense(x));
    return Pipeline.builder()
        .add(new ShapeActivationsPass(method, ActivationPolicy.defaults(method).all(activation),
            DksTargets.defaults(), TatTargets.defaults()))
        .add(new DksInitPass(3)).build().run(raw).model();
  }

  private static ShapingSolution solution(String activation) {
    return DksSolver.solve(List.of(Activations.byName(activation)),
        NetworkMaps.of(Architectures.plainChain(DEPTH)), DksTargets.defaults());
  }

  @Test
  void shapedTanhChainMatchesPrediction() {
    KernelReport r = KernelCheck.run(shapedChain("tanh", Method.DKS), solution("tanh"),
        KernelCheck.Options.defaults());
    assertTrue(r.passed(), r.toText());
    assertEquals(WIDTH, r.width());
    // at the input the measured c is the constructed one exactly
    r.rows().stream().filter(m -> m.depth() == 0).forEach(m ->
        assertEquals(m.inputC(), m.measuredC(), 1e-6));
  }

  @Test
  void aKernelScaledByTwoFails() {
    Model m = shapedChain("tanh", Method.DKS);
    Map<String, TensorProto> vars = new HashMap<>(m.variables());
    float[] k = TensorProtos.floats(vars.get("dense25/kernel"));
    for (int i = 0; i < k.length; i++) {
      k[i] *= 2;
    }
    vars.put("dense25/kernel", TensorProtos.ofFloats(new long[] {WIDTH, WIDTH}, k));
    KernelReport r = KernelCheck.run(m.with(m.graph(), vars), solution("tanh"),
        KernelCheck.Options.defaults());
    assertFalse(r.passed(), r.toText());
  }
}
