package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.TestGraph;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.testing.SharedModels;
import dev.dks.solver.init.HomogeneousMode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SaverDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;

/**
 * pln on TF.js's {@code module_with_multiple_signatures} (../shared/models): two signatures whose
 * inputs are declared scalars ({@code float[]}): {@code serving_default} is {@code x * v} with the
 * variable v = 3 and {@code timestwo} is {@code x * 2}. The default pass used to emit a Mean over
 * axis -1 of the scalar, which TensorFlow rejects; a rank-0 input has no batch or feature axis
 * (dks-solver's PerLocationNormalization refuses rank 0 with a batch axis), so it is left alone
 * with a note. The expected outputs are tfjs-node's own test of this model ({@code
 * saved_model_test}: [1, 2, 3, 4] gives [3, 6, 9, 12] and [2, 4, 6, 8]).
 */
class ScalarInputPlnTest {
  static final String MODEL = "tfjs_module_with_multiple_signatures";
  static final List<String> INPUTS = List.of("serving_default_x", "timestwo_x");
  static final List<String> OUTPUTS = List.of("StatefulPartitionedCall",
      "StatefulPartitionedCall_1");

  @Test
  void scalarInputsAreLeftAloneWithANoteAndTheModelComputesWhatTfjsExpects() {
    Path dir = SharedModels.require(MODEL);
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      GraphDef before = b.graph().toGraphDef();
      SaverDef saver = b.metaGraphDef().getSaverDef();
      GraphView g = GraphView.of(before);
      PassOutcome o = new InputNormalizationPass(HomogeneousMode.ONE, 1.0)
          .run(new RewriteContext(g, Map.of(), INPUTS, OUTPUTS));

      assertEquals(0, o.changes(), o.toString());
      for (String in : INPUTS) {
        assertTrue(o.notes().stream().anyMatch(n -> n.contains("'" + in + "' is a scalar")),
            o.notes().toString());
      }
      float[] x = {1, 2, 3, 4};
      float[][] y = run(g.toGraphDef(), saver, dir, x);
      assertArrayEquals(new float[] {3, 6, 9, 12}, y[0], 1e-6f);
      assertArrayEquals(new float[] {2, 4, 6, 8}, y[1], 1e-6f);
    }
  }

  /**
   * Control: the same graph with the inputs declared rank 1 (a batch of scalars) is normalized,
   * each value divided by its own root mean square (its absolute value), so the outputs become 3
   * and 2 times the signs of x: the pass still applies where the specification defines it.
   */
  @Test
  void rankOneInputsOfTheSameModelAreNormalizedToTheirSigns() {
    Path dir = SharedModels.require(MODEL);
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      SaverDef saver = b.metaGraphDef().getSaverDef();
      GraphView g = GraphView.of(b.graph().toGraphDef());
      for (String in : INPUTS) {
        NodeDef p = g.get(in);
        g.put(p.toBuilder().putAttr("shape", TestGraph.shape(-1)).build());
      }
      PassOutcome o = new InputNormalizationPass(HomogeneousMode.ONE, 1.0)
          .run(new RewriteContext(g, Map.of(), INPUTS, OUTPUTS));
      assertEquals(2, o.changes(), o.toString());
      float[][] y = run(g.toGraphDef(), saver, dir, new float[] {0.5f, -2, 3, -40});
      assertArrayEquals(new float[] {3, -3, 3, -3}, y[0], 1e-5f);
      assertArrayEquals(new float[] {2, -2, 2, -2}, y[1], 1e-5f);
    }
  }

  /**
   * Both signatures' outputs for {@code x} fed to both inputs, in a fresh session of {@code graph}
   * whose variables are restored by the SavedModel's own saver from its checkpoint.
   */
  static float[][] run(GraphDef graph, SaverDef saver, Path dir, float[] x) {
    try (Graph tf = new Graph()) {
      tf.importGraphDef(graph);
      try (Session s = new Session(tf);
          TString prefix = TString.scalarOf(dir.resolve("variables").resolve("variables")
              .toString());
          TFloat32 xt = TFloat32.vectorOf(x)) {
        s.runner().feed(saver.getFilenameTensorName(), prefix)
            .addTarget(saver.getRestoreOpName()).run();
        Session.Runner r = s.runner();
        INPUTS.forEach(in -> r.feed(in, xt));
        OUTPUTS.forEach(r::fetch);
        try (Result res = r.run()) {
          float[][] y = new float[OUTPUTS.size()][];
          for (int i = 0; i < y.length; i++) {
            y[i] = TensorProtos.floats(TensorProtos.fromTensor(res.get(i)));
          }
          return y;
        }
      }
    }
  }
}
