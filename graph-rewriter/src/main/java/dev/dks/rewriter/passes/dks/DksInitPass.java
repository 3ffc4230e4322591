package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Analyses;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import dev.dks.solver.init.DeltaOrthogonal;
import dev.dks.solver.init.ScaledUniformOrthogonal;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * "dks-init": re-initializes every layer on the network path for DKS/TAT, deterministically for a
 * seed (layer i uses seed + i): Conv2D kernels (HWIO) Delta-orthogonal, or scaled orthogonal over
 * the flattened kernel when a spatial size is even; DepthwiseConv2dNative kernels [H, W, C, M] as
 * C independent Delta-orthogonal [H, W, 1, M] kernels; MatMul kernels [in, out] scaled uniform
 * orthogonal ({@code transpose_b} kernels [out, in] sampled as [in, out] and transposed); biases
 * zero. Only float32 kernels held as variables are touched; others are reported and left alone.
 */
public final class DksInitPass implements RewritePass {
  private final long seed;

  /** A pass with this base seed. */
  public DksInitPass(long seed) {
    this.seed = seed;
  }

  @Override
  public String name() {
    return "dks-init";
  }

  @Override
  public String description() {
    return "Delta-orthogonal conv kernels, scaled orthogonal dense kernels, zero biases (seed "
        + seed + ")";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    if (ctx.inputs().isEmpty()) {
      return PassOutcome.unchanged(name(), "no input nodes are known (no signature inputs)");
    }
    NetworkAnalysis a = Analyses.of(ctx);
    List<LayerSite> layers = a.layers();
    // Sampling (a QR of each kernel, O(fan_in * fan_out * min(fan_in, fan_out))) dominates the
    // rewrite of wide models; layers are independent (layer i always uses seed + i), so they are
    // sampled in parallel and the results are the same as sequentially.
    long[][] shapes = new long[layers.size()][];
    for (int i = 0; i < layers.size(); i++) {
      TensorProto k = ctx.variables().get(layers.get(i).kernelVariable());
      if (k != null && k.getDtype() == DataType.DT_FLOAT) {
        shapes[i] = TensorProtos.shape(k);
      }
    }
    @SuppressWarnings("unchecked")
    List<String>[] layerNotes = new List[layers.size()];
    float[][] sampled = new float[layers.size()][];
    java.util.stream.IntStream.range(0, layers.size()).parallel().forEach(i -> {
      if (shapes[i] != null) {
        layerNotes[i] = new ArrayList<>();
        LayerSite l = layers.get(i);
        sampled[i] = sample(ctx.graph().get(l.node()), l.op(), shapes[i], seed + i + 1,
            layerNotes[i]);
      }
    });
    List<String> notes = new ArrayList<>();
    int changed = 0;
    for (int i = 0; i < layers.size(); i++) {
      LayerSite l = layers.get(i);
      if (shapes[i] == null) {
        notes.add("left '" + l.node() + "' alone: its kernel is not a float32 variable with a "
            + "value");
        continue;
      }
      notes.addAll(layerNotes[i]);
      ctx.variables().put(l.kernelVariable(), TensorProtos.ofFloats(shapes[i], sampled[i]));
      TensorProto bias = ctx.variables().get(l.biasVariable());
      if (bias != null && bias.getDtype() == DataType.DT_FLOAT) {
        long[] bs = TensorProtos.shape(bias);
        ctx.variables().put(l.biasVariable(),
            TensorProtos.ofFloats(bs, new float[TensorProtos.floats(bias).length]));
      }
      changed++;
    }
    notes.add(changed + " layers re-initialized");
    return new PassOutcome(name(), changed, notes);
  }

  private static float[] sample(NodeDef node, String op, long[] shape, long seed,
      List<String> notes) {
    switch (op) {
      case "MatMul" -> {
        boolean transposed = node.containsAttr("transpose_b")
            && node.getAttrOrThrow("transpose_b").getB();
        if (!transposed) {
          return new ScaledUniformOrthogonal().sample(shape, seed).toFloatArray();
        }
        long[] io = {shape[1], shape[0]};
        float[] w = new ScaledUniformOrthogonal().sample(io, seed).toFloatArray();
        return transpose(w, (int) io[0], (int) io[1]);
      }
      case "DepthwiseConv2dNative" -> {
        return depthwise(shape, seed);
      }
      default -> {
        boolean odd = shape.length == 4 && shape[0] % 2 == 1 && shape[1] % 2 == 1;
        if (!odd) {
          notes.add("'" + node.getName() + "' has an even kernel size " + java.util.Arrays
              .toString(shape) + ": scaled orthogonal over the flattened kernel instead of Delta");
          return new ScaledUniformOrthogonal(1.0, false).sample(shape, seed).toFloatArray();
        }
        return DeltaOrthogonal.sample(shape, 1.0, seed).toFloatArray();
      }
    }
  }

  /** [H, W, C, M]: channel c gets its own Delta-orthogonal [H, W, 1, M] kernel. */
  private static float[] depthwise(long[] shape, long seed) {
    int h = (int) shape[0];
    int w = (int) shape[1];
    int c = (int) shape[2];
    int m = (int) shape[3];
    float[] out = new float[h * w * c * m];
    for (int ch = 0; ch < c; ch++) {
      float[] k = h % 2 == 1 && w % 2 == 1
          ? DeltaOrthogonal.sample(new long[] {h, w, 1, m}, 1.0, seed * 1_000_003L + ch)
              .toFloatArray()
          : new ScaledUniformOrthogonal(1.0, false).sample(new long[] {h, w, 1, m},
              seed * 1_000_003L + ch).toFloatArray();
      for (int p = 0; p < h * w; p++) {
        for (int j = 0; j < m; j++) {
          out[(p * c + ch) * m + j] = k[p * m + j];
        }
      }
    }
    return out;
  }

  private static float[] transpose(float[] a, int rows, int cols) {
    float[] t = new float[a.length];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        t[j * rows + i] = a[i * cols + j];
      }
    }
    return t;
  }
}
