package dev.dks.rewriter.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * The real SavedModels of {@code ../shared/models} for graph-rewriter tests: a model folder is
 * looked up under the {@code dks.models} system property, then under {@code shared/models} of the
 * working folder and each of its parents. Absent, the test is skipped with a printed reason,
 * except under {@code DKS_REQUIRE_SHARED} (set by CI), where absence is an error.
 */
public final class SharedModels {
  private SharedModels() {}

  /** The folder of {@code model}; skips the calling test (or fails under CI) when absent. */
  public static Path require(String model) {
    Path dir = locate(model);
    if (dir == null && System.getenv("DKS_REQUIRE_SHARED") != null) {
      throw new AssertionError("../shared/models/" + model + " is missing but DKS_REQUIRE_SHARED "
          + "is set (CI): the shared models must be beside the checkout");
    }
    Assumptions.assumeTrue(dir != null, () -> {
      String why = "skipped: ../shared/models/" + model + " not found from "
          + Path.of("").toAbsolutePath();
      System.out.println(why);
      return why;
    });
    return dir;
  }

  /** The folder of {@code model}, or null when no candidate root holds it. */
  public static Path locate(String model) {
    String prop = System.getProperty("dks.models");
    List<Path> roots = new ArrayList<>();
    if (prop != null) {
      roots.add(Path.of(prop));
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      roots.add(p.resolve("shared").resolve("models"));
    }
    for (Path r : roots) {
      if (Files.isDirectory(r.resolve(model))) {
        return r.resolve(model);
      }
    }
    return null;
  }
}
