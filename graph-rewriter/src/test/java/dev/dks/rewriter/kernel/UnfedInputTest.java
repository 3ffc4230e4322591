package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.testing.DenseNets;
import dev.dks.solver.solve.ShapingSolution;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;

/**
 * A network whose first layer's output is added to a second input (as Vespa's external models'
 * {@code input_2}) cannot be kernel-checked with only the first input fed: the check refuses with
 * an {@link UnfedInputException} naming the placeholder, its dtype and shape, instead of
 * TensorFlow's "You must feed a value" error. Control: the same second input as a
 * PlaceholderWithDefault (zeros) needs no feed, and the check runs and passes.
 */
class UnfedInputTest {
  private static Model net(String op) {
    DenseNets n = new DenseNets();
    TensorName z = n.dense(TensorName.of("input"));
    var b = Nodes.op(op, "extra").type("dtype", DataType.DT_FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(new long[] {-1, DenseNets.WIDTH}))
            .build());
    if (op.equals("PlaceholderWithDefault")) {
      n.g.add(Nodes.constant("extra/default", TensorProtos.ofFloats(
          new long[] {1, DenseNets.WIDTH}, new float[DenseNets.WIDTH])));
      b.input("extra/default");
    }
    n.g.add(b.build());
    TensorName sum = n.add("sum", z, TensorName.of("extra"));
    return n.model(n.dense(n.act("tanh", n.dense(n.act("tanh", sum)))));
  }

  private static KernelReport check(Model raw) {
    Pipeline.Result r = DksRewrite.pipeline(RewriteOptions.defaults()).build().run(raw);
    return KernelCheck.run(r.model(), r.fact(ShapingSolution.class).orElseThrow(),
        KernelCheck.Options.defaults());
  }

  @Test
  void aSecondPlaceholderIsATypedErrorNamingIt() {
    UnfedInputException e = assertThrows(UnfedInputException.class,
        () -> check(net("Placeholder")));
    assertEquals(List.of("extra"), e.placeholders());
    assertTrue(e.getMessage().contains("placeholder 'extra' (float [?,16])"), e.getMessage());
    assertTrue(e.getMessage().contains("placeholder_with_default"), e.getMessage());
  }

  @Test
  void aPlaceholderWithDefaultNeedsNoFeed() {
    KernelReport r = check(net("PlaceholderWithDefault"));
    assertTrue(r.passed(), r.toText());
  }
}
