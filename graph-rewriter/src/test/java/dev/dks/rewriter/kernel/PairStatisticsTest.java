package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
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
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The per-pair sums TensorFlow reduces in the graph equal a brute-force Java computation on the
 * whole fetched tensors, and the kernel check's chunked, in-graph measurement equals the
 * original fetch-everything measurement recomputed in Java.
 */
class PairStatisticsTest {
  /**
   * Agreement of two measurements of the same float32 activations run at different batch or
   * spatial sizes: TF's kernels may then accumulate in another order (measured 1e-9 relative with
   * oneDNN capped at AVX2, 0 with its AVX-512 kernels); the wrong location or partner differs by
   * more than 1e-3.
   */
  private static final double SAME_SUMS = 1e-7;

  private static final long[] SHAPE = {-1, 6, 5, 3};
  private static final double[] CS = {0.0, 0.5, 0.9};

  /**
   * A plain CNN whose conv kernels are dense random (not Delta): with the same input vector at
   * every location, location 0 (a corner) then differs from location 1 (an edge) because of the
   * zero padding, so reading the wrong location is detectable.
   */
  private static Model randomConvNet() {
    return randomKernels(ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3)
        .width(8).input("6x5x3").build()).model());
  }

  private static Model randomKernels(Model m) {
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
      double[][] got = st.run(x, pairs, widths, new long[] {6, 5});
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
   * The original measurement, in Java: the whole input tensor ({@code [examples, h, w, 3]}, the
   * pair's vector at every location), every measured tensor fetched whole, mean q and c over the
   * pairs of each input c at location 0. Returns {node -> [ci] -> {q, c}}.
   */
  private static Map<String, double[][]> fetchEverything(Model m, KernelCheck.Options o,
      int h, int w, List<String> tensors) {
    int pairs = o.pairs();
    int k = o.inputCs().length;
    int batch = 2 * pairs * k;
    int locations = h * w;
    float[] x = new float[batch * locations * 3];
    SplittableRandom rng = new SplittableRandom(o.seed());
    for (int ci = 0; ci < k; ci++) {
      for (int p = 0; p < pairs; p++) {
        double[][] pr = InputPairs.withCorrelation(3, o.inputCs()[ci], rng);
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
    Map<String, TensorProto> whole;
    try (ModelSession s = new ModelSession(m)) {
      whole = s.run(Map.of("input:0", TensorProtos.ofFloats(new long[] {batch, h, w, 3}, x)),
          tensors);
    }
    Map<String, double[][]> out = new LinkedHashMap<>();
    for (String t : tensors) {
      double[] sums = bruteForce(whole.get(t), batch / 2, 0, 1);
      long[] s = TensorProtos.shape(whole.get(t));
      double f = s[s.length - 1];
      double[][] qc = new double[k][2];
      for (int ci = 0; ci < k; ci++) {
        for (int p = ci * pairs; p < (ci + 1) * pairs; p++) {
          qc[ci][0] += (sums[3 * p] + sums[3 * p + 1]) / (2 * f) / pairs;
          qc[ci][1] += sums[3 * p + 2] / Math.sqrt(sums[3 * p] * sums[3 * p + 1]) / pairs;
        }
      }
      out.put(t, qc);
    }
    return out;
  }

  /**
   * The report equals the original fetch-everything measurement, for one chunk and for chunks of
   * a single pair.
   */
  @Test
  void chunkedReportEqualsTheFetchEverythingMeasurement() {
    Model m = randomConvNet();
    // one weight draw: the model as given (the reference measures its own weights)
    KernelCheck.Options o = new KernelCheck.Options(CS, 7, 99, 0.03, 0.5, 1);
    KernelReport oneChunk = KernelCheck.run(m, null, o);
    KernelReport singlePairs = KernelCheck.run(m, null, o, 1);
    assertEquals(oneChunk.rows().size(), singlePairs.rows().size());
    assertEquals(oneChunk.width(), singlePairs.width());
    for (int i = 0; i < oneChunk.rows().size(); i++) {
      KernelMeasurement a = oneChunk.rows().get(i);
      KernelMeasurement b = singlePairs.rows().get(i);
      assertEquals(a.tensor(), b.tensor());
      assertEquals(a.measuredQ(), b.measuredQ(), SAME_SUMS * Math.abs(a.measuredQ()));
      assertEquals(a.measuredC(), b.measuredC(), SAME_SUMS);
    }
    List<String> tensors = oneChunk.rows().stream().map(KernelMeasurement::tensor).distinct()
        .filter(t -> !t.equals("input")).toList();
    assertTrue(tensors.size() >= 3, tensors.toString());
    Map<String, double[][]> want = fetchEverything(m, o, 6, 5, tensors);
    int compared = 0;
    for (KernelMeasurement r : oneChunk.rows()) {
      if (r.tensor().equals("input")) {
        continue;
      }
      double[] qc = want.get(r.tensor())[java.util.Arrays.binarySearch(CS, r.inputC())];
      assertEquals(qc[0], r.measuredQ(), SAME_SUMS * qc[0], r.toString());
      assertEquals(qc[1], r.measuredC(), SAME_SUMS, r.toString());
      compared++;
    }
    assertEquals(tensors.size() * CS.length, compared);
  }

  /**
   * The Delta-initialized CNN of {@code delta} with a VALID 3x3 average pool after its first
   * activation: a 1x1 input cannot pass the pool, 4x4 can.
   */
  private static Model withValidPool(Model delta) {
    GraphView g = GraphView.of(delta.graph());
    String relu = g.nodes().stream().filter(n -> n.getOp().equals("Relu")).findFirst()
        .orElseThrow().getName();
    g.add(Nodes.op("AvgPool", "valid_pool").input(relu).type("T", DataType.DT_FLOAT)
        .attr("ksize", ints(1, 3, 3, 1)).attr("strides", ints(1, 1, 1, 1))
        .attr("padding", "VALID").build());
    g.replaceUses(TensorName.of(relu), TensorName.of("valid_pool"), List.of("valid_pool"));
    return delta.with(g.toGraphDef(), delta.variables());
  }

  private static AttrValue ints(long... v) {
    AttrValue.ListValue.Builder b = AttrValue.ListValue.newBuilder();
    for (long x : v) {
      b.addI(x);
    }
    return AttrValue.newBuilder().setList(b).build();
  }

  /**
   * A Delta-initialized CNN at 40x36 is measured at 1x1 locations after the first chunk, the same
   * net with a VALID pool (which refuses 1x1) at 4x4, and both still equal the full-size
   * fetch-everything measurement (to float rounding of the convs); the same net with dense
   * random kernels (border effects) is refused any reduction and measured at its own size
   * exactly.
   */
  @Test
  void fewerLocationsOnlyWhenTheActivationsAreSpatiallyConstant() {
    Model delta = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3)
        .width(8).input("40x36x3").build()).model();
    Model pooled = withValidPool(delta);
    Model dense = randomKernels(delta);
    // one weight draw: the model as given (the reference measures its own weights)
    KernelCheck.Options o = new KernelCheck.Options(CS, 6, 5, 0.03, 0.5, 1);
    List<String> nodes = nodes(delta);
    long budget = 2L * PairChunks.LIVE_TENSORS * 4 * 40 * 36 * 8 * 4; // 4 pairs per chunk
    Map<Model, String> used = new LinkedHashMap<>();
    used.put(delta, "[1, 1]");
    used.put(pooled, "[4, 4]");
    used.put(dense, "[40, 36]");
    for (Model m : used.keySet()) {
      PairSums got = PairSums.measure(m, "input", new long[] {-1, 40, 36, 3}, nodes, o, budget);
      boolean reduced = m != dense;
      assertEquals(used.get(m), java.util.Arrays.toString(got.spatialUsed()));
      Map<String, double[][]> want = fetchEverything(m, o, 40, 36, nodes.subList(1,
          nodes.size()));
      for (int ni = 1; ni < nodes.size(); ni++) {
        for (int ci = 0; ci < CS.length; ci++) {
          double[] qc = want.get(nodes.get(ni))[ci];
          double tol = reduced ? 1e-5 : SAME_SUMS;
          assertEquals(qc[0], got.meanQ(ni, ci), tol * qc[0], nodes.get(ni));
          assertEquals(qc[1], got.meanC(ni, ci), tol, nodes.get(ni));
        }
      }
    }
  }

  /**
   * A weight draw loaded into the shared session ({@link PairStatistics#assign}) measures what a
   * fresh session on the rotated model measures (the check's draws before they shared a
   * session); control: without the assignment the sums are those of the unrotated weights.
   */
  @Test
  void assignedDrawEqualsAFreshSessionOnTheRotatedModel() {
    Model m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3)
        .width(8).input("6x5x3").build()).model();
    List<String> nodes = nodes(m);
    GraphView g = GraphView.of(m.graph());
    var a = dev.dks.rewriter.analysis.StructureAnalyzer.analyze(g, List.of("input"),
        m.outputNodes());
    Map<String, TensorProto> draw = WeightRotations.rotatedVariables(m, a.layers(), g, 3);
    assertTrue(draw.size() >= 3, draw.keySet().toString());
    Model rotated = m.with(m.graph(), new LinkedHashMap<>(m.variables()) {
      {
        putAll(draw);
      }
    });
    int pairs = 4;
    float[] x = rows(pairs, 3, 13);
    long[] spatial = {6, 5};
    double[][] fresh;
    try (PairStatistics st = new PairStatistics(rotated, "input", SHAPE, nodes)) {
      fresh = st.run(x, pairs, null, spatial);
    }
    try (PairStatistics st = new PairStatistics(m, "input", SHAPE, nodes)) {
      double[][] before = st.run(x, pairs, null, spatial);
      st.assign(draw);
      double[][] shared = st.run(x, pairs, null, spatial);
      double control = 0;
      for (int i = 1; i < nodes.size(); i++) {
        assertTrue(maxRelativeDifference(fresh[i], shared[i]) <= SAME_SUMS, nodes.get(i));
        control = Math.max(control, maxRelativeDifference(fresh[i], before[i]));
      }
      assertTrue(control > 1e-3, "the rotation changes the sums: " + control);
    }
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
