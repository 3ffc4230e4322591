package dev.dks.rewriter.passes.fused;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.passes.fused.FusedOpMatch.Stage;
import dev.dks.rewriter.passes.fused.FusedOpMatch.StageKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Finds the fused contractions that grappler's remapper and oneDNN produce: {@code _FusedConv2D},
 * {@code _FusedMatMul} and {@code _FusedDepthwiseConv2dNative} (also spelled without the
 * underscore), with {@code fused_ops} {@code [BiasAdd]}, {@code [BiasAdd, Add]}, {@code
 * [FusedBatchNorm]} (convolutions only), each optionally followed by Relu, Relu6, Elu, LeakyRelu,
 * Tanh or Sigmoid. Cheap checks first (op type), then attributes; any other fused_ops list,
 * dtype, filter format or host argument is left alone with a note naming the node.
 */
public final class FusedOpMatcher {
  private static final Map<String, String> BASE = Map.of(
      "_FusedConv2D", "Conv2D",
      "FusedConv2D", "Conv2D",
      "_FusedMatMul", "MatMul",
      "FusedMatMul", "MatMul",
      "_FusedDepthwiseConv2dNative", "DepthwiseConv2dNative",
      "FusedDepthwiseConv2dNative", "DepthwiseConv2dNative");
  private static final Set<String> ACTIVATIONS =
      Set.of("Relu", "Relu6", "Elu", "LeakyRelu", "Tanh", "Sigmoid");
  private static final Set<DataType> FLOATING =
      Set.of(DataType.DT_FLOAT, DataType.DT_HALF, DataType.DT_BFLOAT16, DataType.DT_DOUBLE);
  private static final Set<DataType> BN_TYPES =
      Set.of(DataType.DT_FLOAT, DataType.DT_HALF, DataType.DT_BFLOAT16);

  private FusedOpMatcher() {}

  /**
   * What the matcher found.
   *
   * @param matches the nodes it can split
   * @param notes fused nodes it left alone, each naming the node, its op and why
   */
  public record Result(List<FusedOpMatch> matches, List<String> notes) {
    /** Copies the lists. */
    public Result {
      matches = List.copyOf(matches);
      notes = List.copyOf(notes);
    }
  }

  /** True when {@code op} is one of the fused contractions this matcher knows. */
  public static boolean isFusedContraction(String op) {
    return BASE.containsKey(op);
  }

  /** Scans the graph; nothing is changed. */
  public static Result scan(GraphView g) {
    List<FusedOpMatch> matches = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    for (NodeDef n : g.nodes()) {
      if (!BASE.containsKey(n.getOp())) {
        continue;
      }
      try {
        matches.add(match(n));
      } catch (Unsupported e) {
        notes.add("left fused node '" + n.getName() + "' (" + n.getOp() + ") alone: "
            + e.getMessage());
      }
    }
    return new Result(matches, notes);
  }

  private static FusedOpMatch match(NodeDef raw) throws Unsupported {
    NodeDef n = OpRegistry.get().withDefaults(raw);
    String base = BASE.get(n.getOp());
    DataType t = type(n, "T");
    if (!FLOATING.contains(t)) {
      throw new Unsupported("element type " + t + " is not a floating type this pass splits");
    }
    if (n.containsAttr("filter_format")
        && !n.getAttrOrThrow("filter_format").getS().toStringUtf8().equals("HWIO")) {
      throw new Unsupported("filter_format " + n.getAttrOrThrow("filter_format").getS()
          .toStringUtf8() + " is not HWIO");
    }
    if (n.containsAttr("num_host_args") && n.getAttrOrThrow("num_host_args").getI() != 0) {
      throw new Unsupported("it has host_args (num_host_args="
          + n.getAttrOrThrow("num_host_args").getI() + ")");
    }
    List<String> data = new ArrayList<>();
    List<String> control = new ArrayList<>();
    for (String in : n.getInputList()) {
      (in.startsWith("^") ? control : data).add(in);
    }
    long numArgs = n.containsAttr("num_args") ? n.getAttrOrThrow("num_args").getI() : -1;
    if (numArgs < 0 || data.size() != 2 + numArgs) {
      throw new Unsupported("num_args=" + numArgs + " but it has " + data.size()
          + " data inputs");
    }
    List<String> args = data.subList(2, data.size());
    List<DataType> argTypes = n.containsAttr("TArgs")
        ? n.getAttrOrThrow("TArgs").getList().getTypeList() : List.of();
    List<String> fused = n.containsAttr("fused_ops")
        ? n.getAttrOrThrow("fused_ops").getList().getSList().stream()
            .map(com.google.protobuf.ByteString::toStringUtf8).toList()
        : List.of();
    if (fused.isEmpty()) {
      throw new Unsupported("fused_ops is empty");
    }
    List<Stage> stages = new ArrayList<>();
    int next = 0;
    int argUsed = 0;
    String first = fused.get(0);
    if (first.equals("BiasAdd")) {
      checkArgType(argTypes, 0, t, "the bias");
      stages.add(new Stage(StageKind.BIAS_ADD, "BiasAdd", List.of(arg(args, 0)), 0f));
      argUsed = 1;
      next = 1;
      if (fused.size() > 1 && fused.get(1).equals("Add")) {
        checkArgType(argTypes, 1, t, "the addend");
        stages.add(new Stage(StageKind.ADD, "AddV2", List.of(arg(args, 1)), 0f));
        argUsed = 2;
        next = 2;
      }
    } else if (first.equals("FusedBatchNorm")) {
      if (base.equals("MatMul")) {
        throw new Unsupported("fused_ops " + fused + " on a MatMul is not a known form");
      }
      if (!BN_TYPES.contains(t)) {
        throw new Unsupported("batch norm of element type " + t + " is not supported");
      }
      for (int i = 0; i < 4; i++) {
        checkArgType(argTypes, i, DataType.DT_FLOAT, "batch norm argument " + i);
      }
      float eps = n.containsAttr("epsilon") ? n.getAttrOrThrow("epsilon").getF() : 1e-4f;
      stages.add(new Stage(StageKind.BATCH_NORM, "FusedBatchNormV3",
          List.of(arg(args, 0), arg(args, 1), arg(args, 2), arg(args, 3)), eps));
      argUsed = 4;
      next = 1;
    } else {
      throw new Unsupported("fused_ops " + fused + " does not start with BiasAdd or "
          + "FusedBatchNorm");
    }
    if (next < fused.size()) {
      String act = fused.get(next);
      if (!ACTIVATIONS.contains(act)) {
        throw new Unsupported("fused op '" + act + "' in " + fused + " is not an activation "
            + "this pass knows");
      }
      float alpha = act.equals("LeakyRelu") && n.containsAttr("leakyrelu_alpha")
          ? n.getAttrOrThrow("leakyrelu_alpha").getF() : 0f;
      stages.add(new Stage(StageKind.ACTIVATION, act, List.of(), alpha));
      next++;
    }
    if (next != fused.size()) {
      throw new Unsupported("fused_ops " + fused + " is not a known form");
    }
    if (argUsed != args.size()) {
      throw new Unsupported("fused_ops " + fused + " needs " + argUsed + " args, the node has "
          + args.size());
    }
    return new FusedOpMatch(n.getName(), n.getOp(), base, t, data.get(0), data.get(1), stages,
        control);
  }

  private static String arg(List<String> args, int i) throws Unsupported {
    if (i >= args.size()) {
      throw new Unsupported("too few args: " + args.size());
    }
    return args.get(i);
  }

  private static void checkArgType(List<DataType> argTypes, int i, DataType want, String what)
      throws Unsupported {
    if (i < argTypes.size() && argTypes.get(i) != want) {
      throw new Unsupported(what + " has type " + argTypes.get(i) + ", expected " + want);
    }
  }

  private static DataType type(NodeDef n, String attr) throws Unsupported {
    AttrValue v = n.getAttrOrDefault(attr, null);
    if (v == null || v.getValueCase() != AttrValue.ValueCase.TYPE) {
      throw new Unsupported("attribute '" + attr + "' is missing");
    }
    return v.getType();
  }

  /** A reason to leave a node alone. */
  static final class Unsupported extends Exception {
    private static final long serialVersionUID = 1L;

    Unsupported(String why) {
      super(why);
    }
  }
}
