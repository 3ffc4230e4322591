package dev.dks.benchmarks;

import dev.dks.benchmarks.corpus.CorpusModels;
import dev.dks.savedmodels.assets.SharedAssets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The command line that {@link CorpusRewriteHarness} and {@link CorpusLinearityHarness} share:
 * {@code --key value} pairs over a fixed set of keys, each with a default ({@code --models a,b},
 * {@code --rounds N} and {@code --warmup N} among them, plus any a harness adds), and the corpus
 * folder ({@link #corpusDir}), which must exist.
 *
 * <p>Conventions: an unknown key or a key without a value is an {@link IllegalArgumentException}
 * (see {@link HarnessSupport#parsePairs}); {@code -h}/{@code --help} prints the usage line and
 * {@link #parse} returns null; a missing corpus prints where to fetch it and exits with code 2;
 * an empty {@code --models} is an empty {@link #models} list (the harness's own default set).
 *
 * @param values every key's value (given, or the default)
 * @param models the models named by {@code --models}, empty for the harness's default
 * @param rounds timed rounds ({@code --rounds})
 * @param warmup untimed warm-up rounds ({@code --warmup})
 */
record CorpusHarnessOptions(
    Map<String, String> values, List<String> models, int rounds, int warmup) {

  /** The corpus folder in the data cache ({@link CorpusModels#FOLDER}). */
  static Path corpusDir() {
    return SharedAssets.dataCacheDir().resolve(CorpusModels.FOLDER);
  }

  /**
   * Parses {@code args} over {@code defaults} (which holds {@code --models}, {@code --rounds},
   * {@code --warmup} and the harness's other keys), then requires {@code dir}.
   *
   * @return the options, or null when {@code --help} was given ({@code usage} is printed)
   */
  static CorpusHarnessOptions parse(String[] args, Map<String, String> defaults, String usage,
      Path dir) {
    Map<String, String> opt = new LinkedHashMap<>(defaults);
    if (!HarnessSupport.parsePairs(args, (k, v) -> {
      if (!opt.containsKey(k)) {
        throw HarnessSupport.unknown(k);
      }
      opt.put(k, v);
    })) {
      System.out.println(usage);
      return null;
    }
    if (!Files.isDirectory(dir)) {
      System.err.println(dir + " is missing: run scripts/fetch-assets.sh --corpus");
      System.exit(2);
    }
    List<String> models = opt.get("--models").isEmpty() ? List.of()
        : List.of(opt.get("--models").split(","));
    return new CorpusHarnessOptions(opt, models, Integer.parseInt(opt.get("--rounds")),
        Integer.parseInt(opt.get("--warmup")));
  }

  /** The value of {@code key} (given, or its default). */
  String get(String key) {
    return values.get(key);
  }
}
