package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * The kernel check reports every output of a two-headed network on its own path: a head after 5
 * shaped leaky-ReLU layers and one after 20 are each predicted by the closed-form TReLU C map
 * composed 5 and 20 times (not the check's quadrature maps), measured within the draws' error,
 * and an integer output and an output that does not depend on the input are reported as not
 * checked, not failed.
 */
@Tag("tf")
class KernelOutputsTest {
  private static final int WIDTH = 64;
  private static final int SHORT = 5;
  private static final int LONG = 20;

  private static double treluC(double c, double s) {
    double k = (1 - s) * (1 - s) / (Math.PI * (1 + s * s));
    return c + k * (Math.sqrt(1 - c * c) - c * Math.acos(c));
  }

  private static double compose(double c, double s, int layers) {
    for (int i = 0; i < layers; i++) {
      c = treluC(c, s);
    }
    return c;
  }

  /** TAT's leaky ReLU for the deepest path (20 layers, C(0) = 0.9). */
  private static ShapingSolution solution() {
    return TatSolver.solve(List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.plainChain(LONG)), TatTargets.defaults());
  }

  /**
   * Input -> 4 shaped layers (the trunk) -> one more shaped layer of the head's own -> dense
   * "short"; the trunk goes on through 16 more layers -> dense "output"; plus "label" (int32
   * cast of the short head) and "version" (a constant).
   */
  private static Model twoHeads(ShapedActivation act, float scale) {
    DenseNets n = new DenseNets(WIDTH);
    TensorName x = TensorName.of("input");
    for (int i = 0; i < SHORT - 1; i++) {
      x = ActivationEmitter.emit(n.g, "act" + i, n.dense(x), act.base(), act.params(),
          DataType.DT_FLOAT);
    }
    TensorName trunk = x;
    x = ActivationEmitter.emit(n.g, "act_short", n.dense(trunk), act.base(), act.params(),
        DataType.DT_FLOAT);
    String misScaled = "dense" + SHORT + "/kernel";
    TensorName shortHead = n.dense(x);
    x = trunk;
    for (int i = SHORT - 1; i < LONG; i++) {
      x = ActivationEmitter.emit(n.g, "act" + i, n.dense(x), act.base(), act.params(),
          DataType.DT_FLOAT);
    }
    TensorName longHead = n.dense(x);
    n.g.add(Nodes.op("Identity", "short").input(shortHead).type("T", DataType.DT_FLOAT)
        .build());
    n.g.add(Nodes.op("Cast", "label").input(shortHead).type("SrcT", DataType.DT_FLOAT)
        .type("DstT", DataType.DT_INT32).build());
    n.g.add(Nodes.constant("version", TensorProtos.ofFloats(new long[] {1}, new float[] {3})));
    Model one = n.model(longHead);
    Map<String, TensorSpec> outs = new LinkedHashMap<>();
    outs.put("y", new TensorSpec(TensorName.of("output"), DataType.DT_FLOAT,
        new long[] {-1, WIDTH}));
    outs.put("s", new TensorSpec(TensorName.of("short"), DataType.DT_FLOAT,
        new long[] {-1, WIDTH}));
    outs.put("label", new TensorSpec(TensorName.of("label"), DataType.DT_INT32,
        new long[] {-1, WIDTH}));
    outs.put("version", new TensorSpec(TensorName.of("version"), DataType.DT_FLOAT,
        new long[] {1}));
    Map<String, TensorProto> vars = new HashMap<>(one.variables());
    if (scale != 1f) {
      // the short head's own hidden layer mis-scaled: only that output's q is wrong
      String k = misScaled;
      float[] v = TensorProtos.floats(vars.get(k));
      for (int i = 0; i < v.length; i++) {
        v[i] *= scale;
      }
      vars.put(k, TensorProtos.ofFloats(new long[] {WIDTH, WIDTH}, v));
    }
    return new Model(one.graph(), vars, List.of(new Signature(Signature.SERVING_DEFAULT,
        Signature.PREDICT_METHOD, one.signatures().get(0).inputs(), outs)));
  }

  @Test
  void everyOutputOnItsOwnPathAndTheOthersNotChecked() {
    ShapingSolution sol = solution();
    ShapedActivation act = sol.get("leaky_relu");
    double s = act.params().negativeSlope().getAsDouble();
    KernelReport r = KernelCheck.run(twoHeads(act, 1f), sol,
        KernelCheck.Options.defaults().withDraws(16));
    assertEquals(List.of("output", "short", "label", "version"),
        r.outputs().stream().map(OutputCheck::output).toList(), r.toText());
    Map<String, Integer> depth = Map.of("output", LONG, "short", SHORT);
    for (OutputCheck o : r.outputs().subList(0, 2)) {
      assertTrue(o.checked(), r.toText());
      List<KernelMeasurement> judged = o.report().judgedRows();
      assertEquals(3, judged.size(), o.report().toText());
      for (KernelMeasurement m : judged) {
        double closedForm = compose(m.inputC(), s, depth.get(o.output()));
        // predicted at the network's own width (FiniteWidthPairs): within 0.01 of the
        // infinite-width closed form at width 64
        assertEquals(closedForm, m.predictedC(), 0.01, o.output() + " prediction");
        assertEquals(closedForm, m.measuredC(), 0.02, o.report().toText());
      }
      assertTrue(o.report().passed(), o.report().toText());
    }
    // negative control: the two heads' c differ far beyond the tolerance 
    assertTrue(compose(0, s, LONG) - compose(0, s, SHORT) > 0.1);
    assertTrue(r.outputs().get(2).notChecked().contains("DT_INT32"), r.toText());
    assertTrue(r.outputs().get(3).notChecked().contains("does not depend"), r.toText());
    assertTrue(r.passed(), r.toText());
    assertTrue(r.toText().contains("2 of 2 checked outputs"), r.toText());
  }

  @Test
  void aFailingSecondOutputFailsTheVerdict() {
    ShapingSolution sol = solution();
    KernelReport r = KernelCheck.run(twoHeads(sol.get("leaky_relu"), 2f), sol,
        KernelCheck.Options.defaults().withDraws(4));
    assertTrue(r.outputs().get(0).report().passed(), r.toText());
    assertFalse(r.outputs().get(1).report().passed(), r.toText());
    // q grows fourfold behind the doubled kernel (leaky ReLU is 1-homogeneous)
    assertTrue(r.outputs().get(1).report().judgedRows().get(0).measuredQ() > 2, r.toText());
    assertFalse(r.passed(), r.toText());
  }
}
