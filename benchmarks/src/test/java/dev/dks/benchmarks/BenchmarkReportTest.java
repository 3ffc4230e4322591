package dev.dks.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds BenchmarkReport canned JSON lines of every suite (the shapes the harnesses write) and
 * checks the Markdown tables: the numbers in the cells are the JSON's, rounded as {@link
 * BenchmarkReport#num} says; a failed suite gets its section and the others still get tables.
 */
class BenchmarkReportTest {
  static final String SOLVER = "[{\"benchmark\":\"dev.dks.benchmarks.SolverBenchmark.dks\","
      + "\"params\":{\"activation\":\"tanh\"},\"primaryMetric\":{\"score\":412.5,"
      + "\"scoreError\":3.25,\"scoreUnit\":\"us/op\"}},"
      + "{\"benchmark\":\"dev.dks.benchmarks.SolverBenchmark.tat\","
      + "\"params\":{\"activation\":\"tanh\"},\"primaryMetric\":{\"score\":1.25,"
      + "\"scoreError\":\"NaN\",\"scoreUnit\":\"ms/op\"}},"
      + "{\"benchmark\":\"dev.dks.benchmarks.SolverBenchmark.dks\","
      + "\"params\":{\"activation\":\"relu\"},\"primaryMetric\":{\"score\":2500000,"
      + "\"scoreError\":1000,\"scoreUnit\":\"ns/op\"}},"
      + "{\"benchmark\":\"dev.dks.benchmarks.SolverBenchmark.tatLeakyReluResnet101V2\","
      + "\"params\":{\"shortcutWeight\":\"0.0\"},\"primaryMetric\":{\"score\":880.5,"
      + "\"scoreError\":12.5,\"scoreUnit\":\"us/op\"}}]";

  static final String REWRITE = "{\"cores\":2,\"java\":\"17\",\"tensorflow\":\"2.18.0\","
      + "\"results\":[{\"family\":\"chain\",\"graph\":\"residual chain 1k\",\"nodes\":1000,"
      + "\"rounds\":5,\"error\":null,"
      + "\"full\":{\"wallMs\":[30.0,10.0,20.0],\"cpuMs\":[1,1,1]},"
      + "\"noTf\":{\"wallMs\":[5.0,6.0],\"cpuMs\":[1,1]},"
      + "\"import\":{\"wallMs\":[4.0],\"cpuMs\":[1]}},"
      + "{\"family\":\"resnet\",\"graph\":\"ResNet-50\",\"nodes\":0,\"rounds\":0,"
      + "\"error\":\"out of memory\",\"full\":{\"wallMs\":[],\"cpuMs\":[]}}]}";

  static final String CONVERSION = "{\"tensorflow\":\"2.18.0\",\"results\":["
      + "{\"model\":\"teachable mobilenet\",\"error\":null,\"format\":\"SavedModel\","
      + "\"nodes\":812,\"tfLoad\":{\"medianWallMs\":250.5},\"convert\":{\"medianWallMs\":375.75},"
      + "\"tfLoadExported\":{\"medianWallMs\":240.0},\"convertOverReference\":1.5,"
      + "\"reference\":\"tfLoad\"},"
      + "{\"model\":\"resnet8\",\"error\":null,\"format\":\"Keras HDF5\",\"nodes\":120,"
      + "\"convert\":{\"medianWallMs\":55.5},\"tfLoadExported\":{\"medianWallMs\":22.2},"
      + "\"convertOverReference\":2.5,\"reference\":\"tfLoadExported\"}]}";

  /** The training harness's stdout JSON line: one object, no wrapper. */
  static final String TRAINING = "{\"network\":\"plain-cnn-50, width 64\",\"batch\":16,"
      + "\"steps\":6,\"javaStepMs\":712.25,\"rawStepMs\":711.5,\"tfSpanMs\":700.75,"
      + "\"overheadVsSpan\":0.0164,\"overheadVsRaw\":0.0011,\"gflopsJava\":190.5,"
      + "\"matmulGflopsBest\":254.0}";

  static final String KFAC = "[{\"variant\":\"SGD (Nesterov)\",\"schedule\":\"nesterov 0.9\","
      + "\"plainMs\":2601.0,\"statsMs\":null,\"inverseMs\":null,\"amortizedMs\":2601.0,"
      + "\"ratioToSgd\":1.0,\"network\":\"plain-cnn-50, width 16\",\"batch\":32,\"rounds\":3},"
      + "{\"variant\":\"K-FAC TAT recipe\",\"schedule\":\"stats/1 inv/50 expand\","
      + "\"plainMs\":null,\"statsMs\":13486.0,\"inverseMs\":14380.0,\"amortizedMs\":13504.0,"
      + "\"ratioToSgd\":5.1918,\"network\":\"plain-cnn-50, width 16\",\"batch\":32,"
      + "\"rounds\":3},"
      + "{\"variant\":\"K-FAC recipe, A from 3d rows\",\"schedule\":\"stats/1 inv/50 expand\","
      + "\"plainMs\":null,\"statsMs\":3600.0,\"inverseMs\":4100.0,\"amortizedMs\":3610.0,"
      + "\"ratioToSgd\":1.3879,\"network\":\"plain-cnn-50, width 16\",\"batch\":32,"
      + "\"rounds\":3}]";

  static final String CONVERGENCE = "[{\"run\":\"kfac\",\"steps\":30,\"trainLossLast20\":1.125,"
      + "\"testAccuracy\":0.7125,\"testLoss\":0.875,\"stepsPerSecond\":0.45,"
      + "\"wallSeconds\":66.5,\"lossAtEqualWall\":1.25,\"equalWallSeconds\":20.5,"
      + "\"diverged\":null,\"batch\":32},"
      + "{\"run\":\"sgd\",\"steps\":12,\"trainLossLast20\":2.25,\"testAccuracy\":null,"
      + "\"testLoss\":null,\"stepsPerSecond\":1.5,\"wallSeconds\":20.5,"
      + "\"lossAtEqualWall\":2.5,\"equalWallSeconds\":20.5,"
      + "\"diverged\":\"step 12: loss NaN\",\"batch\":32}]";

  static BenchmarkReport.Suite ok(String id, String line) {
    return new BenchmarkReport.Suite(id, true, 0, 12.0, "benchmarks/run-" + id + ".sh",
        BenchmarkReport.parse(line), "", null);
  }

  static final BenchmarkReport.Machine MACHINE = new BenchmarkReport.Machine("Test CPU @ 2GHz",
      2, "23.4 GiB", "Debian 12", "OpenJDK 17", "2.18.0 (TensorFlow Java 1.1.0)", "0.5 0.4 0.3");

  /** The rows of the Markdown table under the heading {@code title}, split into cells. */
  static List<List<String>> tableUnder(String md, String title) {
    int at = md.indexOf("## " + title + "\n");
    assertTrue(at >= 0, "no section " + title);
    List<List<String>> rows = new ArrayList<>();
    boolean inTable = false;
    for (String line : md.substring(at).split("\n")) {
      if (line.startsWith("|")) {
        inTable = true;
        String inner = line.substring(1, line.length() - 1);
        List<String> cells = new ArrayList<>();
        for (String c : inner.split("(?<!\\\\)\\|")) {
          cells.add(c.trim());
        }
        rows.add(cells);
      } else if (inTable) {
        break;
      }
    }
    assertTrue(rows.size() >= 2, "no table under " + title);
    return rows.subList(2, rows.size()); // without header and alignment line
  }

  static String f(String fmt, double v) {
    return String.format(Locale.ROOT, fmt, v);
  }

  @Test
  void tablesHoldTheJsonNumbers() {
    String md = BenchmarkReport.render(MACHINE, "2026-11-27 13:00 UTC", "quick",
        "benchmarks/run-all-benchmarks.sh --quick", List.of(ok("solver", SOLVER),
            ok("rewrite", REWRITE), ok("conversion", CONVERSION), ok("training", TRAINING),
            ok("kfac", KFAC), ok("convergence", CONVERGENCE)));

    assertTrue(md.contains("| CPU | Test CPU @ 2GHz |"), md);
    assertTrue(md.contains("| memory | 23.4 GiB |"));
    assertTrue(md.contains("| TensorFlow | 2.18.0 (TensorFlow Java 1.1.0) |"));
    assertTrue(md.contains("2026-11-27 13:00 UTC"));
    assertTrue(md.contains("**Quick run**"));

    // solver: µs whatever JMH's unit; TAT/DKS = 1250 / 412.5
    List<List<String>> solver = tableUnder(md, "Solver time per activation");
    assertEquals(List.of("tanh (chain 50)", "412.5 ± 3.25", "1250", f("%.2fx", 1250 / 412.5),
        "yes", "yes"), solver.get(0));
    assertEquals(List.of("relu (chain 50)", "2500 ± 1.00", "-", "-", "**no**", "-"),
        solver.get(1));
    assertEquals(List.of("leaky_relu (ResNet-101 v2, w=0.0)", "-", "880.5 ± 12.50", "-", "-",
        "yes"), solver.get(2));

    // rewrite: medians of the JSON's rounds (20, 5.5, 4), ratios of those medians
    List<List<String>> rewrite = tableUnder(md, "Rewrite time vs graph size");
    assertEquals(List.of("chain", "residual chain 1k", "1000", "20.00", "20.00", "5.50", "4.00",
        "5.00x", "1.38x", "5"), rewrite.get(0));
    assertEquals("out of memory", rewrite.get(1).get(9));

    List<List<String>> conversion = tableUnder(md, "Conversion vs TF load");
    assertEquals(List.of("teachable mobilenet", "SavedModel", "812", "375.8", "250.5", "source",
        "1.50x", "yes"), conversion.get(0));
    assertEquals(List.of("resnet8", "Keras HDF5", "120", "55.50", "22.20", "exported", "2.50x",
        "**no**"), conversion.get(1));

    List<List<String>> training = tableUnder(md, "Training overhead vs TF kernel time");
    assertEquals(List.of("plain-cnn-50, width 64", "16", "6", "712.3", "700.8", "711.5",
        "1.64%", "0.11%", "190.5", "254.0", f("%.2fx", 190.5 / 254.0)), training.get(0));

    List<List<String>> kfac = tableUnder(md, "K-FAC vs SGD step time");
    assertEquals(List.of("SGD (Nesterov)", "nesterov 0.9", "2601", "1.00x", "2601", "-", "-"),
        kfac.get(0));
    assertEquals(List.of("K-FAC TAT recipe", "stats/1 inv/50 expand", "13504", "5.19x", "-",
        "13486", "14380"), kfac.get(1));

    List<List<String>> conv = tableUnder(md, "Convergence: K-FAC vs SGD (headline)");
    assertEquals(List.of("kfac", "30", "1.13", "0.713", "0.875", "0.450", "66.50", "1.25",
        "ok"), conv.get(0));
    assertEquals(List.of("sgd", "12", "2.25", "-", "-", "1.50", "20.50", "2.50",
        "**diverged** step 12: loss NaN"), conv.get(1));

    // the summary has every suite with its headline
    List<List<String>> summary = tableUnder(md, "Summary");
    assertEquals(7, summary.size());
    assertEquals(List.of("all 6 suites", "ok", "72", "time of the suites in sequence, build not "
        + "included"), summary.get(6));
    assertEquals("3 of 4 solves under 2 ms; slowest 2500 µs", summary.get(0).get(3));
    assertEquals("full rewrite / TF import 5.00x to 5.00x (residual chain 1k)",
        summary.get(1).get(3));
    assertEquals("convert / TF load at most 2.50x (resnet8)", summary.get(2).get(3));
    assertEquals("K-FAC TAT recipe 5.19x SGD step time; K-FAC recipe, A from 3d rows 1.39x",
        summary.get(4).get(3));
    assertEquals("best test accuracy 0.713 (kfac)", summary.get(5).get(3));
  }

  static final String VERIFY = "{\"cores\":2,\"results\":[{\"model\":\"resnet50\","
      + "\"xmx\":\"1g\",\"exit\":0,\"wallSeconds\":44.25,\"cpuSeconds\":13.43,"
      + "\"maxRssMb\":974,\"peakHeapMb\":368,\"loadBefore\":1.5,\"loadAfter\":2.25,"
      + "\"passed\":true,\"maxCError\":0.0595,\"reason\":null,\"structureDepth\":49},"
      + "{\"model\":\"mnv2\",\"xmx\":\"1g\",\"exit\":1,\"wallSeconds\":61.5,"
      + "\"cpuSeconds\":7.36,\"maxRssMb\":695,\"peakHeapMb\":155,\"loadBefore\":19.5,"
      + "\"loadAfter\":22.0,\"passed\":false,\"maxCError\":0.2337,\"reason\":\"c\","
      + "\"structureDepth\":36},"
      + "{\"model\":\"big\",\"xmx\":\"2g\",\"exit\":3,\"wallSeconds\":5.0,"
      + "\"cpuSeconds\":4.0,\"maxRssMb\":1200,\"peakHeapMb\":null,\"loadBefore\":1,"
      + "\"loadAfter\":1,\"passed\":null},"
      + "{\"model\":\"gone\",\"skipped\":\"skip gone: x is missing\"}]}";

  @Test
  void verifyTableHoldsTheJsonNumbers() {
    String md = BenchmarkReport.render(MACHINE, "d", "full", "benchmarks/run-all-benchmarks.sh",
        List.of(ok("verify", VERIFY)));
    List<List<String>> t = tableUnder(md, "Kernel check (dks verify) at ImageNet shapes");
    assertEquals(List.of("resnet50", "49", "pass", "44.25", "13.43", "368.0 (-Xmx1g)", "974.0",
        "1.50 / 2.25", "yes", "yes"), t.get(0));
    assertEquals(List.of("mnv2", "36", "fail (largest c error 0.234)", "61.50", "7.36",
        "155.0 (-Xmx1g)", "695.0", "19.50 / 22.00", "**no**", "yes"), t.get(1));
    assertEquals(List.of("big", "-", "**error** (exit 3)", "5.00", "4.00", "- (-Xmx2g)",
        "1200", "1.00 / 1.00", "-", "**no**"), t.get(2));
    assertEquals("skipped: skip gone: x is missing", t.get(3).get(2));
    assertEquals("slowest verify 61.50 s (mnv2), peak heap 368.0 MB",
        tableUnder(md, "Summary").get(0).get(3));
    assertEquals(1024, BenchmarkReport.mebibytes("1g"));
    assertEquals(512, BenchmarkReport.mebibytes("512M"));
    assertTrue(Double.isNaN(BenchmarkReport.mebibytes("lots")));
  }

  @Test
  void aFailedSuiteIsReportedAndTheOthersStillAre() {
    BenchmarkReport.Suite failed = new BenchmarkReport.Suite("conversion", false, 3, 4.0,
        "benchmarks/run-conversion-benchmarks.sh", null, "Exception: model not found", null);
    String md = BenchmarkReport.render(MACHINE, "d", "full", "benchmarks/run-all-benchmarks.sh",
        List.of(ok("kfac", KFAC), failed, ok("convergence", CONVERGENCE)
            .withPlot(BenchmarkReport.PLOT_LINK)));
    List<List<String>> summary = tableUnder(md, "Summary");
    assertEquals("**failed** (exit 3)", summary.get(1).get(1));
    assertEquals("-", summary.get(1).get(3));
    assertEquals("ok", summary.get(0).get(1));
    assertEquals("1 failed", summary.get(3).get(1));
    assertEquals("28", summary.get(3).get(2));
    String section = md.substring(md.indexOf("## Conversion vs TF load"));
    assertTrue(section.startsWith("## Conversion vs TF load\n"));
    assertTrue(section.contains("**This suite failed** (exit code 3)"));
    assertTrue(section.contains("Exception: model not found"));
    assertEquals(3, tableUnder(md, "K-FAC vs SGD step time").size());
    assertEquals(2, tableUnder(md, "Convergence: K-FAC vs SGD (headline)").size());
    assertTrue(md.contains("](docs/benchmarks/kfac-convergence.png)"));
    assertFalse(md.contains("**Quick run**"));
  }

  @Test
  void mainWritesTheReportAtomicallyAndCopiesThePlot(@TempDir Path dir) throws Exception {
    Path kfac = Files.writeString(dir.resolve("kfac.json"), KFAC);
    Path summary = Files.writeString(dir.resolve("summary.json"), CONVERGENCE);
    Path png = Files.write(dir.resolve("loss.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G'});
    Path log = Files.writeString(dir.resolve("solver.log"), "line 1\nboom: JMH failed\n");
    Path out = dir.resolve("report/BENCHMARKS.md");
    Path jsonl = dir.resolve("results.jsonl");
    BenchmarkReport.main(new String[] {"--out", out.toString(), "--mode", "quick",
        "--jsonl", jsonl.toString(),
        "--suite", "solver", "--status", "failed", "--exit", "1", "--seconds", "3",
        "--log", log.toString(),
        "--suite", "kfac", "--status", "ok", "--seconds", "40", "--json", kfac.toString(),
        "--suite", "convergence", "--status", "ok", "--seconds", "90",
        "--json", summary.toString(), "--plot", png.toString()});
    String md = Files.readString(out);
    assertTrue(md.contains("boom: JMH failed"));
    assertEquals("5.19x", tableUnder(md, "K-FAC vs SGD step time").get(1).get(3));
    assertTrue(Files.isRegularFile(out.getParent().resolve(BenchmarkReport.PLOT_LINK)));
    assertTrue(md.contains("](" + BenchmarkReport.PLOT_LINK + ")"));
    try (var files = Files.list(out.getParent())) {
      assertEquals(List.of("BENCHMARKS.md", "docs"), files.map(p -> p.getFileName().toString())
          .sorted().toList(), "no temporary file left");
    }
    List<String> lines = Files.readAllLines(jsonl);
    assertEquals(3, lines.size());
    JsonNode k = BenchmarkReport.parse(lines.get(1));
    assertEquals("kfac", k.get("suite").asText());
    assertEquals(5.1918, k.get("result").get(1).get("ratioToSgd").asDouble());
    assertTrue(BenchmarkReport.parse(lines.get(0)).get("result").isNull());
  }
}
