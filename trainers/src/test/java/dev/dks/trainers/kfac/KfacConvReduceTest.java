package dev.dks.trainers.kfac;

import static dev.dks.trainers.kfac.KfacFixtures.ConvGeom;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

/**
 * K-FAC-reduce on a conv followed by a global average pool ({@code logits = mean_t(conv(x) + b)}),
 * where it is exact: for one example and EXACT estimation, {@code A_r (x) G_r} must equal the
 * brute-force Fisher block {@code J^T F_z J} of the stacked {@code [W; b]} (J by central
 * differences of a plain-Java forward pass over the padded patches). KFC-expand's
 * {@code T A (x) G} must not (its locations-independent assumption fails when every location
 * receives the same output gradient), which shows the comparison can fail.
 */
class KfacConvReduceTest {
  private static final ConvGeom Q = new ConvGeom(5, 4, 2, 3, 3, 3, 1, 1, "SAME");

  @Test
  void reduceIsExactInFrontOfAGlobalAveragePool() {
    int din = Q.patchDim();
    float[] x = KfacFixtures.gaussian(Q.h() * Q.w() * Q.c(), 301, 1);
    float[] y = KfacFixtures.labels(1, Q.cout(), 302);
    float[] kernel = KfacFixtures.gaussian(din * Q.cout(), 303, 0.4);
    float[] bias = KfacFixtures.gaussian(Q.cout(), 304, 0.2);
    double[][] brute = bruteForceFisher(x, kernel, bias);
    double reduce = relErrOfBlock(ConvApproximation.REDUCE, x, y, kernel, bias, brute);
    double expand = relErrOfBlock(ConvApproximation.EXPAND, x, y, kernel, bias, brute);
    System.out.printf("conv + global average pool, B=1, EXACT: reduce rel err %.2e, expand "
        + "%.2e%n", reduce, expand);
    assertTrue(reduce < 1e-4, "reduce: " + reduce);
    assertTrue(expand > 0.1, "expand should differ here: " + expand);
  }

  private static double relErrOfBlock(ConvApproximation conv, float[] x, float[] y,
      float[] kernel, float[] bias, double[][] brute) {
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT).withConv(conv);
    try (TrainingGraph tg = TrainingGraph.build(pooledConv(kernel, bias),
        TrainingSpec.defaults().withKfac(o))) {
      KfacFixtures.statistics(tg, x, new long[] {1, Q.h(), Q.w(), Q.c()}, y, 1, 0, -1);
      double[][] block = KfacFixtures.kron(KfacFixtures.factor(tg, 0, "a"),
          KfacFixtures.factor(tg, 0, "g"));
      if (conv == ConvApproximation.EXPAND) {
        for (double[] row : block) {
          for (int j = 0; j < row.length; j++) {
            row[j] *= Q.locations();
          }
        }
      }
      return KfacFixtures.relErr(block, brute);
    }
  }

  /** {@code J^T F_z J} with {@code z = meanPatch . [W; b]}, theta row-major {@code [W; b]}. */
  private static double[][] bruteForceFisher(float[] x, float[] kernel, float[] bias) {
    double[][] patches = KfacFixtures.patches(Q, x, 0);
    int d = Q.patchDim() + 1;
    int k = Q.cout();
    java.util.function.Function<double[], double[]> logits = theta -> {
      double[] z = new double[k];
      for (double[] p : patches) {
        for (int i = 0; i < d; i++) {
          for (int c = 0; c < k; c++) {
            z[c] += p[i] * theta[i * k + c] / patches.length;
          }
        }
      }
      return z;
    };
    double[] theta = KfacFixtures.stack(KfacFixtures.toDouble(kernel),
        KfacFixtures.toDouble(bias));
    double[][] j = KfacFixtures.jacobian(logits, theta, 1e-4);
    return KfacFixtures.fisher(j, KfacFixtures.softmax(logits.apply(theta)));
  }

  /** {@code logits = Mean(BiasAdd(Conv2D(x, K), b), [1, 2])}. */
  private static Model pooledConv(float[] kernel, float[] bias) {
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, Q.h(), Q.w(), Q.c())));
      Operand<TFloat32> kv = tf.withName("kernel").variable(
          Shape.of(Q.kh(), Q.kw(), Q.c(), Q.cout()), TFloat32.class);
      Operand<TFloat32> bv = tf.withName("bias").variable(Shape.of(Q.cout()), TFloat32.class);
      Operand<TFloat32> s = tf.withName("sc").nn.biasAdd(tf.withName("conv").nn.conv2d(x, kv,
          List.of(1L, 1L, 1L, 1L), Q.padding()), bv);
      tf.withName("logits").math.mean(s, tf.constant(new int[] {1, 2}));
      def = g.toGraphDef();
    }
    Map<String, org.tensorflow.proto.TensorProto> vars = new LinkedHashMap<>();
    vars.put("kernel", TensorProtos.ofFloats(new long[] {Q.kh(), Q.kw(), Q.c(), Q.cout()},
        kernel));
    vars.put("bias", TensorProtos.ofFloats(new long[] {Q.cout()}, bias));
    Signature sig = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
        Map.of("input", new TensorSpec(TensorName.of("input"), DataType.DT_FLOAT,
            new long[] {-1, Q.h(), Q.w(), Q.c()})),
        Map.of("logits", new TensorSpec(TensorName.of("logits"), DataType.DT_FLOAT,
            new long[] {-1, Q.cout()})));
    return new Model(def, vars, List.of(sig));
  }
}
