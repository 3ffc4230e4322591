package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.init.HaarOrthogonal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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
 * Depthwise kernels are rotated per channel ({@link #rotateDepthwise}); non-float kernels are
 * left as they are.
 */
final class WeightRotations {
  private WeightRotations() {}

  /** {@code model} with every rotatable layer kernel rotated by draws from {@code seed}. */
  static Model rotated(Model model, NetworkAnalysis a, GraphView g, long seed) {
    Map<String, TensorProto> vars = new HashMap<>(model.variables());
    vars.putAll(rotatedVariables(model, a.layers(), g, seed));
    return model.with(model.graph(), vars);
  }

  /**
   * The variables a draw from {@code seed} changes (rotated kernels and their biases), rotated
   * from {@code model}'s own values: what a session holding the model must load to hold the
   * draw. Each layer's kernel is rotated once, in the order of {@code layers}.
   */
  static Map<String, TensorProto> rotatedVariables(Model model, List<LayerSite> layers,
      GraphView g, long seed) {
    Map<String, TensorProto> vars = model.variables();
    // each kernel's seed follows from its layer's position alone, so the layers rotate in
    // parallel (the kernels of a ResNet-50 take about 11 s of CPU per draw) with the same result
    List<Kernel> kernels = kernels(model, layers, g);
    List<Map<String, TensorProto>> parts = kernels.parallelStream().map(kn -> {
      Map<String, TensorProto> part = new LinkedHashMap<>();
      LayerSite l = kn.layer();
      float[] w = TensorProtos.floats(vars.get(l.kernelVariable()));
      TensorProto b = l.biasVariable().isEmpty() ? null : vars.get(l.biasVariable());
      float[] bias = b != null && b.getDtype() == DataType.DT_FLOAT
          && TensorProtos.floats(b).length == kn.out() ? TensorProtos.floats(b) : null;
      long s = seed * 1_000_003L + kn.position();
      if (kn.depthwise()) {
        part.put(l.kernelVariable(), TensorProtos.ofFloats(kn.shape(),
            rotateDepthwise(w, kn.shape(), s)));
        return part;
      }
      Rotated r = kn.transposed() ? rotateTransposed(w, kn.in(), kn.out(), bias, s)
          : rotate(w, kn.in(), kn.out(), bias, s);
      part.put(l.kernelVariable(), TensorProtos.ofFloats(kn.shape(), r.kernel()));
      if (bias != null && r.bias() != bias) {
        part.put(l.biasVariable(), TensorProtos.ofFloats(TensorProtos.shape(b), r.bias()));
      }
      return part;
    }).toList();
    Map<String, TensorProto> changed = new LinkedHashMap<>();
    parts.forEach(changed::putAll);
    return changed;
  }

  /**
   * A rotatable kernel: its layer (the first that uses the variable), position in the layer list
   * (1-based: the draw's seed offset), [in, out] matrix sizes per tap (for a depthwise kernel
   * those of one channel: 1 and the channel multiplier), live (non-zero) taps.
   */
  record Kernel(LayerSite layer, int position, long[] shape, int in, int out, boolean transposed,
      int liveTaps, boolean depthwise) {
    /** Channels rotated one by one: a depthwise kernel's input channels, else 1. */
    long channels() {
      return depthwise ? shape[2] : 1;
    }
  }

  /** The kernels a draw rotates, each once, in the order of {@code layers}. */
  static List<Kernel> kernels(Model model, List<LayerSite> layers, GraphView g) {
    Map<String, TensorProto> vars = model.variables();
    List<Kernel> out = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    int position = 0;
    for (LayerSite l : layers) {
      position++;
      if (!seen.add(l.kernelVariable())) {
        continue;
      }
      TensorProto k = vars.get(l.kernelVariable());
      if (k == null || k.getDtype() != DataType.DT_FLOAT) {
        continue;
      }
      long[] shape = TensorProtos.shape(k);
      NodeDef node = g.get(l.node());
      boolean transposed = l.op().equals("MatMul") && node.containsAttr("transpose_b")
          && node.getAttrOrThrow("transpose_b").getB();
      int in;
      int cols;
      if (l.op().equals("MatMul") && shape.length == 2) {
        in = (int) (transposed ? shape[1] : shape[0]);
        cols = (int) (transposed ? shape[0] : shape[1]);
      } else if (l.op().equals("Conv2D") && shape.length == 4) {
        in = (int) shape[2];
        cols = (int) shape[3];
      } else if (l.op().equals("DepthwiseConv2dNative") && shape.length == 4) {
        out.add(new Kernel(l, position, shape, 1, (int) shape[3], false,
            liveTaps(TensorProtos.floats(k), (int) (shape[2] * shape[3])), true));
        continue;
      } else {
        continue; // other kernels: nothing to rotate
      }
      out.add(new Kernel(l, position, shape, in, cols, transposed,
          liveTaps(TensorProtos.floats(k), in * cols), false));
    }
    return out;
  }

  private static int liveTaps(float[] w, int tapSize) {
    int live = 0;
    for (int base = 0; base + tapSize <= w.length; base += tapSize) {
      for (int i = 0; i < tapSize; i++) {
        if (w[base + i] != 0f) {
          live++;
          break;
        }
      }
    }
    return live;
  }

  /**
   * Floating-point operations one draw of {@code kernels} costs ({@link #rotate}): per kernel,
   * the left rotation of the in x (taps out) matrix and, unless square, the right one of the out
   * x (taps in) matrix, each {@link #rotateLeftFlops}.
   */
  static double drawFlops(List<Kernel> kernels) {
    double f = 0;
    for (Kernel k : kernels) {
      int taps = Math.max(1, k.liveTaps());
      double one = rotateLeftFlops(k.in(), (long) taps * k.out());
      if (k.in() != k.out()) {
        one += rotateLeftFlops(k.out(), (long) taps * k.in() + 1);
      }
      f += one * k.channels();
    }
    return f;
  }

  /**
   * Operations of {@link HaarOrthogonal#rotateLeft} on an n x k matrix: for k >= n a Haar n x n
   * (Householder QR of a Gaussian and its Q, about 8/3 n^3) and the product (2 n^2 k); else two
   * thin QRs with Q (about 4 n k^2 - 4/3 k^3 each) and a triangular product (n k^2).
   */
  static double rotateLeftFlops(long n, long k) {
    double dn = n;
    double dk = k;
    if (k >= n) {
      return 8.0 / 3 * dn * dn * dn + 2 * dn * dn * dk;
    }
    return 2 * (4 * dn * dk * dk - 4.0 / 3 * dk * dk * dk) + dn * dk * dk;
  }

  /** A rotated kernel and its bias (the bias as given when it is not rotated). */
  record Rotated(float[] kernel, float[] bias) {}

  /**
   * Row-major taps of [in, out] matrices (HWIO or a plain [in, out] kernel) with an optional
   * bias of length out: P W Q for every tap (one P and one Q for all taps) and b Q, with P and Q
   * Haar-random orthogonal drawn from {@code s}; square kernels get P W only (their bias stays).
   * All-zero taps (the off-centre taps of Delta kernels) stay zero. P and Q are applied through
   * {@link HaarOrthogonal#rotateLeft}, which never forms a matrix larger than the kernel needs
   * (the draws of a 1280-wide layer would otherwise dominate a check's time).
   */
  static Rotated rotate(float[] w, int in, int out, float[] bias, long s) {
    int taps = w.length / (in * out);
    List<Integer> live = new ArrayList<>();
    for (int t = 0; t < taps; t++) {
      int base = t * in * out;
      for (int i = 0; i < in * out; i++) {
        if (w[base + i] != 0f) {
          live.add(t);
          break;
        }
      }
    }
    int n = live.size();
    float[] r = new float[w.length];
    if (n == 0) {
      return new Rotated(r, bias);
    }
    // left: A = [W_t1 | W_t2 | ...] (in x n*out), one P for all taps
    double[] a = new double[in * n * out];
    for (int ti = 0; ti < n; ti++) {
      int base = live.get(ti) * in * out;
      for (int i = 0; i < in; i++) {
        for (int j = 0; j < out; j++) {
          a[i * n * out + ti * out + j] = w[base + i * out + j];
        }
      }
    }
    double[] pa = HaarOrthogonal.rotateLeft(a, in, n * out, 2 * s);
    if (in == out) {
      for (int ti = 0; ti < n; ti++) {
        int base = live.get(ti) * in * out;
        for (int i = 0; i < in; i++) {
          for (int j = 0; j < out; j++) {
            r[base + i * out + j] = (float) pa[i * n * out + ti * out + j];
          }
        }
      }
      return new Rotated(r, bias);
    }
    // right: C = [P W_t1; P W_t2; ...; b] (rows x out); C Q = (Q^T C^T)^T with Q^T Haar too
    int rows = n * in + (bias == null ? 0 : 1);
    double[] ct = new double[out * rows];
    for (int ti = 0; ti < n; ti++) {
      for (int i = 0; i < in; i++) {
        for (int j = 0; j < out; j++) {
          ct[j * rows + ti * in + i] = pa[i * n * out + ti * out + j];
        }
      }
    }
    if (bias != null) {
      for (int j = 0; j < out; j++) {
        ct[j * rows + n * in] = bias[j];
      }
    }
    double[] qc = HaarOrthogonal.rotateLeft(ct, out, rows, 2 * s + 1);
    for (int ti = 0; ti < n; ti++) {
      int base = live.get(ti) * in * out;
      for (int i = 0; i < in; i++) {
        for (int j = 0; j < out; j++) {
          r[base + i * out + j] = (float) qc[j * rows + ti * in + i];
        }
      }
    }
    float[] rb = bias;
    if (bias != null) {
      rb = new float[out];
      for (int j = 0; j < out; j++) {
        rb[j] = (float) qc[j * rows + n * in];
      }
    }
    return new Rotated(r, rb);
  }

  /**
   * A depthwise kernel [H, W, C, M]: each channel's [H, W, 1, M] kernel is rotated on its own
   * ({@link #rotate} with in = 1: a Haar-random sign, and a Haar-random M x M Q when M > 1), with
   * seeds from {@code s} and the channel. A Delta-initialized channel (one non-zero tap, +-1 for
   * M = 1) becomes a fresh draw of its initialization. Without this every draw of a network of
   * depthwise chains shared the model's own signs (mobileface: three depthwise layers between
   * mixing convolutions), so the draws were not independent and their mean q kept one draw's
   * finite-width deviation. The biases stay (zero after dks-init).
   */
  static float[] rotateDepthwise(float[] w, long[] shape, long s) {
    int taps = (int) (shape[0] * shape[1]);
    int c = (int) shape[2];
    int m = (int) shape[3];
    float[] out = new float[w.length];
    float[] one = new float[taps * m];
    for (int ch = 0; ch < c; ch++) {
      for (int t = 0; t < taps; t++) {
        System.arraycopy(w, (t * c + ch) * m, one, t * m, m);
      }
      float[] r = rotate(one, 1, m, null, s * 1_000_003L + ch).kernel();
      for (int t = 0; t < taps; t++) {
        System.arraycopy(r, t * m, out, (t * c + ch) * m, m);
      }
    }
    return out;
  }

  /** A [out, in] kernel K = W^T: (P W Q)^T, and b Q. */
  private static Rotated rotateTransposed(float[] k, int in, int out, float[] bias, long s) {
    float[] w = new float[k.length];
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        w[i * out + o] = k[o * in + i];
      }
    }
    Rotated r = rotate(w, in, out, bias, s);
    float[] t = new float[k.length];
    for (int i = 0; i < in; i++) {
      for (int o = 0; o < out; o++) {
        t[o * in + i] = r.kernel()[i * out + o];
      }
    }
    return new Rotated(t, r.bias());
  }
}
