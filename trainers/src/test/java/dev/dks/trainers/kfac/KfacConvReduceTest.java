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

  /**
   * HYBRID's factors are EXPAND's A and REDUCE's G, and its block {@code A_e (x) G_r} is never
   * below the exact block in front of the pool (v^T (H - F) v >= 0 for random v, relative to
   * v^T F v), while EXPAND's {@code T A_e (x) G_e} is (the negative control).
   */
  @Test
  void hybridTakesExpandsAAndReducesGAndNeverUnderestimatesThePooledBlock() {
    float[] x = KfacFixtures.gaussian(Q.h() * Q.w() * Q.c(), 311, 1);
    float[] y = KfacFixtures.labels(1, Q.cout(), 312);
    float[] kernel = KfacFixtures.gaussian(Q.patchDim() * Q.cout(), 313, 0.4);
    float[] bias = KfacFixtures.gaussian(Q.cout(), 314, 0.2);
    double[][][] hybrid = factors(ConvApproximation.HYBRID, x, y, kernel, bias);
    double[][][] expand = factors(ConvApproximation.EXPAND, x, y, kernel, bias);
    double[][][] reduce = factors(ConvApproximation.REDUCE, x, y, kernel, bias);
    double errA = KfacFixtures.relErr(hybrid[0], expand[0]);
    double errG = KfacFixtures.relErr(hybrid[1], reduce[1]);
    assertTrue(errA < 1e-5, "hybrid A vs expand A: " + errA);
    assertTrue(errG < 1e-5, "hybrid G vs reduce G: " + errG);
    double[][] brute = bruteForceFisher(x, kernel, bias);
    double hybridWorst = worstRelativeExcess(KfacFixtures.kron(hybrid[0], hybrid[1]), brute);
    double expandWorst = worstRelativeExcess(block(ConvApproximation.EXPAND, expand), brute);
    System.out.printf("conv + global average pool: min over v of v'(B - F)v / v'Fv: hybrid "
        + "%.3e, expand %.3e%n", hybridWorst, expandWorst);
    assertTrue(hybridWorst > -1e-4, "hybrid underestimates: " + hybridWorst);
    assertTrue(expandWorst < -0.1, "expand should underestimate here: " + expandWorst);
  }

  /**
   * The smallest {@code v^T (b - f) v / v^T f v} over 500 seeded Gaussian vectors, every other
   * one on the bias row of {@code [W; b]} only (the pooled direction: the homogeneous coordinate
   * is 1 at every location).
   */
  private static double worstRelativeExcess(double[][] b, double[][] f) {
    java.util.Random r = new java.util.Random(5);
    int biasRow = f.length - Q.cout();
    double worst = Double.POSITIVE_INFINITY;
    for (int trial = 0; trial < 500; trial++) {
      double[] v = new double[f.length];
      for (int i = trial % 2 == 0 ? 0 : biasRow; i < v.length; i++) {
        v[i] = r.nextGaussian();
      }
      double qb = 0;
      double qf = 0;
      for (int i = 0; i < v.length; i++) {
        for (int j = 0; j < v.length; j++) {
          qb += v[i] * b[i][j] * v[j];
          qf += v[i] * f[i][j] * v[j];
        }
      }
      worst = Math.min(worst, (qb - qf) / qf);
    }
    return worst;
  }

  private static double relErrOfBlock(ConvApproximation conv, float[] x, float[] y,
      float[] kernel, float[] bias, double[][] brute) {
    return KfacFixtures.relErr(block(conv, factors(conv, x, y, kernel, bias)), brute);
  }

  /** {@code A (x) G}, times T for EXPAND. */
  private static double[][] block(ConvApproximation conv, double[][][] factors) {
    double[][] block = KfacFixtures.kron(factors[0], factors[1]);
    if (conv == ConvApproximation.EXPAND) {
      for (double[] row : block) {
        for (int j = 0; j < row.length; j++) {
          row[j] *= Q.locations();
        }
      }
    }
    return block;
  }

  /** The A and G factors after one EXACT statistics pass on one example. */
  private static double[][][] factors(ConvApproximation conv, float[] x, float[] y,
      float[] kernel, float[] bias) {
    KfacOptions o = KfacOptions.tatRecipe().withEstimation(FisherEstimation.EXACT).withConv(conv);
    try (TrainingGraph tg = TrainingGraph.build(pooledConv(kernel, bias),
        TrainingSpec.defaults().withKfac(o))) {
      KfacFixtures.statistics(tg, x, new long[] {1, Q.h(), Q.w(), Q.c()}, y, 1, 0, -1);
      return new double[][][] {KfacFixtures.factor(tg, 0, "a"), KfacFixtures.factor(tg, 0, "g")};
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
