package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The kernel check's one-example-at-a-time path (for graphs whose batch is fixed at 1) measures
 * what the batched path measures: the per-pair sums of one graph fed both ways agree to float
 * rounding (the batched numbers are the second method), also when the measured tensors go
 * through in groups, and a model with an input of batch 1, or with a Reshape to a fixed {@code
 * [1, ...]} that only the first run finds, is fed one example at a time and reports what the
 * same model with a free batch reports. Controls: mismatched partners change the sums far beyond
 * the tolerance; the Reshape model refuses the batch when it is forced.
 */
class OneAtATimeTest {
  /**
   * Agreement of the same float32 activations computed for a batch and for one example: TF's
   * convolutions then accumulate in another order (measured 6.6e-7 of a pair's q on the random
   * CNN below, 2026-12-07); a wrong partner differs by more than 1e-3.
   */
  private static final double SAME = 1e-5;

  private static final double[] CS = {0.0, 0.5, 0.9};

  private static Model deltaCnn() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3)
        .width(8).input("6x5x3").build()).model();
  }

  /** Dense random kernels: location 0 (a corner) differs from the others (zero padding). */
  private static Model randomCnn() {
    Model m = deltaCnn();
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

  /** {@code m} with its input declared {@code [1, 6, 5, 3]} (graph and signature). */
  static Model batchOfOne(Model m) {
    long[] shape = {1, 6, 5, 3};
    GraphView g = GraphView.of(m.graph());
    NodeDef in = g.get("input");
    g.put(in.toBuilder().putAttr("shape", AttrValue.newBuilder()
        .setShape(TensorProtos.shapeProto(shape)).build()).build());
    List<Signature> sigs = new ArrayList<>();
    for (Signature s : m.signatures()) {
      Map<String, TensorSpec> inputs = new LinkedHashMap<>();
      s.inputs().forEach((k, v) -> inputs.put(k, v.tensor().node().equals("input")
          ? new TensorSpec(v.tensor(), v.dtype(), shape) : v));
      sigs.add(new Signature(s.key(), s.methodName(), inputs, s.outputs()));
    }
    return new Model(g.toGraphDef(), m.variables(), sigs);
  }

  /**
   * {@code m} with {@code Reshape(relu, [1, 6, 5, 8])} after its first activation, the shape
   * behind a PlaceholderWithDefault: static shape inference cannot see the fixed batch, the
   * first batched run fails in the model's own Reshape.
   */
  static Model hiddenBatchOfOne(Model m) {
    GraphView g = GraphView.of(m.graph());
    String relu = g.nodes().stream().filter(n -> n.getOp().equals("Relu")).findFirst()
        .orElseThrow().getName();
    TensorProto dims = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorProtos.shapeProto(new long[] {4})).addIntVal(1).addIntVal(6)
        .addIntVal(5).addIntVal(8).build();
    g.add(Nodes.constant("fixed/dims", dims));
    g.add(Nodes.op("PlaceholderWithDefault", "fixed/shape").input("fixed/dims")
        .type("dtype", DataType.DT_INT32).attr("shape", AttrValue.newBuilder()
            .setShape(TensorProtos.shapeProto(new long[] {4})).build()).build());
    g.add(Nodes.op("Reshape", "fixed/reshape").input(relu).input("fixed/shape")
        .type("T", DataType.DT_FLOAT).type("Tshape", DataType.DT_INT32).build());
    g.replaceUses(TensorName.of(relu), TensorName.of("fixed/reshape"), List.of("fixed/reshape"));
    return m.with(g.toGraphDef(), m.variables());
  }

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

  private static float[] rows(int pairs, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    float[] x = new float[2 * pairs * 3];
    for (int p = 0; p < pairs; p++) {
      double[][] pr = InputPairs.withCorrelation(3, CS[p % CS.length], rng);
      for (int e = 0; e < 2; e++) {
        for (int j = 0; j < 3; j++) {
          x[(2 * p + e) * 3 + j] = (float) pr[e][j];
        }
      }
    }
    return x;
  }

  /**
   * The largest difference of a per-pair sum relative to the pair's scale {@code (|a|^2 +
   * |b|^2) / 2} (a cross sum near 0 has no relative precision of its own).
   */
  private static double maxRelativeDifference(double[][] want, double[][] got) {
    double m = 0;
    for (int i = 0; i < want.length; i++) {
      assertEquals(want[i].length, got[i].length);
      for (int p = 0; p < want[i].length / 3; p++) {
        double scale = Math.max(1e-30, (want[i][3 * p] + want[i][3 * p + 1]) / 2);
        for (int j = 3 * p; j < 3 * p + 3; j++) {
          m = Math.max(m, Math.abs(want[i][j] - got[i][j]) / scale);
        }
      }
    }
    return m;
  }

  private static PairStatistics stats(Model m, List<String> nodes,
      PairStatistics.Feeding feeding) {
    return new PairStatistics(m, "input", new long[] {-1, 6, 5, 3}, nodes, Set.of(), feeding);
  }

  @Test
  void oneAtATimeSumsEqualTheBatchedSumsAlsoInGroups() {
    Model m = randomCnn();
    List<String> nodes = nodes(m);
    int pairs = 5;
    float[] x = rows(pairs, 11);
    long[] spatial = {6, 5};
    double[][] batched;
    long[] batchedWidths = new long[nodes.size()];
    try (PairStatistics st = stats(m, nodes, PairStatistics.Feeding.BATCHED)) {
      batched = st.run(x, pairs, batchedWidths, spatial);
      assertNull(st.oneAtATimeReason());
    }
    try (PairStatistics st = stats(m, nodes, PairStatistics.Feeding.ONE_AT_A_TIME)) {
      assertEquals(1, st.groups().size());
      long[] widths = new long[nodes.size()];
      double[][] single = st.run(x, pairs, widths, spatial);
      double d = maxRelativeDifference(batched, single);
      assertTrue(d <= SAME, "one at a time vs batched: " + d);
      assertEquals(java.util.Arrays.toString(batchedWidths), java.util.Arrays.toString(widths));
      // every measured tensor in a group of its own: the same numbers
      st.singleFetchBudget(8);
      assertEquals(nodes.size(), st.groups().size());
      double[][] grouped = st.run(x, pairs, null, spatial);
      assertTrue(maxRelativeDifference(batched, grouped) <= SAME, "in groups");
      // control: each pair's second example taken from the next pair
      float[] shifted = x.clone();
      for (int p = 0; p < pairs; p++) {
        System.arraycopy(x, (2 * ((p + 1) % pairs) + 1) * 3, shifted, (2 * p + 1) * 3, 3);
      }
      double control = maxRelativeDifference(batched, st.run(shifted, pairs, null, spatial));
      assertTrue(control > 1e-3, "mismatched partners: " + control);
    }
  }

  /** The kernel check's rows forced through both paths, and AUTO choosing the batch. */
  @Test
  void kernelCheckOneAtATimeEqualsBatched() {
    Model m = deltaCnn();
    KernelCheck.Options o = new KernelCheck.Options(CS, 6, 5, 0.03, 0.5, 2);
    long budget = PairChunks.DEFAULT_BUDGET_BYTES;
    KernelReport batched = KernelCheck.run(m, null, o, budget, Set.of(),
        PairStatistics.Feeding.BATCHED);
    KernelReport single = KernelCheck.run(m, null, o, budget, Set.of(),
        PairStatistics.Feeding.ONE_AT_A_TIME);
    KernelReport auto = KernelCheck.run(m, null, o);
    assertFalse(batched.fedOneAtATime() || auto.fedOneAtATime());
    assertTrue(single.fedOneAtATime());
    assertSameRows(batched, single);
    assertSameRows(batched, auto);
    assertTrue(single.toText().contains("fed one at a time"), single.toText());
    assertFalse(batched.toText().contains("one at a time"));
  }

  /**
   * An input of batch 1 is seen statically, a hidden Reshape to batch 1 by the first run; both
   * report the free-batch model's rows. Control: the hidden one refuses a forced batch.
   */
  @Test
  void aFixedBatchOfOneIsFedOneAtATime() {
    Model m = deltaCnn();
    KernelCheck.Options o = new KernelCheck.Options(CS, 6, 5, 0.03, 0.5, 1);
    KernelReport free = KernelCheck.run(m, null, o);
    assertFalse(free.fedOneAtATime());

    KernelReport one = KernelCheck.run(batchOfOne(m), null, o);
    assertTrue(one.fedOneAtATime());
    assertTrue(one.oneAtATime().contains("batch dimension fixed at 1"), one.oneAtATime());
    assertSameRows(free, one);

    Model hidden = hiddenBatchOfOne(m);
    KernelReport found = KernelCheck.run(hidden, null, o);
    assertTrue(found.fedOneAtATime());
    assertTrue(found.oneAtATime().contains("did not take a batch"), found.oneAtATime());
    assertSameRows(free, found);
    assertThrows(TFInvalidArgumentException.class, () -> KernelCheck.run(hidden, null, o,
        PairChunks.DEFAULT_BUDGET_BYTES, Set.of(), PairStatistics.Feeding.BATCHED));
  }

  /**
   * A control dependency on the input placeholder (TF.js graphs put {@code ^input_1} on their
   * constants: handskeleton) no longer asks for the replaced input to be fed.
   */
  @Test
  void aControlDependencyOnTheInputDoesNotBlockTheFeed() {
    Model m = deltaCnn();
    GraphView g = GraphView.of(m.graph());
    NodeDef relu = g.nodes().stream().filter(n -> n.getOp().equals("Relu")).findFirst()
        .orElseThrow();
    g.put(relu.toBuilder().addInput("^input").build());
    KernelCheck.Options o = new KernelCheck.Options(CS, 2, 5, 0.03, 0.5, 1);
    assertSameRows(KernelCheck.run(m, null, o),
        KernelCheck.run(m.with(g.toGraphDef(), m.variables()), null, o));
  }

  private static void assertSameRows(KernelReport want, KernelReport got) {
    assertEquals(want.rows().size(), got.rows().size());
    assertEquals(want.width(), got.width());
    assertEquals(want.passed(), got.passed());
    for (int i = 0; i < want.rows().size(); i++) {
      KernelMeasurement a = want.rows().get(i);
      KernelMeasurement b = got.rows().get(i);
      // the hidden Reshape is measured where the ReLU it reshapes is (the next conv reads it)
      assertEquals(a.tensor(), b.tensor().replace("fixed/reshape", "conv_0/act/relu"));
      assertEquals(a.measuredQ(), b.measuredQ(), SAME * Math.abs(a.measuredQ()), a.tensor());
      assertEquals(a.measuredC(), b.measuredC(), SAME, a.tensor());
    }
  }
}
