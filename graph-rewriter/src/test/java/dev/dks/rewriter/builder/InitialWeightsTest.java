package dev.dks.rewriter.builder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.init.ScaledUniformOrthogonal;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/** SUO dense kernels, Delta-orthogonal conv kernels, neutral biases and BN, seeding. */
class InitialWeightsTest {
  private static float[] values(BuiltModel m, String var) {
    return TensorProtos.floats(m.model().variables().get(var));
  }

  /**
   * An [in, out] matrix W (row-major) of SUO: if out &gt;= in, W W^T = (out/in) I_in; else W^T W
   * = I_out. Checked entrywise to 1e-5 after dividing by the scale.
   */
  private static void assertSuo(float[] w, int in, int out, String what) {
    boolean rows = out >= in;
    int n = rows ? in : out;
    double scale = rows ? (double) out / in : 1.0;
    for (int a = 0; a < n; a++) {
      for (int b = 0; b < n; b++) {
        double s = 0;
        if (rows) {
          for (int j = 0; j < out; j++) {
            s += (double) w[a * out + j] * w[b * out + j];
          }
        } else {
          for (int i = 0; i < in; i++) {
            s += (double) w[i * out + a] * w[i * out + b];
          }
        }
        assertEquals(a == b ? 1.0 : 0.0, s / scale, 1e-5, what + " gram[" + a + "," + b + "]");
      }
    }
  }

  @Test
  void denseKernelsAreScaledUniformOrthogonal() {
    BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2).width(64)
        .input("4x4x1").build());
    assertSuo(values(m, "dense_0/kernel"), 16, 64, "16->64 (K K^T = 4 I)");
    assertSuo(values(m, "dense_1/kernel"), 64, 64, "64->64");
    assertSuo(values(m, "head/kernel"), 64, 10, "64->10 (K^T K = I)");
    BuiltModel wide = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 1).width(32)
        .build());
    assertSuo(values(wide, "dense_0/kernel"), 784, 32, "784->32");
  }

  @Test
  void convKernelsAreDeltaOrthogonal() {
    BuiltModel cnn = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 2)
        .width(8).input("32x32x3").build());
    assertDelta(cnn, "conv_0/kernel", 3, 3, 8);
    assertDelta(cnn, "conv_1/kernel", 3, 8, 8);
    BuiltModel res = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 50)
        .width(4).input("64x64x3").build());
    assertDelta(res, "stem/conv/kernel", 7, 3, 4);
    assertDelta(res, "group_0/block_0/conv_0/kernel", 1, 4, 4);
    assertDelta(res, "group_1/block_0/conv_1/kernel", 3, 8, 8);
    assertDelta(res, "group_2/block_0/shortcut/kernel", 1, 32, 64);
    assertSuo(values(res, "head/kernel"), 128, 10, "head");
  }

  private static void assertDelta(BuiltModel m, String var, int k, int in, int out) {
    assertArrayEquals(new long[] {k, k, in, out},
        TensorProtos.shape(m.model().variables().get(var)), var);
    float[] w = values(m, var);
    int c = (k - 1) / 2;
    float[] centre = new float[in * out];
    for (int y = 0; y < k; y++) {
      for (int x = 0; x < k; x++) {
        for (int i = 0; i < in * out; i++) {
          float v = w[(y * k + x) * in * out + i];
          if (y == c && x == c) {
            centre[i] = v;
          } else {
            assertEquals(0f, v, var + " off-centre tap [" + y + "," + x + "]");
          }
        }
      }
    }
    assertSuo(centre, in, out, var + " centre");
  }

  @Test
  void biasesAndBatchNormStartNeutral() {
    BuiltModel raw = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18)
        .width(4).input("32x32x3").build());
    BuiltModel bn = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18)
        .width(4).input("32x32x3").batchNorm(true).build());
    int biases = 0;
    for (BuiltModel m : List.of(raw, bn)) {
      for (Map.Entry<String, TensorProto> e : m.model().variables().entrySet()) {
        String n = e.getKey();
        float expected;
        if (n.endsWith("/bias") || n.endsWith("/beta") || n.endsWith("/moving_mean")) {
          expected = 0f;
        } else if (n.endsWith("/gamma") || n.endsWith("/moving_variance")) {
          expected = 1f;
        } else {
          assertTrue(n.endsWith("/kernel"), n);
          continue;
        }
        biases += n.endsWith("/bias") ? 1 : 0;
        for (float v : TensorProtos.floats(e.getValue())) {
          assertEquals(expected, v, n);
        }
      }
    }
    // raw: every conv (20) and the head have a bias; with BN only the head
    assertEquals(20 + 1 + 1, biases);
  }

  @Test
  void weightLayerIUsesSeedPlusI() {
    ArchitectureSpec spec = ArchitectureSpec.builder(Architecture.RESNET, 18).width(4)
        .input("28x28x1").seed(42).build();
    BuiltModel m = ModelBuilder.build(spec);
    List<LayerInfo> weighted = m.layers().stream()
        .filter(l -> l.kind() == LayerInfo.Kind.CONV || l.kind() == LayerInfo.Kind.DENSE)
        .toList();
    assertEquals(20 + 1, weighted.size());
    ScaledUniformOrthogonal suo = new ScaledUniformOrthogonal();
    for (int i = 0; i < weighted.size(); i++) {
      String kernel = weighted.get(i).variables().get(0);
      TensorProto t = m.model().variables().get(kernel);
      assertArrayEquals(suo.sample(TensorProtos.shape(t), 42 + i).toFloatArray(),
          TensorProtos.floats(t), kernel);
    }
    assertEquals(m.model().variables(), ModelBuilder.build(spec).model().variables(),
        "deterministic");
    BuiltModel other = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18)
        .width(4).input("28x28x1").seed(43).build());
    assertFalse(Arrays.equals(values(m, "stem/conv/kernel"), values(other, "stem/conv/kernel")));
    // layer 2 with seed 42 and layer 1 with seed 43 both use seed 44 (same [3, 3, 4, 4] shape)
    assertArrayEquals(values(m, "group_0/block_0/conv_1/kernel"),
        values(other, "group_0/block_0/conv_0/kernel"));
  }
}
