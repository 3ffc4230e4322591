package dev.dks.savedmodels;

import static dev.dks.savedmodels.ReaderMessages.abbreviate;
import static dev.dks.savedmodels.ReaderMessages.firstLine;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.safety.TensorBounds;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Reads a frozen GraphDef ({@code .pb}: one binary {@code GraphDef}, weights held as {@code
 * Const} nodes) into a {@link Model} with no variables and one {@code serving_default} signature
 * (method {@code tensorflow/serving/predict}).
 *
 * <ul>
 *   <li>Outputs are the graph's sinks: nodes whose outputs nobody reads (by a data or control
 *       edge), except nodes that cannot be a model output: ops without outputs, {@code Const},
 *       {@code NoOp}, placeholders, variables, {@code Assign*}, save/restore ops ({@code
 *       SaveV2}, {@code RestoreV2}, ..., anything in the {@code save/} scope) and summaries. A sink
 *       that does not depend on any Placeholder is left out with a warning; several sinks are all
 *       outputs, with a warning listing them (the structure analysis follows the first).
 *   <li>Inputs are the {@code Placeholder} nodes the outputs depend on, with the dtype and shape
 *       of their {@code dtype} and {@code shape} attributes (null shape when the rank is
 *       unknown); Placeholders no output reads are dropped with a warning.
 *   <li>Nodes that are not ancestors of the outputs are removed (a frozen graph's leftover
 *       saver and initializer ops).
 *   <li>Weights stay {@code Const}: the rewrite pipeline's {@code constants-to-variables} pass
 *       turns the layer constants into variables.
 * </ul>
 *
 * <p>The graph is imported into TensorFlow once to check it and to learn the outputs' dtypes and
 * shapes. Every failure (unreadable file, bytes that are not a GraphDef, a graph TensorFlow
 * rejects, no input or no output, variables without values) is a {@link ModelFormatException}
 * naming the file. Warnings go to {@code java.util.logging} and into {@link Result#warnings()}.
 */
public final class FrozenGraphReader {
  private static final Logger LOG = Logger.getLogger(FrozenGraphReader.class.getName());

  /** Ops that are never a model output even when nothing reads them. */
  private static final Set<String> NOT_OUTPUTS = Set.of("Const", "NoOp", "Placeholder",
      "PlaceholderWithDefault", "VariableV2", "Variable", "VarHandleOp", "VarIsInitializedOp",
      "IsVariableInitialized", "Assert", "Print", "PrintV2", "MergeV2Checkpoints",
      "ShardedFilename", "ShardedFilespec", "SaveV2", "Save", "SaveSlices", "RestoreV2",
      "Restore", "RestoreSlice", "MergeSummary");
  private static final Set<String> VARIABLE_OPS = Set.of("VariableV2", "Variable",
      "VarHandleOp");

  private FrozenGraphReader() {}

  /**
   * What a read produced.
   *
   * @param model the model: the pruned graph, no variables, the serving_default signature
   * @param warnings what was left out or guessed, one line each
   * @param prunedNodes how many nodes were removed because no output depends on them
   */
  public record Result(Model model, List<String> warnings, int prunedNodes) {
    /** Copies the list. */
    public Result {
      warnings = List.copyOf(warnings);
    }
  }

  /** Reads the frozen GraphDef {@code pb}; logs the warnings. */
  public static Model read(Path pb) {
    return readDetailed(pb).model();
  }

  /**
   * Reads the frozen GraphDef {@code pb}.
   *
   * @throws ModelFormatException naming the file when it cannot be read as a frozen graph
   */
  public static Result readDetailed(Path pb) {
    Path abs = pb.toAbsolutePath().normalize();
    if (!Files.isRegularFile(abs)) {
      throw new ModelFormatException(abs + " is not a file: a frozen graph is one .pb file");
    }
    GraphDef def;
    try {
      def = GraphDef.parseFrom(BoundedFiles.readAllBytes(abs));
    } catch (InvalidProtocolBufferException e) {
      throw new ModelFormatException(abs + " is not a frozen GraphDef (.pb): the bytes do not "
          + "parse as a GraphDef protocol buffer (" + e.getMessage() + ")", e);
    } catch (IOException e) {
      throw new ModelFormatException(abs + ": cannot read the file: " + e, e);
    }
    return fromGraphDef(abs, def);
  }

  /**
   * Builds the model from an already parsed GraphDef; {@code source} names it in messages.
   *
   * @throws ModelFormatException naming {@code source} when the graph is not a usable model
   */
  public static Result fromGraphDef(Path source, GraphDef def) {
    if (def.getNodeCount() == 0) {
      throw new ModelFormatException(source + " is not a frozen GraphDef (.pb): it holds no "
          + "graph nodes");
    }
    try {
      TensorBounds.requireWithin(def);
    } catch (TensorBounds.TensorBoundsException e) {
      throw new ModelFormatException(source + ": " + e.getMessage(), e);
    }
    GraphView view;
    try {
      view = GraphView.of(def);
    } catch (RuntimeException e) {
      throw new ModelFormatException(source + " is not a valid GraphDef: " + e.getMessage(), e);
    }
    List<String> warnings = new ArrayList<>();
    try (Graph g = new Graph()) {
      try {
        GraphImport.into(g, def);
      } catch (RuntimeException e) {
        throw new ModelFormatException(source + ": TensorFlow rejects the graph: "
            + firstLine(e), e);
      }
      List<String> sinks = sinks(view, g);
      List<String> outputs = new ArrayList<>();
      List<String> constantSinks = new ArrayList<>();
      for (String s : sinks) {
        boolean fed = view.ancestors(List.of(s)).stream()
            .anyMatch(n -> view.get(n).getOp().equals("Placeholder"));
        (fed ? outputs : constantSinks).add(s);
      }
      if (!constantSinks.isEmpty()) {
        warnings.add("left out sinks that depend on no Placeholder (not a function of the "
            + "input): " + describe(view, constantSinks));
      }
      if (outputs.isEmpty()) {
        throw new ModelFormatException(source + " has no output: no node that depends on a "
            + "Placeholder is left unread" + (sinks.isEmpty() ? ""
            : " (sinks found: " + describe(view, sinks) + ")"));
      }
      if (outputs.size() > 1) {
        warnings.add("several sinks, all taken as outputs of serving_default: "
            + describe(view, outputs) + "; the kernel structure follows '" + outputs.get(0)
            + "'");
      }
      Set<String> live = view.ancestors(outputs);
      List<String> inputs = new ArrayList<>();
      List<String> unused = new ArrayList<>();
      List<String> variables = new ArrayList<>();
      for (NodeDef n : view.nodes()) {
        if (n.getOp().equals("Placeholder")) {
          if (live.contains(n.getName())) {
            inputs.add(n.getName());
          } else {
            unused.add("'" + n.getName() + "'");
          }
        } else if (VARIABLE_OPS.contains(n.getOp()) && live.contains(n.getName())) {
          variables.add(n.getOp() + " '" + n.getName() + "'");
        }
      }
      if (!variables.isEmpty()) {
        throw new ModelFormatException(source + " is not frozen: the outputs read variables "
            + "that a GraphDef holds no value for: " + abbreviate(variables)
            + "; read the SavedModel (or checkpoint) it came from instead");
      }
      if (!unused.isEmpty()) {
        warnings.add("left out Placeholders no output reads: " + abbreviate(unused));
      }
      Map<String, TensorSpec> ins = new LinkedHashMap<>();
      for (String in : inputs) {
        ins.put(in, placeholderSpec(view.get(in), g.operation(in)));
      }
      Map<String, TensorSpec> outs = new LinkedHashMap<>();
      for (String out : outputs) {
        outs.put(out, outputSpec(g.operation(out)));
      }
      int pruned = view.prune(new LinkedHashSet<>(outputs));
      Signature sig = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD, ins,
          outs);
      Model model = new Model(view.toGraphDef(), Map.of(), List.of(sig));
      for (String w : warnings) {
        LOG.warning(source + ": " + w);
      }
      return new Result(model, warnings, pruned);
    }
  }

  /** Nodes nothing reads that may be outputs, in graph order. */
  private static List<String> sinks(GraphView view, Graph g) {
    List<String> out = new ArrayList<>();
    for (NodeDef n : view.nodes()) {
      if (!view.consumers(n.getName()).isEmpty() || !mayBeOutput(n)) {
        continue;
      }
      GraphOperation op = g.operation(n.getName());
      if (op == null || op.numOutputs() == 0) {
        continue;
      }
      out.add(n.getName());
    }
    return out;
  }

  private static boolean mayBeOutput(NodeDef n) {
    String op = n.getOp();
    String name = n.getName();
    return !NOT_OUTPUTS.contains(op) && !op.startsWith("Assign") && !op.endsWith("Summary")
        && !op.startsWith("Save") && !op.startsWith("Restore")
        && !name.startsWith("save/");
  }

  private static TensorSpec placeholderSpec(NodeDef n, GraphOperation op) {
    DataType dtype = n.containsAttr("dtype") ? TensorValues.baseType(
        n.getAttrOrThrow("dtype").getType()) : TensorValues.baseType(op.output(0).dataType());
    long[] shape = null;
    AttrValue a = n.getAttrOrDefault("shape", null);
    if (a != null && a.hasShape() && !a.getShape().getUnknownRank()) {
      shape = a.getShape().getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize)
          .toArray();
    } else {
      Shape s = op.output(0).shape();
      shape = s.isUnknown() ? null : s.asArray();
    }
    return new TensorSpec(TensorName.of(n.getName(), 0), dtype, shape);
  }

  private static TensorSpec outputSpec(GraphOperation op) {
    Shape s = op.output(0).shape();
    return new TensorSpec(TensorName.of(op.name(), 0),
        TensorValues.baseType(op.output(0).dataType()), s.isUnknown() ? null : s.asArray());
  }

  private static String describe(GraphView view, List<String> nodes) {
    List<String> d = new ArrayList<>();
    for (String n : nodes) {
      d.add("'" + n + "' (" + view.get(n).getOp() + ")");
    }
    return abbreviate(d);
  }
}
