package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.ConstReads;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * A model's own constant elementwise preprocessing right after its input: a chain of {@code
 * Sub}, {@code Add}/{@code AddV2}, {@code Mul}, {@code RealDiv} with a constant other operand
 * (a {@code Const}, through {@code Identity} reads: a scalar or per-channel mean and scale) and
 * {@code Cast} to float32, each the only data reader of the one before (mobileface: {@code (x -
 * 127.5) * (1/128)}). Per-location normalization goes at the chain's end, the start of the
 * network proper: before it, the check's unit-q inputs of chosen c would become nearly collinear
 * ({@code x/128 - 0.996}: c about 1 for every input pair) and the network's first layer would see
 * un-normalized values.
 *
 * <p>Readers that read only a tensor's shape ({@code Shape}, {@code ShapeN}, {@code Size},
 * {@code Rank}) do not end the chain. A {@code Pad} or {@code PadV2} of the chain's tensor (its
 * data input 0) is a step too, when the steps after it leave its border nonzero (faceboxes:
 * {@code x/255}, padded with zeros to a multiple of 128 at the bottom and right by sizes read
 * from its shape, then {@code 2x - 1}; before, the chain ended at {@code x/255}, and the first
 * layer read {@code 2 pln(x) - 1}: q 5 and c {@code (4c + 1)/5} where the solver assumed q 1
 * and c). A border that is zero at the chain's end (a plain zero pad before a convolution) ends
 * the chain before the pad: per-location normalization of an all-zero location divides 0 by 0.
 */
public final class InputPreprocessing {
  private static final Set<String> OPS = Set.of("Sub", "Add", "AddV2", "Mul", "RealDiv", "Cast");
  /** Pads the chain may cross. */
  public static final Set<String> PADS = Set.of("Pad", "PadV2");

  private InputPreprocessing() {}

  /**
   * The last node of the preprocessing chain that starts after {@code start} (a node name, whose
   * output 0 is the input tensor), or {@code start} when its only reader is not such an op. The
   * chain does not take in a node of {@code outputs} (a model output is never preprocessing).
   */
  public static String end(GraphView g, String start, java.util.Collection<String> outputs) {
    List<String> c = chain(g, start, outputs);
    return c.get(c.size() - 1);
  }

  /**
   * The chain from {@code start} (first) to its end (last), as {@link #end} finds it: every node
   * after the first is one preprocessing step of the one before.
   */
  public static List<String> chain(GraphView g, String start,
      java.util.Collection<String> outputs) {
    List<String> chain = new ArrayList<>(List.of(start));
    String cur = start;
    for (int guard = 0; guard < 64; guard++) {
      List<String> readers = valueReaders(g, cur);
      if (readers.size() != 1) {
        break;
      }
      NodeDef n = g.get(readers.get(0));
      if (outputs.contains(n.getName()) || !step(g, n, cur)) {
        break;
      }
      cur = n.getName();
      chain.add(cur);
    }
    // a pad whose border is zero (or not known) at the chain's end ends the chain before it
    for (int i = chain.size() - 1; i > 0; i--) {
      if (PADS.contains(g.get(chain.get(i)).getOp())
          && !borderNonzero(g, chain.subList(i, chain.size()))) {
        chain = new ArrayList<>(chain.subList(0, i));
      }
    }
    return chain;
  }

  /** The data readers of {@code cur}'s output 0 that read its values (not only its shape). */
  private static List<String> valueReaders(GraphView g, String cur) {
    return g.dataConsumers(TensorName.of(cur)).stream()
        .filter(r -> !IndexArguments.readsShapeOnly(g.get(r).getOp())).toList();
  }

  /** True when {@code n} is one preprocessing step applied to {@code cur}'s output 0. */
  private static boolean step(GraphView g, NodeDef n, String cur) {
    if (PADS.contains(n.getOp())) {
      return n.getInputCount() >= 2 && TensorName.parse(n.getInput(0)).equals(TensorName.of(cur))
          && (!n.containsAttr("T") || n.getAttrOrThrow("T").getType() == DataType.DT_FLOAT);
    }
    if (!OPS.contains(n.getOp())) {
      return false;
    }
    if (n.getOp().equals("Cast")) {
      return n.containsAttr("DstT") && n.getAttrOrThrow("DstT").getType() == DataType.DT_FLOAT;
    }
    List<TensorName> in = n.getInputList().stream().filter(i -> !i.startsWith("^"))
        .map(TensorName::parse).toList();
    if (in.size() != 2 || n.containsAttr("T")
        && n.getAttrOrThrow("T").getType() != DataType.DT_FLOAT) {
      return false;
    }
    for (int i = 0; i < 2; i++) {
      if (in.get(i).equals(TensorName.of(cur)) && !in.get(1 - i).node().equals(cur)
          && ConstReads.constNode(g, in.get(1 - i)).isPresent()) {
        // x - c and x / c; a constant first (c - x, c / x) is also elementwise and affine or a
        // fixed map, but only the usual forms are taken
        return i == 0 || n.getOp().equals("Mul") || n.getOp().startsWith("Add");
      }
    }
    return false;
  }

  /**
   * True when the border of the pad {@code steps.get(0)}, taken through the steps after it, is
   * known and nonzero in some channel at the last step; false when it is zero or not known (a
   * constant that is not a float Const).
   */
  private static boolean borderNonzero(GraphView g, List<String> steps) {
    NodeDef pad = g.get(steps.get(0));
    double[] border = {0};
    if (pad.getOp().equals("PadV2")) {
      border = pad.getInputCount() >= 3 ? ConstReads.floats(g, TensorName.parse(pad.getInput(2)))
          : null;
      if (border == null || border.length != 1) {
        return false;
      }
    }
    for (int j = 1; j < steps.size(); j++) {
      NodeDef n = g.get(steps.get(j));
      if (n.getOp().equals("Cast") || PADS.contains(n.getOp())) {
        continue; // a later pad's border is its own; this one's values pass through
      }
      boolean chainFirst = TensorName.parse(n.getInput(0)).equals(TensorName.of(steps.get(j - 1)));
      double[] k = ConstReads.floats(g, TensorName.parse(n.getInput(chainFirst ? 1 : 0)));
      if (k == null || k.length != 1 && border.length != 1 && k.length != border.length) {
        return false;
      }
      double[] next = new double[Math.max(k.length, border.length)];
      for (int i = 0; i < next.length; i++) {
        double b = border[border.length == 1 ? 0 : i];
        double v = k[k.length == 1 ? 0 : i];
        next[i] = switch (n.getOp()) {
          case "Mul" -> b * v;
          case "RealDiv" -> b / v;
          case "Sub" -> b - v;
          default -> b + v;
        };
      }
      border = next;
    }
    for (double b : border) {
      if (b != 0 && Double.isFinite(b)) {
        return true;
      }
    }
    return false;
  }


}
