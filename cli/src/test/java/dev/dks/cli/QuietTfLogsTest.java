package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.console.NativeStderrFilter;
import dev.dks.rewriter.console.TfLogLine;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No TensorFlow C++ log line in a command's output unless {@code --verbose}: real commands in a
 * fresh JVM started as {@code java -jar} (a jar whose manifest has the {@code dks} jar's {@code
 * Add-Opens} and the test class path; also the built {@code cli/target/dks.jar} when it is newer
 * than the classes), with {@code TF_CPP_MIN_LOG_LEVEL} unset so that TF logs everything; and
 * in-process through the picocli entry point. The patterns are the issue's, independent of
 * {@link TfLogLine}; the {@code --verbose} runs are the negative control (the lines are there).
 */
class QuietTfLogsTest {
  /** A TF C++ log line: Abseil or TSL header, the Abseil preamble, or a {@code file.cc:N]}. */
  private static final Pattern TF_LINE = Pattern.compile(
      "^[IWEF]\\d{4} |absl::InitializeLog|\\.cc:\\d+\\]|^\\d{4}-\\d\\d-\\d\\d [\\d:.]+: [IWEF] ");

  @TempDir static Path tmp;
  private static Path model;

  @BeforeAll
  static void buildModel() {
    model = tmp.resolve("mlp");
    Cli r = Cli.run("build", "--arch", "mlp", "--depth", "2", "--width", "16", "--input",
        "1x1x8", "--out", model.toString());
    assertEquals(0, r.code(), r.err());
  }

  @Test
  void freshJvmCommandsPrintNoTfLogLineUnlessVerbose() throws Exception {
    Path jar = launcherJar();
    Run check = java(jar, "check-serving", model.toString());
    assertEquals(0, check.code, check.all());
    assertEquals(List.of(), tfLines(check.all()));
    assertTrue(check.out.strip().endsWith("PASS"), check.out);

    Run verbose = java(jar, "--verbose", "check-serving", model.toString());
    assertEquals(0, verbose.code, verbose.all());
    List<String> shown = tfLines(verbose.all());
    System.out.println("--verbose check-serving: " + shown.size() + " TF log lines; quiet: 0");
    assertTrue(shown.size() >= 3, verbose.all()); // loader lines, the MLIR line, its preamble
    assertEquals(0, tfLines(verbose.out).size(), "TF logs to stderr only: " + verbose.out);

    Path dksJar = Path.of("target", "dks.jar");
    Path classes = Path.of("target", "classes", "dev", "dks", "cli", "DksCommand.class");
    if (Files.isRegularFile(dksJar) && Files.isRegularFile(classes)
        && Files.getLastModifiedTime(dksJar).compareTo(Files.getLastModifiedTime(classes)) > 0) {
      Run real = java(dksJar, "check-serving", model.toString());
      assertEquals(0, real.code, real.all());
      assertEquals(List.of(), tfLines(real.all()));
    } else {
      System.out.println("cli/target/dks.jar is missing or older than the classes: only the "
          + "test launcher jar was run");
    }
  }

  @Test
  void inProcessTheFilterDropsTfLinesAndKeepsTheRest() throws Exception {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    Cli quiet = Cli.run("check-serving", model.toString());
    assertEquals(0, quiet.code(), quiet.err());
    assertTrue(NativeStderrFilter.isQuiet(), "unavailable: "
        + NativeStderrFilter.unavailableReason());
    OutputStream previous = NativeStderrFilter.setSink(seen);
    try {
      String tsl = "2026-12-06 19:45:20.375553: I tensorflow/core/util/port.cc:153] oneDNN on\n";
      String absl = "I0000 00:00:1796586315.388660    7496 mlir_graph_optimization_pass.cc:401]"
          + " MLIR V1 optimization pass is not enabled\n";
      String twoLines = "2026-12-06 19:45:20.929408: I tensorflow/core/platform/"
          + "cpu_feature_guard.cc:210] This TensorFlow binary is optimized\nTo enable the "
          + "following instructions: AVX2 FMA, rebuild TensorFlow\n";
      String other = "a line that is not TensorFlow's\n";
      writeFd2(tsl + absl);
      writeFd2(twoLines);
      writeFd2(other);
      assertTrue(NativeStderrFilter.sync(10_000));
      assertEquals(other, seen.toString(StandardCharsets.UTF_8));

      seen.reset();
      Cli verbose = Cli.run("--verbose", "check-serving", model.toString());
      assertEquals(0, verbose.code(), verbose.err());
      writeFd2(tsl);
      writeFd2(other);
      assertTrue(NativeStderrFilter.sync(10_000));
      assertEquals(tsl + other, seen.toString(StandardCharsets.UTF_8));
      seen.reset();

      // the option is global: after the subcommand too
      assertEquals(0, Cli.run("check-serving", "--verbose", model.toString()).code());
      assertFalse(NativeStderrFilter.isQuiet());
    } finally {
      NativeStderrFilter.setSink(previous);
      NativeStderrFilter.quiet();
    }
  }

  private static void writeFd2(String s) throws IOException {
    FileOutputStream fd2 = new FileOutputStream(FileDescriptor.err);
    fd2.write(s.getBytes(StandardCharsets.UTF_8));
    fd2.flush();
  }

  private static List<String> tfLines(String text) {
    List<String> out = new ArrayList<>();
    text.lines().filter(l -> TF_LINE.matcher(l).find()).forEach(out::add);
    return out;
  }

  private record Run(int code, String out, String err) {
    String all() {
      return out + err;
    }
  }

  /** {@code java -jar jar args} with TF_CPP_MIN_LOG_LEVEL unset (TF's default: everything). */
  private static Run java(Path jar, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-jar");
    cmd.add(jar.toAbsolutePath().toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().remove("TF_CPP_MIN_LOG_LEVEL");
    pb.environment().remove("DKS_PROGRESS");
    Path out = Files.createTempFile(tmp, "out", ".txt");
    Path err = Files.createTempFile(tmp, "err", ".txt");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + cmd);
    }
    return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
  }

  /**
   * A jar holding only a manifest: the dks main class, the dks jar's Add-Opens, and the test
   * class path, so that {@code java -jar} starts dks exactly as it starts the shaded jar.
   */
  private static Path launcherJar() throws IOException {
    Manifest m = new Manifest();
    Attributes a = m.getMainAttributes();
    a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    a.put(Attributes.Name.MAIN_CLASS, "dev.dks.cli.DksCommand");
    a.put(new Attributes.Name("Add-Opens"), shadedAddOpens());
    List<String> urls = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      urls.add(Path.of(entry).toAbsolutePath().toUri().toString());
    }
    a.put(Attributes.Name.CLASS_PATH, String.join(" ", urls));
    Path jar = tmp.resolve("dks-launcher.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m)) {
      // the manifest is all
    }
    return jar;
  }

  /** The Add-Opens value the shade plugin writes into dks.jar (read from cli/pom.xml). */
  private static String shadedAddOpens() throws IOException {
    String pom = Files.readString(Path.of("pom.xml"));
    var m = Pattern.compile("<Add-Opens>([^<]+)</Add-Opens>").matcher(pom);
    assertTrue(m.find(), "cli/pom.xml's shade manifest has no Add-Opens");
    return m.group(1).strip();
  }
}
