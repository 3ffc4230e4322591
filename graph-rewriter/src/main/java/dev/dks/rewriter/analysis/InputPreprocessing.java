package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * A model's own constant elementwise preprocessing right after its input: a chain of {@code
 * Sub}, {@code Add}/{@code AddV2}, {@code Mul}, {@code RealDiv} with a constant other operand
 * (a {@code Const}, through {@code Identity} reads: a scalar or per-channel mean and scale) and
 * {@code Cast} to float32, each the only data reader of the one before (mobileface: {@code (x -
 * 127.5) * (1/128)}). Per-location input normalization goes at the chain's end, the start of the
 * network proper: before it, the check's unit-q inputs of chosen c would become nearly collinear
 * ({@code x/128 - 0.996}: c about 1 for every input pair) and the network's first layer would see
 * un-normalized values.
 */
public final class InputPreprocessing {
  private static final Set<String> OPS = Set.of("Sub", "Add", "AddV2", "Mul", "RealDiv", "Cast");

  private InputPreprocessing() {}

  /**
   * The last node of the preprocessing chain that starts after {@code start} (a node name, whose
   * output 0 is the input tensor), or {@code start} when its only reader is not such an op. The
   * chain does not take in a node of {@code outputs} (a model output is never preprocessing).
   */
  public static String end(GraphView g, String start, java.util.Collection<String> outputs) {
    String cur = start;
    for (int guard = 0; guard < 64; guard++) {
      List<String> readers = g.dataConsumers(TensorName.of(cur));
      if (readers.size() != 1) {
        return cur;
      }
      NodeDef n = g.get(readers.get(0));
      if (outputs.contains(n.getName()) || !step(g, n, cur)) {
        return cur;
      }
      cur = n.getName();
    }
    return cur;
  }

  /** True when {@code n} is one preprocessing step applied to {@code cur}'s output 0. */
  private static boolean step(GraphView g, NodeDef n, String cur) {
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
          && isConst(g, in.get(1 - i))) {
        // x - c and x / c; a constant first (c - x, c / x) is also elementwise and affine or a
        // fixed map, but only the usual forms are taken
        return i == 0 || n.getOp().equals("Mul") || n.getOp().startsWith("Add");
      }
    }
    return false;
  }

  /** True when {@code t} is a Const's output, seen through Identity reads. */
  private static boolean isConst(GraphView g, TensorName t) {
    Optional<NodeDef> n = g.find(t.node());
    for (int hops = 0; n.isPresent() && n.get().getOp().equals("Identity") && hops < 4; hops++) {
      n = g.find(TensorName.parse(n.get().getInput(0)).node());
    }
    return n.isPresent() && n.get().getOp().equals("Const");
  }
}
