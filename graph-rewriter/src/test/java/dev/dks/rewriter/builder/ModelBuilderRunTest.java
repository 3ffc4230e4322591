package dev.dks.rewriter.builder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.TensorProtos;
import dev.dks.solver.solve.Method;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.proto.TensorProto;

/**
 * Every family imports into the TF runtime (through ModelSession, which goes through GraphImport)
 * and computes finite logits of shape [2, classes] on a batch of two Gaussian inputs.
 */
class ModelBuilderRunTest {
  static Stream<Arguments> specs() {
    return Stream.of(
        Arguments.of("mlp 28x28x1", ArchitectureSpec.builder(Architecture.MLP, 3).width(32)
            .build()),
        Arguments.of("mlp bn 32x32x3 tanh", ArchitectureSpec.builder(Architecture.MLP, 2)
            .width(16).batchNorm(true).input("32x32x3").activation("tanh").classes(7).build()),
        Arguments.of("plain cnn bn 32x32x3", ArchitectureSpec.builder(Architecture.PLAIN_CNN, 4)
            .width(8).batchNorm(true).input("32x32x3").build()),
        Arguments.of("plain cnn avg 28x28x1", ArchitectureSpec.builder(Architecture.PLAIN_CNN, 5)
            .width(8).pooling(Pooling.every(Pooling.Kind.AVG_POOL, 2)).build()),
        Arguments.of("plain cnn stride 28x28x1", ArchitectureSpec.builder(Architecture.PLAIN_CNN,
            5).width(8).pooling(Pooling.every(Pooling.Kind.STRIDED_CONV, 2)).build()),
        Arguments.of("plain cnn max 32x32x3", ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3)
            .width(8).input("32x32x3").pooling(Pooling.every(Pooling.Kind.MAX_POOL, 1)).build()),
        Arguments.of("resnet-18 v1 bn 32x32x3", resnet(18, false).batchNorm(true)
            .input("32x32x3").build()),
        Arguments.of("resnet-18 v2 bn 28x28x1", resnet(18, true).batchNorm(true).build()),
        Arguments.of("resnet-18 v1 raw 28x28x1", resnet(18, false).build()),
        Arguments.of("resnet-18 v2 imagenet stem 64x64x3", resnet(18, true).batchNorm(true)
            .input("64x64x3").build()),
        Arguments.of("resnet-50 v2 bn 32x32x3", resnet(50, true).batchNorm(true)
            .input("32x32x3").build()),
        Arguments.of("resnet-50 v1 bn 28x28x1", resnet(50, false).batchNorm(true).build()),
        Arguments.of("resnet-34 v2 raw w=0.3 32x32x3", resnet(34, true).shortcutWeight(0.3)
            .input("32x32x3").build()),
        Arguments.of("resnet-18 v2 shaped TAT w=0.5 32x32x3", resnet(18, true)
            .activation("leaky_relu").shaped(Method.TAT).shortcutWeight(0.5).input("32x32x3")
            .build()),
        Arguments.of("resnet-50 v2 shaped DKS w=0 28x28x1", resnet(50, true)
            .activation("softplus").shaped(Method.DKS).build()),
        Arguments.of("plain cnn shaped DKS tanh 32x32x3", ArchitectureSpec.builder(
            Architecture.PLAIN_CNN, 6).width(8).input("32x32x3").activation("tanh")
            .shaped(Method.DKS).build()));
  }

  private static ArchitectureSpec.Builder resnet(int depth, boolean v2) {
    return ArchitectureSpec.builder(Architecture.RESNET, depth).width(8).resnetV2(v2);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("specs")
  void importsAndRunsWithFiniteLogits(String label, ArchitectureSpec spec) {
    BuiltModel m = ModelBuilder.build(spec);
    TensorProto y = BuilderTesting.logits(m, BuilderTesting.gaussianInput(spec.input(), 2, 7));
    assertArrayEquals(new long[] {2, spec.classes()}, TensorProtos.shape(y), label);
    float[] v = TensorProtos.floats(y);
    boolean nonZero = false;
    for (float f : v) {
      assertTrue(Float.isFinite(f), label + ": non-finite logit " + f);
      nonZero |= f != 0f;
    }
    assertTrue(nonZero, label + ": all logits are zero");
  }
}
