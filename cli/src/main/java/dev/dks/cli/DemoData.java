package dev.dks.cli;

import dev.dks.savedmodels.assets.SharedAssets;
import dev.dks.trainers.data.DataFormatException;
import dev.dks.trainers.data.DataNotFoundException;
import dev.dks.trainers.data.DataSets;
import dev.dks.trainers.data.Dataset;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's data: Fashion-MNIST from the data cache, fetched through the checkout's
 * {@code scripts/fetch-assets.sh} when missing (the {@code ./dks} launcher exports the checkout as
 * {@code DKS_HOME}); else the 8x8 digits; else a synthetic task. Every fallback is said, with why.
 *
 * @param train training examples
 * @param test held-out examples (the test part, or a seeded 20% split)
 * @param notes what was fetched or fallen back to, and why
 */
record DemoData(Dataset train, Dataset test, List<String> notes) {

  static DemoData load(long seed, boolean mayFetch, PrintWriter err) {
    List<String> notes = new ArrayList<>();
    Path cache = SharedAssets.dataCacheDir();
    DemoData d = tryLoad("fashion-mnist", cache, seed, notes);
    if (d == null && mayFetch && fetch(notes, err)) {
      d = tryLoad("fashion-mnist", cache, seed, notes);
    }
    if (d == null) {
      d = tryLoad("digits", cache, seed, notes);
    }
    if (d == null) {
      d = tryLoad("synthetic:28x28x1:10:4096", cache, seed, notes);
    }
    if (d == null) {
      throw new IllegalStateException("no data for the demo: " + String.join("; ", notes));
    }
    return new DemoData(d.train, d.test, notes);
  }

  private static DemoData tryLoad(String name, Path cache, long seed, List<String> notes) {
    try {
      Dataset train = DataSets.load(name, cache);
      Dataset test;
      try {
        test = DataSets.load(name, cache, DataSets.Part.TEST);
      } catch (DataNotFoundException e) {
        Dataset.Split s = train.split(0.2, seed);
        train = s.train();
        test = s.validation();
      }
      if (!notes.isEmpty()) {
        notes.add("using " + name + " instead");
      }
      return new DemoData(train, test, List.of());
    } catch (DataNotFoundException | DataFormatException e) {
      notes.add(name + " is not available (" + e.getMessage() + ")");
      return null;
    }
  }

  /** Runs {@code $DKS_HOME/scripts/fetch-assets.sh}; true when it succeeded. */
  private static boolean fetch(List<String> notes, PrintWriter err) {
    String home = System.getenv("DKS_HOME");
    Path script = home == null ? null : Path.of(home, "scripts", "fetch-assets.sh");
    if (script == null || !Files.isRegularFile(script)) {
      notes.add("cannot fetch it: run dks from a checkout (./dks sets DKS_HOME)");
      return false;
    }
    err.println("demo: fetching the data sets with " + script + " (once; a few minutes)");
    err.flush();
    try {
      // the script's output goes to stderr: stdout is the demo's report (or its JSON)
      Process p = new ProcessBuilder("bash", "-c", "exec bash \"$0\" 1>&2", script.toString())
          .redirectError(ProcessBuilder.Redirect.INHERIT).start();
      int rc = p.waitFor();
      if (rc != 0) {
        notes.add(script + " failed with exit code " + rc);
        return false;
      }
      return true;
    } catch (IOException e) {
      notes.add("cannot run " + script + ": " + e.getMessage());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      notes.add("interrupted while fetching");
      return false;
    }
  }
}
