package dev.dks.rewriter.model;

import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.safety.OpGate;
import dev.dks.rewriter.safety.UnsafeOpsException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Assign;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;

/**
 * A {@link Model} loaded into the TensorFlow runtime: its graph imported into a fresh {@link
 * Graph}, a {@link Session}, and every variable assigned its value through a placeholder-fed
 * {@code Assign} (so the values never become graph constants). Close it to free native memory.
 *
 * <p>Only float32 variables are supported for now.
 *
 * <p>Untrusted models (issue 17): a session can run any node, so a graph holding an op of {@link
 * dev.dks.rewriter.safety.OpPolicy} (file or stream I/O) anywhere is refused before it is imported
 * ({@link OpGate#requireGraphSafe}), unless its op type is allowed.
 */
public final class ModelSession implements AutoCloseable {
  private final Graph graph;
  private final Session session;

  /**
   * Loads {@code model}; variable values are assigned before this returns.
   *
   * @throws UnsafeOpsException when the graph holds an op with effects outside the tensors
   */
  public ModelSession(Model model) {
    this(model, Set.of());
  }

  /**
   * Loads {@code model}, accepting the policy ops in {@code allowedOps} (op types, e.g. {@code
   * WriteFile}, for a model the caller trusts); variable values are assigned before this returns.
   *
   * @throws UnsafeOpsException when the graph holds another op with effects outside the tensors
   */
  public ModelSession(Model model, Set<String> allowedOps) {
    OpGate.requireGraphSafe(model.graph(), allowedOps, "the model given to ModelSession");
    Graph g = new Graph();
    Session s = null;
    try {
      GraphImport.into(g, model.graph());
      s = new Session(g);
      this.graph = g;
      this.session = s;
      assignVariables(model.variables());
    } catch (RuntimeException e) {
      // a Graph's close() waits for its sessions, so the session must be closed first
      if (s != null) {
        s.close();
      }
      g.close();
      throw e;
    }
  }

  /** The imported graph. */
  public Graph graph() {
    return graph;
  }

  /** The session. */
  public Session session() {
    return session;
  }

  /**
   * Runs the graph: feeds float32 tensors by tensor name ({@code "input:0"} or {@code "input"}),
   * fetches the named tensors and returns their values as TensorProtos (tensors closed here).
   */
  public Map<String, TensorProto> run(Map<String, TensorProto> feeds, List<String> fetches) {
    List<Tensor> opened = new ArrayList<>();
    try {
      Session.Runner r = session.runner();
      for (Map.Entry<String, TensorProto> f : feeds.entrySet()) {
        TFloat32 t = TensorProtos.toTensor(f.getValue());
        opened.add(t);
        r.feed(f.getKey(), t);
      }
      fetches.forEach(r::fetch);
      Map<String, TensorProto> out = new LinkedHashMap<>();
      try (Result res = r.run()) {
        for (int i = 0; i < fetches.size(); i++) {
          out.put(fetches.get(i), TensorProtos.fromTensor(res.get(i)));
        }
      }
      return out;
    } finally {
      opened.forEach(Tensor::close);
    }
  }

  /** The current value of a variable node. */
  public TensorProto variable(String name) {
    try (Result res = session.runner().fetch(name).run()) {
      return TensorProtos.fromTensor(res.get(0));
    }
  }

  private void assignVariables(Map<String, TensorProto> values) {
    if (values.isEmpty()) {
      return;
    }
    Ops tf = Ops.create(graph).withSubScope("dks_assign");
    Session.Runner r = session.runner();
    List<Tensor> opened = new ArrayList<>();
    try {
      for (Map.Entry<String, TensorProto> e : values.entrySet()) {
        if (graph.operation(e.getKey()) == null) {
          throw new IllegalArgumentException("the model has a value for variable '" + e.getKey()
              + "' but its graph has no such node");
        }
        Operand<TFloat32> var = graph.operation(e.getKey()).output(0);
        Placeholder<TFloat32> ph = tf.placeholder(TFloat32.class);
        Assign<TFloat32> assign = tf.assign(var, ph);
        TFloat32 t = TensorProtos.toTensor(e.getValue());
        opened.add(t);
        r.feed(ph, t).addTarget(assign);
      }
      r.run().close();
    } finally {
      opened.forEach(Tensor::close);
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
