package dev.dks.rewriter.passes.inline;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Turns resource variables into TF1 reference variables, since TF Java's exporter saves only
 * {@code VariableV2} (R4 of the TF Java notes). Each {@code VarHandleOp} becomes a {@code
 * VariableV2} <b>of the same name</b> (dtype and shape from the handle's attributes; when the
 * shape attribute is not fully known, the shape of the value in {@link RewriteContext#variables()}
 * is used), so values keyed by the handle's name line up. Its users, found through any chain of
 * resource {@code Identity} nodes, are rewritten in place, each keeping its own name:
 *
 * <ul>
 *   <li>{@code ReadVariableOp} becomes {@code Identity} (a read of the ref variable);
 *   <li>{@code ResourceGather} becomes {@code GatherV2} on axis {@code batch_dims} (plus a {@code
 *       <name>/axis} Const), {@code ResourceGatherNd} becomes {@code GatherNd};
 *   <li>{@code VariableShape} becomes {@code Shape}, {@code VarIsInitializedOp} becomes {@code
 *       IsVariableInitialized};
 *   <li>{@code AssignVariableOp}, {@code AssignAddVariableOp} and {@code AssignSubVariableOp}
 *       become {@code Assign} ({@code validate_shape} kept, false by default as for the resource
 *       op), {@code AssignAdd} and {@code AssignSub}, so a state-updating entry point keeps its
 *       meaning (init paths are usually pruned away before this pass);
 *   <li>{@code DisableCopyOnRead} (a hint without meaning for ref variables) is removed, and the
 *       control edges on it are dropped;
 *   <li>any other {@code ResourceX} op whose ref twin {@code X} takes the same single-tensor
 *       inputs with a ref where it takes a resource ({@code ResourceApplyGradientDescent}, {@code
 *       ResourceApplyAdam}, {@code ResourceScatterAdd}, ...) becomes {@code X}; all the handles it
 *       reads must be converted, so variables are decided together.
 * </ul>
 *
 * <p>A variable with any other user (a call or loop that was not inlined, a resource op without
 * ref twin, ...) is left a resource variable, with a note naming the user. The pass never reads
 * or writes values: the readers put them into the context keyed by the handle's node name.
 */
public final class ResourceVariablesPass implements RewritePass {
  /** The pass name. */
  public static final String NAME = "resource-to-ref-vars";

  /** Users rewritten by hand; other {@code Resource*} ops map to their ref version. */
  private static final Set<String> SPECIAL = Set.of("ReadVariableOp", "ResourceGather",
      "ResourceGatherNd", "VariableShape", "VarIsInitializedOp", "AssignVariableOp",
      "AssignAddVariableOp", "AssignSubVariableOp", "DisableCopyOnRead");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "turn VarHandleOp/ReadVariableOp resource variables into VariableV2/Identity";
  }

  @Override
  public PassOutcome run(RewriteContext context) {
    GraphView g = context.graph();
    List<String> notes = new ArrayList<>();
    // every handle, its resource Identity chain and its data users
    Map<String, Handle> vars = new LinkedHashMap<>();
    Map<String, String> varOf = new HashMap<>();
    for (NodeDef v : g.nodes()) {
      if (v.getOp().equals("VarHandleOp")) {
        Handle h = users(g, v);
        vars.put(v.getName(), h);
        varOf.put(v.getName(), v.getName());
        h.chain.forEach(c -> varOf.put(c, v.getName()));
      }
    }
    if (vars.isEmpty()) {
      return PassOutcome.unchanged(NAME, "the graph has no resource variable");
    }
    // which variables can go: a user reading several handles needs all of them to go
    Set<String> convertible = new LinkedHashSet<>(vars.keySet());
    Map<String, String> why = new LinkedHashMap<>();
    boolean changed = true;
    while (changed) {
      changed = false;
      for (String v : List.copyOf(convertible)) {
        String reason = null;
        for (String c : vars.get(v).chain) {
          if (context.outputs().contains(c)) {
            reason = "the resource Identity '" + c + "' is an output";
          }
        }
        for (String u : vars.get(v).users) {
          if (reason == null) {
            reason = unsupported(g.get(u), varOf, convertible, context.outputs());
          }
        }
        if (reason != null) {
          convertible.remove(v);
          why.put(v, reason);
          changed = true;
        }
      }
    }
    // rewrite
    Set<String> rewritten = new HashSet<>();
    for (String v : convertible) {
      NodeDef handle = g.get(v);
      g.put(variable(handle, context.variables().get(v)));
      for (String u : vars.get(v).users) {
        if (rewritten.add(u)) {
          rewriteUser(g, g.get(u), varOf, handle.getAttrOrThrow("dtype").getType());
        }
      }
    }
    for (String v : convertible) {
      // the resource Identity chain goes: its control users now depend on the variable
      for (String c : vars.get(v).chain) {
        for (String cc : g.consumers(c)) {
          replaceControl(g, cc, c, v);
        }
      }
      vars.get(v).chain.forEach(g::remove);
    }
    why.forEach((v, reason) -> notes.add("left resource variable '" + v + "' alone: " + reason));
    notes.add(0, "turned " + convertible.size() + " resource variables into VariableV2");
    return new PassOutcome(NAME, convertible.size(), notes);
  }

  /** A handle's resource Identity chain and the nodes reading it (or the chain) by data edge. */
  private record Handle(Set<String> chain, Set<String> users) {}

  private static Handle users(GraphView g, NodeDef v) {
    Set<String> chain = new LinkedHashSet<>();
    Set<String> users = new LinkedHashSet<>();
    Deque<String> todo = new ArrayDeque<>(List.of(v.getName()));
    while (!todo.isEmpty()) {
      String h = todo.pop();
      for (String c : g.consumers(h)) {
        NodeDef cn = g.get(c);
        if (!Nodes.readsData(cn, h)) {
          continue; // control edges only
        }
        if (cn.getOp().equals("Identity") && cn.getAttrOrThrow("T").getType()
            == DataType.DT_RESOURCE) {
          if (chain.add(c)) {
            todo.push(c);
          }
        } else {
          users.add(c);
        }
      }
    }
    return new Handle(chain, users);
  }

  private static NodeDef variable(NodeDef v, TensorProto value) {
    DataType dtype = v.getAttrOrThrow("dtype").getType();
    TensorShapeProto shape = v.containsAttr("shape") ? v.getAttrOrThrow("shape").getShape()
        : TensorShapeProto.newBuilder().setUnknownRank(true).build();
    if (!fullyKnown(shape) && value != null) {
      shape = TensorProtos.shapeProto(TensorProtos.shape(value));
    }
    return NodeDef.newBuilder().setName(v.getName()).setOp("VariableV2").setDevice(v.getDevice())
        .addAllInput(v.getInputList())
        .putAttr("dtype", AttrValue.newBuilder().setType(dtype).build())
        .putAttr("shape", AttrValue.newBuilder().setShape(shape).build())
        .putAttr("container", v.getAttrOrDefault("container", string("")))
        .putAttr("shared_name", string("")).build();
  }

  /** Why {@code u} keeps its handles resource variables, or null when it can be rewritten. */
  private static String unsupported(NodeDef u, Map<String, String> varOf, Set<String> convertible,
      List<String> roots) {
    String who = "'" + u.getName() + "' (" + u.getOp() + ")";
    switch (u.getOp()) {
      case "ReadVariableOp", "ResourceGather", "ResourceGatherNd", "VariableShape",
          "VarIsInitializedOp", "AssignVariableOp", "AssignAddVariableOp",
          "AssignSubVariableOp" -> {
        return handleInputs(u, varOf).equals(List.of(0)) ? null
            : who + " reads it in an unexpected position";
      }
      case "DisableCopyOnRead" -> {
        return roots.contains(u.getName()) ? who + " is an output" : null;
      }
      default -> {
        OpDef refOp = refVersion(u);
        if (refOp == null) {
          return who + " uses the handle";
        }
        for (int i : handleInputs(u, varOf)) {
          if (!convertible.contains(varOf.get(TensorName.parse(u.getInput(i)).node()))) {
            return who + " also uses a resource variable that stays one";
          }
        }
        return null;
      }
    }
  }

  /**
   * The reference-variable op for a {@code Resource*} op ({@code ResourceApplyAdam} -> {@code
   * ApplyAdam}, {@code ResourceScatterAdd} -> {@code ScatterAdd}, ...): the same inputs, one
   * tensor each, with a ref input wherever the resource op takes a resource. Null if none.
   */
  private static OpDef refVersion(NodeDef u) {
    if (!u.getOp().startsWith("Resource")) {
      return null;
    }
    OpDef r = OpRegistry.get().find(u.getOp()).orElse(null);
    OpDef x = OpRegistry.get().find(u.getOp().substring("Resource".length())).orElse(null);
    if (r == null || x == null || r.getInputArgCount() != x.getInputArgCount()
        || r.getOutputArgCount() != 0) {
      return null;
    }
    for (int i = 0; i < r.getInputArgCount(); i++) {
      OpDef.ArgDef a = r.getInputArg(i);
      OpDef.ArgDef b = x.getInputArg(i);
      boolean single = a.getNumberAttr().isEmpty() && a.getTypeListAttr().isEmpty()
          && b.getNumberAttr().isEmpty() && b.getTypeListAttr().isEmpty();
      if (!single || (a.getType() == DataType.DT_RESOURCE) != b.getIsRef()) {
        return null;
      }
    }
    return x;
  }

  /** Positions of the data inputs of {@code u} that read a resource handle. */
  private static List<Integer> handleInputs(NodeDef u, Map<String, String> varOf) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < u.getInputCount(); i++) {
      String in = u.getInput(i);
      if (!in.startsWith("^") && varOf.containsKey(TensorName.parse(in).node())) {
        out.add(i);
      }
    }
    return out;
  }

  private static void rewriteUser(GraphView g, NodeDef u, Map<String, String> varOf,
      DataType dtype) {
    // every handle (or resource Identity) input now reads the variable
    List<String> inputs = new ArrayList<>();
    List<String> controls = new ArrayList<>();
    for (String in : u.getInputList()) {
      TensorName t = TensorName.parse(in);
      String var = varOf.get(t.node());
      if (t.isControl()) {
        controls.add(var == null ? in : "^" + var);
      } else {
        inputs.add(var == null ? in : var);
      }
    }
    OpDef ref = refVersion(u);
    if (ref != null && !SPECIAL.contains(u.getOp())) {
      NodeDef.Builder b = NodeDef.newBuilder().setName(u.getName()).setDevice(u.getDevice())
          .setOp(ref.getName()).addAllInput(inputs).addAllInput(new LinkedHashSet<>(controls));
      for (OpDef.AttrDef a : ref.getAttrList()) {
        if (u.containsAttr(a.getName())) {
          b.putAttr(a.getName(), u.getAttrOrThrow(a.getName()));
        } else if (a.getName().equals("T") && u.containsAttr("dtype")) {
          b.putAttr("T", u.getAttrOrThrow("dtype"));
        }
      }
      g.put(b.build());
      return;
    }
    String var = inputs.get(0);
    List<String> rest = new ArrayList<>(inputs.subList(1, inputs.size()));
    AttrValue t = AttrValue.newBuilder().setType(dtype).build();
    NodeDef.Builder b = NodeDef.newBuilder().setName(u.getName()).setDevice(u.getDevice())
        .addInput(var);
    switch (u.getOp()) {
      case "ReadVariableOp" -> b.setOp("Identity").putAttr("T", t);
      case "ResourceGather" -> {
        long batchDims = u.containsAttr("batch_dims") ? u.getAttrOrThrow("batch_dims").getI() : 0;
        String axis = g.uniqueName(u.getName() + "/axis");
        g.add(NodeDef.newBuilder().setName(axis).setOp("Const")
            .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
            .putAttr("value", AttrValue.newBuilder().setTensor(TensorProto.newBuilder()
                .setDtype(DataType.DT_INT32).setTensorShape(TensorShapeProto.getDefaultInstance())
                .addIntVal((int) batchDims)).build()).build());
        rest.add(axis);
        b.setOp("GatherV2").putAttr("Tparams", t)
            .putAttr("Tindices", u.getAttrOrThrow("Tindices"))
            .putAttr("Taxis", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
            .putAttr("batch_dims", AttrValue.newBuilder().setI(batchDims).build());
      }
      case "ResourceGatherNd" -> b.setOp("GatherNd").putAttr("Tparams", t)
          .putAttr("Tindices", u.getAttrOrThrow("Tindices"));
      case "VariableShape" -> b.setOp("Shape").putAttr("T", t).putAttr("out_type",
          u.getAttrOrDefault("out_type", AttrValue.newBuilder().setType(DataType.DT_INT32)
              .build()));
      case "VarIsInitializedOp" -> b.setOp("IsVariableInitialized").putAttr("dtype", t);
      case "AssignVariableOp" -> b.setOp("Assign").putAttr("T", t)
          .putAttr("validate_shape", u.getAttrOrDefault("validate_shape",
              AttrValue.newBuilder().setB(false).build()))
          .putAttr("use_locking", AttrValue.newBuilder().setB(true).build());
      case "AssignAddVariableOp" -> b.setOp("AssignAdd").putAttr("T", t)
          .putAttr("use_locking", AttrValue.newBuilder().setB(false).build());
      case "AssignSubVariableOp" -> b.setOp("AssignSub").putAttr("T", t)
          .putAttr("use_locking", AttrValue.newBuilder().setB(false).build());
      case "DisableCopyOnRead" -> {
        for (String c : g.consumers(u.getName())) {
          dropControl(g, c, u.getName());
        }
        g.remove(u.getName());
        return;
      }
      default -> throw new IllegalStateException("unexpected user op " + u.getOp());
    }
    b.addAllInput(rest).addAllInput(new LinkedHashSet<>(controls));
    g.put(b.build());
  }


  private static void replaceControl(GraphView g, String node, String from, String to) {
    NodeDef n = g.get(node);
    NodeDef.Builder b = n.toBuilder().clearInput();
    Set<String> seen = new HashSet<>();
    for (String in : n.getInputList()) {
      String r = in.equals("^" + from) ? "^" + to : in;
      if (!r.startsWith("^") || seen.add(r)) {
        b.addInput(r);
      }
    }
    g.put(b.build());
  }

  private static void dropControl(GraphView g, String node, String from) {
    NodeDef n = g.get(node);
    NodeDef.Builder b = n.toBuilder().clearInput();
    for (String in : n.getInputList()) {
      if (!in.equals("^" + from)) {
        b.addInput(in);
      }
    }
    g.put(b.build());
  }

  private static boolean fullyKnown(TensorShapeProto s) {
    if (s.getUnknownRank()) {
      return false;
    }
    for (TensorShapeProto.Dim d : s.getDimList()) {
      if (d.getSize() < 0) {
        return false;
      }
    }
    return true;
  }

  private static AttrValue string(String s) {
    return AttrValue.newBuilder().setS(com.google.protobuf.ByteString.copyFromUtf8(s)).build();
  }
}
