package dev.dks.rewriter.builder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.builder.Reference.T;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.TransformedActivation;
import dev.dks.solver.network.ResNetConfig;
import dev.dks.solver.solve.Method;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.TensorProto;

/**
 * TensorFlow's logits on the built graphs equal a naive double-precision forward pass written from
 * the textbook layouts ({@link Reference}), with every variable replaced by random values (so
 * that off-centre conv taps, biases and BN statistics all matter).
 */
class ForwardPassTest {
  /**
   * All variables random: kernels N(0, 1/fan_in), biases, beta and mean N(0, 0.1^2), gamma and
   * variance U(0.5, 1.5).
   */
  private static BuiltModel randomized(BuiltModel m, long seed) {
    Random r = new Random(seed);
    Map<String, TensorProto> vars = new LinkedHashMap<>();
    m.model().variables().forEach((name, t) -> {
      long[] shape = TensorProtos.shape(t);
      float[] v = new float[TensorProtos.floats(t).length];
      long fanIn = 1;
      for (int i = 0; i < shape.length - 1; i++) {
        fanIn *= shape[i];
      }
      for (int i = 0; i < v.length; i++) {
        if (name.endsWith("/gamma") || name.endsWith("/moving_variance")) {
          v[i] = (float) (0.5 + r.nextDouble());
        } else if (name.endsWith("/kernel")) {
          v[i] = (float) (r.nextGaussian() / Math.sqrt(fanIn));
        } else {
          v[i] = (float) (0.1 * r.nextGaussian());
        }
      }
      vars.put(name, TensorProtos.ofFloats(shape, v));
    });
    Model model = m.model().with(m.model().graph(), vars);
    return new BuiltModel(model, m.structure(), m.layers(), m.spec(), m.shaping());
  }

  private static void assertLogits(BuiltModel m, TensorProto x, double[][] expected) {
    float[] got = TensorProtos.floats(BuilderTesting.logits(m, x));
    double scale = 1;
    for (double[] row : expected) {
      for (double v : row) {
        scale = Math.max(scale, Math.abs(v));
      }
    }
    int k = expected[0].length;
    assertEquals(expected.length * k, got.length);
    for (int b = 0; b < expected.length; b++) {
      for (int j = 0; j < k; j++) {
        assertEquals(expected[b][j], got[b * k + j], 2e-5 * scale,
            m.spec().describe() + ": logit [" + b + "," + j + "]");
      }
    }
  }

  private static DoubleUnaryOperator phi(BuiltModel m) {
    Activation a = m.spec().activationFunction();
    return m.spec().shaped() ? new TransformedActivation(a, m.activationParams())::value
        : a::value;
  }

  @Test
  void mlpWithBatchNorm() {
    checkMlp(ArchitectureSpec.builder(Architecture.MLP, 2).width(16).input("4x4x2")
        .batchNorm(true).activation("tanh").build());
  }

  @Test
  void shapedMlp() {
    checkMlp(ArchitectureSpec.builder(Architecture.MLP, 3).width(16).input("3x3x2")
        .activation("softplus").shaped(Method.DKS).build());
  }

  private static void checkMlp(ArchitectureSpec spec) {
    BuiltModel m = randomized(ModelBuilder.build(spec), 11);
    TensorProto x = BuilderTesting.gaussianInput(spec.input(), 2, 3);
    Reference ref = new Reference(m.model().variables());
    DoubleUnaryOperator f = phi(m);
    double[][] h = Reference.flatten(Reference.input(x));
    for (int i = 0; i < spec.depth(); i++) {
      h = ref.dense(h, "dense_" + i);
      T t = Reference.asNhwc(h);
      if (spec.batchNorm()) {
        t = ref.bn(t, "dense_" + i + "/bn");
      }
      h = Reference.asMatrix(Reference.act(t, f));
    }
    assertLogits(m, x, ref.dense(h, "head"));
  }

  @Test
  void plainCnnStridedWithBatchNormOddSizes() {
    checkPlain(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(4).input("7x7x2")
        .batchNorm(true).pooling(Pooling.every(Pooling.Kind.STRIDED_CONV, 1)).build());
  }

  @Test
  void plainCnnAvgAndMaxPoolOddSizes() {
    checkPlain(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).width(3).input("6x5x1")
        .activation("elu").pooling(Pooling.every(Pooling.Kind.AVG_POOL, 1)).build());
    checkPlain(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 4).width(3).input("5x6x2")
        .activation("tanh").shaped(Method.TAT).pooling(Pooling.every(Pooling.Kind.MAX_POOL, 2))
        .build());
  }

  private static void checkPlain(ArchitectureSpec spec) {
    BuiltModel m = randomized(ModelBuilder.build(spec), 5);
    TensorProto x = BuilderTesting.gaussianInput(spec.input(), 2, 4);
    Reference ref = new Reference(m.model().variables());
    DoubleUnaryOperator f = phi(m);
    Pooling p = spec.pooling();
    T h = Reference.input(x);
    for (int i = 0; i < spec.depth(); i++) {
      // the conv after a down-sampling point is strided (STRIDED_CONV)
      boolean strided = p.kind() == Pooling.Kind.STRIDED_CONV && i > 0 && i % p.every() == 0;
      h = ref.conv(h, "conv_" + i, strided ? 2 : 1);
      if (spec.batchNorm()) {
        h = ref.bn(h, "conv_" + i + "/bn");
      }
      h = Reference.act(h, f);
      boolean pool = (i + 1) % p.every() == 0 && i < spec.depth() - 1;
      if (pool && p.kind() == Pooling.Kind.AVG_POOL) {
        h = Reference.pool(h, 2, 2, false);
      } else if (pool && p.kind() == Pooling.Kind.MAX_POOL) {
        h = Reference.pool(h, 2, 2, true);
      }
    }
    assertLogits(m, x, ref.dense(Reference.mean(h), "head"));
  }

  /** Pre-activation ResNet-18, TAT leaky ReLU, normalized skips w = 0.5, small stem. */
  @Test
  void resnet18V2ShapedWithNormalizedSkips() {
    checkResNet(ArchitectureSpec.builder(Architecture.RESNET, 18).width(2).input("8x8x1")
        .activation("leaky_relu").shaped(Method.TAT).shortcutWeight(0.5).build());
  }

  /** Post-activation bottleneck ResNet-50 with BN, ImageNet stem (7x7/2 + max-pool 3x3/2). */
  @Test
  void resnet50V1BatchNormImagenetStem() {
    checkResNet(ArchitectureSpec.builder(Architecture.RESNET, 50).width(2).input("16x16x2")
        .resnetV2(false).batchNorm(true).smallInputStem(false).build());
  }

  /** ResNet-18 v1 without BN, plain AddV2 merges. */
  @Test
  void resnet18V1PlainSums() {
    checkResNet(ArchitectureSpec.builder(Architecture.RESNET, 18).width(2).input("9x9x3")
        .resnetV2(false).activation("gelu").build());
  }

  private static void checkResNet(ArchitectureSpec spec) {
    BuiltModel m = randomized(ModelBuilder.build(spec), 9);
    TensorProto x = BuilderTesting.gaussianInput(spec.input(), 2, 21);
    Reference ref = new Reference(m.model().variables());
    DoubleUnaryOperator f = phi(m);
    ResNetConfig cfg = ResNetConfig.of(spec.depth());
    boolean v2 = spec.resnetV2();
    boolean bn = spec.batchNorm();
    boolean small = spec.smallInputStem();
    double ws = spec.effectiveShortcutWeight().orElse(1.0);
    double wr = spec.effectiveShortcutWeight().isPresent() ? Math.sqrt(1 - ws * ws) : 1.0;

    T h = ref.conv(Reference.input(x), "stem/conv", small ? 1 : 2);
    if (!v2) {
      h = Reference.act(bn ? ref.bn(h, "stem/bn") : h, f);
    }
    if (!small) {
      h = Reference.pool(h, 3, 2, true);
    }
    for (int g = 0; g < 4; g++) {
      for (int j = 0; j < cfg.blocksPerGroup()[g]; j++) {
        String s = "group_" + g + "/block_" + j;
        int stride = g > 0 && j == 0 ? 2 : 1;
        boolean proj = j == 0 && cfg.projection()[g];
        int convs = cfg.bottleneck() ? 3 : 2;
        // the strided conv: first of a basic block, the 3x3 (second) of a bottleneck
        int stridedConv = cfg.bottleneck() ? 1 : 0;
        T r = h;
        T shortcut = h;
        for (int k = 0; k < convs; k++) {
          if (v2) {
            r = Reference.act(bn ? ref.bn(r, s + "/bn_" + k) : r, f);
            if (k == 0 && proj) {
              shortcut = ref.conv(r, s + "/shortcut", stride);
            }
            r = ref.conv(r, s + "/conv_" + k, k == stridedConv ? stride : 1);
          } else {
            r = ref.conv(r, s + "/conv_" + k, k == stridedConv ? stride : 1);
            r = bn ? ref.bn(r, s + "/bn_" + k) : r;
            if (k < convs - 1) {
              r = Reference.act(r, f);
            }
          }
        }
        if (!v2 && proj) {
          shortcut = ref.conv(h, s + "/shortcut", stride);
          shortcut = bn ? ref.bn(shortcut, s + "/shortcut_bn") : shortcut;
        }
        h = Reference.sum(shortcut, ws, r, wr);
        if (!v2) {
          h = Reference.act(h, f);
        }
      }
    }
    if (v2) {
      h = Reference.act(bn ? ref.bn(h, "final/bn") : h, f);
    }
    assertLogits(m, x, ref.dense(Reference.mean(h), "head"));
    assertTrue(h.c() == spec.width() * 8 * (cfg.bottleneck() ? 4 : 1));
  }
}
