package dev.dks.savedmodels.keras;

import static dev.dks.savedmodels.keras.KerasFixture.cfg;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.keras.ReferenceOps.T;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Every supported layer type, on small synthetic models written by {@link KerasFixture}, against
 * a double-precision reference computed here: a Functional model exercising all layer types and
 * activations (two outputs), in both inbound-node forms, as float32 / uint8 / uint16 / float16
 * TF.js layers models and as an HDF5 file; a Sequential HDF5 model without InputLayer; a shared
 * layer called twice.
 */
class KerasLayersTest {
  @TempDir Path tmp;

  /** The coverage model and its weights (the values the file holds). */
  private static final class Coverage {
    final KerasFixture f;
    float[] zK;
    float[] aK;
    float[] aB;
    float[] bK;
    float[] bB;
    float[] b2G;
    float[] b2M;
    float[] b2V;
    float[] cD;
    float[] cP;
    float[] cB;
    float[] fA;
    float[] lK;
    float[] lB;
    float[] mK;
    float[] pG;
    float[] pB;
    float[] pM;
    float[] pV;
    float[] sK;
    float[] sB;

    Coverage(boolean keras3, String quantization) {
      f = new KerasFixture(11, keras3, quantization);
      f.input("in", 8, 8, 3);
      f.layer("ZeroPadding2D", "zp", cfg("padding", List.of(List.of(1, 0), List.of(0, 1)),
          "data_format", "channels_last"), "in");
      zK = f.weight("z", "kernel", 2, 2, 3, 2);
      f.layer("Conv2D", "z", cfg("filters", 2, "kernel_size", List.of(2, 2), "strides",
          List.of(2, 2), "padding", "valid", "use_bias", false, "activation", "sigmoid"), "zp");
      aK = f.weight("a", "kernel", 3, 3, 3, 4);
      aB = f.weight("a", "bias", 4);
      f.layer("Conv2D", "a", cfg("filters", 4, "kernel_size", List.of(3, 3), "strides",
          List.of(1, 1), "padding", "same", "dilation_rate", List.of(2, 2), "activation",
          "swish", "use_bias", true), "in");
      bK = f.weight("b", "depthwise_kernel", 3, 3, 3, 2);
      bB = f.weight("b", "bias", 6);
      f.layer("DepthwiseConv2D", "b", cfg("kernel_size", List.of(3, 3), "strides",
          List.of(2, 2), "padding", "same", "depth_multiplier", 2, "activation", "relu6",
          "use_bias", true), "in");
      b2G = f.weight("b2", "gamma", 0.5, 1.5, 6);
      b2M = f.weight("b2", "moving_mean", 6);
      b2V = f.weight("b2", "moving_variance", 0.5, 2, 6);
      f.layer("BatchNormalization", "b2", cfg("axis", -1, "epsilon", 0.01, "center", false,
          "scale", true), "b");
      cD = f.weight("c", "depthwise_kernel", 3, 3, 4, 1);
      cP = f.weight("c", "pointwise_kernel", 1, 1, 4, 5);
      cB = f.weight("c", "bias", 5);
      f.layer("SeparableConv2D", "c", cfg("filters", 5, "kernel_size", List.of(3, 3),
          "strides", List.of(1, 1), "padding", "same", "depth_multiplier", 1, "activation",
          "elu", "use_bias", true), "a");
      f.layer("MaxPooling2D", "c2", cfg("pool_size", List.of(2, 2), "strides", null,
          "padding", "valid"), "c");
      f.layer("Concatenate", "d", cfg("axis", -1), "b2", "c2", "z");
      f.layer("ReLU", "e", cfg("max_value", 4.0, "negative_slope", 0.1, "threshold", 0.5),
          "d");
      fA = f.weight("f", "alpha", 1, 1, 13);
      f.layer("PReLU", "f", cfg("shared_axes", List.of(1, 2)), "e");
      f.layer("LeakyReLU", "g", cfg("alpha", 0.2), "d");
      f.layer("Add", "h", cfg(), "f", "g");
      f.layer("AveragePooling2D", "i", cfg("pool_size", List.of(3, 3), "strides",
          List.of(2, 2), "padding", "same"), "h");
      f.layer("Activation", "j", cfg("activation", "tanh"), "i");
      f.layer("Flatten", "k", cfg(), "j");
      f.layer("GlobalAveragePooling2D", "gp", cfg(), "h");
      lK = f.weight("l", "kernel", 52, 6);
      lB = f.weight("l", "bias", 6);
      f.layer("Dense", "l", cfg("units", 6, "activation", "gelu", "use_bias", true), "k");
      mK = f.weight("m", "kernel", 13, 6);
      f.layer("Dense", "m", cfg("units", 6, "activation", "selu", "use_bias", false), "gp");
      f.layer("Add", "n", cfg(), "l", "m");
      f.layer("Reshape", "o", cfg("target_shape", List.of(2, -1)), "n");
      pG = f.weight("p", "gamma", 0.5, 1.5, 3);
      pB = f.weight("p", "beta", 3);
      pM = f.weight("p", "moving_mean", 3);
      pV = f.weight("p", "moving_variance", 0.5, 2, 3);
      f.layer("BatchNormalization", "p", cfg("axis", 2, "epsilon", 0.001), "o");
      f.layer("Dropout", "q", cfg("rate", 0.5), "p");
      f.layer("Flatten", "r", cfg(), "q");
      sK = f.weight("s", "kernel", 6, 4);
      sB = f.weight("s", "bias", 4);
      f.layer("Dense", "s", cfg("units", 4, "activation", "softmax"), "r");
      f.layer("Activation", "t", cfg("activation", "softplus"), "r");
      f.layer("Activation", "u", cfg("activation", "sigmoid"), "t");
      f.outputs("s", "u");
    }

    /** Outputs s (4) and u (6) of one sample. */
    double[][] reference(double[] x) {
      T in = new T(8, 8, 3, x);
      T zp = ReferenceOps.pad(in, 1, 0, 0, 1);
      T z = map(ReferenceOps.conv(zp, zK, 2, 2, 2, 2, 1, false, null), KerasLayersTest::sigmoid);
      T a = map(ReferenceOps.conv(in, aK, 3, 3, 4, 1, 2, true, aB), v -> v * sigmoid(v));
      T b = ReferenceOps.relu(ReferenceOps.depthwise(in, bK, 3, 3, 2, 2, true, bB), 6);
      T b2 = ReferenceOps.batchNorm(b, b2G, null, b2M, b2V, 0.01);
      T cdw = ReferenceOps.depthwise(a, cD, 3, 3, 1, 1, true, null);
      T c = map(ReferenceOps.conv(cdw, cP, 1, 1, 5, 1, 1, false, cB),
          v -> v > 0 ? v : Math.expm1(v));
      T c2 = ReferenceOps.pool(c, 2, 2, false, true);
      T d = concat(b2, c2, z);
      T e = map(d, v -> Math.min(Math.max(v > 0.5 ? v : 0, 0), 4) - 0.1 * Math.max(0.5 - v, 0));
      double[] fv = e.v().clone();
      for (int i = 0; i < fv.length; i++) {
        double alpha = fA[i % 13];
        fv[i] = Math.max(fv[i], 0) - alpha * Math.max(-fv[i], 0);
      }
      T g = map(d, v -> v > 0 ? v : 0.2 * v);
      T h = ReferenceOps.add(new T(4, 4, 13, fv), g);
      T j = map(ReferenceOps.pool(h, 3, 2, true, false), Math::tanh);
      double[] l = ReferenceOps.dense(j.v(), lK, lB, 6);
      for (int i = 0; i < 6; i++) {
        l[i] = 0.5 * l[i] * (1 + erf(l[i] / Math.sqrt(2)));
      }
      double[] m = ReferenceOps.dense(ReferenceOps.globalMean(h), mK, null, 6);
      for (int i = 0; i < 6; i++) {
        double sa = 1.6732632423543772;
        double sc = 1.0507009873554805;
        m[i] = sc * (m[i] > 0 ? m[i] : sa * Math.expm1(m[i]));
      }
      double[] n = new double[6];
      for (int i = 0; i < 6; i++) {
        n[i] = l[i] + m[i];
      }
      // reshape to [2, 3], batch norm over the last axis (3 channels)
      double[] p = ReferenceOps.batchNorm(new T(1, 2, 3, n), pG, pB, pM, pV, 0.001).v();
      double[] s = ReferenceOps.softmax(ReferenceOps.dense(p, sK, sB, 4));
      double[] u = new double[6];
      for (int i = 0; i < 6; i++) {
        u[i] = sigmoid(Math.log1p(Math.exp(p[i])));
      }
      return new double[][] {s, u};
    }
  }

  @ParameterizedTest(name = "keras3={0} quantization={1} h5={2}")
  @CsvSource({"false,,false", "true,,false", "false,uint8,false", "false,uint16,false",
      "true,float16,false", "false,,true", "true,,true"})
  void coverageModelMatchesReference(boolean keras3, String quantization, boolean h5)
      throws Exception {
    Coverage cov = new Coverage(keras3, quantization);
    Model m = h5 ? KerasModelReader.readH5(cov.f.writeH5(tmp.resolve("m.h5")))
        : KerasModelReader.readLayersJson(cov.f.writeLayersJson(tmp.resolve("tfjs")));

    Map<String, Integer> ops = new TreeMap<>();
    for (NodeDef n : m.graph().getNodeList()) {
      ops.merge(n.getOp(), 1, Integer::sum);
    }
    assertEquals(2, ops.get("FusedBatchNormV3"));
    assertEquals(2, ops.get("DepthwiseConv2dNative"));
    Signature sig = m.signature(Signature.SERVING_DEFAULT);
    assertEquals(List.of("in"), List.copyOf(sig.inputs().keySet()));
    assertEquals(List.of("s", "u"), List.copyOf(sig.outputs().keySet()));
    assertEquals("[-1, 4]", Arrays.toString(sig.outputs().get("s").shape()));
    assertEquals("[-1, 6]", Arrays.toString(sig.outputs().get("u").shape()));
    // VariableV2 values are the file's (dequantized) values exactly
    assertArrayEquals(cov.aK, TensorProtos.floats(m.variables().get("a/kernel")));
    assertArrayEquals(cov.fA, TensorProtos.floats(m.variables().get("f/alpha")));

    int batch = 2;
    Random rnd = new Random(3);
    float[] x = new float[batch * 8 * 8 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (2 * rnd.nextGaussian());
    }
    Map<String, TensorProto> out;
    String sOut = sig.outputs().get("s").tensor().toString();
    String uOut = sig.outputs().get("u").tensor().toString();
    try (ModelSession s = new ModelSession(m)) {
      out = s.run(Map.of("in", TensorProtos.ofFloats(new long[] {batch, 8, 8, 3}, x)),
          List.of(sOut, uOut));
    }
    float[] s = TensorProtos.floats(out.get(sOut));
    float[] u = TensorProtos.floats(out.get(uOut));
    double worst = 0;
    for (int b = 0; b < batch; b++) {
      double[] xb = new double[192];
      for (int i = 0; i < 192; i++) {
        xb[i] = x[b * 192 + i];
      }
      double[][] ref = cov.reference(xb);
      worst = Math.max(worst, ReferenceOps.relError(Arrays.copyOfRange(s, b * 4, b * 4 + 4),
          ref[0]));
      worst = Math.max(worst, ReferenceOps.relError(Arrays.copyOfRange(u, b * 6, b * 6 + 6),
          ref[1]));
    }
    System.out.printf("coverage model (keras3=%s, %s, %s): %d nodes, worst relative error "
        + "%.3g%n", keras3, quantization == null ? "float32" : quantization,
        h5 ? "h5" : "tfjs", m.graph().getNodeCount(), worst);
    assertTrue(worst < 1e-4, "relative error " + worst);
  }

  /** Sequential HDF5 without InputLayer: the input comes from batch_input_shape. */
  @Test
  void sequentialH5() throws Exception {
    KerasFixture f = new KerasFixture(5, false, null);
    float[] k = f.weight("conv", "kernel", 3, 3, 2, 3);
    float[] kb = f.weight("conv", "bias", 3);
    float[] g = f.weight("bn", "gamma", 0.5, 1.5, 3);
    float[] be = f.weight("bn", "beta", 3);
    float[] mu = f.weight("bn", "moving_mean", 3);
    float[] var = f.weight("bn", "moving_variance", 0.5, 2, 3);
    float[] dk = f.weight("out", "kernel", 3, 2);
    float[] db = f.weight("out", "bias", 2);
    String config = """
        {"class_name": "Sequential", "config": {"name": "seq", "layers": [
          {"class_name": "Conv2D", "config": {"name": "conv", "batch_input_shape":
             [null, 5, 5, 2], "filters": 3, "kernel_size": [3, 3], "strides": [1, 1],
             "padding": "valid", "activation": "linear", "use_bias": true}},
          {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [3],
             "epsilon": 0.001}},
          {"class_name": "ReLU", "config": {"name": "act", "max_value": 1.5}},
          {"class_name": "GlobalAveragePooling2D", "config": {"name": "gap"}},
          {"class_name": "Dense", "config": {"name": "out", "units": 2,
             "activation": "tanh"}}]}}""";
    // the fixture only needs the layer names for model_weights
    f.input("conv", 1);
    f.layer("X", "bn", cfg(), "conv");
    f.layer("X", "act", cfg(), "bn");
    f.layer("X", "gap", cfg(), "act");
    f.layer("X", "out", cfg(), "gap");
    Model m = KerasModelReader.readH5(f.writeH5(tmp.resolve("seq.h5"), config));
    Signature sig = m.signature(Signature.SERVING_DEFAULT);
    assertEquals(List.of("conv_input"), List.copyOf(sig.inputs().keySet()));
    assertEquals(List.of("out"), List.copyOf(sig.outputs().keySet()));

    float[] x = new float[5 * 5 * 2];
    Random rnd = new Random(1);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    float[] y;
    try (ModelSession s = new ModelSession(m)) {
      String o = sig.outputs().get("out").tensor().toString();
      y = TensorProtos.floats(s.run(Map.of("conv_input",
          TensorProtos.ofFloats(new long[] {1, 5, 5, 2}, x)), List.of(o)).get(o));
    }
    double[] xd = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      xd[i] = x[i];
    }
    T c = ReferenceOps.conv(new T(5, 5, 2, xd), k, 3, 3, 3, 1, 1, false, kb);
    T r = ReferenceOps.relu(ReferenceOps.batchNorm(c, g, be, mu, var, 0.001), 1.5);
    double[] ref = ReferenceOps.dense(ReferenceOps.globalMean(r), dk, db, 2);
    for (int i = 0; i < ref.length; i++) {
      ref[i] = Math.tanh(ref[i]);
    }
    double e = ReferenceOps.relError(y, ref);
    System.out.printf("sequential h5: %s vs %s, relative error %.3g%n", Arrays.toString(y),
        Arrays.toString(ref), e);
    assertTrue(e < 1e-5, "relative error " + e);
  }

  /** A Dense layer called on two inputs: one set of variables, two MatMuls. */
  @ParameterizedTest(name = "keras3={0}")
  @CsvSource({"false", "true"})
  void sharedLayer(boolean keras3) throws Exception {
    KerasFixture f = new KerasFixture(9, keras3, null);
    f.input("x1", 4);
    f.input("x2", 4);
    float[] k = f.weight("shared", "kernel", 4, 3);
    float[] b = f.weight("shared", "bias", 3);
    f.layer("Dense", "shared", cfg("units", 3, "activation", "relu"), "x1");
    f.layer("Dense", "shared", cfg(), "x2");
    f.layer("Add", "sum", cfg(), "shared@0", "shared@1");
    f.outputs("sum");
    Model m = KerasModelReader.readLayersJson(f.writeLayersJson(tmp.resolve("shared")));
    assertEquals(2, m.variables().size());
    assertEquals(2, m.graph().getNodeList().stream().filter(n -> n.getOp().equals("MatMul"))
        .count());
    float[] x1 = {1, -2, 3, 0.5f};
    float[] x2 = {-1, 0.25f, 2, 1};
    float[] y;
    try (ModelSession s = new ModelSession(m)) {
      String o = m.signature(Signature.SERVING_DEFAULT).outputs().get("sum").tensor().toString();
      y = TensorProtos.floats(s.run(Map.of("x1", TensorProtos.ofFloats(new long[] {1, 4}, x1),
          "x2", TensorProtos.ofFloats(new long[] {1, 4}, x2)), List.of(o)).get(o));
    }
    double[] r1 = ReferenceOps.dense(toDouble(x1), k, b, 3);
    double[] r2 = ReferenceOps.dense(toDouble(x2), k, b, 3);
    double[] ref = new double[3];
    for (int i = 0; i < 3; i++) {
      ref[i] = Math.max(r1[i], 0) + Math.max(r2[i], 0);
    }
    assertTrue(ReferenceOps.relError(y, ref) < 1e-6, Arrays.toString(y) + " vs "
        + Arrays.toString(ref));
  }

  /** Dense on a rank-3 input (per row), the Softmax layer, GlobalMaxPooling2D (keepdims). */
  @Test
  void denseOnRank3SoftmaxLayerGlobalMax() throws Exception {
    KerasFixture f = new KerasFixture(21, false, null);
    f.input("seq", 3, 4);
    float[] k = f.weight("proj", "kernel", 4, 2);
    float[] b = f.weight("proj", "bias", 2);
    f.layer("Dense", "proj", cfg("units", 2), "seq");
    f.layer("Softmax", "sm", cfg("axis", -1), "proj");
    f.input("img", 2, 2, 3);
    f.layer("GlobalMaxPooling2D", "gmp", cfg("keepdims", true), "img");
    f.outputs("sm", "gmp");
    Model m = KerasModelReader.readLayersJson(f.writeLayersJson(tmp.resolve("extras")));
    Signature sig = m.signature(Signature.SERVING_DEFAULT);
    assertEquals("[-1, 3, 2]", Arrays.toString(sig.outputs().get("sm").shape()));
    assertEquals("[-1, 1, 1, 3]", Arrays.toString(sig.outputs().get("gmp").shape()));
    float[] seq = {1, 2, 3, 4, -1, 0.5f, 2, -3, 0, 0, 1, 1};
    float[] img = {1, -2, 3, 4, 5, -6, -7, 8, 9, 0, 1, 2};
    String sm = sig.outputs().get("sm").tensor().toString();
    String gmp = sig.outputs().get("gmp").tensor().toString();
    Map<String, TensorProto> out;
    try (ModelSession s = new ModelSession(m)) {
      out = s.run(Map.of("seq", TensorProtos.ofFloats(new long[] {1, 3, 4}, seq),
          "img", TensorProtos.ofFloats(new long[] {1, 2, 2, 3}, img)), List.of(sm, gmp));
    }
    float[] y = TensorProtos.floats(out.get(sm));
    for (int r = 0; r < 3; r++) {
      double[] ref = ReferenceOps.softmax(ReferenceOps.dense(
          toDouble(Arrays.copyOfRange(seq, 4 * r, 4 * r + 4)), k, b, 2));
      assertTrue(ReferenceOps.relError(Arrays.copyOfRange(y, 2 * r, 2 * r + 2), ref) < 1e-6);
    }
    assertArrayEquals(new float[] {4, 8, 9}, TensorProtos.floats(out.get(gmp)));
  }

  /** Half-precision decoding on known bit patterns. */
  @Test
  void halfPrecision() {
    assertEquals(1.0f, LayersWeightsManifest.halfToFloat((short) 0x3C00));
    assertEquals(-2.0f, LayersWeightsManifest.halfToFloat((short) 0xC000));
    assertEquals(65504f, LayersWeightsManifest.halfToFloat((short) 0x7BFF));
    assertEquals(0x1p-24f, LayersWeightsManifest.halfToFloat((short) 0x0001));
    assertEquals(-0.0f, LayersWeightsManifest.halfToFloat((short) 0x8000));
    assertEquals(Float.POSITIVE_INFINITY, LayersWeightsManifest.halfToFloat((short) 0x7C00));
    for (int bits = 0; bits < 0x7C00; bits += 37) {
      assertEquals(KerasFixture.decodeHalf((short) bits),
          LayersWeightsManifest.halfToFloat((short) bits), "bits " + bits);
    }
  }

  private static double[] toDouble(float[] v) {
    double[] d = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      d[i] = v[i];
    }
    return d;
  }

  static T map(T x, java.util.function.DoubleUnaryOperator f) {
    double[] v = x.v().clone();
    for (int i = 0; i < v.length; i++) {
      v[i] = f.applyAsDouble(v[i]);
    }
    return new T(x.h(), x.w(), x.c(), v);
  }

  static T concat(T... ts) {
    int c = 0;
    for (T t : ts) {
      c += t.c();
    }
    T y = T.zeros(ts[0].h(), ts[0].w(), c);
    for (int p = 0; p < ts[0].h() * ts[0].w(); p++) {
      int o = 0;
      for (T t : ts) {
        for (int ch = 0; ch < t.c(); ch++) {
          y.v()[p * c + o + ch] = t.v()[p * t.c() + ch];
        }
        o += t.c();
      }
    }
    return y;
  }

  static double sigmoid(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  /** erf by its Maclaurin series (|x| < 3) or the continued-fraction tail; error < 1e-12. */
  static double erf(double x) {
    double a = Math.abs(x);
    double r;
    if (a < 3) {
      double term = a;
      double sum = a;
      for (int n = 1; n < 200; n++) {
        term *= -a * a / n;
        double add = term / (2 * n + 1);
        sum += add;
        if (Math.abs(add) < 1e-17) {
          break;
        }
      }
      r = 2 / Math.sqrt(Math.PI) * sum;
    } else {
      // erfc(a) = exp(-a^2)/sqrt(pi) * 1/(a + 1/2/(a + 1/(a + 3/2/(a + ...))))
      double f = a;
      for (int n = 60; n >= 1; n--) {
        f = a + (n / 2.0) / f;
      }
      r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
    }
    return x < 0 ? -r : r;
  }
}
