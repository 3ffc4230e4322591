package dev.dks.rewriter.builder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.solve.Method;
import org.junit.jupiter.api.Test;

class ArchitectureSpecTest {
  @Test
  void defaults() {
    ArchitectureSpec mlp = ArchitectureSpec.builder(Architecture.MLP, 3).build();
    assertEquals(256, mlp.width());
    assertEquals("relu", mlp.activation());
    assertEquals(new InputShape(28, 28, 1), mlp.input());
    assertEquals(10, mlp.classes());
    assertFalse(mlp.batchNorm());
    assertFalse(mlp.shaped());
    assertEquals(Method.UNTRANSFORMED, mlp.method());
    assertEquals(0L, mlp.seed());
    ArchitectureSpec cnn = ArchitectureSpec.builder(Architecture.PLAIN_CNN, 3).build();
    assertEquals(64, cnn.width());
    ArchitectureSpec res = ArchitectureSpec.builder(Architecture.RESNET, 18).build();
    assertEquals(64, res.width());
    assertTrue(res.resnetV2());
    assertTrue(res.smallInputStem(), "28x28 input: small stem by default");
    assertTrue(res.effectiveShortcutWeight().isEmpty(), "unshaped: plain AddV2");
    assertFalse(ArchitectureSpec.builder(Architecture.RESNET, 18).input("224x224x3").build()
        .smallInputStem());
    assertFalse(ArchitectureSpec.builder(Architecture.RESNET, 18).smallInputStem(false).build()
        .smallInputStem());
    assertEquals(0.0, ArchitectureSpec.builder(Architecture.RESNET, 18).shaped(Method.DKS).build()
        .effectiveShortcutWeight().getAsDouble());
  }

  @Test
  void parsing() {
    assertEquals(new InputShape(32, 32, 3), InputShape.parse("32x32x3"));
    assertEquals(new InputShape(28, 28, 1), InputShape.parse(" 28X28x1 "));
    assertThrows(IllegalArgumentException.class, () -> InputShape.parse("32x32"));
    assertThrows(IllegalArgumentException.class, () -> InputShape.parse("0x32x3"));
    assertThrows(IllegalArgumentException.class, () -> InputShape.parse("axbxc"));
    assertEquals(Architecture.PLAIN_CNN, Architecture.parse("plain-cnn"));
    assertEquals(Architecture.PLAIN_CNN, Architecture.parse("PLAIN_CNN"));
    assertThrows(IllegalArgumentException.class, () -> Architecture.parse("vgg"));
    assertEquals(Pooling.Kind.AVG_POOL, Pooling.Kind.parse("avg"));
  }

  @Test
  void refusesBadCombinationsWithClearMessages() {
    IllegalArgumentException bn = assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.RESNET, 18).batchNorm(true)
            .shaped(Method.DKS).build());
    assertTrue(bn.getMessage().contains("batch normalization"), bn.getMessage());
    IllegalArgumentException depth = assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.RESNET, 20).build());
    assertTrue(depth.getMessage().contains("18"), depth.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.MLP, 0).build());
    assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.MLP, 2).width(0).build());
    assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.MLP, 2).activation("nope").build());
    assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.MLP, 2).shortcutWeight(0.5).build());
    assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.RESNET, 18).shortcutWeight(1.5).build());
    assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.RESNET, 18)
            .pooling(Pooling.every(Pooling.Kind.AVG_POOL, 2)).build());
    assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.MLP, 2).smallInputStem(true).build());
    assertThrows(IllegalArgumentException.class,
        () -> ArchitectureSpec.builder(Architecture.MLP, 2).shaped(Method.UNTRANSFORMED).build());
  }
}
