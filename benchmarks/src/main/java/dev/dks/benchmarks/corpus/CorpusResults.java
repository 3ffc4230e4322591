package dev.dks.benchmarks.corpus;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.dks.rewriter.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A results folder of the corpus run, so that a long run can stop and resume and partial runs
 * combine: one {@code <model>.json} per model ({@link ModelRun}), written atomically as soon as
 * that model finishes. A rerun with the same folder skips the models whose file exists with the
 * same verify flags; the report is built from the folder ({@link #read}).
 */
final class CorpusResults {
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private CorpusResults() {}

  /**
   * One model's run, as stored in the folder.
   *
   * @param verifyFlags the flags {@code dks verify} was given (empty: its defaults)
   * @param commit the code commit the run was built from (as the script passed it; may be null)
   * @param wallSeconds wall time of the model (convert, both rewrites and their checks, the warm
   *     reruns)
   * @param cpuSeconds CPU time of the whole process over the same span (all threads)
   * @param finishedAt when it finished (ISO-8601 UTC)
   * @param result what the run found
   */
  record ModelRun(List<String> verifyFlags, String commit, double wallSeconds,
      double cpuSeconds, String finishedAt, CorpusResult result) {}

  /** The file of {@code name} in {@code dir}. */
  static Path file(Path dir, String name) {
    return dir.resolve(name + ".json");
  }

  /** Writes {@code run} to its file in {@code dir} (atomically: no half-written file). */
  static void write(Path dir, ModelRun run) throws IOException {
    Files.createDirectories(dir);
    AtomicFiles.write(file(dir, run.result().name()), JSON.writeValueAsBytes(run));
  }

  /**
   * The stored runs of {@code names} in {@code dir} made with {@code verifyFlags}, in the order of
   * {@code names}; a model without a file (or with other flags) is left out.
   */
  static Map<String, ModelRun> read(Path dir, List<String> names, List<String> verifyFlags)
      throws IOException {
    Map<String, ModelRun> out = new LinkedHashMap<>();
    for (String name : names) {
      Path f = file(dir, name);
      if (Files.isRegularFile(f)) {
        ModelRun r = JSON.readValue(f.toFile(), ModelRun.class);
        if (r.verifyFlags().equals(verifyFlags) && r.result().name().equals(name)) {
          out.put(name, r);
        }
      }
    }
    return out;
  }
}
