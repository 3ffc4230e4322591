package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.savedmodels.assets.SharedAssets;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opentest4j.TestAbortedException;

/**
 * "Every command in the README is run by a test so that it stays true": runs every {@code ./dks}
 * line of the repository's {@code README.md} in-process ({@link Cli#run}), in README order, in
 * one fresh temporary folder, and asserts that each exits 0 (and that the stdout of each {@code
 * --json} line parses as JSON).
 *
 * <p><b>What is extracted.</b> Lines inside fenced blocks opened by {@code ```sh}, whose first
 * word is {@code ./dks}; a line ending in a backslash continues on the next line. A {@code #}
 * word starts a comment, which is dropped. Words are split on blanks: the README's {@code ./dks}
 * lines must not use quotes, pipes, redirections, {@code &&}, {@code ;} or {@code $} (the test
 * fails, naming the line, if one does). Other lines of those blocks ({@code mvn}, {@code
 * scripts/...}, {@code tensorflow_model_server}, {@code curl}, ...) are not {@code ./dks}
 * commands and are not run. The test fails when the README has no {@code ./dks} line at all.
 *
 * <p><b>Paths.</b> The README's commands run from the repository root, while the test's JVM runs
 * in the module folder and cannot change its working folder, so relative paths are made absolute
 * by this rule, applied to each word that does not start with {@code -} (and to the value of a
 * {@code --opt=value} word):
 *
 * <ul>
 *   <li>a word starting with {@code data-cache/} is resolved against {@link
 *       SharedAssets#dataCacheDir()} (the folder {@code scripts/fetch-assets.sh} fills); if the
 *       file is missing the test is skipped, or fails under {@code DKS_REQUIRE_SHARED} as in CI;
 *   <li>the value of {@code --out} or {@code --dump-dir}, and any word whose first path segment
 *       names an entry that already exists in the temporary folder (the output of an earlier
 *       command, e.g. {@code r18} or {@code run2/training}), is resolved against the temporary
 *       folder;
 *   <li>every other word is passed unchanged (names such as {@code fashion-mnist}, {@code TAT},
 *       numbers).
 * </ul>
 *
 * <p><b>Substitutions</b>, so that the whole README runs in a few minutes on 2 cores:
 *
 * <ul>
 *   <li>{@code ./dks demo} becomes {@code ./dks demo --quick --no-fetch --out dks-demo} (the
 *       default output folder made explicit, so that it lands in the temporary folder);
 *   <li>{@code --epochs E} and {@code --steps N} of a {@code train} line become {@code --steps}
 *       {@value #LEARN_STEPS} (a line with neither, the default length, gets it added), or
 *       {@value #RESUME_STEPS} on a {@code --resume} line (so that the
 *       resumed run has steps left): long enough to pass the default warm-up (a tenth of the
 *       run) and the learning rate's peak, so that a recipe that diverges there fails here; a
 *       line with {@code --device gpu} (the same training on a machine without a GPU) gets
 *       {@code --steps 3};
 *   <li>{@code --warmup-steps N} becomes a tenth of the test's steps (the warm-up must be
 *       shorter than the run);
 *   <li>a {@code train} line gets {@code --eval-examples} {@value #EVAL_EXAMPLES}: its test loss
 *       is that of a seeded random {@value #EVAL_EXAMPLES} of the 10,000 test images. Measured on
 *       the K-FAC line's model after 80 steps, on the README's earlier 20-layer CNN without
 *       down-sampling: 1.2583 on them, 1.2571 on all 10,000 (per-image loss SD 0.79, so a
 *       standard error of 0.016, against a margin of 0.34 to the bound below); one pass over all
 *       of them cost 19-26 s of CPU on that network.
 * </ul>
 *
 * <p><b>Training recipes must learn.</b> Every {@code train} line runs with {@code --json}; its
 * run must complete (exit 0: no divergence) with a test loss below {@value #LEARNED_LOSS}, well
 * below the ln 10 = 2.303 of a 10-class model at chance. Negative control: the first step's
 * loss in the run's {@code metrics.jsonl}, the untrained model, must be above that bound (so the
 * bound separates a trained model from an untrained one on this data).
 *
 * <p>Training data ({@code --data fashion-mnist}, {@code mnist}, {@code digits}) comes from the
 * data cache as {@code dks train} finds it; a missing data set skips the test (fails in CI).
 */
class ReadmeCommandsTest {
  @TempDir Path work;

  private static final Pattern SHELL = Pattern.compile("[\"'|;&<>$`]");
  private static final Set<String> PATH_OPTIONS = Set.of("--out", "--dump-dir");
  private static final Set<String> CACHED_DATA = Set.of("fashion-mnist", "mnist", "digits");
  /**
   * Steps of a README training line in the test. Measured for the no-flag K-FAC line on {@code
   * cnn} (stride-2 every 4 layers) at 80 steps: test loss 0.70 (74.9% accuracy), 0.66 after the
   * resumed line's 100 (1.26 and 1.20 on the earlier {@code cnn} without down-sampling); Nesterov
   * on {@code bn18} at 80 steps: training loss 0.63 (batch statistics).
   */
  static final int LEARN_STEPS = 80;
  /** Steps a {@code --resume} line continues to. */
  static final int RESUME_STEPS = 100;
  /** Test examples a README training line is evaluated on (of Fashion-MNIST's 10,000). */
  static final int EVAL_EXAMPLES = 2000;
  /** The test loss a README training line must get below (ln 10 = 2.303 at chance). */
  static final double LEARNED_LOSS = 1.6;

  @Test
  @Tag("slow")
  void everyDksCommandOfTheReadmeRuns() throws IOException {
    Path readme = findReadme();
    List<String> lines = dksLines(Files.readAllLines(readme));
    assertFalse(lines.isEmpty(), readme + " has no ./dks line in a ```sh block");
    System.out.println(lines.size() + " ./dks commands in " + readme + ", run in " + work);
    ObjectMapper json = new ObjectMapper();
    long t0 = System.nanoTime();
    for (String line : lines) {
      List<String> args = arguments(line);
      System.out.println("$ dks " + String.join(" ", args));
      long t = System.nanoTime();
      long cpu = processCpuNanos();
      Cli r = Cli.run(args.toArray(String[]::new));
      System.out.printf("  exit %d in %.1f s, %.1f s of CPU%n", r.code(),
          (System.nanoTime() - t) * 1e-9, (processCpuNanos() - cpu) * 1e-9);
      assertEquals(0, r.code(), "README: " + line + "\nran: dks " + String.join(" ", args)
          + "\nstderr: " + r.err() + "\nstdout: " + tail(r.out()));
      if (args.get(0).equals("train") && !args.contains("--device")) {
        assertLearned(line, r.out(), r.err(), json);
      } else if (args.contains("--json")) {
        try {
          assertTrue(json.readTree(r.out()).isObject(), "not a JSON object: " + r.out());
        } catch (IOException e) {
          throw new AssertionError("README: " + line + ": --json stdout is not JSON: "
              + e.getMessage() + "\n" + tail(r.out()), e);
        }
      }
    }
    System.out.printf("all %d README commands passed in %.1f s%n", lines.size(),
        (System.nanoTime() - t0) * 1e-9);
  }

  /** The extraction rule on a README of known content: what runs and what does not. */
  @Test
  void extractsTheDksLinesOfShBlocksOnly() {
    List<String> readme = List.of(
        "Text with `./dks solve --method TAT` inline: not run.",
        "```sh",
        "mvn -B test",
        "./dks build --arch mlp --depth 2 --out m   # a comment",
        "./dks train m --data digits \\",
        "    --steps 10 --out run",
        "tensorflow_model_server --model_base_path=$PWD/models/dks",
        "```",
        "```java",
        "./dks not-run",
        "```",
        "```",
        "./dks not-run-either",
        "```");
    assertEquals(List.of("./dks build --arch mlp --depth 2 --out m",
        "./dks train m --data digits --steps 10 --out run"), dksLines(readme));
    assertTrue(dksLines(List.of("# nothing", "```sh", "mvn test", "```")).isEmpty());
    assertThrows(AssertionError.class,
        () -> dksLines(List.of("```sh", "./dks solve --json | jq .params", "```")));
  }

  /** README.md of the checkout: the first found from the working folder upwards. */
  static Path findReadme() {
    for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path c = p.resolve("README.md");
      if (Files.isRegularFile(c) && Files.isRegularFile(p.resolve("dks"))) {
        return c;
      }
    }
    throw new AssertionError("no README.md beside the dks launcher above "
        + Paths.get("").toAbsolutePath());
  }

  /** The {@code ./dks} lines of the {@code ```sh} blocks, continuations joined, comments cut. */
  static List<String> dksLines(List<String> readme) {
    List<String> out = new ArrayList<>();
    boolean inSh = false;
    StringBuilder pending = null;
    for (String raw : readme) {
      String line = raw.strip();
      if (!inSh) {
        inSh = line.equals("```sh");
        continue;
      }
      if (line.startsWith("```")) {
        assertTrue(pending == null, "backslash continuation runs into the end of a block");
        inSh = false;
        continue;
      }
      if (pending != null) {
        pending.append(' ').append(line);
      } else if (line.startsWith("./dks ") || line.equals("./dks")) {
        pending = new StringBuilder(line);
      } else {
        continue;
      }
      if (pending.toString().endsWith("\\")) {
        pending.setLength(pending.length() - 1);
      } else {
        out.add(withoutComment(pending.toString()));
        pending = null;
      }
    }
    return out;
  }

  private static String withoutComment(String line) {
    List<String> words = new ArrayList<>();
    for (String w : line.trim().split("\\s+")) {
      if (w.startsWith("#")) {
        break;
      }
      words.add(w);
    }
    String cmd = String.join(" ", words);
    assertFalse(SHELL.matcher(cmd).find(),
        "README ./dks lines must be plain words (no quotes, pipes, redirections, && ; $): " + cmd);
    return cmd;
  }

  /** The arguments of {@code dks} for one README line, after the substitutions and path rule. */
  private List<String> arguments(String line) {
    List<String> words = new ArrayList<>(List.of(line.split(" ")));
    assertEquals("./dks", words.remove(0));
    if (words.size() == 1 && words.get(0).equals("demo")) {
      words.addAll(List.of("--quick", "--no-fetch", "--out", "dks-demo"));
    }
    boolean resume = words.contains("--resume");
    boolean train = words.get(0).equals("train");
    boolean gpu = words.contains("gpu");
    int trainSteps = !train || gpu ? 3 : resume ? RESUME_STEPS : LEARN_STEPS;
    List<String> args = new ArrayList<>();
    for (int i = 0; i < words.size(); i++) {
      String w = words.get(i);
      if ((w.equals("--epochs") || w.equals("--steps")) && i + 1 < words.size()) {
        args.add("--steps");
        args.add(String.valueOf(trainSteps));
        i++;
      } else if (w.equals("--warmup-steps") && i + 1 < words.size()) {
        args.add(w);
        args.add(String.valueOf(Math.max(1, trainSteps / 10)));
        i++;
      } else if (PATH_OPTIONS.contains(w) && i + 1 < words.size()) {
        args.add(w);
        args.add(work.resolve(words.get(++i)).toString());
      } else if (w.startsWith("--") && w.contains("=")) {
        String opt = w.substring(0, w.indexOf('='));
        String value = w.substring(w.indexOf('=') + 1);
        args.add(opt + "=" + (PATH_OPTIONS.contains(opt) ? work.resolve(value).toString()
            : path(value)));
      } else if (w.equals("--data") && i + 1 < words.size()) {
        String data = words.get(++i);
        if (CACHED_DATA.contains(data)) {
          SharedAssets.dataCacheOrSkip(data, TestAbortedException::new);
        }
        args.add(w);
        args.add(path(data));
      } else {
        args.add(w.startsWith("-") ? w : path(w));
      }
    }
    if (train && !args.contains("--steps")) { // the default length: shortened the same way
      args.addAll(List.of("--steps", String.valueOf(trainSteps)));
    }
    if (train && !args.contains("--json")) {
      args.add("--json");
    }
    if (train && !args.contains("--eval-examples")) {
      args.addAll(List.of("--eval-examples", String.valueOf(EVAL_EXAMPLES)));
    }
    return args;
  }

  /**
   * A README training run completed and learned: its test loss far below chance's ln 10. A model
   * whose batch norm trains is judged by its training loss (batch statistics, mean of the last 10
   * steps) instead: after the test's shortened run its moving averages (momentum 0.99, Keras)
   * still hold 0.99^80 = 45% of their initial values, so the served model's test loss says little
   * about learning; the README's full-length run (300 steps) leaves them 5%.
   */
  private static void assertLearned(String line, String out, String err, ObjectMapper json)
      throws IOException {
    JsonNode j = json.readTree(out);
    assertEquals("completed", j.get("status").asText(), line);
    double loss = j.get("test").get("loss").asDouble();
    double accuracy = j.get("test").get("accuracy").asDouble();
    List<String> metrics = Files.readAllLines(Path.of(j.get("metrics").asText()));
    JsonNode first = json.readTree(metrics.get(0));
    String judged = "test loss";
    if (err.contains("batch norm: ")) {
      List<Double> steps = new java.util.ArrayList<>();
      for (String m : metrics) {
        JsonNode n = json.readTree(m);
        if ("step".equals(n.path("type").asText())) {
          steps.add(n.get("loss").asDouble());
        }
      }
      double sum = 0;
      int k = Math.min(10, steps.size());
      for (int i = steps.size() - k; i < steps.size(); i++) {
        sum += steps.get(i);
      }
      System.out.printf("  batch norm trains: test loss %.4f, accuracy %.4f with the moving "
          + "statistics%n", loss, accuracy);
      loss = sum / k;
      judged = "training loss (batch statistics, mean of the last " + k + " steps)";
    } else {
      System.out.printf("  test accuracy %.4f%n", accuracy);
    }
    System.out.printf("  %s after %d steps: %s %.4f (first step's loss %.4f)%n",
        j.get("optimizer").asText(), j.get("steps").asLong(), judged, loss,
        first.get("loss").asDouble());
    assertTrue(loss < LEARNED_LOSS, "README: " + line + "\ndid not learn: " + judged + " " + loss
        + " >= " + LEARNED_LOSS + " after " + j.get("steps").asLong() + " steps ("
        + j.get("settings") + ")");
    if (first.get("step").asLong() == 0) { // a fresh run: the untrained model is at chance
      assertTrue(first.get("loss").asDouble() > LEARNED_LOSS, "negative control: the untrained "
          + "model's loss " + first.get("loss").asDouble() + " is not above " + LEARNED_LOSS);
    }
  }

  /** The path rule of the class Javadoc for one word that is not an option. */
  private String path(String word) {
    if (word.startsWith("data-cache/")) {
      return SharedAssets.dataCacheOrSkip(word.substring("data-cache/".length()),
          TestAbortedException::new).toString();
    }
    String first = word.split("/", 2)[0];
    if (!first.isEmpty() && !first.equals(".") && !first.equals("..")
        && Files.exists(work.resolve(first))) {
      return work.resolve(word).toString();
    }
    return word;
  }

  /** CPU time of this process (every thread, TF's included), as the README's runs use it. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  private static String tail(String s) {
    return s.length() <= 4000 ? s : "..." + s.substring(s.length() - 4000);
  }
}
