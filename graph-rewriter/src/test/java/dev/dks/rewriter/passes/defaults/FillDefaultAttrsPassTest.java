package dev.dks.rewriter.passes.defaults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

class FillDefaultAttrsPassTest {
  @Test
  void omittedAttributesGetTheRegistryDefaults() {
    GraphDef g = GraphDef.newBuilder()
        .addNode(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build())
        .addNode(Nodes.op("FusedBatchNormV3", "bn").input("x").input("x").input("x").input("x")
            .input("x").type("T", DataType.DT_FLOAT).type("U", DataType.DT_FLOAT).build())
        .addNode(Nodes.op("MyCustomOp", "custom").input("bn").build())
        .build();
    RewriteContext ctx = new RewriteContext(GraphView.of(g), Map.of(), List.of("bn"));
    PassOutcome o = new FillDefaultAttrsPass().run(ctx);
    NodeDef bn = ctx.graph().get("bn");
    assertTrue(bn.getAttrOrThrow("is_training").getB(), "the op's default is training form");
    assertEquals(1e-4f, bn.getAttrOrThrow("epsilon").getF(), 0f);
    assertEquals("NHWC", bn.getAttrOrThrow("data_format").getS().toStringUtf8());
    assertEquals(1f, bn.getAttrOrThrow("exponential_avg_factor").getF(), 0f);
    assertTrue(ctx.graph().get("x").containsAttr("shape"), "Placeholder gets shape default");
    assertFalse(ctx.graph().get("custom").containsAttr("T"));
    assertEquals(2, o.changes());
    assertTrue(o.notes().get(1).contains("custom (MyCustomOp)"), o.notes().toString());
    // idempotent
    assertEquals(0, new FillDefaultAttrsPass().run(ctx).changes());
  }

  @Test
  void explicitAttributesAreKept() {
    GraphDef g = GraphDef.newBuilder()
        .addNode(Nodes.op("Placeholder", "x").type("dtype", DataType.DT_FLOAT).build())
        .addNode(Nodes.op("LeakyRelu", "a").input("x").type("T", DataType.DT_FLOAT)
            .attr("alpha", 0.1f).build())
        .build();
    RewriteContext ctx = new RewriteContext(GraphView.of(g), Map.of(), List.of("a"));
    new FillDefaultAttrsPass().run(ctx);
    assertEquals(0.1f, ctx.graph().get("a").getAttrOrThrow("alpha").getF(), 0f);
  }
}
