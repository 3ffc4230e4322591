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

  private static final String FIRST_CHOICE = "fashion-mnist";

  /** Fills the data cache; true when it succeeded, otherwise says why in {@code notes}. */
  @FunctionalInterface
  interface Fetcher {
    boolean fetch(List<String> notes, PrintWriter err);
  }

  static DemoData load(long seed, boolean mayFetch, PrintWriter err) {
    return load(seed, SharedAssets.dataCacheDir(), mayFetch ? DemoData::fetch : null, err);
  }

  /**
   * The demo's data from {@code cache}, running {@code fetcher} (null: never) when Fashion-MNIST
   * is missing. The notes say what happened: that it was fetched, or why it is missing and what
   * is used instead.
   */
  static DemoData load(long seed, Path cache, Fetcher fetcher, PrintWriter err) {
    List<String> notes = new ArrayList<>();
    String missing;
    try {
      return load(FIRST_CHOICE, cache, seed, notes);
    } catch (DataNotFoundException | DataFormatException e) {
      missing = e.getMessage();
    }
    if (fetcher != null) {
      List<String> fetchNotes = new ArrayList<>();
      if (fetcher.fetch(fetchNotes, err)) {
        try {
          DemoData d = load(FIRST_CHOICE, cache, seed, notes);
          List<String> fetched = new ArrayList<>(d.notes());
          fetched.add(0, FIRST_CHOICE + " was not in the data cache " + cache
              + "; fetched it with scripts/fetch-assets.sh");
          return new DemoData(d.train(), d.test(), List.copyOf(fetched));
        } catch (DataNotFoundException | DataFormatException e) {
          notes.add(FIRST_CHOICE + " is still not available after fetching (" + e.getMessage()
              + ")");
        }
      } else {
        notes.add(FIRST_CHOICE + " is not available (" + missing + ")");
        notes.addAll(fetchNotes);
      }
    } else {
      notes.add(FIRST_CHOICE + " is not available (" + missing + "); not fetched (--no-fetch)");
    }
    for (String fallback : List.of("digits", "synthetic:28x28x1:10:4096")) {
      try {
        DemoData d = load(fallback, cache, seed, notes);
        notes.add("using " + fallback + " instead");
        return new DemoData(d.train(), d.test(), List.copyOf(notes));
      } catch (DataNotFoundException | DataFormatException e) {
        notes.add(fallback + " is not available (" + e.getMessage() + ")");
      }
    }
    throw new IllegalStateException("no data for the demo: " + String.join("; ", notes));
  }

  private static DemoData load(String name, Path cache, long seed, List<String> notes)
      throws DataNotFoundException, DataFormatException {
    Dataset train = DataSets.load(name, cache);
    Dataset test;
    try {
      test = DataSets.load(name, cache, DataSets.Part.TEST);
    } catch (DataNotFoundException e) {
      Dataset.Split s = train.split(0.2, seed);
      train = s.train();
      test = s.validation();
    }
    return new DemoData(train, test, List.copyOf(notes));
  }

  /** Runs {@code $DKS_HOME/scripts/fetch-assets.sh}; true when it succeeded. */
  private static boolean fetch(List<String> notes, PrintWriter err) {
    String home = System.getenv("DKS_HOME");
    Path script = home == null ? null : Path.of(home, "scripts", "fetch-assets.sh");
    if (script == null || !Files.isRegularFile(script)) {
      notes.add("cannot fetch it: run dks from a checkout (./dks sets DKS_HOME) or run "
          + "scripts/fetch-assets.sh");
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
