package dev.dks.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Assumptions;

/**
 * Locates the real models the serving tests convert: {@code ../shared/models} beside the checkout
 * (or {@code -Ddks.shared.models}) and the {@code data-cache/} folder that {@code
 * scripts/fetch-assets.sh} fills (or {@code $DKS_DATA_CACHE}). A missing file skips the calling
 * test with a printed reason, or fails it when the environment variable {@code
 * DKS_REQUIRE_SHARED} is set (as in CI).
 */
final class Assets {
  private Assets() {}

  /** A file or folder under {@code shared/models}. */
  static Path sharedModel(String relative) {
    String prop = System.getProperty("dks.shared.models");
    Path base = prop != null ? Paths.get(prop) : upwards("shared/models");
    if (base == null) {
      base = Paths.get("..", "..", "shared", "models").toAbsolutePath().normalize();
    }
    return require(base.resolve(relative), "../shared/models must be beside the checkout");
  }

  /** A file or folder under the data cache. */
  static Path dataCache(String relative) {
    String env = System.getenv("DKS_DATA_CACHE");
    Path base = env != null && !env.isEmpty() ? Paths.get(env) : null;
    if (base == null) {
      Path p = Paths.get("").toAbsolutePath();
      for (int i = 0; i < 4 && p != null && base == null; i++, p = p.getParent()) {
        if (Files.isRegularFile(p.resolve("scripts").resolve("fetch-assets.sh"))) {
          base = p.resolve("data-cache");
        }
      }
    }
    if (base == null) {
      base = Paths.get("..", "data-cache").toAbsolutePath().normalize();
    }
    return require(base.resolve(relative), "run 'bash scripts/fetch-assets.sh' to fetch it");
  }

  private static Path upwards(String rel) {
    Path p = Paths.get("").toAbsolutePath();
    for (int i = 0; i < 4 && p != null; i++, p = p.getParent()) {
      Path c = p.resolve(rel);
      if (Files.isDirectory(c)) {
        return c;
      }
    }
    return null;
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
