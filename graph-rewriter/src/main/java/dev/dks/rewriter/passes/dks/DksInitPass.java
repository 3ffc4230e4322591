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
 * seed (layer i uses seed + i): Conv2D kernels (HWIO) Delta-orthogonal (live tap at the centre,
 * rounded down for even sizes: see {@link #delta}); DepthwiseConv2dNative kernels [H, W, C, M] as
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
        if (shape.length != 4) {
          notes.add("'" + node.getName() + "' has a kernel of rank " + shape.length + " "
              + java.util.Arrays.toString(shape) + ": scaled orthogonal over the flattened "
              + "kernel instead of Delta");
          return new ScaledUniformOrthogonal(1.0, false).sample(shape, seed).toFloatArray();
        }
        return delta(shape, seed);
      }
    }
  }

  /**
   * A Delta-orthogonal [H, W, in, out] kernel: one live tap, at the centre ((H-1)/2, (W-1)/2),
   * rounded down for an even size. Why that tap for even sizes (the DS-CNN's 10x4 first conv):
   * under SAME padding TensorFlow pads floor(total/2) before, at most floor((k-1)/2), and
   * ceil(total/2) after, so the tap (k-1)/2 (rounded down) reads an input location at every
   * output location, for any stride; the layer then acts per location like a dense layer, as
   * with odd sizes. Before, an even kernel was scaled orthogonal over its flattened taps: at the
   * border the padding cut taps off (q 0.48 at the DS-CNN's corner), locations differed, and the
   * global average pool then averaged unequal locations (measured c 0.80 against 0.74 per
   * location).
   */
  private static float[] delta(long[] shape, long seed) {
    int h = (int) shape[0];
    int w = (int) shape[1];
    if (h % 2 == 1 && w % 2 == 1) {
      return DeltaOrthogonal.sample(shape, 1.0, seed).toFloatArray();
    }
    int block = (int) (shape[2] * shape[3]);
    float[] centre = DeltaOrthogonal.sample(new long[] {1, 1, shape[2], shape[3]}, 1.0, seed)
        .toFloatArray();
    float[] out = new float[h * w * block];
    int tap = (h - 1) / 2 * w + (w - 1) / 2;
    System.arraycopy(centre, 0, out, tap * block, block);
    return out;
  }

  /** [H, W, C, M]: channel c gets its own Delta-orthogonal [H, W, 1, M] kernel. */
  private static float[] depthwise(long[] shape, long seed) {
    int h = (int) shape[0];
    int w = (int) shape[1];
    int c = (int) shape[2];
    int m = (int) shape[3];
    float[] out = new float[h * w * c * m];
    for (int ch = 0; ch < c; ch++) {
      float[] k = delta(new long[] {h, w, 1, m}, seed * 1_000_003L + ch);
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
