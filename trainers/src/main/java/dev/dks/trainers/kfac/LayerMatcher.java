package dev.dks.trainers.kfac;

import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;

/**
 * Decides which trainable variables get a Kronecker-factored block (the tensorflow/kfac "Affine"
 * rule, kfac.md section 3.2) from the layer sites of the structure analysis: a {@code MatMul}
 * without transposes or an NHWC {@code Conv2D} without dilation and with SAME/VALID padding,
 * whose kernel is a trainable variable used by that one layer and whose static shapes are known;
 * a bias joins the block when it is a trainable rank-1 variable added right after the layer (or
 * after a residual sum that holds it), in the layer's output shape, and never after a Reshape.
 * Everything else that is trainable (depthwise convs, shared or transposed kernels, scales,
 * stand-alone biases, biases added after a Reshape) gets a diagonal block, with the reason
 * recorded.
 */
public final class LayerMatcher {
  private static final Set<String> BIAS_OPS = Set.of("BiasAdd", "Add", "AddV2");

  private LayerMatcher() {}

  /**
   * Matches.
   *
   * @param model the model's graph as imported (node names equal those in {@code graph})
   * @param graph the training graph, for static shapes
   * @param sites the affine layers on the path from the input to the logits
   * @param trainable the trainable variables, in gradient order
   */
  public static Registration match(GraphView model, Graph graph, List<LayerSite> sites,
      List<String> trainable) {
    Map<String, Integer> kernelUses = new HashMap<>();
    for (LayerSite s : sites) {
      if (!s.kernelVariable().isEmpty()) {
        kernelUses.merge(s.kernelVariable(), 1, Integer::sum);
      }
    }
    List<RegisteredLayer> layers = new ArrayList<>();
    Map<String, String> why = new LinkedHashMap<>();
    Set<String> train = Set.copyOf(trainable);
    for (LayerSite s : sites) {
      String kernel = s.kernelVariable();
      if (kernel.isEmpty() || !train.contains(kernel)) {
        continue;
      }
      String reason = refusal(model, graph, s, kernelUses.get(kernel));
      if (reason != null) {
        why.putIfAbsent(kernel, reason);
        continue;
      }
      layers.add(layer(model, graph, s, train, why));
    }
    Set<String> covered = new HashSet<>();
    for (RegisteredLayer l : layers) {
      covered.add(l.kernelVariable());
      if (l.hasBias()) {
        covered.add(l.biasVariable());
      }
    }
    Map<String, String> diagonal = new LinkedHashMap<>();
    for (String v : trainable) {
      if (!covered.contains(v)) {
        diagonal.put(v, why.getOrDefault(v, "not the kernel or bias of a dense or conv layer"));
      }
    }
    return new Registration(layers, diagonal);
  }

  private static String refusal(GraphView model, Graph graph, LayerSite s, int uses) {
    NodeDef n = model.get(s.node());
    if (uses > 1) {
      return "kernel shared by " + uses + " layers";
    }
    long[] k = staticShape(graph, s.kernelVariable());
    switch (s.op()) {
      case "MatMul" -> {
        if (bool(n, "transpose_a") || bool(n, "transpose_b")) {
          return "transposed MatMul " + s.node();
        }
        if (k == null || k.length != 2 || k[0] < 1) {
          return "MatMul kernel without a static 2-d shape";
        }
      }
      case "Conv2D" -> {
        String format = str(n, "data_format", "NHWC");
        if (!format.equals("NHWC")) {
          return "Conv2D " + s.node() + " in " + format + " (only NHWC has a conv block)";
        }
        String padding = str(n, "padding", "");
        if (!padding.equals("SAME") && !padding.equals("VALID")) {
          return "Conv2D " + s.node() + " with " + padding + " padding";
        }
        if (n.getAttrMap().containsKey("dilations")) {
          for (long d : n.getAttrMap().get("dilations").getList().getIList()) {
            if (d != 1) {
              return "dilated Conv2D " + s.node();
            }
          }
        }
        if (k == null || k.length != 4 || k[0] < 1) {
          return "Conv2D kernel without a static 4-d shape";
        }
        long[] out = staticShape(graph, s.node());
        if (out == null || out.length != 4 || out[1] < 1 || out[2] < 1) {
          return "Conv2D " + s.node() + " output without static height and width";
        }
      }
      default -> {
        return s.op() + " " + s.node() + " has no Kronecker-factored block";
      }
    }
    return null;
  }

  /**
   * The block of {@code s}; a bias of the layer left out of it gets its reason in {@code why}.
   */
  private static RegisteredLayer layer(GraphView model, Graph graph, LayerSite s,
      Set<String> train, Map<String, String> why) {
    NodeDef n = model.get(s.node());
    long[] k = staticShape(graph, s.kernelVariable());
    String bias = "";
    String output = s.node() + ":0";
    if (!s.biasVariable().isEmpty() && train.contains(s.biasVariable())
        && BIAS_OPS.contains(model.get(s.biasNode()).getOp())) {
      long[] b = staticShape(graph, s.biasVariable());
      long[] out = staticShape(graph, s.node());
      // the block reads its output gradient at the bias add: only where that has the layer's own
      // shape, and never after a Reshape (tensordot's Keras Dense on 4-d tensors): there the
      // shapes' agreement would rest on static shapes alone, which can be unknown on both sides
      if (afterReshape(model, s.biasNode())) {
        why.putIfAbsent(s.biasVariable(), "bias of " + s.node() + " added after a Reshape (the "
            + "block reads the output gradient in the layer's own shape)");
      } else if (b != null && b.length == 1 && b[0] == k[k.length - 1] && out != null
          && java.util.Arrays.equals(staticShape(graph, s.biasNode()), out)) {
        bias = s.biasVariable();
        output = s.biasNode() + ":0";
      } else {
        why.putIfAbsent(s.biasVariable(), "bias of " + s.node() + " not of the layer's output "
            + "shape");
      }
    }
    TensorName in = TensorName.parse(n.getInput(0));
    String input = in.node() + ":" + in.index();
    if (s.op().equals("MatMul")) {
      return new RegisteredLayer(RegisteredLayer.Kind.DENSE, s.node(), s.kernelVariable(), bias,
          input, output, k, List.of(), "", 1);
    }
    List<Long> st = n.getAttrMap().get("strides").getList().getIList();
    long[] out = staticShape(graph, s.node());
    return new RegisteredLayer(RegisteredLayer.Kind.CONV2D, s.node(), s.kernelVariable(), bias,
        input, output, k, List.of(st.get(1), st.get(2)), str(n, "padding", ""), out[1] * out[2]);
  }

  /** True when a data input of the bias add {@code node} is a Reshape's output. */
  private static boolean afterReshape(GraphView model, String node) {
    for (String in : model.get(node).getInputList()) {
      TensorName t = TensorName.parse(in);
      if (!t.isControl() && model.find(t.node()).map(n -> n.getOp().equals("Reshape"))
          .orElse(false)) {
        return true;
      }
    }
    return false;
  }

  private static long[] staticShape(Graph graph, String node) {
    GraphOperation op = graph.operation(node);
    if (op == null) {
      return null;
    }
    Shape s = op.output(0).shape();
    if (s.isUnknown()) {
      return null;
    }
    long[] d = s.asArray();
    for (int i = 1; i < d.length; i++) {
      if (d[i] < 0) {
        return null; // only the leading (batch) dimension may be unknown
      }
    }
    return d;
  }

  private static boolean bool(NodeDef n, String attr) {
    AttrValue v = n.getAttrMap().get(attr);
    return v != null && v.getB();
  }

  private static String str(NodeDef n, String attr, String dflt) {
    AttrValue v = n.getAttrMap().get(attr);
    return v == null ? dflt : v.getS().toStringUtf8();
  }
}
