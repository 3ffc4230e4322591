package dev.dks.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.savedmodels.SavedModelReader;
import dev.dks.savedmodels.shaping.ShapingMetadataFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.tensorflow.proto.TensorProto;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dks export TRAINED --out DIR}: turns a SavedModel (typically a training one: extra
 * signatures, optimizer and training ops, TF1 or TF2) into a serving SavedModel. The folder is
 * read with {@link SavedModelReader} (tags: {@code --tag}, else the meta graph tagged {@code
 * serve}, else the only one); one signature is kept, {@code serving_default} or the one named by
 * {@code --signature} (a SavedModel with a single signature: that one), and becomes {@code
 * serving_default} with method {@code tensorflow/serving/predict}; the graph is pruned to what
 * that signature computes (training ops, optimizer slots and the other signatures go), and the
 * result is written with {@link dev.dks.savedmodels.export.ServingExporter}, atomically, with
 * the source's shaping record ({@code assets.extra/dks-shaping.json}, see {@link ModelShaping})
 * carried over unchanged.
 */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    sortOptions = false,
    sortSynopsis = false,
    description = "Export a (training) SavedModel as a serving SavedModel: one signature as "
        + "serving_default, pruned to what it computes.",
    footer = {"", "TRAINED is a SavedModel folder; use 'dks convert' for other formats.", "",
        "Examples:",
        "  dks export trained_model --out serving_model",
        "  dks export trained_model --signature predict --out serving_model --json",
        "  dks export trained_model --tag train --signature infer --out serving_model"})
public final class ExportCommand implements Callable<Integer> {
  @Spec private CommandSpec spec;
  @picocli.CommandLine.Mixin private UntrustedFlags untrusted; // --allow-ops (issue 17)

  @Parameters(index = "0", paramLabel = "TRAINED", description = "SavedModel folder.")
  private Path model;

  @Option(names = "--out", required = true, paramLabel = "DIR",
      description = "SavedModel folder to write (must not exist, or be empty).")
  private Path out;

  @Option(names = "--signature", paramLabel = "KEY",
      description = "The signature to serve (default serving_default).")
  private String signature;

  @Option(names = "--tag", paramLabel = "TAG", split = ",",
      description = "Tags of the meta graph to read (default: the one tagged serve, else the "
          + "only one).")
  private List<String> tags = new ArrayList<>();

  @Option(names = "--json", description = "Print one JSON object instead of a summary.")
  private boolean json;

  /** Reads, prunes, writes, prints; returns 0 (errors exit 2 through the error handler). */
  @Override
  public Integer call() {
    ServingOutput.requireWritable(out);
    SavedModelReader.Result r = ModelInput.savedModel(model, untrusted, tags.toArray(String[]::new));
    Model read = r.model();
    Path dir = model.toAbsolutePath().normalize();
    ServingReport report = new ServingReport("export", dir, "saved_model", r.tags(),
        r.warnings(), read);
    Signature chosen = choose(read, dir, r.warnings());
    Signature serving = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
        chosen.inputs(), chosen.outputs());

    GraphView g = GraphView.of(read.graph());
    Set<String> roots = new LinkedHashSet<>();
    chosen.inputs().values().forEach(t -> roots.add(t.tensor().node()));
    chosen.outputs().values().forEach(t -> roots.add(t.tensor().node()));
    int removed = g.prune(roots);
    Map<String, TensorProto> vars = new LinkedHashMap<>();
    read.variables().forEach((k, v) -> {
      if (g.contains(k)) {
        vars.put(k, v);
      }
    });
    Model pruned = new Model(g.toGraphDef(), vars, List.of(serving));

    List<String> dropped = read.signatures().stream().map(Signature::key)
        .filter(k -> !k.equals(chosen.key())).toList();
    Map<String, Integer> droppedOps = new TreeMap<>(ServingReport.ops(read));
    ServingReport.ops(pruned).forEach((op, n) -> droppedOps.merge(op, -n, Integer::sum));
    droppedOps.values().removeIf(n -> n <= 0);

    report.step("serving_default <- signature '" + chosen.key() + "'"
        + (chosen.methodName().equals(Signature.PREDICT_METHOD) ? ""
            : " (method " + chosen.methodName() + " replaced by " + Signature.PREDICT_METHOD
                + ")"));
    report.step("dropped signatures: " + (dropped.isEmpty() ? "none" : dropped));
    int prunedVars = read.variables().size() - vars.size();
    report.step("pruned: " + removed + " node" + (removed == 1 ? "" : "s") + " and " + prunedVars
        + " variable" + (prunedVars == 1 ? "" : "s") + " removed" + (droppedOps.isEmpty() ? ""
            : "; ops removed: " + droppedOps));
    ObjectNode x = report.extra();
    x.put("source_signature", chosen.key());
    x.put("source_method_name", chosen.methodName());
    ArrayNode ds = x.putArray("dropped_signatures");
    dropped.forEach(ds::add);
    x.put("pruned_nodes", removed);
    x.put("pruned_variables", prunedVars);
    ObjectNode ops = x.putObject("dropped_ops");
    droppedOps.forEach(ops::put);

    Map<String, byte[]> shaping = ModelShaping.carried(dir);
    ModelShaping.read(dir).ifPresentOrElse(
        s -> report.step("shaping record carried over: " + s.summary()),
        () -> x.putNull("shaping_record"));
    report.written(ServingOutput.export(pruned, out, shaping, untrusted));
    if (!shaping.isEmpty()) {
      x.put("shaping_record", ShapingMetadataFiles.find(out).orElseThrow().toString());
    }
    PrintWriter w = spec.commandLine().getOut();
    w.print(json ? Json.write(report.json()) : report.text());
    w.flush();
    return 0;
  }

  /** The signature to serve (see the class comment). */
  private Signature choose(Model m, Path dir, List<String> readerWarnings) {
    List<String> keys = m.signatures().stream().map(Signature::key).toList();
    String want = signature != null ? signature : Signature.SERVING_DEFAULT;
    for (Signature s : m.signatures()) {
      if (s.key().equals(want)) {
        return s;
      }
    }
    if (signature == null && m.signatures().size() == 1) {
      return m.signatures().get(0);
    }
    String why = readerWarnings.stream().filter(w -> w.startsWith("signature '" + want + "'"))
        .findFirst().map(w -> " (" + w + ")").orElse("");
    if (signature == null) {
      throw new IllegalArgumentException(dir + " has no usable serving_default signature" + why
          + ": choose one with --signature KEY from " + keys);
    }
    throw new IllegalArgumentException(dir + " has no usable signature '" + signature + "'"
        + why + "; it has " + keys);
  }
}
