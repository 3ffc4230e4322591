package dev.dks.benchmarks.corpus;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.passes.freeze.ConstantsToVariablesPass;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.export.ServingExporter;
import dev.dks.solver.solve.Method;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorProto;

/**
 * Takes one corpus model through what a new user does: {@code dks convert} (read, constants to
 * variables, export; the SavedModel loaded by TensorFlow and its outputs compared with the read
 * graph's on the same random input) and {@code dks rewrite} with the defaults (TAT) and with
 * {@code --method DKS --activation softplus} (the pipeline; a rewritten model must keep every
 * output's dtype and shape and compute finite values on random input); each rewrite that passes
 * is written as {@code dks rewrite} writes it and checked by {@code dks verify} ({@link
 * CorpusVerify}). Errors are recorded, not thrown.
 */
public final class CorpusRunner {
  /** The two rewrites the corpus runs, as the CLI flags would set them. */
  public static final Map<String, RewriteOptions> METHODS = methods();

  /** Largest relative difference between converted and read outputs that counts as equal. */
  public static final double CONVERT_TOLERANCE = 1e-4;

  private static final Set<String> NOT_CONSTRUCTS = Set.of("Const", "Identity", "NoOp");

  private CorpusRunner() {}

  private static Map<String, RewriteOptions> methods() {
    Map<String, RewriteOptions> m = new LinkedHashMap<>();
    m.put("TAT", RewriteOptions.defaults());
    m.put("DKS softplus", RewriteOptions.defaults().withMethod(Method.DKS)
        .withActivation("softplus"));
    return m;
  }

  /** Runs {@code json} (a corpus model.json) through convert and both rewrites. */
  public static CorpusResult run(String name, Path json, Path scratch) {
    return run(name, json, scratch, false);
  }

  /**
   * {@link #run(String, Path, Path)}; with {@code warmTiming}, each rewrite runs a second time
   * right after the first, and that run's CPU time is recorded ({@link CorpusResult.WarmTime}).
   */
  public static CorpusResult run(String name, Path json, Path scratch, boolean warmTiming) {
    return run(name, json, scratch, warmTiming, CorpusVerify.FLAGS);
  }

  /**
   * {@link #run(String, Path, Path, boolean)} with {@code verifyFlags} for {@code dks verify}
   * ({@link CorpusVerify#FLAGS}, or {@link CorpusVerify#DEFAULTS} for a user's verdict).
   */
  public static CorpusResult run(String name, Path json, Path scratch, boolean warmTiming,
      List<String> verifyFlags) {
    long t0 = System.nanoTime();
    ModelReaders.Loaded loaded;
    try {
      loaded = ModelReaders.readDetailed(json);
    } catch (RuntimeException e) {
      CorpusResult.Convert c = new CorpusResult.Convert(false, firstLine(e), ms(t0), 0,
          Double.NaN, List.of());
      return new CorpusResult(name, 0, Map.of(), List.of(), List.of(), c, Map.of());
    }
    double readMs = ms(t0);
    Model model = loaded.model();
    Signature sig = model.signature(Signature.SERVING_DEFAULT);
    Map<String, TensorProto> feeds = Feeds.random(sig, 1);
    List<String> outKeys = new ArrayList<>(sig.outputs().keySet());
    List<TensorProto> reference;
    try (ModelSession s = new ModelSession(model)) {
      reference = Feeds.run(s.session(), byTensor(sig, feeds), fetches(sig, outKeys));
    }
    CorpusResult.Convert convert = convert(model, loaded.warnings(), readMs, feeds, outKeys,
        reference, scratch.resolve(name + "-converted"));
    Map<String, CorpusResult.Rewrite> rewrites = new LinkedHashMap<>();
    METHODS.forEach((label, options) -> {
      Path dir = scratch.resolve(name + "-" + label.replace(' ', '-'));
      try {
        CorpusResult.Rewrite w = rewrite(model, options, feeds, outKeys, reference, dir,
            verifyFlags);
        rewrites.put(label, warmTiming ? withWarmTime(w, model, options) : w);
      } finally {
        deleteTree(dir);
      }
    });
    return new CorpusResult(name, model.graph().getNodeCount(), ops(model), specs(sig.inputs()),
        specs(sig.outputs()), convert, rewrites);
  }

  private static CorpusResult.Convert convert(Model model, List<String> warnings, double readMs,
      Map<String, TensorProto> feeds, List<String> outKeys, List<TensorProto> reference,
      Path dir) {
    long t0 = System.nanoTime();
    try {
      Model m = model;
      try {
        m = Pipeline.builder().add(new ConstantsToVariablesPass()).build().run(model).model();
      } catch (RuntimeException e) {
        // as dks convert: a graph the layer analysis cannot follow keeps its constants
      }
      ServingExporter.export(m, dir);
      double convertMs = ms(t0);
      double worst = 0;
      try (SavedModelBundle b = SavedModelBundle.load(dir.toString(),
          ServingExporter.SERVE_TAG)) {
        SignatureDef sd = b.metaGraphDef().getSignatureDefOrThrow(Signature.SERVING_DEFAULT);
        Map<String, TensorProto> named = new LinkedHashMap<>();
        feeds.forEach((k, v) -> named.put(sd.getInputsOrThrow(k).getName(), v));
        List<String> fetch = outKeys.stream().map(k -> sd.getOutputsOrThrow(k).getName())
            .toList();
        List<TensorProto> got = Feeds.run(b.session(), named, fetch);
        for (int i = 0; i < got.size(); i++) {
          worst = Math.max(worst, Feeds.relativeDifference(got.get(i), reference.get(i)));
        }
      }
      boolean ok = worst <= CONVERT_TOLERANCE;
      return new CorpusResult.Convert(ok, ok ? null : "outputs differ from the read graph's by "
          + worst + " (relative)", readMs, convertMs, worst, warnings);
    } catch (RuntimeException e) {
      return new CorpusResult.Convert(false, firstLine(e), readMs, ms(t0), Double.NaN, warnings);
    } finally {
      deleteTree(dir);
    }
  }

  /** {@code w} with the CPU time of a second run of the same rewrite. */
  private static CorpusResult.Rewrite withWarmTime(CorpusResult.Rewrite w, Model model,
      RewriteOptions options) {
    CorpusResult.WarmTime t = warmTime(model, options);
    return new CorpusResult.Rewrite(w.ok(), w.error(), w.ms(), w.passes(), w.signatureKept(),
        w.finite(), w.verify(), t);
  }

  /**
   * CPU time of one run of the rewrite pipeline on {@code model} (a refusal is timed up to the
   * refusal): the calling thread's, and the whole process's.
   */
  static CorpusResult.WarmTime warmTime(Model model, RewriteOptions options) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long c0 = threads.getCurrentThreadCpuTime();
    long p0 = os.getProcessCpuTime();
    try {
      DksRewrite.pipeline(options).build().run(model);
    } catch (RuntimeException e) {
      // refused as in the first run: timed up to the refusal
    }
    return new CorpusResult.WarmTime((threads.getCurrentThreadCpuTime() - c0) / 1e6,
        (os.getProcessCpuTime() - p0) / 1e6);
  }

  private static CorpusResult.Rewrite rewrite(Model model, RewriteOptions options,
      Map<String, TensorProto> feeds, List<String> outKeys, List<TensorProto> reference,
      Path dir, List<String> verifyFlags) {
    long t0 = System.nanoTime();
    Pipeline.Result r;
    try {
      r = DksRewrite.pipeline(options).build().run(model);
    } catch (RuntimeException e) {
      return new CorpusResult.Rewrite(false, firstLine(e), ms(t0), List.of(), false, false,
          null, CorpusResult.WarmTime.NONE);
    }
    double ms = ms(t0);
    List<String> passes = new ArrayList<>();
    for (PassOutcome o : r.outcomes()) {
      if (o.changes() > 0) {
        passes.add(o.pass() + ": " + o.changes() + (o.notes().isEmpty() ? ""
            : "; " + abbreviate(o.notes().get(0), 140)));
      }
    }
    Signature sig = r.model().signature(Signature.SERVING_DEFAULT);
    if (!sig.outputs().keySet().containsAll(outKeys)) {
      return new CorpusResult.Rewrite(false, "the rewritten signature lacks outputs: has "
          + sig.outputs().keySet() + ", had " + outKeys, ms, passes, false, false, null,
          CorpusResult.WarmTime.NONE);
    }
    List<TensorProto> got;
    try (ModelSession s = new ModelSession(r.model())) {
      got = Feeds.run(s.session(), byTensor(sig, feeds), fetches(sig, outKeys));
    } catch (RuntimeException e) {
      return new CorpusResult.Rewrite(false, "the rewritten model does not run: "
          + firstLine(e), ms, passes, false, false, null, CorpusResult.WarmTime.NONE);
    }
    boolean kept = true;
    boolean finite = true;
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < got.size(); i++) {
      TensorProto a = got.get(i);
      TensorProto b = reference.get(i);
      if (a.getDtype() != b.getDtype() || !a.getTensorShape().equals(b.getTensorShape())) {
        kept = false;
        problems.add("output '" + outKeys.get(i) + "' changed from " + b.getDtype() + " "
            + b.getTensorShape().getDimList().stream().map(d -> d.getSize()).toList() + " to "
            + a.getDtype() + " " + a.getTensorShape().getDimList().stream().map(d -> d.getSize())
            .toList());
      } else if (!Feeds.finite(a)) {
        finite = false;
        problems.add("output '" + outKeys.get(i) + "' is not finite on random input");
      }
    }
    boolean ok = kept && finite;
    CorpusResult.Verify v = ok ? CorpusVerify.run(r, options, dir, verifyFlags) : null;
    return new CorpusResult.Rewrite(ok, ok ? null : String.join("; ", problems), ms, passes,
        kept, finite, v, CorpusResult.WarmTime.NONE);
  }

  private static Map<String, TensorProto> byTensor(Signature sig, Map<String, TensorProto> feeds) {
    Map<String, TensorProto> out = new LinkedHashMap<>();
    feeds.forEach((k, v) -> out.put(sig.inputs().get(k).tensor().toString(), v));
    return out;
  }

  private static List<String> fetches(Signature sig, List<String> keys) {
    return keys.stream().map(k -> sig.outputs().get(k).tensor().toString()).toList();
  }

  private static Map<String, Integer> ops(Model m) {
    Map<String, Integer> count = new LinkedHashMap<>();
    for (NodeDef n : m.graph().getNodeList()) {
      if (!NOT_CONSTRUCTS.contains(n.getOp())) {
        count.merge(n.getOp(), 1, Integer::sum);
      }
    }
    Map<String, Integer> sorted = new LinkedHashMap<>();
    count.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()
        .thenComparing(Map.Entry.comparingByKey())).forEach(e -> sorted.put(e.getKey(),
        e.getValue()));
    return sorted;
  }

  private static List<String> specs(Map<String, TensorSpec> specs) {
    List<String> out = new ArrayList<>();
    specs.forEach((k, s) -> out.add(k + " " + s.dtype().name().replace("DT_", "").toLowerCase()
        + (s.shape() == null ? "[?]" : Arrays.toString(s.shape()).replace(" ", ""))));
    return out;
  }

  private static double ms(long t0) {
    return (System.nanoTime() - t0) / 1e6;
  }

  /** The first line of the error's message (its class name when it has none). */
  static String firstLine(Throwable e) {
    String m = e.getMessage();
    if (m == null || m.isBlank()) {
      return e.getClass().getSimpleName();
    }
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }

  static String abbreviate(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 3) + "...";
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
