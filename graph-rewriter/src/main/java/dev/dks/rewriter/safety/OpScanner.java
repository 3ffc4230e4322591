package dev.dks.rewriter.safety;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.CollectionDef;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * Finds the nodes of {@link OpPolicy}'s table in a graph and where they sit (untrusted models,
 * issue 17). Regions, by the roots a node is reached from backwards (data and control inputs, and
 * every node of each library function a reached node calls, by its op type or a {@code func}
 * attribute, transitively):
 *
 * <ul>
 *   <li>{@code serving}: from the outputs of every signature except {@code __saved_model_init_op};
 *   <li>{@code init}: from the init op TensorFlow's loader runs (signature {@code
 *       __saved_model_init_op}, collections {@code saved_model_main_op}, {@code legacy_init_op},
 *       {@code table_initializer});
 *   <li>{@code restore}: from the saver's {@code restore_op_name}, which the loader runs with the
 *       model's {@code variables/variables} fed into {@code filename_tensor_name};
 *   <li>{@code unused}: reached from none of them (never run by the loader nor by dks; reported
 *       only).
 * </ul>
 *
 * A node in two regions gets the first of serving, init, restore. A restore op ({@code
 * RestoreV2}, ...) in the restore region is the saver's own when its prefix input comes (through
 * {@code Identity} nodes) from the saver's filename tensor or, inside a function, from an argument
 * that every call of the function passes the saver's filename tensor (TF2's {@code
 * __inference__traced_restore} called by the saver's {@code restore_op_name}; {@link SaverPath});
 * such a finding is marked {@code saver}, and {@link Finding#refused} is false for it. A restore
 * op whose prefix comes from any other argument, a constant or a computation is refused.
 */
public final class OpScanner {
  private OpScanner() {}

  /** Where a node sits. */
  public enum Region {
    SERVING, INIT, RESTORE, UNUSED;

    /** Lower-case name for reports and JSON. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * One node with an op of the table.
   *
   * @param node the node's name
   * @param op its op type
   * @param function the library function holding it, or null for the top-level graph
   * @param region where it sits
   * @param saver true for the saver's own restore (path pinned to the model's variables)
   */
  public record Finding(String node, String op, String function, Region region, boolean saver) {
    /** Would the loader or a dks command run it (serving, init, restore but not the saver's)? */
    public boolean refused() {
      return region != Region.UNUSED && !saver;
    }

    /** {@code node (Op, region)} or {@code function/node (Op, region)}. */
    public String describe() {
      return (function == null ? "" : function + "/") + node + " (" + op + ", " + region.label()
          + (saver ? ", saver's own restore" : "") + ")";
    }
  }

  /** Scans a meta graph (of a SavedModel) with its signatures, init op and saver. */
  public static List<Finding> scan(MetaGraphDef mg) {
    List<String> serving = new ArrayList<>();
    List<String> init = new ArrayList<>();
    for (Map.Entry<String, SignatureDef> e : mg.getSignatureDefMap().entrySet()) {
      List<String> into = e.getKey().equals("__saved_model_init_op") ? init : serving;
      for (TensorInfo t : e.getValue().getOutputsMap().values()) {
        into.add(t.getName());
      }
    }
    for (String c : List.of("saved_model_main_op", "legacy_init_op", "table_initializer")) {
      CollectionDef cd = mg.getCollectionDefMap().get(c);
      if (cd != null && cd.hasNodeList()) {
        into(init, cd.getNodeList().getValueList());
      }
    }
    List<String> restore = new ArrayList<>();
    String filename = null;
    if (mg.hasSaverDef() && !mg.getSaverDef().getRestoreOpName().isEmpty()) {
      restore.add(mg.getSaverDef().getRestoreOpName());
      filename = nodeOf(mg.getSaverDef().getFilenameTensorName());
    }
    return scan(mg.getGraphDef(), serving, init, restore, filename);
  }

  private static void into(List<String> to, Collection<String> from) {
    to.addAll(from);
  }

  /** Scans a graph whose serving path ends at {@code outputs} (tensor or node names). */
  public static List<Finding> scan(GraphDef g, Collection<String> outputs) {
    return scan(g, outputs, List.of(), List.of(), null);
  }

  private static List<Finding> scan(GraphDef g, Collection<String> serving,
      Collection<String> init, Collection<String> restore, String filenameNode) {
    Map<String, NodeDef> nodes = new HashMap<>();
    for (NodeDef n : g.getNodeList()) {
      nodes.put(n.getName(), n);
    }
    Map<String, FunctionDef> lib = new HashMap<>();
    for (FunctionDef f : g.getLibrary().getFunctionList()) {
      lib.put(f.getSignature().getName(), f);
    }
    Map<String, Region> nodeRegion = new HashMap<>();
    Map<String, Region> fnRegion = new HashMap<>();
    mark(nodes, lib, serving, Region.SERVING, nodeRegion, fnRegion);
    mark(nodes, lib, init, Region.INIT, nodeRegion, fnRegion);
    mark(nodes, lib, restore, Region.RESTORE, nodeRegion, fnRegion);
    List<Finding> out = new ArrayList<>();
    for (NodeDef n : g.getNodeList()) {
      if (OpPolicy.isUnsafe(n.getOp())) {
        Region r = nodeRegion.getOrDefault(n.getName(), Region.UNUSED);
        boolean saver = r == Region.RESTORE && OpPolicy.isRestore(n.getOp())
            && filenameNode != null && n.getInputCount() > 0
            && filenameNode.equals(throughIdentity(nodes, nodeOf(n.getInput(0))));
        out.add(new Finding(n.getName(), n.getOp(), null, r, saver));
      }
    }
    Map<String, Set<String>> pinned = SaverPath.pinnedArgs(nodes, lib, filenameNode);
    for (FunctionDef f : g.getLibrary().getFunctionList()) {
      String fn = f.getSignature().getName();
      Region r = fnRegion.getOrDefault(fn, Region.UNUSED);
      Map<String, NodeDef> body = new HashMap<>();
      f.getNodeDefList().forEach(n -> body.put(n.getName(), n));
      Set<String> args = pinned.getOrDefault(fn, Set.of());
      for (NodeDef n : f.getNodeDefList()) {
        if (OpPolicy.isUnsafe(n.getOp())) {
          boolean saver = r == Region.RESTORE && OpPolicy.isRestore(n.getOp())
              && n.getInputCount() > 0
              && args.contains(throughIdentity(body, nodeOf(n.getInput(0))));
          out.add(new Finding(n.getName(), n.getOp(), fn, r, saver));
        }
      }
    }
    return out;
  }

  /** Marks every node and function reached backwards from {@code roots} not marked before. */
  private static void mark(Map<String, NodeDef> nodes, Map<String, FunctionDef> lib,
      Collection<String> roots, Region region, Map<String, Region> nodeRegion,
      Map<String, Region> fnRegion) {
    Deque<String> todo = new ArrayDeque<>();
    roots.forEach(r -> todo.add(nodeOf(r)));
    Deque<String> fns = new ArrayDeque<>();
    while (!todo.isEmpty()) {
      String name = todo.pop();
      NodeDef n = nodes.get(name);
      if (n == null || nodeRegion.containsKey(name)) {
        continue;
      }
      nodeRegion.put(name, region);
      n.getInputList().forEach(i -> todo.add(nodeOf(i)));
      called(n, lib, fns);
    }
    while (!fns.isEmpty()) {
      String fn = fns.pop();
      if (fnRegion.containsKey(fn)) {
        continue;
      }
      fnRegion.put(fn, region);
      lib.get(fn).getNodeDefList().forEach(n -> called(n, lib, fns));
    }
  }

  /** Adds the library functions {@code n} calls (its op type, its func attributes). */
  private static void called(NodeDef n, Map<String, FunctionDef> lib, Deque<String> fns) {
    if (lib.containsKey(n.getOp())) {
      fns.add(n.getOp());
    }
    for (AttrValue a : n.getAttrMap().values()) {
      if (a.hasFunc() && lib.containsKey(a.getFunc().getName())) {
        fns.add(a.getFunc().getName());
      }
      a.getList().getFuncList().stream().filter(f -> lib.containsKey(f.getName()))
          .forEach(f -> fns.add(f.getName()));
    }
  }

  static String throughIdentity(Map<String, NodeDef> nodes, String name) {
    for (int hops = 0; hops < 64; hops++) {
      NodeDef n = nodes.get(name);
      if (n == null || !n.getOp().equals("Identity") || n.getInputCount() == 0) {
        return name;
      }
      name = nodeOf(n.getInput(0));
    }
    return name;
  }

  /** The node of a tensor or input name ({@code ^n}, {@code n:1}, {@code n:out:0} -> n). */
  static String nodeOf(String input) {
    String s = input.startsWith("^") ? input.substring(1) : input;
    int colon = s.indexOf(':');
    return colon < 0 ? s : s.substring(0, colon);
  }

  /** Node descriptions of the refused findings whose op is not in {@code allowed}. */
  public static List<String> refused(List<Finding> findings, Set<String> allowed) {
    Map<String, Boolean> seen = new LinkedHashMap<>();
    for (Finding f : findings) {
      if (f.refused() && !allowed.contains(f.op())) {
        seen.put(f.describe(), true);
      }
    }
    return List.copyOf(seen.keySet());
  }
}
