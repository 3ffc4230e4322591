package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.ShapedActivation;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.TatSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * The check reads the analysed layers' biases before measuring ({@link InitialBiases}): a
 * width-16 TReLU MLP of 4 dense layers (zero biases, as dks-init leaves them) gets none
 * reported; the same with one bias set to a constant 0.25 (RMS 0.25 by hand) gets that one,
 * named, with the warning in the text (a warning only: the verdict is the measurement's).
 */
class InitialBiasesTest {
  private static final int WIDTH = 16;
  private static final int LAYERS = 4;

  private static ShapingSolution solution() {
    return TatSolver.solve(List.of(Activations.byName("leaky_relu")),
        NetworkMaps.of(Architectures.plainChain(20)), TatTargets.defaults());
  }

  /** dense+act x (LAYERS - 1), dense; the biases of {@code set} (variable names) at {@code v}. */
  private static Model mlp(ShapedActivation act, Map<String, Float> set) {
    DenseNets n = new DenseNets(WIDTH);
    TensorName x = TensorName.of("input");
    for (int i = 0; i < LAYERS - 1; i++) {
      x = ActivationEmitter.emit(n.g, "act" + i, n.dense(x), act.base(), act.params(),
          DataType.DT_FLOAT);
    }
    Model m = n.model(n.dense(x));
    Map<String, TensorProto> vars = new HashMap<>(m.variables());
    set.forEach((name, v) -> {
      float[] b = new float[WIDTH];
      java.util.Arrays.fill(b, v);
      vars.put(name, TensorProtos.ofFloats(new long[] {WIDTH}, b));
    });
    return m.with(m.graph(), vars);
  }

  private static List<InitialBiases.NonZero> found(Model m) {
    GraphView g = GraphView.of(m.graph());
    return InitialBiases.nonZero(m, g, StructureAnalyzer.analyze(g, List.of("input"),
        m.outputNodes()).layers());
  }

  @Test
  void oneNonZeroBiasIsNamedAndZeroBiasesAreNot() {
    ShapingSolution sol = solution();
    ShapedActivation act = sol.get("leaky_relu");
    KernelCheck.Options o = KernelCheck.Options.defaults().withDraws(2);
    KernelReport zero = KernelCheck.run(mlp(act, Map.of()), sol, o);
    assertTrue(zero.nonZeroBiases().isEmpty(), zero.toText());
    assertNull(zero.biasWarning());
    assertFalse(zero.toText().contains("warning"), zero.toText());

    KernelReport one = KernelCheck.run(mlp(act, Map.of("dense2/bias", 0.25f)), sol, o);
    assertEquals(1, one.nonZeroBiases().size(), one.toText());
    InitialBiases.NonZero b = one.nonZeroBiases().get(0);
    assertEquals("dense2/bias", b.bias());
    assertEquals("dense2/MatMul", b.layer());
    assertEquals(0.25, b.rms(), 1e-7); // a constant 0.25: RMS 0.25
    String text = one.toText();
    assertTrue(text.startsWith("warning: 1 analysed layer has a non-zero bias ('dense2/bias' "
        + "of layer 'dense2/MatMul', RMS 0.250)"), text);
    assertTrue(text.contains("re-run `dks rewrite`"), text);
  }

  @Test
  void theThresholdTellsZeroedFromNotZeroed() {
    ShapedActivation act = solution().get("leaky_relu");
    // RMS 1e-7 (float round-off scale) is zero; 1e-5 is not; NaN is not
    assertTrue(found(mlp(act, Map.of("dense1/bias", 1e-7f))).isEmpty());
    assertEquals(List.of("dense1/bias"), found(mlp(act, Map.of("dense1/bias", 1e-5f))).stream()
        .map(InitialBiases.NonZero::bias).toList());
    assertEquals(1, found(mlp(act, Map.of("dense3/bias", Float.NaN))).size());
  }

  @Test
  void theWarningNamesThreeThenCounts() {
    ShapedActivation act = solution().get("leaky_relu");
    Map<String, Float> all = new HashMap<>();
    for (int i = 1; i <= LAYERS; i++) {
      all.put("dense" + i + "/bias", 0.1f * i);
    }
    List<InitialBiases.NonZero> f = found(mlp(act, all));
    assertEquals(LAYERS, f.size());
    // in layer order
    List<String> names = new ArrayList<>();
    f.forEach(n -> names.add(n.bias()));
    assertEquals(List.of("dense1/bias", "dense2/bias", "dense3/bias", "dense4/bias"), names);
    String w = InitialBiases.warning(f, 3);
    assertTrue(w.startsWith("4 analysed layers have a non-zero bias ("), w);
    assertTrue(w.contains("'dense3/bias' of layer 'dense3/MatMul', RMS 0.300, and 1 more)"), w);
    assertFalse(w.contains("dense4"), w);
  }
}
