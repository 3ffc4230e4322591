package dev.dks.rewriter.passes.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.StripNormalizationPass.Mode;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.SharedModels;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;

/**
 * strip-norm on a real TF 1.4 SavedModel: Vespa's batch-norm MNIST MLP, whose three
 * tf.layers.batch_normalization are written out from tf.nn.moments behind a training Select. The
 * two in the body are removed; the third is the model's output and stays. The rewrite is checked
 * against the original bundle with the two BNs' outputs fed their inputs (TensorFlow computing
 * the network without them).
 */
class VespaBatchNormMnistTest {
  static final String MODEL = "vespa_tf1_batch_norm_mnist";
  static final String BN1 = "dnn/batch_normalization/batchnorm/add_1";
  static final String BN2 = "dnn/batch_normalization_2/batchnorm/add_1";

  @Test
  void removesTheTwoBodyBatchNormsAndKeepsTheFunctionWithoutThem() {
    Path dir = SharedModels.require(MODEL);
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      GraphView g = GraphView.of(b.graph().toGraphDef());
      String out = "dnn/batch_normalization_3/batchnorm/add_1";
      g.prune(List.of(out));
      Map<String, TensorProto> values = new LinkedHashMap<>();
      List<String> vars = g.nodes().stream().filter(n -> n.getOp().equals("VariableV2"))
          .map(NodeDef::getName).toList();
      Session.Runner r = b.session().runner();
      vars.forEach(v -> r.fetch(v + "/read"));
      try (Result res = r.run()) {
        for (int i = 0; i < vars.size(); i++) {
          values.put(vars.get(i), TensorProtos.fromTensor(res.get(i)));
        }
      }
      Model m = TestGraph.model(g.toGraphDef(), values, "X", new long[] {-1, 784}, out);
      assertEquals(3, NormalizationMatcher.find(g).size());

      Pipeline.Result rw = WrittenOutNormTest.pipeline(Mode.REMOVE).run(m);
      GraphView after = GraphView.of(rw.model().graph());
      assertEquals(2, rw.outcomes().get(1).changes(), rw.outcomes().toString());
      for (String gone : List.of(BN1, BN2, "dnn/batch_normalization/Select_1",
          "dnn/batch_normalization_2/moments/variance", "batch_normalization/moving_variance")) {
        assertFalse(after.contains(gone), gone);
      }
      assertTrue(after.contains(out));
      assertEquals(TensorName.of("dnn/hidden1/Maximum"),
          TensorName.parse(after.get("dnn/Elu").getInput(0)));

      TensorProto x = new TestGraph(7).randomInput(8, 784);
      float[] got = TestGraph.run(rw.model(), "X", x, out);
      float[] want;
      try (TFloat32 xt = TensorProtos.toTensor(x);
          Result h1 = b.session().runner().feed("X", xt).fetch("dnn/hidden1/Maximum").run();
          Result h2 = b.session().runner().feed("X", xt).feed(BN1, h1.get(0))
              .fetch("dnn/hidden2/Elu").run();
          Result y = b.session().runner().feed("X", xt).feed(BN1, h1.get(0))
              .feed(BN2, h2.get(0)).fetch(out).run()) {
        want = TensorProtos.floats(TensorProtos.fromTensor(y.get(0)));
      }
      // control: the model with its BNs computes something else
      assertTrue(TestGraph.maxAbsDiff(TestGraph.run(m, "X", x, out), want) > 0.1);
      double scale = TestGraph.maxAbs(want);
      assertTrue(scale > 0.1, "output scale " + scale);
      assertEquals(0.0, TestGraph.maxAbsDiff(got, want), 1e-5 * Math.max(1, scale));
    }
  }
}
