package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.init.HaarOrthogonal;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Independent weight draws of a network for the kernel check: every layer's kernel W (as an
 * [in, out] matrix per spatial tap) becomes {@code P W Q} with fresh Haar-random orthogonal P (in
 * x in) and Q (out x out; none for square kernels), the same for all taps of a conv kernel; its
 * bias b becomes {@code b Q}.
 *
 * <p>Why: the per-location kernel theory predicts the kernel averaged over the initialization
 * distribution, while one network of width n deviates from it by O(1/sqrt(n)) (for the demo's
 * width-16 ResNet-18 rewrite the output c of one draw has a standard deviation of about 0.05);
 * more input pairs do not average that away, other draws of the weights do. Rotations keep what
 * the shaping is about: the singular values of every kernel (its scale), which taps are non-zero
 * (Delta structure), and the biases' norms; a Haar-orthogonal (DKS/TAT) kernel rotated this way is
 * again exactly Haar distributed, so for a DKS-initialized model the draws are fresh
 * initializations, and a mis-scaled or mis-structured kernel stays mis-scaled or mis-structured.
 * Depthwise kernels (no channel mixing) and non-float kernels are left as they are.
 */
final class WeightRotations {
  private WeightRotations() {}

  /** {@code model} with every rotatable layer kernel rotated by draws from {@code seed}. */
  static Model rotated(Model model, NetworkAnalysis a, GraphView g, long seed) {
    Map<String, TensorProto> vars = new HashMap<>(model.variables());
    long s = seed * 1_000_003L;
    for (LayerSite l : a.layers()) {
      s++;
      TensorProto k = vars.get(l.kernelVariable());
      if (k == null || k.getDtype() != DataType.DT_FLOAT) {
        continue;
      }
      long[] shape = TensorProtos.shape(k);
      NodeDef node = g.get(l.node());
      boolean transposed = l.op().equals("MatMul") && node.containsAttr("transpose_b")
          && node.getAttrOrThrow("transpose_b").getB();
      int in;
      int out;
      if (l.op().equals("MatMul") && shape.length == 2) {
        in = (int) (transposed ? shape[1] : shape[0]);
        out = (int) (transposed ? shape[0] : shape[1]);
      } else if (l.op().equals("Conv2D") && shape.length == 4) {
        in = (int) shape[2];
        out = (int) shape[3];
      } else {
        continue; // depthwise and other kernels: no channel mixing to rotate
      }
      double[] p = HaarOrthogonal.sample(in, in, 2 * s);
      // square kernels: P alone makes P W exactly Haar again (and rotates the layer's input
      // afresh), so Q is drawn only where the output subspace of W must move as well
      double[] q = in == out ? null : HaarOrthogonal.sample(out, out, 2 * s + 1);
      float[] w = TensorProtos.floats(k);
      float[] r = transposed ? rotateTransposed(w, in, out, p, q) : rotateTaps(w, in, out, p, q);
      vars.put(l.kernelVariable(), TensorProtos.ofFloats(shape, r));
      TensorProto b = l.biasVariable().isEmpty() ? null : vars.get(l.biasVariable());
      if (q != null && b != null && b.getDtype() == DataType.DT_FLOAT && TensorProtos.floats(b).length == out) {
        float[] bv = TensorProtos.floats(b);
        float[] rb = new float[out];
        for (int j = 0; j < out; j++) {
          double acc = 0;
          for (int i = 0; i < out; i++) {
            acc += bv[i] * q[i * out + j];
          }
          rb[j] = (float) acc;
        }
        vars.put(l.biasVariable(), TensorProtos.ofFloats(TensorProtos.shape(b), rb));
      }
    }
    return model.with(model.graph(), vars);
  }

  /**
   * Row-major taps of [in, out] matrices (HWIO or a plain [in, out] kernel): P W Q per tap (P W
   * when {@code q} is null).
   */
  static float[] rotateTaps(float[] w, int in, int out, double[] p, double[] q) {
    int taps = w.length / (in * out);
    float[] r = new float[w.length];
    double[] pw = new double[in * out];
    for (int t = 0; t < taps; t++) {
      int base = t * in * out;
      boolean zero = true;
      for (int i = 0; i < in * out && zero; i++) {
        zero = w[base + i] == 0f;
      }
      if (zero) {
        continue; // Delta kernels: only the centre tap is non-zero
      }
      java.util.Arrays.fill(pw, 0);
      for (int i = 0; i < in; i++) {
        for (int m = 0; m < in; m++) {
          double pim = p[i * in + m];
          if (pim == 0) {
            continue;
          }
          for (int j = 0; j < out; j++) {
            pw[i * out + j] += pim * w[base + m * out + j];
          }
        }
      }
      if (q == null) {
        for (int i = 0; i < in * out; i++) {
          r[base + i] = (float) pw[i];
        }
        continue;
      }
      double[] row = new double[out];
      for (int i = 0; i < in; i++) {
        java.util.Arrays.fill(row, 0);
        for (int m = 0; m < out; m++) {
          double v = pw[i * out + m];
          for (int j = 0; j < out; j++) {
            row[j] += v * q[m * out + j];
          }
        }
        for (int j = 0; j < out; j++) {
          r[base + i * out + j] = (float) row[j];
        }
      }
    }
    return r;
  }

  /** A [out, in] kernel K = W^T: returns (P W Q)^T. */
  private static float[] rotateTransposed(float[] k, int in, int out, double[] p, double[] q) {
    float[] w = new float[k.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        w[i * out + o] = k[o * in + i];
      }
    }
    float[] r = rotateTaps(w, in, out, p, q);
    float[] t = new float[k.length];
    for (int i = 0; i < in; i++) {
      for (int o = 0; o < out; o++) {
        t[o * in + i] = r[i * out + o];
      }
    }
    return t;
  }
}
