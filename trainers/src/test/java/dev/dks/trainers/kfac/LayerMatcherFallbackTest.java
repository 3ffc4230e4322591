package dev.dks.trainers.kfac;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.linalg.MatMul;
import org.tensorflow.op.nn.Conv2d;
import org.tensorflow.op.nn.DepthwiseConv2dNative;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

/**
 * The layers {@link LayerMatcher} refuses a Kronecker-factored block, each in a model
 * {@code logits = flatten(layer(x)) Wr + br} built from TF ops: a kernel shared by two MatMuls,
 * a transposed MatMul, an NCHW Conv2D, a dilated Conv2D and a depthwise conv, and a bias added
 * after a Reshape (tensordot, or a Reshape keeping the shape). Each refused kernel or bias
 * is listed as a diagonal block with the documented reason, and the training graph holds that
 * diagonal block's statistic shaped like the kernel; the read-out {@code Wr, br} of the same model
 * gets the dense Kronecker block (the positive control: the matcher does not refuse everything),
 * as does the kernel of the same layer built without the refused feature.
 */
class LayerMatcherFallbackTest {
  private static final int K = 3;

  /** The layer under test, from the input to a rank-2 or rank-4 activation. */
  private interface Layer extends BiFunction<Ops, Operand<TFloat32>, Operand<TFloat32>> {}

  /** Builds the model: input of {@code inShape}, variables {@code kernels}, the layer, read-out. */
  private static Model model(long[] inShape, Map<String, long[]> kernels, Layer layer) {
    GraphDef def;
    int flat;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> x = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(inShape)));
      Operand<TFloat32> h = layer.apply(tf, x);
      long[] hs = h.shape().asArray();
      long f = 1;
      for (int i = 1; i < hs.length; i++) {
        f *= hs[i];
      }
      flat = (int) f;
      Operand<TFloat32> wr = tf.withName("wr").variable(Shape.of(flat, K), TFloat32.class);
      Operand<TFloat32> br = tf.withName("br").variable(Shape.of(K), TFloat32.class);
      Operand<TFloat32> fl = tf.withName("flat").reshape(h, tf.constant(new long[] {-1, flat}));
      tf.withName("logits").nn.biasAdd(tf.withName("readout").linalg.matMul(fl, wr), br);
      def = g.toGraphDef();
    }
    Map<String, org.tensorflow.proto.TensorProto> vars = new LinkedHashMap<>();
    long seed = 300;
    for (Map.Entry<String, long[]> e : kernels.entrySet()) {
      vars.put(e.getKey(), TensorProtos.ofFloats(e.getValue(),
          KfacFixtures.gaussian((int) Shape.of(e.getValue()).size(), seed++, 0.5)));
    }
    vars.put("wr", TensorProtos.ofFloats(new long[] {flat, K},
        KfacFixtures.gaussian(flat * K, seed++, 0.3)));
    vars.put("br", TensorProtos.ofFloats(new long[] {K}, KfacFixtures.gaussian(K, seed, 0.1)));
    return new Model(def, vars, List.of(KfacFixtures.signature(inShape, K)));
  }

  private static Operand<TFloat32> kernel(Ops tf, String name, long... shape) {
    return tf.withName(name).variable(Shape.of(shape), TFloat32.class);
  }

  /**
   * Builds the K-FAC training graph of {@code m} and checks its registration: the read-out is a
   * dense block, {@code kernelsInBlocks} are Kronecker-factored, and {@code refused} (if not
   * null) is a diagonal block whose reason is {@code reason}, with a {@code d_acc} statistic of
   * the kernel's shape in the training graph.
   */
  private static void check(Model m, List<String> kernelsInBlocks, String refused,
      String reason) {
    try (TrainingGraph tg = TrainingGraph.build(m,
        TrainingSpec.defaults().withKfac(KfacOptions.tatRecipe()))) {
      Registration r = tg.kfac().orElseThrow().registration();
      List<String> kron = r.layers().stream().map(RegisteredLayer::kernelVariable).toList();
      assertEquals(kernelsInBlocks, kron, r.log().toString());
      assertEquals(RegisteredLayer.Kind.DENSE, r.layers().get(r.layers().size() - 1).kind());
      assertEquals("br", r.layers().get(r.layers().size() - 1).biasVariable());
      if (refused == null) {
        assertEquals(Map.of(), r.diagonal(), r.log().toString());
        return;
      }
      assertEquals(List.of(refused), List.copyOf(r.diagonal().keySet()), r.log().toString());
      assertEquals(reason, r.diagonal().get(refused));
      assertTrue(r.log().contains(refused + " -> diagonal block (" + reason + ")"),
          r.log().toString());
      // blocks are numbered Kronecker layers first, then the diagonal variables
      GraphOperation acc = tg.graph().operation(
          KfacFixtures.KFAC + "block" + r.layers().size() + "/d_acc");
      assertTrue(acc != null, "no diagonal statistic for " + refused);
      assertArrayEquals(m.variables().get(refused).getTensorShape().getDimList().stream()
          .mapToLong(d -> d.getSize()).toArray(), acc.output(0).shape().asArray());
    }
  }

  @Test
  void sharedKernelFallsBackToADiagonalBlock() {
    Model shared = model(new long[] {-1, 4}, Map.of("w", new long[] {4, 4}), (tf, x) -> {
      Operand<TFloat32> w = kernel(tf, "w", 4, 4);
      Operand<TFloat32> h = tf.withName("act").math.tanh(tf.withName("mm1").linalg.matMul(x, w));
      return tf.withName("mm2").linalg.matMul(h, w);
    });
    check(shared, List.of("wr"), "w", "kernel shared by 2 layers");
    Model once = model(new long[] {-1, 4}, Map.of("w", new long[] {4, 4}), (tf, x) ->
        tf.withName("act").math.tanh(tf.withName("mm1").linalg.matMul(x, kernel(tf, "w", 4, 4))));
    check(once, List.of("w", "wr"), null, null);
  }

  @Test
  void transposedMatMulFallsBackToADiagonalBlock() {
    Model t = model(new long[] {-1, 4}, Map.of("w", new long[] {6, 4}), (tf, x) ->
        tf.withName("act").math.tanh(tf.withName("mm").linalg.matMul(x, kernel(tf, "w", 6, 4),
            MatMul.transposeB(true))));
    check(t, List.of("wr"), "w", "transposed MatMul mm");
    Model plain = model(new long[] {-1, 4}, Map.of("w", new long[] {4, 6}), (tf, x) ->
        tf.withName("act").math.tanh(tf.withName("mm").linalg.matMul(x, kernel(tf, "w", 4, 6))));
    check(plain, List.of("w", "wr"), null, null);
  }

  @Test
  void nchwConvFallsBackToADiagonalBlock() {
    Model nchw = model(new long[] {-1, 2, 5, 5}, Map.of("k", new long[] {3, 3, 2, 4}),
        (tf, x) -> tf.withName("conv").nn.conv2d(x, kernel(tf, "k", 3, 3, 2, 4),
            List.of(1L, 1L, 1L, 1L), "SAME", Conv2d.dataFormat("NCHW")));
    check(nchw, List.of("wr"), "k", "Conv2D conv in NCHW (only NHWC has a conv block)");
    Model nhwc = model(new long[] {-1, 5, 5, 2}, Map.of("k", new long[] {3, 3, 2, 4}),
        (tf, x) -> tf.withName("conv").nn.conv2d(x, kernel(tf, "k", 3, 3, 2, 4),
            List.of(1L, 1L, 1L, 1L), "SAME", Conv2d.dataFormat("NHWC")));
    check(nhwc, List.of("k", "wr"), null, null);
  }

  @Test
  void dilatedConvFallsBackToADiagonalBlock() {
    Model dilated = model(new long[] {-1, 7, 7, 2}, Map.of("k", new long[] {3, 3, 2, 4}),
        (tf, x) -> tf.withName("conv").nn.conv2d(x, kernel(tf, "k", 3, 3, 2, 4),
            List.of(1L, 1L, 1L, 1L), "VALID", Conv2d.dilations(1L, 2L, 2L, 1L)));
    check(dilated, List.of("wr"), "k", "dilated Conv2D conv");
    Model undilated = model(new long[] {-1, 7, 7, 2}, Map.of("k", new long[] {3, 3, 2, 4}),
        (tf, x) -> tf.withName("conv").nn.conv2d(x, kernel(tf, "k", 3, 3, 2, 4),
            List.of(1L, 1L, 1L, 1L), "VALID", Conv2d.dilations(1L, 1L, 1L, 1L)));
    check(undilated, List.of("k", "wr"), null, null);
  }

  @Test
  void depthwiseConvFallsBackToADiagonalBlock() {
    Model dw = model(new long[] {-1, 5, 5, 2}, Map.of("k", new long[] {3, 3, 2, 1}),
        (tf, x) -> tf.withName("dw").nn.depthwiseConv2dNative(x, kernel(tf, "k", 3, 3, 2, 1),
            List.of(1L, 1L, 1L, 1L), "SAME", DepthwiseConv2dNative.dataFormat("NHWC")));
    check(dw, List.of("wr"), "k", "DepthwiseConv2dNative dw has no Kronecker-factored block");
  }

  @Test
  void aBiasAddedAfterAReshapeStaysOutOfTheDenseBlock() {
    // Keras Dense on a 4-d tensor (tensordot, the TF.js meet gates): MatMul -> Reshape ->
    // BiasAdd. The analysis reads b as the layer's bias, but the dense block reads its output
    // gradient as [batch, units] rows: w gets the block without b, b a diagonal block
    Model td = model(new long[] {-1, 4}, Map.of("w", new long[] {4, 4}, "b", new long[] {4}),
        (tf, x) -> {
          Operand<TFloat32> mm = tf.withName("mm").linalg.matMul(x, kernel(tf, "w", 4, 4));
          Operand<TFloat32> r = tf.withName("mm_reshape").reshape(mm,
              tf.constant(new long[] {-1, 1, 1, 4}));
          return tf.withName("act").math.tanh(tf.withName("mm_bias").nn.biasAdd(r,
              kernel(tf, "b", 4)));
        });
    check(td, List.of("w", "wr"), "b", AFTER_RESHAPE);
  }

  private static final String AFTER_RESHAPE = "bias of mm added after a Reshape (the block reads "
      + "the output gradient in the layer's own shape)";

  @Test
  void aBiasAfterAShapeKeepingReshapeStaysOutOfTheDenseBlockToo() {
    // Reshape [-1, 4] of a [-1, 4] MatMul: the bias add has the layer's static shape, as when
    // both are unknown; still a Reshape sits between, so b is not read as the layer's bias
    Model kept = model(new long[] {-1, 4}, Map.of("w", new long[] {4, 4}, "b", new long[] {4}),
        (tf, x) -> {
          Operand<TFloat32> mm = tf.withName("mm").linalg.matMul(x, kernel(tf, "w", 4, 4));
          Operand<TFloat32> r = tf.withName("mm_reshape").reshape(mm,
              tf.constant(new long[] {-1, 4}));
          return tf.withName("act").math.tanh(tf.withName("mm_bias").nn.biasAdd(r,
              kernel(tf, "b", 4)));
        });
    check(kept, List.of("w", "wr"), "b", AFTER_RESHAPE);
    // control: the same bias right after the MatMul joins w's block
    Model direct = model(new long[] {-1, 4}, Map.of("w", new long[] {4, 4}, "b", new long[] {4}),
        (tf, x) -> tf.withName("act").math.tanh(tf.withName("mm_bias").nn.biasAdd(
            tf.withName("mm").linalg.matMul(x, kernel(tf, "w", 4, 4)), kernel(tf, "b", 4))));
    check(direct, List.of("w", "wr"), null, null);
  }
}
