package dev.dks.trainers.graph;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

/** Small models and batches for the training-graph tests. */
final class TestModels {
  private TestModels() {}

  /** Input shape of the MLP batches: [n, 1, 1, 4]. */
  static long[] mlpShape(int n) {
    return new long[] {n, 1, 1, 4};
  }

  /** A 2-layer MLP, width 8, input 1x1x4, 3 classes, built by the graph-rewriter's builder. */
  static Model mlp(String activation, long seed) {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2).width(8)
        .input("1x1x4").classes(3).activation(activation).seed(seed).build()).model();
  }

  /** A standard normal batch. */
  static float[] gaussian(int count, long seed) {
    Random r = new Random(seed);
    float[] v = new float[count];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return v;
  }

  /** One-hot labels of random classes. */
  static float[] randomLabels(int n, int classes, long seed) {
    Random r = new Random(seed);
    float[] y = new float[n * classes];
    for (int i = 0; i < n; i++) {
      y[i * classes + r.nextInt(classes)] = 1f;
    }
    return y;
  }

  /** logits = input [-1, 3] x w [3, 3] with w the identity: the logits are the input. */
  static Model identityLinear() {
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 3)));
      Operand<TFloat32> w = tf.withName("w").variable(Shape.of(3, 3), TFloat32.class);
      tf.withName("logits").linalg.matMul(x, w);
      def = g.toGraphDef();
    }
    Signature sig = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
        Map.of("input", new TensorSpec(TensorName.of("input"), DataType.DT_FLOAT,
            new long[] {-1, 3})),
        Map.of("logits", new TensorSpec(TensorName.of("logits"), DataType.DT_FLOAT,
            new long[] {-1, 3})));
    return new Model(def, Map.of("w", TensorProtos.ofFloats(new long[] {3, 3},
        new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1})), List.of(sig));
  }
}
