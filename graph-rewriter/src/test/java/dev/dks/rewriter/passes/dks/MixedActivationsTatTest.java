package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * TAT on a body that mixes the ReLU family with a smooth activation (an SSR-Net-like relu stream
 * and tanh stream): TReLU's C(0) target cannot be shared, so the ReLU family becomes softplus and
 * both take TAT's smooth form; the solved network C''(1) of each is the target tau. Controls: a
 * ReLU-only body keeps leaky_relu, and an explicit leaky_relu for relu with a tanh still refuses.
 */
class MixedActivationsTatTest {
  private static Model mixed() {
    DenseNets n = new DenseNets();
    TensorName h = n.act("relu", n.dense(TensorName.of("input")));
    TensorName t = n.act("tanh", n.dense(h));
    return n.model(n.dense(n.act("relu", n.dense(t))));
  }

  private static Pipeline.Result shape(Model m, ActivationPolicy p) {
    return Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false)).add(new ShapeActivationsPass(Method.TAT, p,
            DksTargets.defaults(), TatTargets.defaults())).build().run(m);
  }

  @Test
  void theReluFamilyBecomesSoftplusBesideTanh() {
    Pipeline.Result r = shape(mixed(), ActivationPolicy.defaults(Method.TAT));
    ShapingSolution s = r.fact(ShapingSolution.class).orElseThrow();
    Set<String> ids = new TreeSet<>(s.activations().keySet());
    assertEquals(Set.of("softplus", "tanh"), ids);
    double tau = TatTargets.defaults().tau();
    s.activations().values().forEach(a -> assertEquals(tau, a.network().cCurvature1(), 1e-6,
        a.base().id()));
    assertTrue(r.outcomes().get(0).notes().stream().anyMatch(x -> x.contains("mixes the ReLU "
        + "family") && x.contains("(relu)") && x.contains("(tanh)")), r.outcomes().toString());
  }

  @Test
  void controls() {
    DenseNets n = new DenseNets();
    TensorName h = TensorName.of("input");
    for (int i = 0; i < 30; i++) {
      h = n.act("relu", n.dense(h));
    }
    Model reluOnly = n.model(n.dense(h));
    ShapingSolution s = shape(reluOnly, ActivationPolicy.defaults(Method.TAT))
        .fact(ShapingSolution.class).orElseThrow();
    assertEquals(List.of("leaky_relu"), List.copyOf(s.activations().keySet()));
    ActivationPolicy asked = ActivationPolicy.defaults(Method.TAT).withOverride("relu",
        "leaky_relu");
    assertThrows(RuntimeException.class, () -> shape(mixed(), asked));
  }
}
