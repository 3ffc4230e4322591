package dev.dks.rewriter.passes.inline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Synthetic function libraries, inlined and then run by TensorFlow next to the original graph
 * (where TensorFlow itself executes the functions): outputs must be identical.
 */
class InlineFunctionsPassTest {
  private static final AttrValue FLOAT = type(DataType.DT_FLOAT);
  private static final AttrValue INT32 = type(DataType.DT_INT32);

  /**
   * Placeholder attributes ($T), a multi-output op read through its second output arg
   * ({@code top:indices:0} is output 1 of TopKV2), a nested PartitionedCall, a direct call by op
   * name, a signature naming {@code call:1}, a control edge on a call, an unused function.
   */
  @Test
  void inlinedGraphComputesTheSameAsTheFunctions() {
    GraphDef g = GraphDef.newBuilder().setLibrary(FunctionDefLibrary.newBuilder()
            .addFunction(inner()).addFunction(outer()).addFunction(unused()))
        .addNode(placeholder("x", 4)).addNode(placeholder("y", 2))
        .addNode(Nodes.op("StatefulPartitionedCall", "c").input("x").input("y")
            .attr("Tin", types(DataType.DT_FLOAT, DataType.DT_FLOAT))
            .attr("Tout", types(DataType.DT_FLOAT, DataType.DT_INT32))
            .attr("f", func("outer", Map.of())).build())
        .addNode(Nodes.op("inner", "d").input("x").attr("T", FLOAT).build())
        .addNode(Nodes.op("Mul", "e").input("c").input("d").attr("T", FLOAT).build())
        .addNode(Nodes.op("Identity", "after").input("y").input("^c").attr("T", FLOAT).build())
        .build();
    List<String> fetches = List.of("e", "c:1", "d:1", "after");
    Map<String, Object> want = run(g, fetches);

    Model m = new Model(g, Map.of(), List.of(new Signature("s", Signature.PREDICT_METHOD,
        Map.of("x", new TensorSpec(TensorName.of("x"), DataType.DT_FLOAT, new long[] {4})),
        Map.of("e", new TensorSpec(TensorName.of("e"), DataType.DT_FLOAT, new long[] {2}),
            "i", new TensorSpec(TensorName.of("c", 1), DataType.DT_INT32, new long[] {2}),
            "a", new TensorSpec(TensorName.of("after"), DataType.DT_FLOAT, new long[] {2}),
            "di", new TensorSpec(TensorName.of("d", 1), DataType.DT_INT32, new long[] {2})))));
    Pipeline.Result r = Pipeline.builder().add(new InlineFunctionsPass())
        .verifier(new StructuralVerifier()).verifier(new TensorFlowVerifier(false)).build()
        .run(m);
    GraphDef out = r.model().graph();
    PassOutcome o = r.outcomes().get(0);
    assertEquals(3, o.changes(), o.notes().toString()); // c, d and the nested c/call

    GraphView v = GraphView.of(out);
    assertEquals(0, out.getLibrary().getFunctionCount(), "unused functions are dropped");
    assertEquals("IdentityN", v.get("c").getOp(), "c:1 is a signature output: c stays");
    assertEquals(List.of("d/sq", "d/top:1"), v.get("d").getInputList(),
        "d's outputs: vals = sq:y:0, idx = top:indices:0, which is TopKV2 output 1");
    assertEquals("TopKV2", v.get("c/call/top").getOp());
    assertEquals(DataType.DT_FLOAT, v.get("c/call/top").getAttrOrThrow("T").getType(),
        "the $T placeholder is resolved from the call's f attr");
    assertEquals(List.of("c/sum", "d/sq"), v.get("e").getInputList(),
        "data consumers read the returned tensors directly, not the kept call nodes");
    for (NodeDef n : out.getNodeList()) {
      assertFalse(n.getOp().endsWith("PartitionedCall") || n.getOp().equals("inner"),
          n.getName() + " is still a call");
    }
    Map<String, Object> got = run(out, fetches);
    for (String f : fetches) {
      if (want.get(f) instanceof float[] w) {
        assertArrayEquals(w, (float[]) got.get(f), 0f, f);
      } else {
        assertArrayEquals((int[]) want.get(f), (int[]) got.get(f), f);
      }
    }
  }

  /**
   * Control inputs of a call reach the inlined source nodes; a call read through a control edge
   * stays as a NoOp waiting for the function's control outputs and returned tensors.
   */
  @Test
  void controlEdgesAreKept() {
    FunctionDef side = FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName("side").addInputArg(arg("x", DataType.DT_FLOAT))
            .addOutputArg(arg("y", DataType.DT_FLOAT)).addControlOutput("n"))
        .addNodeDef(Nodes.op("NoOp", "n").build())
        .addNodeDef(Nodes.op("Identity", "i").input("x").input("^n").attr("T", FLOAT).build())
        .putRet("y", "i:output:0").putControlRet("n", "n").build();
    GraphDef g = GraphDef.newBuilder().setLibrary(FunctionDefLibrary.newBuilder()
            .addFunction(side))
        .addNode(placeholder("x", 4)).addNode(Nodes.op("NoOp", "z").build())
        .addNode(Nodes.op("PartitionedCall", "c").input("x").input("^z")
            .attr("Tin", types(DataType.DT_FLOAT)).attr("Tout", types(DataType.DT_FLOAT))
            .attr("f", func("side", Map.of())).build())
        .addNode(Nodes.op("Square", "out").input("c").attr("T", FLOAT).build())
        .addNode(Nodes.op("Identity", "after").input("x").input("^c").attr("T", FLOAT).build())
        .build();
    GraphView v = GraphView.of(g);
    PassOutcome o = new InlineFunctionsPass().run(new RewriteContext(v, Map.of(),
        List.of("out", "after")));
    assertEquals(1, o.changes());
    assertEquals(List.of("^z"), v.get("c/n").getInputList(), "the call's control input");
    assertEquals("NoOp", v.get("c").getOp());
    assertTrue(v.get("c").getInputList().containsAll(List.of("^c/i", "^c/n", "^z")),
        v.get("c").getInputList().toString());
    assertEquals(List.of("c/i"), v.get("out").getInputList());
    assertEquals(List.of("x", "^c"), v.get("after").getInputList());
    Map<String, Object> got = run(v.toGraphDef(), List.of("out"));
    assertArrayEquals(new float[] {9, 1, 49, 4}, (float[]) got.get("out"), 0f);
  }

  /** A function that calls itself is inlined once, then left alone with a note. */
  @Test
  void recursionStops() {
    FunctionDef rec = FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName("rec").addInputArg(arg("x", DataType.DT_FLOAT))
            .addOutputArg(arg("y", DataType.DT_FLOAT)))
        .addNodeDef(Nodes.op("PartitionedCall", "r").input("x")
            .attr("Tin", types(DataType.DT_FLOAT)).attr("Tout", types(DataType.DT_FLOAT))
            .attr("f", func("rec", Map.of())).build())
        .putRet("y", "r:output:0").build();
    GraphDef g = GraphDef.newBuilder().setLibrary(FunctionDefLibrary.newBuilder().addFunction(rec))
        .addNode(placeholder("x", 2))
        .addNode(Nodes.op("PartitionedCall", "c").input("x")
            .attr("Tin", types(DataType.DT_FLOAT)).attr("Tout", types(DataType.DT_FLOAT))
            .attr("f", func("rec", Map.of())).build())
        .build();
    GraphView v = GraphView.of(g);
    PassOutcome o = new InlineFunctionsPass().run(new RewriteContext(v, Map.of(), List.of("c")));
    assertEquals(1, o.changes());
    assertTrue(o.notes().stream().anyMatch(n -> n.contains("recursively")), o.notes().toString());
    assertEquals("PartitionedCall", v.get("c/r").getOp());
    assertEquals(1, v.library().getFunctionCount(), "rec is still called");
  }

  @Test
  void graphWithoutLibraryIsUnchanged() {
    GraphView v = GraphView.of(GraphDef.newBuilder().addNode(placeholder("x", 1)).build());
    assertEquals(0, new InlineFunctionsPass().run(new RewriteContext(v, Map.of(), List.of("x")))
        .changes());
  }

  // inner(x: T) -> (vals: T, idx: int32): the squares of the top-2 values, and their indices
  private static FunctionDef inner() {
    return FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName("inner")
            .addInputArg(OpDef.ArgDef.newBuilder().setName("x").setTypeAttr("T"))
            .addOutputArg(OpDef.ArgDef.newBuilder().setName("vals").setTypeAttr("T"))
            .addOutputArg(arg("idx", DataType.DT_INT32))
            .addAttr(OpDef.AttrDef.newBuilder().setName("T").setType("type")))
        .addNodeDef(Nodes.op("Const", "k").attr("dtype", INT32).attr("value",
            AttrValue.newBuilder().setTensor(TensorProto.newBuilder().setDtype(DataType.DT_INT32)
                .setTensorShape(TensorShapeProto.getDefaultInstance()).addIntVal(2)).build())
            .build())
        .addNodeDef(Nodes.op("TopKV2", "top").input("x").input("k:output:0")
            .attr("T", placeholder("T")).build())
        .addNodeDef(Nodes.op("Square", "sq").input("top:values:0").attr("T", placeholder("T"))
            .build())
        .putRet("vals", "sq:y:0").putRet("idx", "top:indices:0").build();
  }

  // outer(a, b) -> (out, idx): inner(a).vals + b, inner(a).idx, through a PartitionedCall
  private static FunctionDef outer() {
    return FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName("outer").addInputArg(arg("a", DataType.DT_FLOAT))
            .addInputArg(arg("b", DataType.DT_FLOAT)).addOutputArg(arg("out", DataType.DT_FLOAT))
            .addOutputArg(arg("idx", DataType.DT_INT32)))
        .addNodeDef(Nodes.op("PartitionedCall", "call").input("a")
            .attr("Tin", types(DataType.DT_FLOAT))
            .attr("Tout", types(DataType.DT_FLOAT, DataType.DT_INT32))
            .attr("f", func("inner", Map.of("T", FLOAT))).build())
        .addNodeDef(Nodes.op("AddV2", "sum").input("call:output:0").input("b").attr("T", FLOAT)
            .build())
        .putRet("out", "sum:z:0").putRet("idx", "call:output:1").build();
  }

  private static FunctionDef unused() {
    return FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName("unused").addInputArg(arg("x", DataType.DT_FLOAT))
            .addOutputArg(arg("y", DataType.DT_FLOAT)))
        .putRet("y", "x").build();
  }

  private static OpDef.ArgDef arg(String name, DataType t) {
    return OpDef.ArgDef.newBuilder().setName(name).setType(t).build();
  }

  private static NodeDef placeholder(String name, long n) {
    return Nodes.op("Placeholder", name).attr("dtype", FLOAT).attr("shape", AttrValue.newBuilder()
        .setShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder()
            .setSize(n))).build()).build();
  }

  private static AttrValue placeholder(String attr) {
    return AttrValue.newBuilder().setPlaceholder(attr).build();
  }

  private static AttrValue type(DataType t) {
    return AttrValue.newBuilder().setType(t).build();
  }

  private static AttrValue types(DataType... ts) {
    return AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
        .addAllType(List.of(ts))).build();
  }

  private static AttrValue func(String name, Map<String, AttrValue> attrs) {
    return AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(name)
        .putAllAttr(attrs)).build();
  }

  /** Runs {@code g} on x = [3, -1, 7, 2], y = [10, 20]; float[] or int[] per fetch. */
  static Map<String, Object> run(GraphDef g, List<String> fetches) {
    Map<String, Object> out = new LinkedHashMap<>();
    List<Tensor> open = new ArrayList<>();
    try (Graph graph = new Graph()) {
      GraphImport.into(graph, g);
      try (Session s = new Session(graph)) {
        Session.Runner r = s.runner();
        TFloat32 x = TFloat32.tensorOf(Shape.of(4), DataBuffers.of(new float[] {3, -1, 7, 2}));
        open.add(x);
        r.feed("x", x);
        if (graph.operation("y") != null) {
          TFloat32 y = TFloat32.tensorOf(Shape.of(2), DataBuffers.of(new float[] {10, 20}));
          open.add(y);
          r.feed("y", y);
        }
        fetches.forEach(r::fetch);
        try (Result res = r.run()) {
          for (int i = 0; i < fetches.size(); i++) {
            Tensor t = res.get(i);
            ByteBuffer bb = ByteBuffer.allocate((int) t.numBytes()).order(ByteOrder.nativeOrder());
            byte[] raw = new byte[(int) t.numBytes()];
            t.asRawTensor().data().read(raw);
            bb.put(raw).flip();
            if (t instanceof TInt32) {
              int[] v = new int[raw.length / 4];
              bb.asIntBuffer().get(v);
              out.put(fetches.get(i), v);
            } else {
              float[] v = new float[raw.length / 4];
              bb.asFloatBuffer().get(v);
              out.put(fetches.get(i), v);
            }
          }
        }
      }
    } finally {
      open.forEach(Tensor::close);
    }
    return out;
  }
}
