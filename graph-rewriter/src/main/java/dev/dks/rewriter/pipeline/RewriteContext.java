package dev.dks.rewriter.pipeline;

import dev.dks.rewriter.graph.GraphView;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.proto.TensorProto;

/**
 * The state a pipeline threads through its passes: the graph being rewritten, the variable values
 * (by {@code VariableV2} node name), the input nodes, the output nodes that must stay reachable,
 * and facts that
 * earlier passes computed for later ones (e.g. the structure analysis), keyed by type.
 */
public final class RewriteContext {
  private final GraphView graph;
  private final Map<String, TensorProto> variables;
  private final List<String> inputs;
  private final List<String> outputs;
  private final Map<Class<?>, Object> facts = new HashMap<>();
  /** Deferred graph checks ({@link GraphVerifier#deferrable()}) of the graph at {@link #due}. */
  private Runnable deferred;
  private long due;

  /** A context over {@code graph} with its variables and input and output node names. */
  public RewriteContext(GraphView graph, Map<String, TensorProto> variables, List<String> inputs,
      List<String> outputs) {
    this.graph = graph;
    this.variables = new LinkedHashMap<>(variables);
    this.inputs = List.copyOf(inputs);
    this.outputs = List.copyOf(outputs);
  }

  /** A context without named inputs (passes that need them will say so). */
  public RewriteContext(GraphView graph, Map<String, TensorProto> variables, List<String> outputs) {
    this(graph, variables, List.of(), outputs);
  }

  /** Input node names (the placeholders the network path starts from). */
  public List<String> inputs() {
    return inputs;
  }

  /** The graph (mutable). */
  public GraphView graph() {
    return graph;
  }

  /** Variable values by variable node name (mutable). */
  public Map<String, TensorProto> variables() {
    return variables;
  }

  /** Output node names (roots that must stay reachable). */
  public List<String> outputs() {
    return outputs;
  }

  /** Stores a fact for later passes, replacing one of the same type. */
  public <T> void putFact(Class<T> type, T value) {
    facts.put(type, value);
  }

  /** A fact stored by an earlier pass. */
  public <T> Optional<T> fact(Class<T> type) {
    return Optional.ofNullable(type.cast(facts.get(type)));
  }

  /**
   * Sets the checks a pipeline deferred for the graph as it is now (replacing earlier ones, which
   * they cover); they run at the next {@link #runDeferredChecks}.
   */
  void deferChecks(Runnable checks) {
    deferred = checks;
    due = graph.modificationCount();
  }

  /**
   * Runs the deferred checks; with {@code onlyIfUnchanged}, only when the graph is still the one
   * they were deferred for (so that they never see a pass's half-done edits: a pass that analyzes
   * after editing leaves them to the pipeline).
   */
  void runDeferredChecks(boolean onlyIfUnchanged) {
    if (deferred == null || onlyIfUnchanged && graph.modificationCount() != due) {
      return;
    }
    Runnable r = deferred;
    deferred = null;
    r.run();
  }

  /** Forgets a fact that a rewrite made stale. */
  public void dropFact(Class<?> type) {
    facts.remove(type);
  }
}
