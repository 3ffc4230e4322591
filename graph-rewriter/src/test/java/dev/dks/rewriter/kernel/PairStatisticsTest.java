package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The per-pair sums TensorFlow reduces in the graph equal a brute-force Java computation on the
 * whole fetched tensors, and the kernel check's chunked, in-graph measurement equals the
 * original fetch-everything measurement recomputed in Java.
 */
class PairStatisticsTest {
  private static final long[] SHAPE = {-1, 6, 5, 3};
  private static final double[] CS = {0.0, 0.5, 0.9};

  /**
   * A plain CNN whose conv kernels are dense random (not Delta): with the same input vector at
   * every location, location 0 (a corner) then differs from location 1 (an edge) because of the
   * zero padding, so reading the wrong location is detectable.
   */
  private static Model randomConvNet() {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(8)
        .input("6x5x3").build()).model();
    Map<String, TensorProto> vars = new LinkedHashMap<>(m.variables());
    Random r = new Random(7);
    for (Map.Entry<String, TensorProto> e : m.variables().entrySet()) {
      long[] s = TensorProtos.shape(e.getValue());
      if (s.length == 4) {
        float[] v = new float[TensorProtos.floats(e.getValue()).length];
        for (int i = 0; i < v.length; i++) {
          v[i] = (float) (r.nextGaussian() * 0.4);
        }
        vars.put(e.getKey(), TensorProtos.ofFloats(s, v));
      }
    }
    return m.with(m.graph(), vars);
  }

  /** The input node, every conv and activation output, and the logits. */
  private static List<String> nodes(Model m) {
    List<String> out = new ArrayList<>();
    out.add("input");
    for (NodeDef n : m.graph().getNodeList()) {
      if (n.getOp().equals("Conv2D") || n.getOp().equals("Relu")) {
        out.add(n.getName());
      }
    }
    out.add(m.outputNodes().get(0));
    return out;
  }

  private static float[] rows(int pairs, int features, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[2 * pairs * features];
    for (int p = 0; p < pairs; p++) {
      double[][] pr = InputPairs.withCorrelation(features, CS[p % CS.length], rng);
      for (int e = 0; e < 2; e++) {
        for (int j = 0; j < features; j++) {
          x[(2 * p + e) * features + j] = (float) pr[e][j];
        }
      }
    }
    return x;
  }

  /** {sum a^2, sum b^2, sum a b} per pair at {@code location}, partner {@code 2p + shift}. */
  private static double[] bruteForce(TensorProto t, int pairs, int location, int shift) {
    float[] v = TensorProtos.floats(t);
    long[] s = TensorProtos.shape(t);
    int f = (int) s[s.length - 1];
    int per = v.length / (2 * pairs);
    double[] out = new double[3 * pairs];
    for (int p = 0; p < pairs; p++) {
      int a = 2 * p;
      int b = (2 * p + shift) % (2 * pairs);
      for (int j = 0; j < f; j++) {
        double x = v[a * per + location * f + j];
        double y = v[b * per + location * f + j];
        out[3 * p] += x * x;
        out[3 * p + 1] += y * y;
        out[3 * p + 2] += x * y;
      }
    }
    return out;
  }

  private static double maxRelativeDifference(double[] want, double[] got) {
    double m = 0;
    for (int i = 0; i < want.length; i++) {
      m = Math.max(m, Math.abs(want[i] - got[i]) / Math.max(1e-30, Math.abs(want[i])));
    }
    return m;
  }

  @Test
  void inGraphSumsEqualBruteForceAndTheWrongLocationOrPartnerDoNot() {
    Model m = randomConvNet();
    List<String> nodes = nodes(m);
    assertTrue(nodes.size() >= 8, nodes.toString());
    int pairs = 5;
    float[] x = rows(pairs, 3, 11);
    long[] widths = new long[nodes.size()];
    try (PairStatistics st = new PairStatistics(m, "input", SHAPE, nodes)) {
      double[][] got = st.run(x, pairs, widths);
      Map<String, TensorProto> whole = st.fetchWhole(x, pairs, nodes, "input");
      // the in-graph input is the fed row at every one of the 30 locations
      float[] in = TensorProtos.floats(whole.get("input"));
      assertEquals(2 * pairs * 30 * 3, in.length);
      for (int i = 0; i < in.length; i++) {
        assertEquals(x[(i / 90) * 3 + i % 3], in[i], 0f);
      }
      int convs = 0;
      for (int i = 0; i < nodes.size(); i++) {
        TensorProto t = whole.get(nodes.get(i));
        long[] s = TensorProtos.shape(t);
        assertEquals(s[s.length - 1], widths[i], nodes.get(i));
        double[] want = bruteForce(t, pairs, 0, 1);
        // float64 sums of the same float32 values in another order
        assertTrue(maxRelativeDifference(want, got[i]) < 1e-12, nodes.get(i) + ": "
            + java.util.Arrays.toString(want) + " vs " + java.util.Arrays.toString(got[i]));
        // negative controls, far outside that tolerance: the partner of another pair, and
        // (behind the zero-padded corner) the next location
        assertTrue(maxRelativeDifference(bruteForce(t, pairs, 0, 3), got[i]) > 1e-3,
            nodes.get(i));
        if (s.length == 4 && !nodes.get(i).equals("input")) {
          convs++;
          assertTrue(maxRelativeDifference(bruteForce(t, pairs, 1, 1), got[i]) > 1e-3,
              nodes.get(i));
        }
      }
      assertTrue(convs >= 6, "conv tensors checked: " + convs);
    }
  }

  /**
   * The report equals the original measurement (the whole input tensor built in Java, every
   * measured tensor fetched whole, q and c averaged at location 0 in Java), for one chunk and for
   * chunks of a single pair.
   */
  @Test
  void chunkedReportEqualsTheFetchEverythingMeasurement() {
    Model m = randomConvNet();
    KernelCheck.Options o = new KernelCheck.Options(CS, 7, 99, 0.03, 0.5);
    KernelReport oneChunk = KernelCheck.run(m, null, o);
    KernelReport singlePairs = KernelCheck.run(m, null, o, 1);
    assertEquals(oneChunk.rows().size(), singlePairs.rows().size());
    assertEquals(oneChunk.width(), singlePairs.width());
    for (int i = 0; i < oneChunk.rows().size(); i++) {
      KernelMeasurement a = oneChunk.rows().get(i);
      KernelMeasurement b = singlePairs.rows().get(i);
      assertEquals(a.tensor(), b.tensor());
      assertEquals(a.measuredQ(), b.measuredQ(), 1e-12 * Math.abs(a.measuredQ()));
      assertEquals(a.measuredC(), b.measuredC(), 1e-12);
    }

    // the original algorithm, in Java
    int pairs = o.pairs();
    int batch = 2 * pairs * CS.length;
    int locations = 30;
    float[] x = new float[batch * locations * 3];
    SplittableRandom rng = new SplittableRandom(o.seed());
    for (int ci = 0; ci < CS.length; ci++) {
      for (int p = 0; p < pairs; p++) {
        double[][] pr = InputPairs.withCorrelation(3, CS[ci], rng);
        for (int e = 0; e < 2; e++) {
          int ex = 2 * (ci * pairs + p) + e;
          for (int l = 0; l < locations; l++) {
            for (int f = 0; f < 3; f++) {
              x[(ex * locations + l) * 3 + f] = (float) pr[e][f];
            }
          }
        }
      }
    }
    List<String> tensors = oneChunk.rows().stream().map(KernelMeasurement::tensor).distinct()
        .filter(t -> !t.equals("input")).toList();
    assertTrue(tensors.size() >= 3, tensors.toString());
    Map<String, TensorProto> whole;
    try (ModelSession s = new ModelSession(m)) {
      whole = s.run(Map.of("input:0", TensorProtos.ofFloats(new long[] {batch, 6, 5, 3}, x)),
          tensors);
    }
    int compared = 0;
    for (KernelMeasurement r : oneChunk.rows()) {
      if (r.tensor().equals("input")) {
        continue;
      }
      int ci = java.util.Arrays.binarySearch(CS, r.inputC());
      double[] sums = bruteForce(whole.get(r.tensor()), batch / 2, 0, 1);
      long[] s = TensorProtos.shape(whole.get(r.tensor()));
      double f = s[s.length - 1];
      double q = 0;
      double c = 0;
      for (int p = ci * pairs; p < (ci + 1) * pairs; p++) {
        q += (sums[3 * p] + sums[3 * p + 1]) / (2 * f);
        c += sums[3 * p + 2] / Math.sqrt(sums[3 * p] * sums[3 * p + 1]);
      }
      assertEquals(q / pairs, r.measuredQ(), 1e-12 * q / pairs, r.toString());
      assertEquals(c / pairs, r.measuredC(), 1e-12, r.toString());
      compared++;
    }
    assertEquals(tensors.size() * CS.length, compared);
  }

  @Test
  void chunkSizeFollowsTheBudget() {
    // ResNet-50 at 224x224: 112 x 112 x 64 floats per example, 4 live, 2 per pair
    long a = 112L * 112 * 64;
    assertEquals(10, PairChunks.pairsPerChunk(256L << 20, a, 384));
    assertEquals(1, PairChunks.pairsPerChunk(1, a, 384));
    assertEquals(384, PairChunks.pairsPerChunk(256L << 20, 256, 384));
    assertEquals(20, PairChunks.pairsPerChunk(2 * 4 * 4 * a * 20, a, 384));
  }
}
