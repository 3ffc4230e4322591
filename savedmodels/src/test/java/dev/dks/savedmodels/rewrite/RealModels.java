package dev.dks.savedmodels.rewrite;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Helpers of the end-to-end rewrite tests on the real SavedModels of {@code ../shared/models}
 * (located by {@link dev.dks.savedmodels.TestAssets#sharedModel}): op counts on a signature's
 * path, random inputs.
 */
final class RealModels {
  static final Set<String> NORM_OPS =
      Set.of("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3");

  private RealModels() {}

  /**
   * The model without its output markers: the inlining pass keeps each signature's call node as
   * an {@code IdentityN} marker (TensorFlow has no C++ gradient for IdentityN; the final gradient
   * check differentiates what it forwards). This points every signature output that reads such a
   * marker at the tensor the marker forwards and removes the markers nothing else reads (their
   * control inputs only order the function's side effects), so tests can look at the ops on a
   * signature's path directly.
   */
  static Model withoutOutputMarkers(Model m) {
    GraphView g = GraphView.of(m.graph());
    java.util.Set<String> markers = new java.util.LinkedHashSet<>();
    List<Signature> sigs = new java.util.ArrayList<>();
    for (Signature s : m.signatures()) {
      Map<String, TensorSpec> outs = new java.util.LinkedHashMap<>();
      for (Map.Entry<String, TensorSpec> e : s.outputs().entrySet()) {
        TensorSpec t = e.getValue();
        NodeDef n = g.find(t.tensor().node()).orElse(null);
        if (n != null && n.getOp().equals("IdentityN")) {
          markers.add(n.getName());
          TensorName fwd = TensorName.parse(n.getInput(t.tensor().index()));
          t = new TensorSpec(fwd, t.dtype(), t.shape());
        }
        outs.put(e.getKey(), t);
      }
      sigs.add(new Signature(s.key(), s.methodName(), s.inputs(), outs));
    }
    for (String mk : markers) {
      if (g.consumers(mk).isEmpty()) {
        g.remove(mk);
      }
    }
    return new Model(g.toGraphDef(), m.variables(), sigs);
  }

  /**
   * {@link DksRewrite#pipeline} with every pass after {@code last} skipped (the pass list is read
   * from the pipeline itself, so passes added later are skipped too).
   */
  static Pipeline.Builder pipelineUpTo(RewriteOptions o, String last) {
    List<String> names = DksRewrite.pipeline(o).build().passes().stream()
        .map(RewritePass::name).toList();
    int i = names.indexOf(last);
    if (i < 0) {
      throw new IllegalArgumentException("no pass '" + last + "' in " + names);
    }
    return DksRewrite.pipeline(o).skip(names.subList(i + 1, names.size()).toArray(String[]::new));
  }

  /** Op histogram of the ancestors of {@code roots} (node names). */
  static Map<String, Integer> opsOnPath(GraphView g, List<String> roots) {
    Set<String> live = g.ancestors(roots);
    Map<String, Integer> ops = new TreeMap<>();
    for (NodeDef n : g.nodes()) {
      if (live.contains(n.getName())) {
        ops.merge(n.getOp(), 1, Integer::sum);
      }
    }
    return ops;
  }

  /** The serving_default signature's output node(s). */
  static List<String> servingOutputs(Model m) {
    return m.signature(Signature.SERVING_DEFAULT).outputs().values().stream()
        .map(t -> t.tensor().node()).distinct().toList();
  }

  /** The single float input tensor name of serving_default. */
  static String servingInput(Model m) {
    Map<String, dev.dks.rewriter.model.TensorSpec> in =
        m.signature(Signature.SERVING_DEFAULT).inputs();
    if (in.size() != 1) {
      throw new IllegalStateException("expected one input, got " + in.keySet());
    }
    return in.values().iterator().next().tensor().toString();
  }

  /** The single output tensor name of serving_default. */
  static String servingOutput(Model m) {
    return m.signature(Signature.SERVING_DEFAULT).outputs().values().iterator().next().tensor()
        .toString();
  }

  /** Runs {@code m}'s serving_default (one input, one output) on {@code x}; the output. */
  static float[] runServing(Model m, TensorProto x) {
    String in = servingInput(m);
    String out = servingOutput(m);
    try (ModelSession s = new ModelSession(m)) {
      return TensorProtos.floats(s.run(Map.of(in, x), List.of(out)).get(out));
    }
  }

  /** {@link #runServing} on standard normal values of {@code shape} drawn with {@code seed}. */
  static float[] runOnGaussian(Model m, long[] shape, long seed) {
    return runServing(m, gaussian(shape, new Random(seed)));
  }

  /** Standard normal float32 values of this shape. */
  static TensorProto gaussian(long[] shape, Random rnd) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return TensorProtos.ofFloats(shape, v);
  }

  /** Asserts-friendly: the index of the first non-finite value, or -1. */
  static int firstNonFinite(float[] v) {
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        return i;
      }
    }
    return -1;
  }

  /** Milliseconds since {@code t0} (System.nanoTime). */
  static long millisSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
