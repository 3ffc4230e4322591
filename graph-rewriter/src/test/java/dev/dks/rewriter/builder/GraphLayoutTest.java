package dev.dks.rewriter.builder;

import static dev.dks.rewriter.builder.BuilderTesting.count;
import static dev.dks.rewriter.builder.BuilderTesting.has;
import static dev.dks.rewriter.builder.BuilderTesting.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/** Node counts derived by hand from the ResNet configurations, attributes, naming, signature. */
class GraphLayoutTest {
  private static BuiltModel resnet(int depth, boolean v2, boolean bn) {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, depth).width(8)
        .resnetV2(v2).batchNorm(bn).input("32x32x3").build());
  }

  /**
   * Blocks: ResNet-18 (2,2,2,2) = 8 basic blocks, 3 projections (groups 1-3); ResNet-50
   * (3,4,6,3) = 16 bottleneck blocks, 4 projections (every group).
   */
  @Test
  void batchNormAndMergeCountsFollowTheStandardLayouts() {
    int blocks18 = 2 + 2 + 2 + 2;
    int blocks50 = 3 + 4 + 6 + 3;
    // v2: one BN in front of each conv of the residual branch, plus the final BN;
    // projections carry none.
    assertBn(resnet(18, true, true), blocks18 * 2 + 1, blocks18, 1 + blocks18 * 2 + 3);
    assertBn(resnet(50, true, true), blocks50 * 3 + 1, blocks50, 1 + blocks50 * 3 + 4);
    // v1: stem BN, one BN after each conv of the branch, one after each projection.
    assertBn(resnet(18, false, true), 1 + blocks18 * 2 + 3, blocks18, 1 + blocks18 * 2 + 3);
    assertBn(resnet(50, false, true), 1 + blocks50 * 3 + 4, blocks50, 1 + blocks50 * 3 + 4);
    // without BN: none, the same residual AddV2s
    assertBn(resnet(18, true, false), 0, blocks18, 1 + blocks18 * 2 + 3);
    // ReLU activations: v2 = one per conv of a branch + final; v1 = stem + per branch conv but
    // the last + one after each merge
    assertEquals(blocks18 * 2 + 1, count(resnet(18, true, true).model().graph(), "Relu"));
    assertEquals(1 + blocks50 * 2 + blocks50,
        count(resnet(50, false, true).model().graph(), "Relu"));
  }

  private static void assertBn(BuiltModel m, int bn, int merges, int convs) {
    GraphDef g = m.model().graph();
    assertEquals(bn, count(g, "FusedBatchNormV3"), "FusedBatchNormV3");
    assertEquals(bn, m.layers(LayerInfo.Kind.BATCH_NORM).size());
    // relu activations emit no AddV2, so every AddV2 is a residual merge
    assertEquals(merges, count(g, "AddV2"), "AddV2");
    assertEquals(merges, m.layers(LayerInfo.Kind.MERGE).size());
    assertEquals(convs, count(g, "Conv2D"), "Conv2D");
    assertEquals(1, count(g, "MatMul"));
    assertEquals(1, count(g, "Mean"));
    assertEquals(0, count(g, "Mul"), "no normalized sums without a shortcut weight");
  }

  @Test
  void nodesAreAPlainTf1GraphWithRegistryDefaults() {
    BuiltModel m = resnet(18, true, true);
    GraphDef g = m.model().graph();
    OpRegistry reg = OpRegistry.get();
    Set<String> seen = new HashSet<>();
    for (NodeDef n : g.getNodeList()) {
      assertTrue(reg.contains(n.getOp()), n.getOp());
      assertEquals(n, reg.withDefaults(n), "defaults filled: " + n.getName());
      assertTrue(n.getName().matches("[A-Za-z0-9.][A-Za-z0-9_.\\-/]*"), n.getName());
      assertFalse(n.getName().contains("pending"), n.getName());
      for (String in : n.getInputList()) {
        assertTrue(seen.contains(TensorName.parse(in).node()),
            "topological order: " + n.getName() + " reads " + in);
      }
      seen.add(n.getName());
      assertFalse(Set.of("VarHandleOp", "ReadVariableOp", "StatefulPartitionedCall",
          "PartitionedCall").contains(n.getOp()));
    }
    assertTrue(g.getVersions().getProducer() > 0, "versions of the runtime are set");

    NodeDef input = node(g, "input");
    assertEquals("Placeholder", input.getOp());
    assertEquals(List.of(-1L, 32L, 32L, 3L), input.getAttrOrThrow("shape").getShape()
        .getDimList().stream().map(d -> d.getSize()).toList());

    NodeDef conv = node(g, "group_1/block_0/conv_0/Conv2D");
    assertEquals("SAME", conv.getAttrOrThrow("padding").getS().toStringUtf8());
    assertEquals("NHWC", conv.getAttrOrThrow("data_format").getS().toStringUtf8());
    assertEquals(List.of(1L, 2L, 2L, 1L), conv.getAttrOrThrow("strides").getList().getIList());
    assertEquals(List.of(1L, 1L, 1L, 1L), conv.getAttrOrThrow("dilations").getList().getIList());
    assertTrue(conv.containsAttr("use_cudnn_on_gpu"));
    assertTrue(conv.containsAttr("explicit_paddings"));
    assertEquals(DataType.DT_FLOAT, conv.getAttrOrThrow("T").getType());
    assertEquals("group_1/block_0/conv_0/kernel/read", conv.getInput(1));
    assertEquals(List.of(1L, 2L, 2L, 1L),
        node(g, "group_1/block_0/shortcut/Conv2D").getAttrOrThrow("strides").getList()
            .getIList());
    assertEquals("group_1/block_0/act_0/relu",
        node(g, "group_1/block_0/shortcut/Conv2D").getInput(0),
        "v2 projection reads the pre-activation");

    NodeDef var = node(g, "group_1/block_0/conv_0/kernel");
    assertEquals("VariableV2", var.getOp());
    assertEquals(DataType.DT_FLOAT, var.getAttrOrThrow("dtype").getType());
    assertEquals("", var.getAttrOrThrow("container").getS().toStringUtf8());
    assertEquals("", var.getAttrOrThrow("shared_name").getS().toStringUtf8());
    assertEquals(List.of(3L, 3L, 8L, 16L), var.getAttrOrThrow("shape").getShape().getDimList()
        .stream().map(d -> d.getSize()).toList());

    NodeDef bn = node(g, "group_1/block_0/bn_1/FusedBatchNormV3");
    assertFalse(bn.getAttrOrThrow("is_training").getB());
    assertEquals(1.001e-5f, bn.getAttrOrThrow("epsilon").getF());
    assertEquals(DataType.DT_FLOAT, bn.getAttrOrThrow("U").getType());
    assertEquals(List.of("group_1/block_0/conv_0/Conv2D", "group_1/block_0/bn_1/gamma/read",
        "group_1/block_0/bn_1/beta/read", "group_1/block_0/bn_1/moving_mean/read",
        "group_1/block_0/bn_1/moving_variance/read"), bn.getInputList());

    NodeDef mean = node(g, "global_pool/Mean");
    assertFalse(mean.getAttrOrThrow("keep_dims").getB());
    TensorProto axes = node(g, "global_pool/reduction_indices").getAttrOrThrow("value")
        .getTensor();
    assertEquals(DataType.DT_INT32, axes.getDtype());
    assertEquals(List.of(1, 2), axes.getIntValList());
    assertEquals("Identity", node(g, "logits").getOp());
    assertEquals("head/BiasAdd", node(g, "logits").getInput(0));
  }

  @Test
  void variablesAndValuesMatch() {
    for (BuiltModel m : List.of(resnet(18, false, true), ModelBuilder.build(ArchitectureSpec
        .builder(Architecture.MLP, 2).width(16).batchNorm(true).build()))) {
      Model model = m.model();
      Set<String> varNodes = model.graph().getNodeList().stream()
          .filter(n -> n.getOp().equals("VariableV2")).map(NodeDef::getName)
          .collect(Collectors.toSet());
      assertEquals(varNodes, model.variables().keySet());
      Set<String> fromLayers = m.layers().stream().flatMap(l -> l.variables().stream())
          .collect(Collectors.toSet());
      assertEquals(varNodes, fromLayers);
      for (String v : varNodes) {
        AttrValue shape = node(model.graph(), v).getAttrOrThrow("shape");
        long[] declared = shape.getShape().getDimList().stream().mapToLong(d -> d.getSize())
            .toArray();
        assertArrayEquals(declared, TensorProtos.shape(model.variables().get(v)), v);
      }
      long total = model.variables().values().stream().mapToLong(t -> TensorProtos.floats(t)
          .length).sum();
      assertEquals(total, m.parameterCount());
    }
  }

  /** MLP 4x4x1 -> 32 -> 16 -> 10: kernels 16*32 + 32*16 + 16*10, biases 32 + 16 + 10. */
  @Test
  void parameterCountByHand() {
    BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2).width(32)
        .input("4x4x1").build());
    assertEquals(16 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10, m.parameterCount());
    assertEquals(m.parameterCount(), m.trainableParameterCount());
    BuiltModel bn = ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2).width(32)
        .input("4x4x1").batchNorm(true).build());
    // no hidden biases, 4 BN vectors of 32 per layer, of which 2 trainable
    assertEquals(16 * 32 + 32 * 32 + 32 * 10 + 10 + 2 * 4 * 32, bn.parameterCount());
    assertEquals(16 * 32 + 32 * 32 + 32 * 10 + 10 + 2 * 2 * 32, bn.trainableParameterCount());
  }

  /**
   * The standard ImageNet ResNet-18 (v1, BN, no conv biases, 224x224x3, 1000 classes) has
   * 11,689,512 trainable parameters (torchvision's published count, BN gamma and beta included,
   * running statistics excluded). (ResNet-50 v1 gives torchvision's 25,557,032 as well; measured
   * through {@code dks build}, left out here because sampling its kernels takes seconds.)
   */
  @Test
  void imagenetResNet18HasTheStandardParameterCount() {
    BuiltModel m = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18)
        .resnetV2(false).batchNorm(true).input("224x224x3").classes(1000).build());
    assertEquals(11_689_512L, m.trainableParameterCount());
    // + running mean and variance of the 20 BNs: 2 * (64 + 2*2*64 + 2*2*128 + 2*2*256 + 2*2*512
    //   + 128 + 256 + 512) = 2 * 4800
    assertEquals(11_689_512L + 2 * 4800, m.parameterCount());
  }

  @Test
  void signatureIsServingDefaultPredict() {
    BuiltModel m = resnet(18, true, false);
    Signature s = m.model().signature(Signature.SERVING_DEFAULT);
    assertEquals(Signature.PREDICT_METHOD, s.methodName());
    assertEquals(TensorName.of("input"), s.inputs().get("input").tensor());
    assertArrayEquals(new long[] {-1, 32, 32, 3}, s.inputs().get("input").shape());
    assertEquals(TensorName.of("logits"), s.outputs().get("logits").tensor());
    assertArrayEquals(new long[] {-1, 10}, s.outputs().get("logits").shape());
    assertEquals(List.of("logits"), m.model().outputNodes());
  }

  @Test
  void imagenetStemAndPoolingOptions() {
    GraphDef g = ModelBuilder.build(ArchitectureSpec.builder(Architecture.RESNET, 18).width(8)
        .input("64x64x3").build()).model().graph();
    assertEquals(List.of(1L, 2L, 2L, 1L), node(g, "stem/conv/Conv2D").getAttrOrThrow("strides")
        .getList().getIList());
    assertEquals(7, node(g, "stem/conv/kernel").getAttrOrThrow("shape").getShape().getDim(0)
        .getSize());
    NodeDef mp = node(g, "stem/max_pool/MaxPool");
    assertEquals(List.of(1L, 3L, 3L, 1L), mp.getAttrOrThrow("ksize").getList().getIList());
    assertEquals(List.of(1L, 2L, 2L, 1L), mp.getAttrOrThrow("strides").getList().getIList());
    GraphDef small = resnet(18, true, false).model().graph();
    assertEquals(0, count(small, "MaxPool"));
    assertEquals(3, node(small, "stem/conv/kernel").getAttrOrThrow("shape").getShape().getDim(0)
        .getSize());

    // plain CNN, depth 5, every 2: down-sampling after conv_1 and conv_3 (never after the last)
    GraphDef avg = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 5)
        .width(4).pooling(Pooling.every(Pooling.Kind.AVG_POOL, 2)).build()).model().graph();
    assertEquals(2, count(avg, "AvgPool"));
    assertTrue(has(avg, "conv_1/pool/AvgPool") && has(avg, "conv_3/pool/AvgPool"));
    GraphDef strided = ModelBuilder.build(ArchitectureSpec.builder(Architecture.PLAIN_CNN, 5)
        .width(4).pooling(Pooling.every(Pooling.Kind.STRIDED_CONV, 2)).build()).model().graph();
    for (int i = 0; i < 5; i++) {
      long s = i == 2 || i == 4 ? 2 : 1;
      assertEquals(List.of(1L, s, s, 1L), node(strided, "conv_" + i + "/Conv2D")
          .getAttrOrThrow("strides").getList().getIList(), "conv_" + i);
    }
    assertEquals(List.of(3L, 3L, 1L, 4L), node(strided, "conv_0/kernel").getAttrOrThrow("shape")
        .getShape().getDimList().stream().map(d -> d.getSize()).toList(), "first conv C -> w");
  }
}
