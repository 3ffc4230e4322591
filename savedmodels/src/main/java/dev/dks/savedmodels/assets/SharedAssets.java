package dev.dks.savedmodels.assets;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;
import java.util.function.Function;

/**
 * Locates the real models and data that the tests (and benchmarks) use but the repository does
 * not hold: the shared models folder {@code ../shared/models} beside the checkout (or the system
 * property {@code dks.shared.models}) and the data cache that {@code scripts/fetch-assets.sh}
 * fills ({@code data-cache/} of the checkout, or the environment variable {@code
 * DKS_DATA_CACHE}). Both are searched from the working folder upwards, so a module folder and the
 * reactor folder find the same ones.
 *
 * <p>The rule for a missing file, applied by {@link #sharedModelOrSkip} and {@link
 * #dataCacheOrSkip}: skip (the caller's exception, e.g. JUnit's {@code TestAbortedException}) with
 * the reason printed on stdout, or fail with an {@link AssertionError} when the environment
 * variable {@code DKS_REQUIRE_SHARED} is set, as in CI, where nothing may be skipped.
 */
public final class SharedAssets {
  /** The environment variable that turns skips for missing assets into failures. */
  public static final String REQUIRE_ENV = "DKS_REQUIRE_SHARED";

  /** How many folders up from the working folder the searches look. */
  private static final int LEVELS = 4;

  private SharedAssets() {}

  /** True when missing assets must fail rather than skip ({@code DKS_REQUIRE_SHARED} is set). */
  public static boolean required() {
    return System.getenv(REQUIRE_ENV) != null;
  }

  /**
   * The shared models folder: {@code -Ddks.shared.models}, else the first {@code shared/models}
   * folder found upwards from the working folder, else {@code ../../shared/models} (which may not
   * exist).
   */
  public static Path sharedModelsDir() {
    String prop = System.getProperty("dks.shared.models");
    if (prop != null) {
      return Paths.get(prop);
    }
    Path p = Paths.get("").toAbsolutePath();
    for (int i = 0; i < LEVELS && p != null; i++, p = p.getParent()) {
      Path c = p.resolve("shared").resolve("models");
      if (Files.isDirectory(c)) {
        return c;
      }
    }
    return Paths.get("..", "..", "shared", "models").toAbsolutePath().normalize();
  }

  /**
   * The data cache: {@code $DKS_DATA_CACHE} when set and not empty, else the {@code data-cache}
   * folder of the first checkout found upwards from the working folder (the folder holding {@code
   * scripts/fetch-assets.sh}), else {@code ../data-cache} (which may not exist).
   */
  public static Path dataCacheDir() {
    String env = System.getenv("DKS_DATA_CACHE");
    if (env != null && !env.isEmpty()) {
      return Paths.get(env).toAbsolutePath();
    }
    Path p = Paths.get("").toAbsolutePath();
    for (int i = 0; i < LEVELS && p != null; i++, p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("scripts").resolve("fetch-assets.sh"))) {
        return p.resolve("data-cache");
      }
    }
    return Paths.get("..", "data-cache").toAbsolutePath().normalize();
  }

  /** The file or folder {@code relative} under the shared models folder, if it exists. */
  public static Optional<Path> sharedModel(String relative) {
    return existing(sharedModelsDir().resolve(relative));
  }

  /** The file or folder {@code relative} under the data cache, if it exists. */
  public static Optional<Path> dataCache(String relative) {
    return existing(dataCacheDir().resolve(relative));
  }

  /**
   * The file or folder {@code relative} under the shared models folder; when it is missing, skips
   * by throwing {@code skip} of the reason (printed first) or, under {@code DKS_REQUIRE_SHARED},
   * fails.
   *
   * @throws AssertionError when it is missing and {@link #required()}
   */
  public static <X extends Throwable> Path sharedModelOrSkip(String relative,
      Function<String, X> skip) throws X {
    return orSkip(sharedModelsDir().resolve(relative),
        "../shared/models must be beside the checkout", skip);
  }

  /**
   * The file or folder {@code relative} under the data cache; when it is missing, skips by
   * throwing {@code skip} of the reason (printed first) or, under {@code DKS_REQUIRE_SHARED},
   * fails.
   *
   * @throws AssertionError when it is missing and {@link #required()}
   */
  public static <X extends Throwable> Path dataCacheOrSkip(String relative,
      Function<String, X> skip) throws X {
    return orSkip(dataCacheDir().resolve(relative), "run scripts/fetch-assets.sh to fetch it",
        skip);
  }

  private static Optional<Path> existing(Path p) {
    return Files.exists(p) ? Optional.of(p) : Optional.empty();
  }

  private static <X extends Throwable> Path orSkip(Path file, String hint,
      Function<String, X> skip) throws X {
    if (Files.exists(file)) {
      return file;
    }
    String why = file + " is missing (" + hint + ")";
    if (required()) {
      throw new AssertionError(why + " but " + REQUIRE_ENV + " is set (CI)");
    }
    System.out.println("skipped: " + why);
    throw skip.apply("skipped: " + why);
  }
}
