package dev.dks.rewriter.passes.dks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.MergeSite;
import dev.dks.rewriter.analysis.MultiOperandMergeTest;
import dev.dks.rewriter.analysis.MultiOperandMergeTest.Form;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.rewriter.testing.HandForward;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/**
 * The skips pass on a residual sum of three operands (an AddN, or a chain of adds; the network of
 * {@link MultiOperandMergeTest}: s = r1 + r2 + h, output = dense5(s)), checked against a forward
 * pass in plain Java: removal leaves dense5(r1); shortcut weight w gives dense5(sqrt(1 - w^2) r1
 * + w / sqrt(2) (r2 + h)), whose squared weights sum to 1, and the analysis of the rewritten graph
 * reads those weights as the kernel map's fractions. The unrewritten model (dense5(r1 + r2 + h))
 * is the negative control.
 */
class MultiOperandSkipTest {
  private static final int W = DenseNets.WIDTH;

  private record Hand(double[] h, double[] r1, double[] r2, HandForward f) {}

  private static Hand hand(DenseNets n, TensorProto x) {
    HandForward f = new HandForward(n.vars, W);
    double[] h = f.dense(1, HandForward.of(x));
    double[] r1 = HandForward.relu(f.dense(3, HandForward.relu(f.dense(2, h))));
    double[] r2 = HandForward.relu(f.dense(4, h));
    return new Hand(h, r1, r2, f);
  }

  private static Model rewrite(Model m, double w) {
    return Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(true)).add(new SkipConnectionPass(w)).build().run(m)
        .model();
  }

  private static float[] run(Model m, TensorProto x) {
    return DenseNets.run(m, x);
  }

  @Test
  void removalKeepsTheDeepestOperand() {
    for (Form form : List.of(Form.ADDN, Form.CHAIN)) {
      MultiOperandMergeTest.Net net = MultiOperandMergeTest.network(form);
      TensorProto x = DenseNets.gaussianInput(5, W, 11);
      Hand v = hand(net.n(), x);
      Model out = rewrite(net.model(), 0);
      double[] expected = v.f().dense(5, v.r1());
      assertTrue(HandForward.maxAbsDiff(expected, run(out, x)) < 1e-4, form.toString());
      // negative control: the model as read sums all three
      double[] all = v.f().dense(5, HandForward.sum(new double[] {1, 1, 1}, v.r1(), v.r2(),
          v.h()));
      assertTrue(HandForward.maxAbsDiff(all, run(net.model(), x)) < 1e-4, form.toString());
      assertTrue(HandForward.maxAbsDiff(expected, run(net.model(), x)) > 1e-2, form.toString());
      // the r2 branch is pruned with its variables; the stem stays (r1 reads it)
      assertFalse(out.variables().containsKey("dense4/kernel"), form.toString());
      assertTrue(out.variables().containsKey("dense1/kernel"), form.toString());
      NetworkAnalysis after = StructureAnalyzer.analyze(GraphView.of(out.graph()),
          List.of("input"), List.of("output"));
      assertEquals(List.of(), after.residualMerges());
    }
  }

  @Test
  void aShortcutWeightGivesANormalizedSumOfAllOperands() {
    double w = 0.6;
    for (Form form : List.of(Form.ADDN, Form.CHAIN)) {
      MultiOperandMergeTest.Net net = MultiOperandMergeTest.network(form);
      TensorProto x = DenseNets.gaussianInput(5, W, 12);
      Hand v = hand(net.n(), x);
      Model out = rewrite(net.model(), w);
      double s = w / Math.sqrt(2);
      double[] expected = v.f().dense(5, HandForward.sum(new double[] {0.8, s, s}, v.r1(),
          v.r2(), v.h()));
      assertTrue(HandForward.maxAbsDiff(expected, run(out, x)) < 1e-4, form.toString());
      assertTrue(HandForward.maxAbsDiff(expected, run(net.model(), x)) > 1e-2, form.toString());
      NetworkAnalysis after = StructureAnalyzer.analyze(GraphView.of(out.graph()),
          List.of("input"), List.of("output"));
      assertEquals(1, after.residualMerges().size(), after.merges().toString());
      MergeSite m = after.residualMerges().get(0);
      assertEquals(3, m.operands().size());
      assertTrue(m.isNormalized(), m.toString());
      // the kernel map combines the branches with the squared weights: 0.64, 0.18, 0.18
      assertArrayEquals(new double[] {0.64, 0.18, 0.18}, after.dag().nodes()
          .get(after.dagIndex().get(m.node())).fractions(), 1e-6);
    }
  }

  /**
   * Two merges in series where the second one's residual is the first merge (read elsewhere too,
   * so no chain): removing both leaves dense4(r1) (nanodet failed so: the second removal read the
   * removed first merge). And (r1 + h) + h as a chain is one merge of r1 and h with weights 1 and
   * 2, whose kernel fractions are 1/5 and 4/5.
   */
  @Test
  void mergesInSeriesAndARepeatedOperand() {
    DenseNets n = new DenseNets();
    TensorName h = n.dense(TensorName.of("input"));
    TensorName r1 = n.act("relu", n.dense(n.act("relu", n.dense(h))));
    TensorName m1 = n.add("m1", r1, h);
    n.g.add(dev.dks.rewriter.graph.Nodes.op("Identity", "probe").input(m1)
        .type("T", org.tensorflow.proto.DataType.DT_FLOAT).build());
    TensorName m2 = n.add("m2", m1, h);
    TensorName out = n.dense(m2);
    n.randomBiases(0.1, 5);
    Model in = n.model(out);
    TensorProto x = DenseNets.gaussianInput(5, W, 13);
    HandForward f = new HandForward(n.vars, W);
    double[] hv = f.dense(1, HandForward.of(x));
    double[] r1v = HandForward.relu(f.dense(3, HandForward.relu(f.dense(2, hv))));
    assertTrue(HandForward.maxAbsDiff(f.dense(4, r1v), run(rewrite(in, 0), x)) < 1e-4);

    DenseNets c = new DenseNets();
    TensorName ch = c.dense(TensorName.of("input"));
    TensorName cr = c.act("relu", c.dense(c.act("relu", c.dense(ch))));
    TensorName sum = c.add("outer", c.add("inner", cr, ch), ch);
    c.model(c.dense(sum));
    NetworkAnalysis a = StructureAnalyzer.analyze(c.g, List.of("input"), List.of("output"));
    assertEquals(1, a.residualMerges().size(), a.merges().toString());
    MergeSite m = a.residualMerges().get(0);
    assertEquals(List.of(1.0, 2.0), m.weights());
    assertArrayEquals(new double[] {0.2, 0.8}, a.dag().nodes().get(a.dagIndex().get("outer"))
        .fractions(), 1e-12);
  }
}
