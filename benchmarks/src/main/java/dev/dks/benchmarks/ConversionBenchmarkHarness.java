package dev.dks.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.passes.freeze.ConstantsToVariablesPass;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.assets.SharedAssets;
import dev.dks.savedmodels.export.ServingExporter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Conversion cost of the largest real models (issue 4, performance: converting a model should take
 * at most 2x the time TensorFlow itself takes to load the same SavedModel), measured side by side
 * in one process, rounds interleaved so that every quantity sees the same machine load:
 *
 * <ul>
 *   <li><b>TF load</b>: {@code SavedModelBundle.load} of the source (SavedModel sources only; the
 *       other formats have no TensorFlow loader);
 *   <li><b>read</b>: {@code ModelReaders.read} (our reader, with its pipeline and verifiers);
 *   <li><b>c2v</b>: only for graphs whose weights are float constants (TF.js graph models, frozen
 *       graphs), the {@code constants-to-variables} pass that {@code dks convert} runs before
 *       exporting so that the weights go to the checkpoint, not into {@code saved_model.pb};
 *   <li><b>export</b>: {@code ServingExporter.export} of that model into a new temp folder;
 *   <li><b>convert</b> = read + c2v + export of the same round (what {@code dks convert} does);
 *   <li><b>TF import</b>: {@code Graph.importGraphDef} of the read model's GraphDef into a fresh
 *       graph (the reference for readers of formats TF cannot load);
 *   <li><b>TF load (out)</b>: {@code SavedModelBundle.load} of the exported folder, i.e. TF's own
 *       load time of the SavedModel the conversion produced.
 * </ul>
 *
 * Times are medians of the measured rounds after warm-up rounds (wall ms, and process CPU ms of all
 * threads, which TensorFlow's own pools use too). Ratios: convert / TF load of the source
 * SavedModel (the goal, within 2x), else convert / TF load of the exported SavedModel; read / TF
 * import.
 *
 * <p>Memory, in one extra round per phase after the timing rounds: <b>heap retained</b> = heap used
 * ({@code MemoryMXBean}) after a full GC with the phase's result alive, minus the same before the
 * phase; <b>heap peak</b> = sum of the heap pools' peak usage during the phase (an upper bound:
 * pools peak at different moments); <b>RSS peak</b> = {@code VmHWM} of {@code /proc/self/status}
 * after resetting it through {@code /proc/self/clear_refs} (process-wide: JVM, heap and TensorFlow
 * native memory), and its rise over the RSS before the phase. Where the reset is not allowed the
 * peak is the process's since start (marked).
 *
 * <p>Usage: {@code ConversionBenchmarkHarness [--runs N] [--warmup N] [--model LABEL=PATH]...
 * [--json FILE]}, by default 9 measured rounds after 3 warm-up rounds on these models (in
 * {@code ../shared/models} and {@code data-cache}, located by {@link SharedAssets}): the Teachable
 * Machine MobileNetV2 SavedModel, the nsfwjs MobileNetV2 TF.js graph and layers models, the MLPerf
 * Tiny Keras ResNet-8 HDF5. A missing model is reported and skipped.
 */
public final class ConversionBenchmarkHarness {
  private ConversionBenchmarkHarness() {}

  /**
   * The default models: label and path, found through {@link SharedAssets} (the shared models
   * folder {@code ../shared/models} and the checkout's {@code data-cache}).
   */
  static final List<String[]> DEFAULT_MODELS = List.of(
      shared("tm_mobilenetv2_035 (SavedModel)", "tm_mobilenetv2_035_tf115"),
      dataCache("nsfwjs mobilenet_v2_mid (TF.js graph)",
          "nsfwjs-4.4.0/mobilenet_v2_mid/model.json"),
      dataCache("nsfwjs mobilenet_v2 (Keras layers)", "nsfwjs-4.4.0/mobilenet_v2/model.json"),
      shared("mlperftiny resnet8 (Keras HDF5)",
          "keras_h5_mlperftiny_resnet8/pretrainedResnet.h5"));

  private static String[] shared(String label, String relative) {
    return new String[] {label, SharedAssets.sharedModelsDir().resolve(relative).toString()};
  }

  private static String[] dataCache(String label, String relative) {
    return new String[] {label, SharedAssets.dataCacheDir().resolve(relative).toString()};
  }

  /** Repeated measurements of one quantity: wall and process-CPU milliseconds. */
  static final class Times extends HarnessSupport.Times {
    Map<String, Object> json() {
      return Map.of("wallMs", wall, "processCpuMs", cpu, "medianWallMs", wall(),
          "medianProcessCpuMs", cpu());
    }
  }

  /** Memory of one phase, MB. */
  record Mem(double heapRetainedMb, double heapPeakMb, double rssPeakMb, double rssRiseMb,
      boolean rssReset) {}

  /** The measurements of one model. */
  static final class Row {
    final String label;
    final Path path;
    ModelReaders.Format format;
    String[] tags;
    long sourceBytes;
    int nodes;
    int variables;
    long parameters;
    long exportedPbBytes;
    long exportedBytes;
    int rounds;
    final Times tfLoad = new Times();
    final Times read = new Times();
    final Times c2v = new Times();
    final Times export = new Times();
    final Times convert = new Times();
    final Times tfImport = new Times();
    final Times tfLoadOut = new Times();
    final Map<String, Mem> mem = new LinkedHashMap<>();
    String error;

    Row(String label, Path path) {
      this.label = label;
      this.path = path;
    }

    boolean savedModel() {
      return format == ModelReaders.Format.SAVED_MODEL;
    }

    /** The goal's reference: TF's load of the source SavedModel, else of the exported one. */
    double reference() {
      return savedModel() ? tfLoad.wall() : tfLoadOut.wall();
    }
  }

  /** Runs the benchmark (see the class comment for the options). */
  public static void main(String[] args) throws IOException {
    int runs = 9;
    int warmup = 3;
    List<String[]> models = new ArrayList<>();
    Path json = Path.of("benchmarks/target/conversion-benchmark.json");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        case "--model" -> {
          String spec = args[++i];
          int eq = spec.indexOf('=');
          models.add(eq < 0 ? new String[] {spec, spec}
              : new String[] {spec.substring(0, eq), spec.substring(eq + 1)});
        }
        case "--json" -> json = Path.of(args[++i]);
        case "-h", "--help" -> {
          System.out.println("usage: ConversionBenchmarkHarness [--runs N] [--warmup N] "
              + "[--model LABEL=PATH]... [--json FILE]");
          return;
        }
        default -> throw new IllegalArgumentException("unknown argument '" + args[i]
            + "' (--help lists the options)");
      }
    }
    if (models.isEmpty()) {
      models.addAll(DEFAULT_MODELS);
    }
    PrintStream out = System.out;
    long start = System.nanoTime();
    HarnessSupport.printEnvironment(out);
    out.printf(Locale.ROOT, "rounds: %d warm-up + %d measured per model (medians); memory in "
        + "one extra round per phase%n", warmup, runs);
    Path work = Files.createTempDirectory("dks-conversion-bench-");
    List<Row> rows = new ArrayList<>();
    try {
      for (String[] m : models) {
        Row r = new Row(m[0], Path.of(m[1]).toAbsolutePath().normalize());
        rows.add(r);
        try {
          measure(r, warmup, runs, work);
          memory(r, work);
          out.printf(Locale.ROOT, "  %-38s %s, %d nodes, %d variables: TF load %s, read %.0f, "
                  + "c2v %s, export %.0f, convert %.0f, TF import %.0f, TF load (out) %.0f ms%n",
              r.label, r.format.label(), r.nodes, r.variables,
              r.savedModel() ? String.format(Locale.ROOT, "%.0f", r.tfLoad.wall()) : "-",
              r.read.wall(), r.c2v.wall.isEmpty() ? "-"
                  : String.format(Locale.ROOT, "%.0f", r.c2v.wall()),
              r.export.wall(), r.convert.wall(), r.tfImport.wall(),
              r.tfLoadOut.wall());
        } catch (RuntimeException | OutOfMemoryError e) {
          r.error = e.getClass().getSimpleName() + ": "
              + HarnessSupport.firstLine(e.getMessage(), 200);
          out.printf(Locale.ROOT, "  %-38s FAILED: %s%n", r.label, r.error);
        }
      }
    } finally {
      deleteTree(work);
    }
    out.println();
    printTimes(rows, out);
    out.println();
    printMemory(rows, out);
    HarnessSupport.finish(out, start, json, jsonRows(rows));
  }

  // ---------------------------------------------------------------- timing

  private static void measure(Row r, int warmup, int runs, Path work) throws IOException {
    if (!Files.exists(r.path)) {
      throw new IllegalStateException(r.path + " is missing (scripts/fetch-assets.sh fetches the"
          + " nsfwjs models; ../shared/models holds the others)");
    }
    r.format = ModelReaders.formatOf(r.path);
    r.sourceBytes = sizeOf(r.format == ModelReaders.Format.SAVED_MODEL
        || r.format == ModelReaders.Format.KERAS_H5 || r.format == ModelReaders.Format.FROZEN_GRAPH
        ? r.path : r.path.getParent());
    if (r.savedModel()) {
      r.tags = serveTags(r.path);
    }
    for (int i = 0; i < warmup + runs; i++) {
      boolean keep = i >= warmup;
      System.gc();
      if (r.savedModel()) {
        long[] t = start();
        SavedModelBundle b = SavedModelBundle.load(r.path.toString(), r.tags);
        add(keep ? r.tfLoad : null, t);
        b.close();
      }
      long[] t = start();
      Model m = ModelReaders.read(r.path);
      double[] read = add(keep ? r.read : null, t);
      try (Graph g = new Graph()) {
        t = start();
        g.importGraphDef(m.graph());
        add(keep ? r.tfImport : null, t);
      }
      double[] c2v = {0, 0};
      if (hasFloatConstants(m)) {
        t = start();
        m = constantsToVariables(m);
        c2v = add(keep ? r.c2v : null, t);
      }

      Path out = work.resolve("export-" + i);
      t = start();
      ServingExporter.export(m, out);
      double[] export = add(keep ? r.export : null, t);
      if (keep) {
        r.convert.wall.add(read[0] + c2v[0] + export[0]);
        r.convert.cpu.add(read[1] + c2v[1] + export[1]);
      }

      t = start();
      SavedModelBundle b = SavedModelBundle.load(out.toString(), ServingExporter.SERVE_TAG);
      add(keep ? r.tfLoadOut : null, t);
      b.close();

      if (i == 0) {
        r.nodes = m.graph().getNodeCount();
        r.variables = m.variables().size();
        r.parameters = m.variables().values().stream()
            .mapToLong(ConversionBenchmarkHarness::elements).sum();
        r.exportedPbBytes = Files.size(out.resolve("saved_model.pb"));
        r.exportedBytes = sizeOf(out);
      }
      deleteTree(out);
      if (keep) {
        r.rounds++;
      }
    }
  }

  private static long[] start() {
    return new long[] {System.nanoTime(), processCpuNanos()};
  }

  /** Records the time since {@code t} into {@code into} (if not null); returns wall, CPU ms. */
  private static double[] add(Times into, long[] t) {
    double wall = (System.nanoTime() - t[0]) / 1e6;
    double cpu = (processCpuNanos() - t[1]) / 1e6;
    if (into != null) {
      into.wall.add(wall);
      into.cpu.add(cpu);
    }
    return new double[] {wall, cpu};
  }

  private static long processCpuNanos() {
    java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime();
    }
    return 0;
  }

  /** The tag set TensorFlow loads for serving: the meta graph tagged serve, else the only one. */
  private static String[] serveTags(Path dir) throws IOException {
    SavedModel sm = SavedModel.parseFrom(Files.readAllBytes(dir.resolve("saved_model.pb")));
    for (MetaGraphDef m : sm.getMetaGraphsList()) {
      if (m.getMetaInfoDef().getTagsList().contains(ServingExporter.SERVE_TAG)) {
        return m.getMetaInfoDef().getTagsList().toArray(String[]::new);
      }
    }
    return sm.getMetaGraphs(0).getMetaInfoDef().getTagsList().toArray(String[]::new);
  }

  /** As {@code dks convert}: any float32 Const makes it try the constants-to-variables pass. */
  static boolean hasFloatConstants(Model m) {
    for (NodeDef n : m.graph().getNodeList()) {
      if (n.getOp().equals("Const") && n.containsAttr("value")
          && n.getAttrOrThrow("value").getTensor().getDtype() == DataType.DT_FLOAT) {
        return true;
      }
    }
    return false;
  }

  static Model constantsToVariables(Model m) {
    return Pipeline.builder().add(new ConstantsToVariablesPass()).build().run(m).model();
  }

  // ---------------------------------------------------------------- memory

  private static void memory(Row r, Path work) {
    if (r.savedModel()) {
      r.mem.put("TF load", phase(() -> SavedModelBundle.load(r.path.toString(), r.tags)));
    }
    Model[] model = new Model[1];
    r.mem.put("read", phase(() -> model[0] = ModelReaders.read(r.path)));
    if (hasFloatConstants(model[0])) {
      model[0] = constantsToVariables(model[0]);
    }
    Path out = work.resolve("export-memory");
    r.mem.put("export", phase(() -> {
      ServingExporter.export(model[0], out);
      return null;
    }));
    model[0] = null;
    r.mem.put("TF load (out)", phase(() -> SavedModelBundle.load(out.toString(),
        ServingExporter.SERVE_TAG)));
    deleteTree(out);
    // convert: read and export in one phase, nothing kept
    Path out2 = work.resolve("convert-memory");
    r.mem.put("convert", phase(() -> {
      Model m = ModelReaders.read(r.path);
      ServingExporter.export(hasFloatConstants(m) ? constantsToVariables(m) : m, out2);
      return null;
    }));
    deleteTree(out2);
  }

  /** Runs {@code op} once and measures its memory (see the class comment). */
  private static Mem phase(Supplier<Object> op) {
    fullGc();
    long heap0 = heapUsed();
    List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans().stream()
        .filter(p -> p.getType() == MemoryType.HEAP).toList();
    pools.forEach(MemoryPoolMXBean::resetPeakUsage);
    boolean reset = resetPeakRss();
    long rss0 = procStatusKb("VmRSS");
    Object result = op.get();
    long hwm = procStatusKb("VmHWM");
    long heapPeak = pools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    fullGc();
    long retained = heapUsed() - heap0;
    if (result instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    return new Mem(retained / 1048576.0, heapPeak / 1048576.0, hwm / 1024.0, (hwm - rss0) / 1024.0,
        reset);
  }

  private static void fullGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
  }

  private static long heapUsed() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Resets VmHWM to the current RSS (Linux: "5" into /proc/self/clear_refs). */
  private static boolean resetPeakRss() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static long procStatusKb(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key + ":")) {
          return Long.parseLong(line.substring(key.length() + 1).replace("kB", "").trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  // ---------------------------------------------------------------- output

  private static void printTimes(List<Row> rows, PrintStream out) {
    out.println("Time, median wall ms (process CPU ms in brackets); convert = read + c2v + "
        + "export; goal: convert <= 2x TF load");
    String fmt = "%-38s %-18s %5s %8s | %11s %11s %9s %11s %11s | %10s %12s | %8s %6s %4s%n";
    String head = String.format(Locale.ROOT, fmt, "model", "format", "nodes", "params",
        "TF load", "read", "c2v", "export", "convert", "TF import", "TF load(out)", "convert/",
        "read/", "<=2x");
    out.print(head);
    out.printf(Locale.ROOT, fmt, "", "", "", "", "(source)", "", "", "", "", "(GraphDef)",
        "(exported)", "TF load", "TF imp", "");
    out.println("-".repeat(head.length() - 1));
    for (Row r : rows) {
      if (r.error != null) {
        out.printf(Locale.ROOT, "%-38s %s%n", r.label, r.error);
        continue;
      }
      double ratio = r.convert.wall() / r.reference();
      out.printf(Locale.ROOT, fmt, r.label, r.format.label(), r.nodes, r.parameters,
          r.savedModel() ? t(r.tfLoad) : "-", t(r.read), r.c2v.wall.isEmpty() ? "-" : t(r.c2v),
          t(r.export), t(r.convert), t(r.tfImport),
          t(r.tfLoadOut), String.format(Locale.ROOT, "%.2f%s", ratio, r.savedModel() ? "" : "*"),
          String.format(Locale.ROOT, "%.1f", r.read.wall() / r.tfImport.wall()),
          ratio <= 2 ? "yes" : "NO");
    }
    out.println("* no TensorFlow loader for this format: convert / TF load of the exported "
        + "SavedModel");
    for (Row r : rows) {
      if (r.error == null) {
        out.printf(Locale.ROOT, "  %-38s source %s, exported %s (saved_model.pb %s), %d "
                + "variables, %d rounds%n", r.label, mb(r.sourceBytes), mb(r.exportedBytes),
            mb(r.exportedPbBytes), r.variables, r.rounds);
      }
    }
  }

  private static void printMemory(List<Row> rows, PrintStream out) {
    out.println("Memory per phase, MB: heap retained after GC (MemoryMXBean) / heap peak (sum of "
        + "pool peaks) / RSS peak (VmHWM, process-wide) / RSS rise over the phase's start");
    List<String> phases = List.of("TF load", "read", "export", "convert", "TF load (out)");
    String fmt = "%-38s" + " | %-25s".repeat(phases.size()) + "%n";
    Object[] head = new Object[phases.size() + 1];
    head[0] = "model";
    for (int i = 0; i < phases.size(); i++) {
      head[i + 1] = phases.get(i);
    }
    String h = String.format(Locale.ROOT, fmt, head);
    out.print(h);
    out.println("-".repeat(h.length() - 1));
    boolean anyUnreset = false;
    for (Row r : rows) {
      if (r.error != null) {
        continue;
      }
      Object[] cells = new Object[phases.size() + 1];
      cells[0] = r.label;
      for (int i = 0; i < phases.size(); i++) {
        Mem m = r.mem.get(phases.get(i));
        cells[i + 1] = m == null ? "-" : String.format(Locale.ROOT, "%.0f / %.0f / %.0f / %+.0f%s",
            m.heapRetainedMb(), m.heapPeakMb(), m.rssPeakMb(), m.rssRiseMb(),
            m.rssReset() ? "" : "!");
        anyUnreset |= m != null && !m.rssReset();
      }
      out.printf(Locale.ROOT, fmt, cells);
    }
    if (anyUnreset) {
      out.println("! VmHWM could not be reset: the peak is the process's since start");
    }
  }

  private static String t(Times t) {
    return String.format(Locale.ROOT, "%.0f (%.0f)", t.wall(), t.cpu());
  }

  private static String mb(long bytes) {
    return bytes < 1 << 20 ? String.format(Locale.ROOT, "%.0f kB", bytes / 1024.0)
        : String.format(Locale.ROOT, "%.1f MB", bytes / 1048576.0);
  }

  private static List<Map<String, Object>> jsonRows(List<Row> rows) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("model", r.label);
      m.put("path", r.path.toString());
      m.put("error", r.error);
      if (r.error == null) {
        m.put("format", r.format.label());
        m.put("nodes", r.nodes);
        m.put("variables", r.variables);
        m.put("parameters", r.parameters);
        m.put("sourceBytes", r.sourceBytes);
        m.put("exportedBytes", r.exportedBytes);
        m.put("exportedSavedModelPbBytes", r.exportedPbBytes);
        m.put("rounds", r.rounds);
        if (r.savedModel()) {
          m.put("tfLoad", r.tfLoad.json());
        }
        m.put("read", r.read.json());
        if (!r.c2v.wall.isEmpty()) {
          m.put("constantsToVariables", r.c2v.json());
        }
        m.put("export", r.export.json());
        m.put("convert", r.convert.json());
        m.put("tfImportGraphDef", r.tfImport.json());
        m.put("tfLoadExported", r.tfLoadOut.json());
        m.put("convertOverReference", r.convert.wall() / r.reference());
        m.put("reference", r.savedModel() ? "tfLoad" : "tfLoadExported");
        m.put("memoryMb", r.mem);
      }
      out.add(m);
    }
    return out;
  }

  // ---------------------------------------------------------------- helpers

  private static long elements(TensorProto t) {
    long n = 1;
    for (TensorShapeProto.Dim d : t.getTensorShape().getDimList()) {
      n *= d.getSize();
    }
    return n;
  }

  private static long sizeOf(Path p) {
    try (Stream<Path> s = Files.walk(p)) {
      return s.filter(Files::isRegularFile).mapToLong(f -> {
        try {
          return Files.size(f);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }).sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
