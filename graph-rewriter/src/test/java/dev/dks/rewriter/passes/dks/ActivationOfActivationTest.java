package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatTargets;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * An activation that reads another activation directly (Elu of Elu, as the Vespa batch-norm MNIST
 * model is once the BN between them is stripped): both are shaped and the second reads the
 * first's shaped form. Checked against the same network written by hand with the solved
 * activation emitted twice.
 */
class ActivationOfActivationTest {
  private static DenseNets net() {
    DenseNets n = new DenseNets();
    n.randomBiases(0.3, 5);
    return n;
  }

  @Test
  void theSecondActivationReadsTheFirstOnesShapedForm() {
    DenseNets n = net();
    TensorName h = n.act("elu", n.act("elu", n.dense(TensorName.of("input"))));
    Model m = n.model(n.dense(h));
    Pipeline.Result r = Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false)).add(new ShapeActivationsPass(Method.TAT,
            ActivationPolicy.defaults(Method.TAT), DksTargets.defaults(), TatTargets.defaults()))
        .build().run(m);
    assertEquals(2, r.outcomes().get(0).changes(), r.outcomes().toString());
    ShapedActivation sa = r.fact(ShapingSolution.class).orElseThrow().get("elu");

    DenseNets ref = net();
    TensorName d = ref.dense(TensorName.of("input"));
    TensorName a1 = ActivationEmitter.emit(ref.g, "ref1", d, sa.base(), sa.params(),
        DataType.DT_FLOAT);
    TensorName a2 = ActivationEmitter.emit(ref.g, "ref2", a1, sa.base(), sa.params(),
        DataType.DT_FLOAT);
    Model want = ref.model(ref.dense(a2));

    TensorProto x = DenseNets.gaussianInput(8, DenseNets.WIDTH, 3);
    float[] got = DenseNets.run(r.model(), x);
    float[] exp = DenseNets.run(want, x);
    double diff = 0;
    for (int i = 0; i < got.length; i++) {
      diff = Math.max(diff, Math.abs(got[i] - exp[i]));
    }
    assertEquals(0.0, diff, 1e-5);
  }
}
