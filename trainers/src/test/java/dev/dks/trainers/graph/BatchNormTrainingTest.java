package dev.dks.trainers.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.optim.SgdOptimizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * A BN-ResNet (width 4, 8x8x1 inputs, 3 classes) whose BN variables hold random gamma, beta,
 * moving mean and moving variance, in inference form and in {@link BatchNormTraining#trainingMode}.
 *
 * <p>Independent source: the BN formula computed in Java in double precision on the BN node's own
 * input fetched from the graph, {@code (x - mean) / sqrt(var + eps) * gamma + beta}, with the
 * batch's per-channel mean and biased variance over N, H, W (training mode) or the moving
 * statistics (inference form); the softmax cross-entropy of the fetched logits computed in Java.
 * Each check has its negative control: the other mode's formula misses by more than 100 times
 * the tolerance.
 */
class BatchNormTrainingTest {
  private static final int N = 6;
  private static final long[] SHAPE = {N, 8, 8, 1};

  /** The builder's BN-ResNet with every BN variable set to random values (variances positive). */
  private static Model model() {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .input("8x8x1").classes(3).batchNorm(true).activation("relu").seed(1).build()).model();
    Random r = new Random(11);
    Map<String, TensorProto> vars = new LinkedHashMap<>(m.variables());
    for (Map.Entry<String, TensorProto> e : m.variables().entrySet()) {
      String name = e.getKey();
      float[] v = TensorProtos.floats(e.getValue());
      for (int i = 0; i < v.length; i++) {
        if (name.endsWith("/gamma")) {
          v[i] = (float) (0.5 + r.nextDouble());
        } else if (name.endsWith("/beta")) {
          v[i] = (float) (0.5 * r.nextGaussian());
        } else if (name.endsWith("/moving_mean")) {
          v[i] = (float) (0.5 + 0.5 * r.nextGaussian());
        } else if (name.endsWith("/moving_variance")) {
          v[i] = (float) (2 + r.nextDouble());
        } else {
          break;
        }
      }
      vars.put(name, TensorProtos.ofFloats(TensorProtos.shape(e.getValue()), v));
    }
    return m.with(m.graph(), vars);
  }

  private static NodeDef firstBatchNorm(GraphDef g) {
    return g.getNodeList().stream().filter(n -> n.getOp().equals("FusedBatchNormV3"))
        .findFirst().orElseThrow();
  }

  /** The variable behind a node input (through the builder's Identity reads). */
  private static float[] variable(Model m, String input) {
    String node = TensorName.parse(input).node();
    while (!m.variables().containsKey(node)) {
      NodeDef n = m.graph().getNodeList().stream().filter(d -> d.getName().equals(node))
          .findFirst().orElseThrow();
      assertEquals("Identity", n.getOp(), node);
      return variable(m, n.getInput(0));
    }
    return TensorProtos.floats(m.variables().get(node));
  }

  /** (x - mean) / sqrt(var + eps) * gamma + beta per channel (last axis) in double precision. */
  private static float[] normalize(float[] x, int c, double[] mean, double[] var, float[] gamma,
      float[] beta, double eps) {
    float[] y = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      int k = i % c;
      y[i] = (float) ((x[i] - mean[k]) / Math.sqrt(var[k] + eps) * gamma[k] + beta[k]);
    }
    return y;
  }

  /** {mean, biased variance} per channel of x (last axis c) over all other axes. */
  private static double[][] batchMoments(float[] x, int c) {
    double[] mean = new double[c];
    double[] var = new double[c];
    int count = x.length / c;
    for (int i = 0; i < x.length; i++) {
      mean[i % c] += x[i] / (double) count;
    }
    for (int i = 0; i < x.length; i++) {
      double d = x[i] - mean[i % c];
      var[i % c] += d * d / count;
    }
    return new double[][] {mean, var};
  }

  private static double maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]));
    }
    return m;
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  /** Mean softmax cross-entropy of logits [n, k] against one-hot y, in double precision. */
  private static double crossEntropy(float[] logits, float[] y, int k) {
    double sum = 0;
    int n = logits.length / k;
    for (int i = 0; i < n; i++) {
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < k; j++) {
        max = Math.max(max, logits[i * k + j]);
      }
      double z = 0;
      for (int j = 0; j < k; j++) {
        z += Math.exp(logits[i * k + j] - max);
      }
      for (int j = 0; j < k; j++) {
        sum -= y[i * k + j] * (logits[i * k + j] - max - Math.log(z));
      }
    }
    return sum / n;
  }

  private static Map<String, float[]> run(Model m, float[] x, String... fetches) {
    try (ModelSession s = new ModelSession(m)) {
      Map<String, TensorProto> out = s.run(Map.of("input", TensorProtos.ofFloats(SHAPE, x)),
          List.of(fetches));
      Map<String, float[]> f = new LinkedHashMap<>();
      out.forEach((k, v) -> f.put(k, TensorProtos.floats(v)));
      return f;
    }
  }

  @Test
  void trainingModeNormalizesWithTheBatchStatistics() {
    Model inference = model();
    Model training = BatchNormTraining.trainingMode(inference);
    NodeDef bn = firstBatchNorm(inference.graph());
    assertTrue(firstBatchNorm(training.graph()).getAttrOrThrow("is_training").getB());
    float[] gamma = variable(inference, bn.getInput(1));
    float[] beta = variable(inference, bn.getInput(2));
    double[] movingMean = toDouble(variable(inference, bn.getInput(3)));
    double[] movingVar = toDouble(variable(inference, bn.getInput(4)));
    double eps = bn.getAttrOrThrow("epsilon").getF();
    int c = gamma.length;
    float[] x = TestModels.gaussian(N * 64, 3);
    String in = bn.getInput(0);
    String out = bn.getName() + ":0";

    for (Model m : new Model[] {training, inference}) {
      Map<String, float[]> f = run(m, x, in, out);
      float[] bnIn = f.get(in);
      double[][] moments = batchMoments(bnIn, c);
      float[] batchForm = normalize(bnIn, c, moments[0], moments[1], gamma, beta, eps);
      float[] movingForm = normalize(bnIn, c, movingMean, movingVar, gamma, beta, eps);
      double toBatch = maxAbsDiff(f.get(out), batchForm);
      double toMoving = maxAbsDiff(f.get(out), movingForm);
      System.out.printf("BN %s, %s: max |y - batch formula| %.2e, |y - moving formula| %.2e%n",
          bn.getName(), m == training ? "training mode" : "inference form", toBatch, toMoving);
      double right = m == training ? toBatch : toMoving;
      double wrong = m == training ? toMoving : toBatch;
      assertTrue(right < 1e-4, "the mode's own formula: " + right);
      assertTrue(wrong > 1e-2, "negative control, the other mode's formula: " + wrong);
    }
  }

  @Test
  void trainingModeCouplesTheExamplesOfABatch() {
    // with batch statistics one example's logits depend on the others; with the moving
    // statistics they do not
    Model inference = model();
    Model training = BatchNormTraining.trainingMode(inference);
    float[] x = TestModels.gaussian(N * 64, 3);
    float[] x2 = x.clone();
    for (int i = 64; i < N * 64; i++) {
      x2[i] = 2 * x2[i] + 1; // every example but the first
    }
    for (Model m : new Model[] {training, inference}) {
      float[] a = run(m, x, "logits").get("logits");
      float[] b = run(m, x2, "logits").get("logits");
      double d = maxAbsDiff(java.util.Arrays.copyOf(a, 3), java.util.Arrays.copyOf(b, 3));
      if (m == training) {
        assertTrue(d > 1e-3, "first example's logits moved by " + d);
      } else {
        assertTrue(d < 1e-6, "first example's logits moved by " + d);
      }
    }
  }

  @Test
  void trainingUsesBatchStatisticsAndLeavesTheMovingOnesAlone() {
    Model inference = model();
    Model training = BatchNormTraining.trainingMode(inference);
    long bn = inference.graph().getNodeList().stream()
        .filter(n -> n.getOp().equals("FusedBatchNormV3")).count();
    long floats = inference.variables().values().stream()
        .filter(t -> t.getDtype() == DataType.DT_FLOAT).count();
    assertEquals(17, bn);
    float[] x = TestModels.gaussian(N * 64, 3);
    float[] y = TestModels.randomLabels(N, 3, 4);
    double trainingCe = crossEntropy(run(training, x, "logits").get("logits"), y, 3);
    double inferenceCe = crossEntropy(run(inference, x, "logits").get("logits"), y, 3);
    assertTrue(Math.abs(trainingCe - inferenceCe) > 1e-2,
        "the two modes' losses must differ for the check to mean anything: " + trainingCe
            + " vs " + inferenceCe);
    TrainingSpec spec = TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV);
    for (Model model : new Model[] {training, inference}) {
      double expected = model == training ? trainingCe : inferenceCe;
      try (TrainingGraph tg = TrainingGraph.build(model, spec)) {
        assertEquals(floats - 2 * bn, tg.trainableVariables().size());
        assertFalse(tg.trainableVariables().stream().anyMatch(v -> v.endsWith("moving_mean")
            || v.endsWith("moving_variance")));
        double before = tg.evaluate(x, SHAPE, y)[0];
        assertEquals(expected, before, 1e-5 * Math.max(1, expected),
            "training graph's loss is the mode's cross-entropy");
        Map<String, TensorProto> v0 = tg.variables();
        double stepLoss = tg.step(0, x, SHAPE, y, 0.1, 0.9)[0];
        assertEquals(expected, stepLoss, 1e-5 * Math.max(1, expected));
        Map<String, TensorProto> v1 = tg.variables();
        double after = tg.evaluate(x, SHAPE, y)[0];
        assertTrue(after < before, "one step on the batch lowers its loss: " + before + " -> "
            + after);
        int movedGammas = 0;
        for (String name : v0.keySet()) {
          float[] a = TensorProtos.floats(v0.get(name));
          float[] b = TensorProtos.floats(v1.get(name));
          if (name.endsWith("moving_mean") || name.endsWith("moving_variance")) {
            // documented: the moving averages are not updated in training mode
            assertArrayEquals(a, b, 0f, name);
          } else if (name.endsWith("/gamma") && maxAbsDiff(a, b) > 0) {
            movedGammas++;
          }
        }
        assertEquals(bn, movedGammas, "every BN scale is trained");
      }
    }
    // asking to train the moving statistics is refused, naming them
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TrainingGraph.build(inference, TrainingSpec.defaults().withTrainable(
            inference.variables().keySet().stream().toList())).close());
    assertTrue(e.getMessage().contains("moving_mean"), e.getMessage());
  }
}
