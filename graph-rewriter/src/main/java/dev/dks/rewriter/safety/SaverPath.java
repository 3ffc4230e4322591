package dev.dks.rewriter.safety;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

/**
 * Which function arguments always carry the saver's filename (untrusted models, issue 17): TF2
 * SavedModels restore their variables inside a library function ({@code __inference__traced_restore})
 * called by the saver's {@code restore_op_name}, and TensorFlow's loader feeds the saver's {@code
 * filename_tensor_name} with the model's {@code variables/variables}. An argument is pinned when
 * every call of its function, anywhere in the graph or the library, passes at its position a
 * tensor that comes (through {@code Identity}) from the filename tensor or from a pinned argument
 * of the calling function. Calls are the function's name as op type, or {@code PartitionedCall}
 * and {@code StatefulPartitionedCall} with the function in {@code f}; a function reached any other
 * way (the branches of {@code If}, the body of {@code While}, other {@code func} attributes), a
 * function with list arguments and a function never called have no pinned argument. The largest
 * consistent set is found by removing arguments until none changes.
 */
final class SaverPath {
  private SaverPath() {}

  private static final Set<String> CALL_OPS = Set.of("PartitionedCall", "StatefulPartitionedCall");

  /** One call: the caller (null: the top-level graph), its body, the node and the callee. */
  private record Call(String caller, Map<String, NodeDef> body, NodeDef node, String callee) {}

  /**
   * The pinned argument names of every library function (functions with none are absent).
   *
   * @param nodes the top-level graph's nodes by name
   * @param lib the library functions by name
   * @param filenameNode the node of the saver's filename tensor, or null when there is no saver
   */
  static Map<String, Set<String>> pinnedArgs(Map<String, NodeDef> nodes,
      Map<String, FunctionDef> lib, String filenameNode) {
    Map<String, List<String>> argNames = new HashMap<>();
    Set<String> unknownMapping = new HashSet<>();
    for (FunctionDef f : lib.values()) {
      List<String> names = new ArrayList<>();
      for (OpDef.ArgDef a : f.getSignature().getInputArgList()) {
        names.add(a.getName());
        if (!a.getNumberAttr().isEmpty() || !a.getTypeListAttr().isEmpty()) {
          unknownMapping.add(f.getSignature().getName());
        }
      }
      argNames.put(f.getSignature().getName(), names);
    }
    List<Call> calls = new ArrayList<>();
    Set<String> called = new HashSet<>();
    collect(null, nodes, lib, calls, called, unknownMapping);
    for (FunctionDef f : lib.values()) {
      Map<String, NodeDef> body = new HashMap<>();
      f.getNodeDefList().forEach(n -> body.put(n.getName(), n));
      collect(f.getSignature().getName(), body, lib, calls, called, unknownMapping);
    }
    Map<String, Set<String>> pinned = new HashMap<>();
    for (String fn : called) {
      if (!unknownMapping.contains(fn) && filenameNode != null) {
        pinned.put(fn, new HashSet<>(argNames.get(fn)));
      }
    }
    boolean changed = true;
    while (changed) {
      changed = false;
      for (Call c : calls) {
        Set<String> calleePinned = pinned.get(c.callee());
        if (calleePinned == null || calleePinned.isEmpty()) {
          continue;
        }
        List<String> data = c.node().getInputList().stream().filter(i -> !i.startsWith("^"))
            .toList();
        List<String> params = argNames.get(c.callee());
        for (int k = 0; k < params.size(); k++) {
          if (calleePinned.contains(params.get(k))
              && (k >= data.size() || !carriesFilename(c, data.get(k), pinned, filenameNode))) {
            calleePinned.remove(params.get(k));
            changed = true;
          }
        }
      }
    }
    pinned.values().removeIf(Set::isEmpty);
    return pinned;
  }

  private static boolean carriesFilename(Call c, String input, Map<String, Set<String>> pinned,
      String filenameNode) {
    String src = OpScanner.throughIdentity(c.body(), OpScanner.nodeOf(input));
    if (c.caller() == null) {
      return src.equals(filenameNode);
    }
    return !c.body().containsKey(src) && pinned.getOrDefault(c.caller(), Set.of()).contains(src);
  }

  /** Adds the calls made by the nodes of one body; functions reached otherwise lose mapping. */
  private static void collect(String caller, Map<String, NodeDef> body,
      Map<String, FunctionDef> lib, List<Call> calls, Set<String> called,
      Set<String> unknownMapping) {
    for (NodeDef n : body.values()) {
      String direct = null;
      if (lib.containsKey(n.getOp())) {
        direct = n.getOp();
      } else if (CALL_OPS.contains(n.getOp()) && n.getAttrMap().containsKey("f")
          && lib.containsKey(n.getAttrMap().get("f").getFunc().getName())) {
        direct = n.getAttrMap().get("f").getFunc().getName();
      }
      if (direct != null) {
        calls.add(new Call(caller, body, n, direct));
        called.add(direct);
      }
      for (Map.Entry<String, AttrValue> e : n.getAttrMap().entrySet()) {
        AttrValue a = e.getValue();
        if (a.hasFunc() && !(direct != null && e.getKey().equals("f")
            && a.getFunc().getName().equals(direct))) {
          unknownMapping.add(a.getFunc().getName());
        }
        a.getList().getFuncList().forEach(f -> unknownMapping.add(f.getName()));
      }
    }
  }
}
