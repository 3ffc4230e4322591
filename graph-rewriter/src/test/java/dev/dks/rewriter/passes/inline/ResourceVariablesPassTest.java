package dev.dks.rewriter.passes.inline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

class ResourceVariablesPassTest {
  private static final AttrValue FLOAT = AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();
  private static final AttrValue INT32 = AttrValue.newBuilder().setType(DataType.DT_INT32).build();
  private static final float[] W = {1, 2, 3, 4};

  /**
   * A resource variable read through a resource Identity, gathered, measured and assigned
   * becomes a VariableV2 of the same name; the rewritten graph computes x W and W[1] with the
   * value from the context; a resource training op becomes its ref twin; a variable read by an
   * unknown op is left alone, and so is one that shares a training op with it.
   */
  @Test
  void resourceVariablesBecomeRefVariables() {
    GraphDef g = GraphDef.newBuilder()
        .addNode(Nodes.op("Placeholder", "x").attr("dtype", FLOAT).build())
        .addNode(varHandle("v", 2, 2))
        .addNode(Nodes.constant("init", TensorProtos.ofFloats(new long[] {2, 2}, new float[4])))
        .addNode(Nodes.op("AssignVariableOp", "assign").input("v").input("init")
            .attr("dtype", FLOAT).build())
        .addNode(Nodes.op("Identity", "vi").input("v").attr("T",
            AttrValue.newBuilder().setType(DataType.DT_RESOURCE).build()).build())
        .addNode(Nodes.op("ReadVariableOp", "r").input("vi").attr("dtype", FLOAT).build())
        .addNode(Nodes.op("MatMul", "y").input("x").input("r").attr("T", FLOAT).build())
        .addNode(Nodes.op("VariableShape", "shape").input("v").attr("out_type", INT32).build())
        .addNode(Nodes.constant("idx", TensorProto.newBuilder().setDtype(DataType.DT_INT32)
            .setTensorShape(TensorShapeProto.newBuilder().addDim(
                TensorShapeProto.Dim.newBuilder().setSize(1))).addIntVal(1).build()))
        .addNode(Nodes.op("ResourceGather", "row").input("v").input("idx").attr("dtype", FLOAT)
            .attr("Tindices", INT32).build())
        .addNode(Nodes.op("DisableCopyOnRead", "nocopy").input("v").build())
        .addNode(Nodes.op("NoOp", "after").input("^nocopy").input("^vi").build())
        .addNode(varHandle("u", 2))
        .addNode(Nodes.floatScalar("lr", 0.1f))
        .addNode(Nodes.constant("delta", TensorProtos.ofFloats(new long[] {2}, new float[2])))
        .addNode(Nodes.op("ResourceApplyGradientDescent", "sgd").input("u").input("lr")
            .input("delta").attr("T", FLOAT).build())
        // w is read by an op this pass does not know, so w stays a resource variable; m shares
        // a training op with w, so m has to stay one too
        .addNode(varHandle("w", 2))
        .addNode(varHandle("m", 2))
        .addNode(Nodes.op("IdentityN", "unknown").input("w").attr("T", AttrValue.newBuilder()
            .setList(AttrValue.ListValue.newBuilder().addType(DataType.DT_RESOURCE)).build())
            .build())
        .addNode(Nodes.op("ResourceApplyMomentum", "momentum").input("m").input("w").input("lr")
            .input("delta").input("lr").attr("T", FLOAT).build())
        .build();
    GraphView v = GraphView.of(g);
    RewriteContext ctx = new RewriteContext(v, Map.of("v", TensorProtos.ofFloats(
        new long[] {2, 2}, W)), List.of("y", "shape", "row", "assign", "after"));
    new StructuralVerifier().verify(ctx, "before");
    new TensorFlowVerifier(false).verify(ctx, "before");
    PassOutcome o = new ResourceVariablesPass().run(ctx);
    new StructuralVerifier().verify(ctx, "after");
    new TensorFlowVerifier(false).verify(ctx, "after");

    assertEquals(2, o.changes(), o.notes().toString());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("'w'") && n.contains(
        "IdentityN")), o.notes().toString());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("'m'") && n.contains(
        "also uses a resource variable that stays one")), o.notes().toString());
    NodeDef var = v.get("v");
    assertEquals("VariableV2", var.getOp());
    assertEquals(List.of(2L, 2L), var.getAttrOrThrow("shape").getShape().getDimList().stream()
        .map(TensorShapeProto.Dim::getSize).toList());
    assertEquals("Identity", v.get("r").getOp());
    assertEquals(List.of("v"), v.get("r").getInputList(), "the resource Identity is bypassed");
    assertFalse(v.contains("vi"));
    assertFalse(v.contains("nocopy"));
    assertEquals(List.of("^v"), v.get("after").getInputList());
    assertEquals("Assign", v.get("assign").getOp());
    assertEquals("Shape", v.get("shape").getOp());
    assertEquals("GatherV2", v.get("row").getOp());
    assertEquals("VariableV2", v.get("u").getOp());
    assertEquals("ApplyGradientDescent", v.get("sgd").getOp());
    assertEquals(List.of("u", "lr", "delta"), v.get("sgd").getInputList());
    assertEquals("VarHandleOp", v.get("w").getOp());
    assertEquals("VarHandleOp", v.get("m").getOp());
    assertEquals("ResourceApplyMomentum", v.get("momentum").getOp());

    Model m = new Model(v.toGraphDef(), ctx.variables(), List.of());
    try (ModelSession s = new ModelSession(m)) {
      TensorProto x = TensorProtos.ofFloats(new long[] {1, 2}, new float[] {10, 100});
      Map<String, TensorProto> out = s.run(Map.of("x", x), List.of("y", "row"));
      assertArrayEquals(new float[] {10 + 300, 20 + 400}, TensorProtos.floats(out.get("y")), 0f);
      assertArrayEquals(new float[] {3, 4}, TensorProtos.floats(out.get("row")), 0f);
    }
  }

  @Test
  void graphWithoutResourceVariablesIsUnchanged() {
    GraphView v = GraphView.of(GraphDef.newBuilder()
        .addNode(Nodes.op("Placeholder", "x").attr("dtype", FLOAT).build()).build());
    assertEquals(0, new ResourceVariablesPass().run(new RewriteContext(v, Map.of(),
        List.of("x"))).changes());
  }

  private static NodeDef varHandle(String name, long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return Nodes.op("VarHandleOp", name).attr("dtype", FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(s).build()).attr("shared_name", name).build();
  }
}
