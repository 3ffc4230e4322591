package dev.dks.rewriter.passes.inline;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
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
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GradientDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

/**
 * Inlines the function calls of the top-level graph: every {@code PartitionedCall} / {@code
 * StatefulPartitionedCall} whose {@code f} is a library function, and every node whose op is a
 * library function's name (a direct call), recursively, until no call is left (TF2 SavedModels
 * keep all their math in functions, see R6 of the TF Java notes).
 *
 * <p>How a call node {@code C} calling function {@code F} is inlined:
 *
 * <ul>
 *   <li>each node {@code n} of {@code F}'s body becomes a graph node {@code C/n} (the prefix gets a
 *       {@code _1}, {@code _2}... suffix only if such a name is already taken);
 *   <li>body inputs in FunctionDef syntax are translated: an input-arg name becomes the call's
 *       corresponding data input; {@code node:out_arg:idx} becomes {@code C/node:k}, where k is the
 *       flat output index computed from the op's OpDef output args ({@code
 *       OpRegistry.get().find(op)}, or the callee's signature for a nested direct call) and the
 *       node's {@code number_attr} / {@code type_list_attr} values (defaults filled in); {@code
 *       ^node} becomes {@code ^C/node};
 *   <li>attribute placeholders ({@code $T}-style references to the function's attributes) are
 *       resolved from the call's attributes: {@code f}'s attr map for (Stateful)PartitionedCall,
 *       the node's own attrs for a direct call (function-signature defaults fill the gaps);
 *       colocation attributes ({@code _class}) are dropped since they name nodes of the function's
 *       namespace;
 *   <li>the call's control inputs are added to the inlined nodes that have no input at all (except
 *       {@code Const}s, which have no side effect), so stateful source nodes still run after them;
 *   <li>the function's {@code ret} map gives the call's outputs: every consumer of {@code C:k} is
 *       rewired <b>directly</b> to the tensor that output k returns (no Identity inserted);
 *   <li>{@code C} is then removed, except when it is one of the context's output nodes (a
 *       signature names {@code C:k}) or some node has a control edge {@code ^C}: then a node with
 *       the same name stays as a marker. For an output node it is an {@code IdentityN} forwarding
 *       the returned tensors, so {@code C:k} keeps its meaning and index and signatures need no
 *       change; otherwise a {@code NoOp} with control edges on the nodes producing the returned
 *       tensors. Either way it also waits for the function's {@code control_ret} nodes;
 *   <li>calls found in the inlined body are inlined in turn (a function calling itself is left
 *       alone, with a note).
 * </ul>
 *
 * <p>Afterwards the library keeps only the functions that something still refers to (an op name
 * or a {@code func} attribute of a remaining node, transitively; e.g. {@code While} bodies). A call
 * the pass does not understand (list-typed function arguments, an unresolved placeholder, an
 * unknown op in the body) is left in place with a note naming it.
 *
 * <p>Semantics: stateful body nodes run only when something fetched depends on them, as in any
 * TF1 graph (a function call would run all of them); serving outputs are unchanged.
 */
public final class InlineFunctionsPass implements RewritePass {
  /** The pass name. */
  public static final String NAME = "inline-functions";

  private static final Set<String> CALL_OPS = Set.of("PartitionedCall", "StatefulPartitionedCall");

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String description() {
    return "inline (Stateful)PartitionedCall and direct function calls into the top-level graph";
  }

  @Override
  public PassOutcome run(RewriteContext context) {
    GraphView g = context.graph();
    Map<String, FunctionDef> lib = new LinkedHashMap<>();
    for (FunctionDef f : g.library().getFunctionList()) {
      lib.put(f.getSignature().getName(), f);
    }
    List<String> notes = new ArrayList<>();
    if (lib.isEmpty()) {
      return PassOutcome.unchanged(NAME, "the graph has no function library");
    }
    Set<String> roots = new HashSet<>(context.outputs());
    Map<String, List<String>> chains = new HashMap<>();
    Set<String> leftAlone = new HashSet<>();
    int inlined = 0;
    boolean progress = true;
    while (progress) {
      progress = false;
      for (NodeDef snapshot : g.nodes()) {
        String name = snapshot.getName();
        if (leftAlone.contains(name) || !g.contains(name)) {
          continue;
        }
        NodeDef call = g.get(name);
        String fn = calledFunction(call, lib);
        if (fn == null) {
          continue;
        }
        List<String> chain = chains.getOrDefault(name, List.of());
        if (chain.contains(fn)) {
          leftAlone.add(name);
          notes.add("left '" + name + "' alone: it calls '" + fn + "' recursively (" + chain + ")");
          continue;
        }
        String why = new Inliner(g, lib, call, lib.get(fn), roots).inline(chain, chains);
        if (why != null) {
          leftAlone.add(name);
          notes.add("left '" + name + "' (" + call.getOp() + " of '" + fn + "') alone: " + why);
          continue;
        }
        inlined++;
        progress = true;
      }
    }
    int before = lib.size();
    FunctionDefLibrary kept = referencedLibrary(g, lib);
    g.setLibrary(kept);
    notes.add(0, "inlined " + inlined + " function calls; the library went from " + before
        + " to " + kept.getFunctionCount() + " functions");
    return new PassOutcome(NAME, inlined, notes);
  }

  /** The library function {@code node} calls, or null when it is not a call. */
  static String calledFunction(NodeDef node, Map<String, FunctionDef> lib) {
    if (CALL_OPS.contains(node.getOp()) && node.containsAttr("f")) {
      String f = node.getAttrOrThrow("f").getFunc().getName();
      return lib.containsKey(f) ? f : null;
    }
    return lib.containsKey(node.getOp()) ? node.getOp() : null;
  }

  /** The library restricted to the functions the graph still refers to, transitively. */
  static FunctionDefLibrary referencedLibrary(GraphView g, Map<String, FunctionDef> lib) {
    Set<String> keep = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    for (NodeDef n : g.nodes()) {
      collectReferences(n, lib, todo);
    }
    while (!todo.isEmpty()) {
      String f = todo.pop();
      if (keep.add(f)) {
        for (NodeDef n : lib.get(f).getNodeDefList()) {
          collectReferences(n, lib, todo);
        }
      }
    }
    FunctionDefLibrary old = g.library();
    FunctionDefLibrary.Builder b = FunctionDefLibrary.newBuilder();
    for (FunctionDef f : old.getFunctionList()) {
      if (keep.contains(f.getSignature().getName())) {
        b.addFunction(f);
      }
    }
    for (GradientDef gd : old.getGradientList()) {
      if (keep.contains(gd.getFunctionName())) {
        b.addGradient(gd);
      }
    }
    b.addAllRegisteredGradients(old.getRegisteredGradientsList());
    return b.build();
  }

  private static void collectReferences(NodeDef n, Map<String, FunctionDef> lib, Deque<String> out) {
    if (lib.containsKey(n.getOp())) {
      out.push(n.getOp());
    }
    for (AttrValue v : n.getAttrMap().values()) {
      collectFunctions(v, lib, out);
    }
  }

  private static void collectFunctions(AttrValue v, Map<String, FunctionDef> lib, Deque<String> out) {
    if (v.hasFunc()) {
      collectFunctions(v.getFunc(), lib, out);
    }
    if (v.hasList()) {
      for (NameAttrList f : v.getList().getFuncList()) {
        collectFunctions(f, lib, out);
      }
    }
  }

  private static void collectFunctions(NameAttrList f, Map<String, FunctionDef> lib,
      Deque<String> out) {
    if (lib.containsKey(f.getName())) {
      out.push(f.getName());
    }
    for (AttrValue a : f.getAttrMap().values()) {
      collectFunctions(a, lib, out);
    }
  }

  /** Inlines one call; all checks happen before the graph is touched. */
  private static final class Inliner {
    private final GraphView g;
    private final Map<String, FunctionDef> lib;
    private final NodeDef call;
    private final FunctionDef fn;
    private final Set<String> roots;
    private final OpDef sig;
    private final Map<String, AttrValue> fnAttrs = new HashMap<>();
    private final Map<String, List<String>> argTensors = new HashMap<>();
    private final List<String> controlInputs = new ArrayList<>();
    private final Map<String, Map<String, AttrValue>> bodyAttrs = new HashMap<>();
    private final Map<String, NodeDef> body = new LinkedHashMap<>();
    private String prefix;

    Inliner(GraphView g, Map<String, FunctionDef> lib, NodeDef call, FunctionDef fn,
        Set<String> roots) {
      this.g = g;
      this.lib = lib;
      this.call = call;
      this.fn = fn;
      this.roots = roots;
      this.sig = fn.getSignature();
    }

    /** Inlines; returns null on success, else why the call was left alone (graph untouched). */
    String inline(List<String> chain, Map<String, List<String>> chains) {
      // the function's attribute values: signature defaults, then the call's values
      for (OpDef.AttrDef a : sig.getAttrList()) {
        if (a.hasDefaultValue()) {
          fnAttrs.put(a.getName(), a.getDefaultValue());
        }
      }
      boolean direct = !CALL_OPS.contains(call.getOp());
      fnAttrs.putAll(direct ? call.getAttrMap() : call.getAttrOrThrow("f").getFunc().getAttrMap());

      List<String> dataInputs = new ArrayList<>();
      for (String in : call.getInputList()) {
        (in.startsWith("^") ? controlInputs : dataInputs).add(in);
      }
      int next = 0;
      for (OpDef.ArgDef arg : sig.getInputArgList()) {
        int n = ArgCounts.size(arg, sig, fnAttrs);
        if (n < 0) {
          return "the length of input arg '" + arg.getName() + "' is unknown";
        }
        if (next + n > dataInputs.size()) {
          return "the call has " + dataInputs.size() + " data inputs, fewer than the function's"
              + " arguments need";
        }
        argTensors.put(arg.getName(), List.copyOf(dataInputs.subList(next, next + n)));
        next += n;
      }
      if (next != dataInputs.size()) {
        return "the call has " + dataInputs.size() + " data inputs, the function takes " + next;
      }

      for (NodeDef b : fn.getNodeDefList()) {
        body.put(b.getName(), b);
      }
      prefix = call.getName();
      for (int s = 1; collides(prefix); s++) {
        prefix = call.getName() + "_" + s;
      }

      // attributes first (output indices depend on them), then inputs
      for (NodeDef b : body.values()) {
        Map<String, AttrValue> resolved = new LinkedHashMap<>();
        for (Map.Entry<String, AttrValue> e : b.getAttrMap().entrySet()) {
          if (e.getKey().equals("_class")) {
            continue;
          }
          AttrValue r = resolve(e.getValue());
          if (r == null) {
            return "attribute '" + e.getKey() + "' of body node '" + b.getName()
                + "' refers to a function attribute the call does not set";
          }
          resolved.put(e.getKey(), r);
        }
        bodyAttrs.put(b.getName(), resolved);
      }
      List<NodeDef> newNodes = new ArrayList<>();
      for (NodeDef b : body.values()) {
        NodeDef.Builder nb = NodeDef.newBuilder().setName(prefix + "/" + b.getName())
            .setOp(b.getOp()).setDevice(b.getDevice()).putAllAttr(bodyAttrs.get(b.getName()));
        for (String in : b.getInputList()) {
          List<String> t = translate(in);
          if (t == null) {
            return "cannot resolve input '" + in + "' of body node '" + b.getName() + "'";
          }
          nb.addAllInput(t);
        }
        if (b.getInputCount() == 0 && !b.getOp().equals("Const")) {
          nb.addAllInput(controlInputs);
        }
        newNodes.add(nb.build());
      }

      // the call's outputs
      List<String> outs = new ArrayList<>();
      List<DataType> outTypes = new ArrayList<>();
      for (OpDef.ArgDef oa : sig.getOutputArgList()) {
        if (ArgCounts.size(oa, sig, fnAttrs) != 1) {
          return "output arg '" + oa.getName() + "' is a list";
        }
        String ret = fn.getRetMap().get(oa.getName());
        List<String> t = ret == null ? null : translate(ret);
        if (t == null || t.size() != 1 || t.get(0).startsWith("^")) {
          return "output arg '" + oa.getName() + "' has no usable ret entry ('" + ret + "')";
        }
        outs.add(t.get(0));
        outTypes.add(ArgCounts.type(oa, sig, fnAttrs));
      }
      if (!direct && call.containsAttr("Tout")
          && call.getAttrOrThrow("Tout").getList().getTypeCount() == outs.size()) {
        outTypes = new ArrayList<>(call.getAttrOrThrow("Tout").getList().getTypeList());
      }
      List<String> controlRets = new ArrayList<>();
      for (String node : fn.getControlRetMap().values()) {
        if (body.containsKey(node)) {
          controlRets.add("^" + prefix + "/" + node);
        }
      }

      // consumers: check every data edge reads an existing output before touching anything
      boolean isRoot = roots.contains(call.getName());
      boolean keepMarker = isRoot;
      List<String> consumers = g.consumers(call.getName());
      for (String c : consumers) {
        for (String in : g.get(c).getInputList()) {
          TensorName t = TensorName.parse(in);
          if (!t.node().equals(call.getName())) {
            continue;
          }
          if (t.isControl()) {
            keepMarker = true;
          } else if (t.index() >= outs.size()) {
            return "'" + c + "' reads output " + t.index() + " but the function has only "
                + outs.size();
          }
        }
      }
      NodeDef marker = null;
      if (keepMarker) {
        if (outs.isEmpty() || !isRoot) {
          // only control edges read it: a NoOp after everything the call did
          Set<String> ins = new LinkedHashSet<>();
          for (String o : outs) {
            ins.add("^" + TensorName.parse(o).node());
          }
          ins.addAll(controlRets);
          ins.addAll(controlInputs);
          marker = NodeDef.newBuilder().setName(call.getName()).setOp("NoOp").addAllInput(ins)
              .setDevice(call.getDevice()).build();
        } else {
          if (outTypes.contains(DataType.DT_INVALID)) {
            return "the output types cannot be told, so no IdentityN can keep the call's name";
          }
          AttrValue types = AttrValue.newBuilder().setList(
              AttrValue.ListValue.newBuilder().addAllType(outTypes)).build();
          Set<String> ins = new LinkedHashSet<>(outs);
          ins.addAll(controlRets);
          ins.addAll(controlInputs);
          marker = NodeDef.newBuilder().setName(call.getName()).setOp("IdentityN")
              .addAllInput(ins).putAttr("T", types).setDevice(call.getDevice()).build();
        }
      }

      // rewrite: add the body, rewire the data consumers, replace or remove the call
      List<String> nestedChain = new ArrayList<>(chain);
      nestedChain.add(sig.getName());
      for (NodeDef n : newNodes) {
        g.add(n);
        if (calledFunction(n, lib) != null) {
          chains.put(n.getName(), List.copyOf(nestedChain));
        }
      }
      for (String c : consumers) {
        NodeDef.Builder b = g.get(c).toBuilder();
        boolean changed = false;
        for (int i = 0; i < b.getInputCount(); i++) {
          TensorName t = TensorName.parse(b.getInput(i));
          if (t.node().equals(call.getName()) && !t.isControl()) {
            b.setInput(i, outs.get(t.index()));
            changed = true;
          }
        }
        if (changed) {
          g.put(b.build());
        }
      }
      if (marker != null) {
        g.put(marker);
      } else {
        g.remove(call.getName());
      }
      return null;
    }

    private boolean collides(String p) {
      for (String b : body.keySet()) {
        if (g.contains(p + "/" + b)) {
          return true;
        }
      }
      return false;
    }

    /** The attribute with placeholders replaced by the function's values; null if unresolved. */
    private AttrValue resolve(AttrValue v) {
      if (!v.getPlaceholder().isEmpty()) {
        return fnAttrs.get(v.getPlaceholder());
      }
      if (v.hasFunc()) {
        NameAttrList f = resolve(v.getFunc());
        return f == null ? null : v.toBuilder().setFunc(f).build();
      }
      if (v.hasList() && v.getList().getFuncCount() > 0) {
        AttrValue.ListValue.Builder lb = v.getList().toBuilder().clearFunc();
        for (NameAttrList f : v.getList().getFuncList()) {
          NameAttrList r = resolve(f);
          if (r == null) {
            return null;
          }
          lb.addFunc(r);
        }
        return v.toBuilder().setList(lb).build();
      }
      return v;
    }

    private NameAttrList resolve(NameAttrList f) {
      NameAttrList.Builder b = f.toBuilder().clearAttr();
      for (Map.Entry<String, AttrValue> e : f.getAttrMap().entrySet()) {
        AttrValue r = resolve(e.getValue());
        if (r == null) {
          return null;
        }
        b.putAttr(e.getKey(), r);
      }
      return b.build();
    }

    /** GraphDef inputs for a FunctionDef input string; null when it cannot be resolved. */
    private List<String> translate(String in) {
      if (in.startsWith("^")) {
        String name = in.substring(1);
        if (body.containsKey(name)) {
          return List.of("^" + prefix + "/" + name);
        }
        List<String> arg = argTensors.get(name);
        if (arg == null) {
          return null;
        }
        List<String> out = new ArrayList<>();
        for (String t : arg) {
          out.add("^" + TensorName.parse(t).node());
        }
        return out;
      }
      String[] parts = in.split(":");
      if (parts.length == 1) {
        List<String> arg = argTensors.get(in);
        if (arg != null) {
          return arg.size() == 1 ? List.of(arg.get(0)) : null;
        }
        return body.containsKey(in) ? List.of(prefix + "/" + in) : null;
      }
      if (parts.length == 2) {
        boolean digits = parts[1].chars().allMatch(Character::isDigit) && !parts[1].isEmpty();
        List<String> arg = argTensors.get(parts[0]);
        if (arg != null && digits) {
          int i = Integer.parseInt(parts[1]);
          return i < arg.size() ? List.of(arg.get(i)) : null;
        }
        if (!body.containsKey(parts[0])) {
          return null;
        }
        if (digits) {
          return List.of(TensorName.of(prefix + "/" + parts[0], Integer.parseInt(parts[1]))
              .toString());
        }
        return output(parts[0], parts[1], 0);
      }
      if (parts.length == 3 && body.containsKey(parts[0])
          && parts[2].chars().allMatch(Character::isDigit) && !parts[2].isEmpty()) {
        return output(parts[0], parts[1], Integer.parseInt(parts[2]));
      }
      return null;
    }

    private List<String> output(String node, String outArg, int idx) {
      NodeDef b = body.get(node);
      OpDef def = OpRegistry.get().find(b.getOp()).orElse(null);
      if (def == null && lib.containsKey(b.getOp())) {
        def = lib.get(b.getOp()).getSignature();
      }
      if (def == null) {
        return null;
      }
      int k = ArgCounts.flatOutputIndex(def, bodyAttrs.get(node), outArg, idx);
      return k < 0 ? null : List.of(TensorName.of(prefix + "/" + node, k).toString());
    }
  }
}
