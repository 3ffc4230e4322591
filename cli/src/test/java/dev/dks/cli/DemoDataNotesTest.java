package dev.dks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's data notes say what happened: nothing when Fashion-MNIST is there, "fetched" (and no
 * fallback) when it had to be fetched, and why plus what is used instead when it is not there.
 * Sizes are the published ones: Fashion-MNIST 60,000 + 10,000, scikit-learn's digits 1,797.
 */
class DemoDataNotesTest {
  private final PrintWriter err = new PrintWriter(new StringWriter(), true);

  @Test
  void presentDataNeedsNoNote(@TempDir Path cache) throws Exception {
    link(cache, "fashion-mnist");
    DemoData d = DemoData.load(0, cache, (n, e) -> {
      throw new AssertionError("fetched although present");
    }, err);
    assertEquals(List.of(), d.notes());
    assertEquals(60_000, d.train().size());
    assertEquals(10_000, d.test().size());
  }

  @Test
  void aFetchSaysItFetchedAndNothingAboutFallingBack(@TempDir Path cache) {
    DemoData d = DemoData.load(0, cache, (notes, e) -> {
      link(cache, "fashion-mnist");
      return true;
    }, err);
    assertEquals(1, d.notes().size(), d.notes().toString());
    String note = d.notes().get(0);
    assertTrue(note.startsWith("fashion-mnist was not in the data cache"), note);
    assertTrue(note.contains("fetched it"), note);
    assertFalse(note.contains("not available") || note.contains("instead"), note);
    assertEquals(60_000, d.train().size());
  }

  @Test
  void aFailedFetchSaysWhyAndWhatIsUsedInstead(@TempDir Path cache) {
    link(cache, "digits");
    DemoData d = DemoData.load(0, cache, (notes, e) -> {
      notes.add("no network");
      return false;
    }, err);
    List<String> notes = d.notes();
    assertEquals(3, notes.size(), notes.toString());
    assertTrue(notes.get(0).startsWith("fashion-mnist is not available ("), notes.get(0));
    assertEquals("no network", notes.get(1));
    assertEquals("using digits instead", notes.get(2));
    assertEquals(1797, d.train().size() + d.test().size());
  }

  @Test
  void noFetchSaysSo(@TempDir Path cache) {
    link(cache, "digits");
    DemoData d = DemoData.load(0, cache, null, err);
    assertTrue(d.notes().get(0).contains("not fetched (--no-fetch)"), d.notes().toString());
    assertEquals("using digits instead", d.notes().get(d.notes().size() - 1));
  }

  private static void link(Path cache, String name) {
    Path real = Assets.dataCache(name);
    try {
      Files.createSymbolicLink(cache.resolve(name), real.toAbsolutePath());
    } catch (java.io.IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
