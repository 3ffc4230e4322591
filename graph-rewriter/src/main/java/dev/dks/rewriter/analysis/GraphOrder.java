package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * The ancestors of some outputs in topological order (data and control edges), and the ones no
 * order reaches: the nodes of control-flow loops (TF1 while loops: Enter, Merge, Switch,
 * NextIteration, Exit) and everything after them.
 *
 * @param order the ordered ancestors
 * @param inOrAfterLoops the ancestors in or after a cycle, in graph order
 */
record GraphOrder(List<String> order, Set<String> inOrAfterLoops) {

  static GraphOrder of(GraphView g, List<String> outputs) {
    Set<String> live = g.ancestors(outputs);
    Map<String, Integer> pending = new LinkedHashMap<>();
    Map<String, List<String>> users = new HashMap<>();
    for (String name : live) {
      NodeDef n = g.get(name);
      Set<String> ins = new HashSet<>();
      for (String in : n.getInputList()) {
        String src = TensorName.parse(in).node();
        if (live.contains(src) && ins.add(src)) {
          users.computeIfAbsent(src, k -> new ArrayList<>()).add(name);
        }
      }
      pending.put(name, ins.size());
    }
    ArrayDeque<String> ready = new ArrayDeque<>();
    for (NodeDef n : g.nodes()) {
      if (pending.getOrDefault(n.getName(), -1) == 0) {
        ready.add(n.getName());
      }
    }
    List<String> order = new ArrayList<>();
    while (!ready.isEmpty()) {
      String n = ready.poll();
      order.add(n);
      for (String u : users.getOrDefault(n, List.of())) {
        if (pending.merge(u, -1, Integer::sum) == 0) {
          ready.add(u);
        }
      }
    }
    Set<String> rest = new LinkedHashSet<>();
    if (order.size() != live.size()) {
      Set<String> done = new HashSet<>(order);
      for (NodeDef n : g.nodes()) {
        if (live.contains(n.getName()) && !done.contains(n.getName())) {
          rest.add(n.getName());
        }
      }
    }
    return new GraphOrder(order, rest);
  }
}
