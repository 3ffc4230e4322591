package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's Java blocks are complete programs (issue 16), checked as doctests: every {@code
 * ```java} block of README.md is split into its imports and its statements, wrapped into a class
 * with a {@code main}, and compiled with {@link javax.tools.JavaCompiler} against the test
 * classpath (the built modules); a block that lacks an import or calls an API that changed fails
 * here, naming the README line. The runnable blocks then run in-process in a scratch folder
 * (every {@code Path.of("x")} of a block resolves there): the rewrite block on the BN-ResNet-18
 * the README's recipe builds (its export has no normalization and no residual merge, counted by
 * {@code dks inspect}), the kernel-check block (at one weight draw, see {@link #source}: it must
 * print its full report and a verdict), and the solver block (its DKS tanh parameters must be
 * finite). The training block (2000 K-FAC steps) is compiled only.
 */
class ReadmeJavaBlocksTest {
  @TempDir
  Path tmp;

  /** One ```java block: its first README line, imports and statements. */
  record Block(int line, List<String> imports, List<String> body) {
    String text() {
      return String.join("\n", body);
    }
  }

  static List<Block> blocks(List<String> readme) {
    List<Block> out = new ArrayList<>();
    for (int i = 0; i < readme.size(); i++) {
      if (!readme.get(i).strip().equals("```java")) {
        continue;
      }
      int start = i + 1;
      List<String> imports = new ArrayList<>();
      List<String> body = new ArrayList<>();
      for (i = start; i < readme.size() && !readme.get(i).strip().equals("```"); i++) {
        (readme.get(i).startsWith("import ") ? imports : body).add(readme.get(i));
      }
      out.add(new Block(start + 1, imports, body));
    }
    return out;
  }

  /**
   * The class for block {@code k}: statements in main, Path.of("x") resolved under BASE, and the
   * kernel check at one weight draw (the automatic 20-odd draws of a width-16 ResNet-18 take over
   * a minute on 2 cores; the option is the same API either way).
   */
  static String source(int k, Block b) {
    String body = b.text().replace("Path.of(\"", "Path.of(BASE, \"")
        .replace("KernelCheck.Options.defaults()", "KernelCheck.Options.defaults().withDraws(1)");
    return "package readme;\n" + String.join("\n", b.imports()) + "\n"
        + "public class Block" + k + " {\n  public static String BASE = \".\";\n"
        + "  public static void main(String[] args) throws Exception {\n" + body + "\n  }\n}\n";
  }

  @Test
  void everyJavaBlockCompiles() throws Exception {
    compile(blocks(Files.readAllLines(readme())));
  }

  /** About 45 s on 2 cores (the ResNet-18 build, two rewrites, a kernel check): slow. */
  @Test
  @Tag("slow")
  void theRunnableBlocksRun() throws Exception {
    List<Block> blocks = blocks(Files.readAllLines(readme()));
    Path classes = compile(blocks);
    long t0 = System.nanoTime();
    // the scratch folder holds what the README's recipes made before the blocks
    Cli built = Cli.run("build", "--arch", "resnet", "--depth", "18", "--width", "16", "--bn",
        "--input", "32x32x3", "--out", tmp.resolve("r18").toString());
    assertEquals(0, built.code(), built.err());
    System.out.printf("built r18 in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    int ran = 0;
    try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
        getClass().getClassLoader())) {
      for (int k = 0; k < blocks.size(); k++) {
        String text = blocks.get(k).text();
        if (text.contains("Trainer.builder")) {
          continue; // 2000 K-FAC steps: compiled only
        }
        String out = run(loader, k);
        ran++;
        if (text.contains("ServingExporter.export(r.model(), Path.of(\"r18_tat_java\"))")) {
          JsonNode counts = Cli.json("inspect", tmp.resolve("r18_tat_java").toString())
              .get("counts");
          assertEquals(0, counts.get("normalizations").asInt(), counts.toString());
          assertEquals(0, counts.get("residual_merges").asInt(), counts.toString());
        } else if (text.contains("KernelCheck.run")) {
          // one draw: the verdict may go either way at width 16; the report must be complete
          assertTrue(out.matches("(?s)kernel check: c tolerance 0\\.030.*global_pool.*\n"
              + "(PASS|FAIL): at '[^']+' largest c error 0\\.\\d+.*"), out);
        } else if (text.contains("ShapingSolver.solve")) {
          assertTrue(out.matches("(?s)\\{.*input_scale=[-0-9.eE]+.*\\}\\s*"), out);
          assertTrue(!out.contains("NaN") && !out.contains("Infinity"), out);
        }
      }
    }
    assertEquals(blocks.size() - 1, ran, "every block but the training one runs");
  }

  /** Compiles every block into a fresh folder; fails naming the README line of each error. */
  private Path compile(List<Block> blocks) throws IOException {
    assertTrue(blocks.size() >= 4, "README Java blocks: " + blocks.size());
    Path src = Files.createDirectories(tmp.resolve("src/readme"));
    Path classes = Files.createDirectories(tmp.resolve("classes"));
    List<Path> files = new ArrayList<>();
    for (int k = 0; k < blocks.size(); k++) {
      files.add(Files.writeString(src.resolve("Block" + k + ".java"), source(k, blocks.get(k))));
    }
    long t0 = System.nanoTime();
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diags = new DiagnosticCollector<>();
    boolean ok;
    try (StandardJavaFileManager fm = javac.getStandardFileManager(diags, Locale.ROOT,
        StandardCharsets.UTF_8)) {
      ok = javac.getTask(null, fm, diags, List.of("-classpath",
          System.getProperty("java.class.path"), "-d", classes.toString(), "-proc:none",
          "-Xlint:none", "-nowarn"), null, fm.getJavaFileObjectsFromPaths(files)).call();
    }
    List<String> errors = new ArrayList<>();
    for (Diagnostic<? extends JavaFileObject> d : diags.getDiagnostics()) {
      if (d.getKind() == Diagnostic.Kind.ERROR) {
        String f = d.getSource().getName();
        int k = Integer.parseInt(f.substring(f.lastIndexOf("Block") + 5, f.length() - 5));
        errors.add("README Java block at line " + blocks.get(k).line() + ": "
            + d.getMessage(Locale.ROOT));
      }
    }
    assertTrue(ok && errors.isEmpty(), String.join("\n", errors));
    System.out.printf("compiled %d README Java blocks in %.1f s%n", blocks.size(),
        (System.nanoTime() - t0) / 1e9);
    return classes;
  }

  /** README.md of the checkout: the first beside a {@code dks} launcher, upwards. */
  private static Path readme() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("README.md")) && Files.isRegularFile(p.resolve("dks"))) {
        return p.resolve("README.md");
      }
    }
    throw new AssertionError("no README.md beside the dks launcher above "
        + Path.of("").toAbsolutePath());
  }

  /** Runs block {@code k} with BASE = the scratch folder; returns what it printed. */
  private String run(ClassLoader loader, int k) throws Exception {
    Class<?> c = loader.loadClass("readme.Block" + k);
    c.getField("BASE").set(null, tmp.toString());
    Method main = c.getMethod("main", String[].class);
    long t0 = System.nanoTime();
    PrintStream before = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      main.invoke(null, (Object) new String[0]);
    } finally {
      System.setOut(before);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    System.out.printf("README block %d ran in %.1f s and printed:%n%s%n", k,
        (System.nanoTime() - t0) / 1e9, out);
    return out;
  }

  /** The extraction and wrapping rule on a README of known content. */
  @Test
  void blocksSplitImportsFromStatements() {
    List<Block> b = blocks(List.of("text", "```java", "import java.nio.file.Path;",
        "var p = Path.of(\"x\");", "```", "```sh", "./dks x", "```"));
    assertEquals(1, b.size());
    assertEquals(List.of("import java.nio.file.Path;"), b.get(0).imports());
    assertEquals(3, b.get(0).line());
    assertTrue(source(0, b.get(0)).contains("var p = Path.of(BASE, \"x\");"));
  }
}
