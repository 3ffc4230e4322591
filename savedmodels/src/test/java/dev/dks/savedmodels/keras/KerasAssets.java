package dev.dks.savedmodels.keras;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the real files the Keras tests use: {@code ../shared/models} beside the checkout and the
 * {@code data-cache/} folder written by {@code scripts/fetch-assets.sh} (or {@code
 * DKS_DATA_CACHE}). A missing file skips the test with a printed reason, or fails it when the
 * environment variable {@code DKS_REQUIRE_SHARED} is set.
 */
final class KerasAssets {
  private KerasAssets() {}

  /** A file under {@code shared/models}. */
  static Path sharedModel(String relative) {
    Path base = null;
    String prop = System.getProperty("dks.shared.models");
    if (prop != null) {
      base = Paths.get(prop);
    } else {
      Path p = Paths.get("").toAbsolutePath();
      for (int i = 0; i < 4 && p != null; i++, p = p.getParent()) {
        Path c = p.resolve("shared").resolve("models");
        if (Files.isDirectory(c)) {
          base = c;
          break;
        }
      }
    }
    if (base == null) {
      base = Paths.get("..", "..", "shared", "models").toAbsolutePath().normalize();
    }
    return require(base.resolve(relative), "../shared/models must be beside the checkout");
  }

  /** A file under the data cache. */
  static Path dataCache(String relative) {
    String env = System.getenv("DKS_DATA_CACHE");
    Path base = null;
    if (env != null) {
      base = Paths.get(env);
    } else {
      Path p = Paths.get("").toAbsolutePath();
      for (int i = 0; i < 4 && p != null; i++, p = p.getParent()) {
        Path c = p.resolve("data-cache");
        if (Files.isDirectory(c)) {
          base = c;
          break;
        }
      }
    }
    if (base == null) {
      base = Paths.get("..", "data-cache").toAbsolutePath().normalize();
    }
    return require(base.resolve(relative), "run scripts/fetch-assets.sh to fetch it");
  }

  private static Path require(Path file, String hint) {
    if (Files.exists(file)) {
      return file;
    }
    String why = file + " is missing (" + hint + ")";
    if (System.getenv("DKS_REQUIRE_SHARED") != null) {
      throw new AssertionError(why + " but DKS_REQUIRE_SHARED is set");
    }
    System.out.println("skipped: " + why);
    Assumptions.abort("skipped: " + why);
    return file;
  }
}
