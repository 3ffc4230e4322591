package dev.dks.savedmodels.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.pipeline.GraphVerificationException;
import dev.dks.rewriter.pipeline.Pipeline;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * The two failures the real TF2 SavedModels hit in the rewrite's final gradient check, reproduced
 * on hand-built graphs (so they show without {@code ../shared/models}):
 *
 * <ul>
 *   <li>a signature output that is an {@code IdentityN} (what inline-functions leaves as the
 *       marker of a TF2 signature's call node): TensorFlow has no C++ gradient for IdentityN;
 *   <li>two signatures whose outputs depend on different variables: the check differentiates
 *       every output with respect to the variables of all outputs together.
 * </ul>
 *
 * Both are valid, trainable graphs; the rewrite must accept them.
 */
class FinalGradientCheckTest {
  private final GraphView g = GraphView.empty();
  private final Map<String, TensorProto> vars = new LinkedHashMap<>();
  private final Random rnd = new Random(1);

  private void placeholder(String name, long width) {
    g.add(Nodes.op("Placeholder", name).type("dtype", DataType.DT_FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {-1, width})).build())
        .build());
  }

  private String dense(String name, String x, int in, int out) {
    String k = name + "/kernel";
    g.add(Nodes.op("VariableV2", k).type("dtype", DataType.DT_FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {in, out})).build())
        .attr("container", "").attr("shared_name", "").build());
    float[] v = new float[in * out];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (rnd.nextGaussian() / Math.sqrt(in));
    }
    vars.put(k, TensorProtos.ofFloats(new long[] {in, out}, v));
    g.add(Nodes.op("MatMul", name + "/MatMul").input(x).input(k).type("T", DataType.DT_FLOAT)
        .build());
    return name + "/MatMul";
  }

  private String relu(String name, String x) {
    g.add(Nodes.op("Relu", name).input(x).type("T", DataType.DT_FLOAT).build());
    return name;
  }

  /** Twenty dense + Relu layers of width 8 on x (deep enough for TAT), then a dense layer. */
  private String net(String x, int out) {
    String h = x;
    for (int i = 1; i <= 20; i++) {
      h = relu("r" + i, dense("d" + i, h, 8, 8));
    }
    return dense("head", h, 8, out);
  }

  private static Signature signature(String key, String in, long inWidth, String out,
      long outWidth) {
    return new Signature(key, Signature.PREDICT_METHOD,
        Map.of("x", new TensorSpec(TensorName.parse(in), DataType.DT_FLOAT,
            new long[] {-1, inWidth})),
        Map.of("y", new TensorSpec(TensorName.parse(out), DataType.DT_FLOAT,
            new long[] {-1, outWidth})));
  }

  private static void rewriteMustSucceed(Model m, String what) {
    try {
      Pipeline.Result r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(m);
      assertEquals(m.signatures().size(), r.model().signatures().size());
    } catch (GraphVerificationException e) {
      fail(what + ": " + e.getMessage(), e);
    }
  }

  /**
   * x -> 20 x (MatMul, Relu) -> MatMul -> IdentityN "call", signature output {@code call:0}: the
   * final gradient check differentiates what the marker forwards (regression: it used to fail
   * with "No gradient defined for op: IdentityN").
   */
  @Test
  void outputBehindAnIdentityNMarker() {
    placeholder("x", 8);
    String y = net("x", 3);
    g.add(Nodes.op("IdentityN", "call").input(y).attr("T", AttrValue.newBuilder().setList(
        AttrValue.ListValue.newBuilder().addType(DataType.DT_FLOAT)).build()).build());
    Model m = new Model(g.toGraphDef(), vars, List.of(signature(Signature.SERVING_DEFAULT,
        "x:0", 8, "call:0", 3)));
    rewriteMustSucceed(m, "signature output behind an IdentityN");
  }

  /**
   * serving_default reads d1..d20 and head, a second signature reads only "other" (same input):
   * each output is differentiated with respect to its own variables (regression: it used to fail
   * with "Cannot compute the partial derivative for node 'other/kernel' as it's unreachable from
   * the output node(s)").
   */
  @Test
  void signaturesWithDisjointVariables() {
    placeholder("x", 8);
    String y = net("x", 3);
    String z = dense("other", "x", 8, 2);
    Model m = new Model(g.toGraphDef(), vars, List.of(
        signature(Signature.SERVING_DEFAULT, "x:0", 8, y + ":0", 3),
        signature("other", "x:0", 8, z + ":0", 2)));
    rewriteMustSucceed(m, "two signatures with their own variables");
  }
}
