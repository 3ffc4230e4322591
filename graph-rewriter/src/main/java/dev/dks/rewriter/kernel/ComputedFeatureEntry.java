package dev.dks.rewriter.kernel;

import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * The kernel check's entry for an input that is not a float feature and not an integer image
 * behind one Cast: a DT_STRING input whose features the graph computes (ARM's keyword-spotting
 * DS-CNN: {@code wav_data} -> DecodeWav -> AudioSpectrogram -> Mfcc -> Reshape -> the first
 * Conv2D). The pairs of chosen c are fed at the float32 tensor the network's first layer reads
 * (found breadth first from the input along data edges: the nearest Conv2D,
 * DepthwiseConv2dNative or MatMul on the path to the outputs, its input 0); TensorFlow feeds any
 * tensor, so the decoding ops upstream never run. When the rewrite put a per-location
 * normalization there ({@code X/pln/normalized}), the entry is X, where the normalization starts,
 * as for a float input. The predictions start from what is fed (q = 1 and the measured c at the
 * first layer's input), so they match the fed pairs whether or not the features are normalized.
 *
 * <p>Its shape is TensorFlow's static shape of that tensor (the batch axis first; a Reshape to
 * {@code [-1, 49, 10, 1]} gives {@code [-1, 49, 10, 1]}). Null when no layer reads a float32
 * tensor computed from the input, or that tensor is not an op's output 0 or has unknown rank:
 * the caller then refuses the input as before.
 */
final class ComputedFeatureEntry {
  /** The ops whose input 0 is a layer's data input (as in the structure analysis). */
  private static final Set<String> LAYER_OPS = Set.of("Conv2D", "DepthwiseConv2dNative",
      "MatMul");

  private ComputedFeatureEntry() {}

  /**
   * The entry for input node {@code input} (signature key {@code key}, dtype {@code dtype}) of
   * {@code model}, or null when none is found.
   */
  static Found find(Model model, GraphView g, String key, String input, DataType dtype) {
    Set<String> onPath = g.ancestors(model.outputNodes());
    Map<String, String> parent = new HashMap<>();
    Deque<String> todo = new ArrayDeque<>(List.of(input));
    List<String> order = new ArrayList<>();
    parent.put(input, null);
    NodeDef layer = null;
    while (!todo.isEmpty() && layer == null) {
      String n = todo.removeFirst();
      for (String c : g.consumers(n)) {
        NodeDef cn = g.get(c);
        boolean data = cn.getInputList().stream()
            .anyMatch(i -> !i.startsWith("^") && TensorName.parse(i).node().equals(n));
        if (!data || !onPath.contains(c) || parent.containsKey(c)) {
          continue;
        }
        if (LAYER_OPS.contains(cn.getOp()) && cn.getInputCount() > 0
            && TensorName.parse(cn.getInput(0)).node().equals(n)) {
          layer = cn;
          break;
        }
        parent.put(c, n);
        order.add(c);
        todo.addLast(c);
      }
    }
    if (layer == null) {
      return null;
    }
    TensorName read = TensorName.parse(layer.getInput(0));
    if (read.index() != 0) {
      return null;
    }
    String node = read.node();
    String via = "";
    if (node.endsWith("/pln/normalized")) {
      String start = node.substring(0, node.length() - "/pln/normalized".length());
      if (g.contains(start)) {
        via = ", where the per-location normalization '" + node + "' starts";
        node = start;
      }
    }
    long[] shape;
    try (Graph tg = new Graph()) {
      GraphImport.into(tg, model.graph());
      GraphOperation op = tg.operation(node);
      if (op == null || op.numOutputs() == 0 || op.output(0).dataType() != DataType.DT_FLOAT) {
        return null;
      }
      Shape sh = op.output(0).shape();
      if (sh.isUnknown() || sh.numDimensions() < 1) {
        return null;
      }
      shape = sh.asArray();
    }
    // the ops between the input and the entry, in the order the search met them
    Set<String> before = g.ancestors(List.of(node));
    List<String> chain = order.stream().filter(before::contains).map(n -> g.get(n).getOp())
        .toList();
    String more = "";
    if (shape[0] == 1) {
      // one decoded example (DecodeWav's single channel leads Mfcc's shape): the layers after
      // the entry take a batch, checked when the check runs (a fixed leading dimension
      // downstream, or a refused batch, sends the examples one at a time)
      shape[0] = -1;
      more = "; its static batch of 1 is the decoder's one example, so the entry is fed as a "
          + "placeholder of batch -1";
    }
    if (via.isEmpty() && shape.length >= 2 && shape[shape.length - 1] == 1) {
      // KernelCheck's rule for a single-channel input, said here where the reader sees it
      more += "; it has one channel (a scalar per location has c = +-1 only), so, as for any "
          + "single-channel input, the pairs go in at the output of '" + layer.getName() + "'";
    }
    String note = "input '" + key + "' is " + dtype + " (not a float feature): the pairs are "
        + "fed directly at '" + node + "', the first float32 tensor the network's first layer '"
        + layer.getName() + "' reads" + via + " (computed in the graph from the input by "
        + String.join(" -> ", chain) + ", which do not run in the "
        + "check)" + more;
    return new Found(node, shape, note);
  }

  /**
   * {@code model} with the computed entry's node replaced by a float32 Placeholder of the same
   * name and the entry's shape, and the signature's first input by it: the network from its
   * first float feature, as the check sees it (static shapes after the entry follow the fed
   * batch, not the decoder's; the decoding ops are left unread). Unchanged when {@code e} is not
   * a computed entry.
   */
  static Model cut(Model model, KernelEntry e) {
    if (!e.computedFeature()) {
      return model;
    }
    GraphView g = GraphView.of(model.graph());
    g.put(Nodes.op("Placeholder", e.node()).type("dtype", DataType.DT_FLOAT).attr("shape",
        AttrValue.newBuilder().setShape(TensorProtos.shapeProto(e.shape())).build()).build());
    List<Signature> sigs = new ArrayList<>(model.signatures());
    Signature s = sigs.get(0);
    Map<String, TensorSpec> inputs = new LinkedHashMap<>(s.inputs());
    String key = inputs.keySet().iterator().next();
    inputs.put(key, new TensorSpec(TensorName.of(e.node()), DataType.DT_FLOAT, e.shape()));
    sigs.set(0, new Signature(s.key(), s.methodName(), inputs, s.outputs()));
    return new Model(g.toGraphDef(), model.variables(), sigs);
  }

  /** The node fed, its static shape and the report's note. */
  record Found(String node, long[] shape, String note) {}
}
