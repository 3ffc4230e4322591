package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.rewriter.passes.dks.DksInitPass;
import dev.dks.rewriter.passes.dks.ShapeActivationsPass;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/**
 * The sequential rule's log q target on a narrow, cheap network (a TAT leaky-ReLU chain 4 units
 * wide): the draws' standard errors fall as 1/sqrt(draws), the rule adds draws until the log q
 * allowance is back at log(1 + q tolerance), and a doubled kernel, which the allowance of the
 * width rule's 24 draws let pass, now fails.
 */
@Tag("tf")
class KernelLogQPrecisionTest {
  static final int DEPTH = 20;
  static final int WIDTH = 4;

  static Model chain;
  static ShapingSolution solution;

  @BeforeAll
  static void build() {
    DenseNets n = new DenseNets(WIDTH);
    TensorName x = TensorName.of("input");
    for (int i = 0; i < DEPTH; i++) {
      x = n.act("leaky_relu", n.dense(x));
    }
    chain = Pipeline.builder()
        .add(new ShapeActivationsPass(Method.TAT,
            ActivationPolicy.defaults(Method.TAT).all("leaky_relu"), DksTargets.defaults(),
            TatTargets.defaults()))
        .add(new DksInitPass(5)).build().run(n.model(n.dense(x))).model();
    solution = TatSolver.solve(List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.plainChain(DEPTH)), TatTargets.defaults());
  }

  /** The chain with kernel {@code name} scaled by {@code k}. */
  static Model scaled(String name, float k) {
    Map<String, TensorProto> vars = new HashMap<>(chain.variables());
    float[] w = TensorProtos.floats(vars.get(name));
    for (int i = 0; i < w.length; i++) {
      w[i] *= k;
    }
    vars.put(name, TensorProtos.ofFloats(new long[] {WIDTH, WIDTH}, w));
    return chain.with(chain.graph(), vars);
  }

  @Test
  void standardErrorsFallAsOneOverSqrtDraws() {
    KernelReport few = KernelCheck.run(chain, solution,
        KernelCheck.Options.defaults().withDraws(16));
    KernelReport many = KernelCheck.run(chain, solution,
        KernelCheck.Options.defaults().withDraws(144));
    // 9 times the draws of the same 8 pairs each: the standard errors shrink by sqrt(9) = 3,
    // give or take the error of the 16-draw spread (about 1/sqrt(2 x 15) = 18 % relative)
    double cRatio = few.sampling().cStandardError() / many.sampling().cStandardError();
    double qRatio = few.sampling().logQStandardError() / many.sampling().logQStandardError();
    assertEquals(3, cRatio, 1.5, few.sampling() + " / " + many.sampling());
    assertEquals(3, qRatio, 1.5, few.sampling() + " / " + many.sampling());
    // the allowance follows: 4 standard errors of log q (the simulation's own is far smaller)
    double allowedFew = few.judgedRows().stream().mapToDouble(KernelMeasurement::logQAllowed)
        .max().orElseThrow();
    assertEquals(4 * few.sampling().logQStandardError(), allowedFew,
        0.05 * allowedFew, few.toText());
    // given counts: no draw added, and the report calls the wide allowances a weak pass
    assertEquals(16, few.sampling().draws());
    assertTrue(few.weakPass(), few.toText());
    assertTrue(few.toText().contains("note: weak PASS: allowed c error"), few.toText());
  }

  @Test
  void doubledKernelFailsWhereTheWidthRulesDrawsLetItPass() {
    Model doubled = scaled("dense10/kernel", 2);
    // a doubled kernel multiplies q behind it by 4 in every draw (leaky ReLU is 1-homogeneous):
    // mean log q off by log 4 = 1.386, c unchanged
    KernelReport old = KernelCheck.run(doubled, solution,
        KernelCheck.Options.defaults().withDraws(24));
    double oldAllowed = old.judgedRows().stream().mapToDouble(KernelMeasurement::logQAllowed)
        .max().orElseThrow();
    // the width rule's 24 draws (all the old rule took here): allowance above log 4, a pass
    assertTrue(oldAllowed > Math.log(4), old.toText());
    assertTrue(old.passed(), old.toText());
    KernelReport now = KernelCheck.run(doubled, solution, KernelCheck.Options.defaults());
    assertTrue(now.sampling().draws() > 24, now.sampling().toString());
    assertTrue(now.sampling().logQStandardError() < old.sampling().logQStandardError() / 2,
        now.sampling().toString());
    assertFalse(now.passed(), now.toText());
    // failed on q by log q: the error is about log 4 (within 4 standard errors)
    KernelMeasurement worst = now.judgedRows().stream()
        .max(java.util.Comparator.comparingDouble(KernelMeasurement::logQError)).orElseThrow();
    assertTrue(worst.judgesLogQ() && worst.logQError() > worst.logQAllowed(), now.toText());
    assertEquals(Math.log(4), worst.logQError(), 4 * now.sampling().logQStandardError(),
        now.toText());
  }

  @Test
  void sequentialRuleNarrowsTheLogQAllowanceOfTheCorrectChain() {
    // control for the test above: the same draws on the correctly scaled chain pass
    KernelReport r = KernelCheck.run(chain, solution, KernelCheck.Options.defaults());
    assertTrue(r.passed(), r.toText());
    KernelSampling s = r.sampling();
    // a width-4 draw is cheap: the cost cap is the sequential rule's maximum, and it is reached
    // before log q's target (a quarter of log 1.5): the report says the pass is weak
    assertEquals(KernelCheck.MAX_SEQUENTIAL_DRAWS, s.drawCap(), s.toString());
    assertEquals(KernelCheck.MAX_SEQUENTIAL_DRAWS, s.draws(), s.toString());
    assertEquals("cost cap", s.rule());
    assertTrue(s.logQStandardError() > 0.25 * Math.log(1.5), s.toString());
    assertTrue(r.weakPass() && r.widenedAllowances().containsKey("log_q"), r.toText());
    assertTrue(r.toText().contains("the most the check's cost budget pays for"), r.toText());
  }
}
