package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * The output of {@code dks convert} and {@code dks export}: the model read (path, format, tags,
 * node and variable counts, signatures, reader warnings), what the command did to it (steps, one
 * line each, plus the command's own JSON fields), and the serving SavedModel written (node and
 * variable counts, file sizes, and its signatures as TF Serving reads them from the MetaGraphDef).
 */
final class ServingReport {
  private final String command;
  private final Path model;
  private final String format;
  private final List<String> tags;
  private final List<String> warnings;
  private final Model read;
  private final List<String> steps = new ArrayList<>();
  private final ObjectNode extra = Json.object();
  private ServingOutput.Written written;

  /**
   * A report.
   *
   * @param command {@code convert} or {@code export}
   * @param model the path read
   * @param format the format's label
   * @param tags the SavedModel tags loaded, or null when not a SavedModel
   * @param warnings the reader's warnings
   * @param read the model as read
   */
  ServingReport(String command, Path model, String format, List<String> tags,
      List<String> warnings, Model read) {
    this.command = command;
    this.model = model;
    this.format = format;
    this.tags = tags;
    this.warnings = List.copyOf(warnings);
    this.read = read;
  }

  /** Adds a line saying what the command did. */
  void step(String line) {
    steps.add(line);
  }

  /** The command's own JSON fields (added after the common ones). */
  ObjectNode extra() {
    return extra;
  }

  /** Records the folder written. */
  void written(ServingOutput.Written w) {
    this.written = w;
  }

  /** The op histogram of a graph's nodes. */
  static Map<String, Integer> ops(Model m) {
    Map<String, Integer> ops = new TreeMap<>();
    for (NodeDef n : m.graph().getNodeList()) {
      ops.merge(n.getOp(), 1, Integer::sum);
    }
    return ops;
  }

  /** The JSON object. */
  ObjectNode json() {
    ObjectNode root = Json.object();
    root.put("command", command);
    root.put("model", model.toString());
    root.put("format", format);
    if (tags == null) {
      root.putNull("tags");
    } else {
      ArrayNode t = root.putArray("tags");
      tags.forEach(t::add);
    }
    ArrayNode rw = root.putArray("reader_warnings");
    warnings.forEach(rw::add);
    ObjectNode r = root.putObject("read");
    r.put("nodes", read.graph().getNodeCount());
    r.put("variables", read.variables().size());
    ArrayNode keys = r.putArray("signatures");
    read.signatures().forEach(s -> keys.add(s.key()));
    ArrayNode st = root.putArray("steps");
    steps.forEach(st::add);
    root.setAll(extra);
    ObjectNode w = root.putObject("written");
    w.put("nodes", written.nodes());
    w.put("variables", written.variables());
    w.put("saved_model_pb_bytes", written.savedModelBytes());
    w.put("variables_bytes", written.variablesBytes());
    w.put("tag", "serve");
    ArrayNode sigs = root.putArray("signatures");
    written.signatures().forEach((k, s) -> {
      ObjectNode o = sigs.addObject();
      o.put("key", k);
      o.put("method_name", s.getMethodName());
      tensors(o.putObject("inputs"), s.getInputsMap());
      tensors(o.putObject("outputs"), s.getOutputsMap());
    });
    root.put("out", written.dir().toString());
    return root;
  }

  private static void tensors(ObjectNode o, Map<String, TensorInfo> infos) {
    new TreeMap<>(infos).forEach((k, i) -> {
      ObjectNode t = o.putObject(k);
      t.put("tensor", i.getName());
      t.put("dtype", i.getDtype().name());
      Json.putShape(t, "shape", shape(i.getTensorShape()));
    });
  }

  /** A TensorShapeProto as dimensions (-1 unknown), or null for unknown rank. */
  static long[] shape(TensorShapeProto s) {
    if (s.getUnknownRank()) {
      return null;
    }
    return s.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
  }

  /** A dtype for text output, e.g. {@code float} for DT_FLOAT. */
  static String dtype(org.tensorflow.proto.DataType t) {
    return t.name().replace("DT_", "").toLowerCase(Locale.ROOT);
  }

  /** The readable report, ending with a newline. */
  String text() {
    StringBuilder b = new StringBuilder();
    line(b, "read %s (%s%s): %d nodes, %d variables, signatures %s", model, format,
        tags == null ? "" : ", tags " + tags, read.graph().getNodeCount(),
        read.variables().size(), read.signatures().stream().map(Signature::key).toList());
    for (String w : warnings) {
      line(b, "  warning: %s", w);
    }
    for (String s : steps) {
      line(b, "%s", s);
    }
    line(b, "written to %s (SavedModel, tag serve): %d nodes, %d variables; saved_model.pb "
        + "%,d bytes, variables %,d bytes", written.dir(), written.nodes(), written.variables(),
        written.savedModelBytes(), written.variablesBytes());
    written.signatures().forEach((k, s) -> {
      line(b, "signature %s (%s)", k, s.getMethodName());
      tensorLines(b, "input ", s.getInputsMap());
      tensorLines(b, "output", s.getOutputsMap());
    });
    return b.toString();
  }

  private static void tensorLines(StringBuilder b, String what, Map<String, TensorInfo> infos) {
    new TreeMap<>(infos).forEach((k, i) -> line(b, "  %s %-20s %-32s %s%s", what, k, i.getName(),
        dtype(i.getDtype()), Json.shape(shape(i.getTensorShape()))));
  }

  private static void line(StringBuilder b, String format, Object... args) {
    b.append(String.format(Locale.ROOT, format, args).stripTrailing())
        .append(System.lineSeparator());
  }
}
