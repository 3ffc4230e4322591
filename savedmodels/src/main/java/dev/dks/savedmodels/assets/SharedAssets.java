package dev.dks.savedmodels.assets;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;
import java.util.function.Function;

/**
 * Locates the real models and data that the tests (and benchmarks) use but the repository does
 * not hold: the shared models folder {@code ../shared/models} beside the checkout (or the system
 * property {@code dks.shared.models}), searched from the working folder upwards, and the data
 * cache that {@code scripts/fetch-assets.sh} fills ({@link #dataCacheDir()}: {@code
 * DKS_DATA_CACHE}, {@code -Ddks.data.cache}, the checkout's {@code data-cache/}, the per-user
 * {@code ~/.cache/dks/data-cache}), found the same way by {@code ./dks} and the Java API.
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

  /** The environment variable naming the data cache (first in the search). */
  public static final String DATA_CACHE_ENV = "DKS_DATA_CACHE";
  /** The system property naming the data cache (second in the search). */
  public static final String DATA_CACHE_PROPERTY = "dks.data.cache";

  /**
   * The data cache, found the same way from {@code ./dks} and from the Java API:
   *
   * <ol>
   *   <li>{@code $DKS_DATA_CACHE} when set and not empty;
   *   <li>else the system property {@code dks.data.cache} when set and not empty;
   *   <li>else the {@code data-cache} folder of the checkout the working folder lies in (the
   *       first folder upwards holding {@code scripts/fetch-assets.sh}), when it exists;
   *   <li>else the per-user cache {@link #userDataCache()} ({@code ~/.cache/dks/data-cache},
   *       which {@code scripts/fetch-assets.sh} links to the folder it fills), when it exists;
   *   <li>else the checkout's {@code data-cache} when inside one, else the per-user cache (both
   *       missing: {@link #dataCacheSearch()} says where it looked).
   * </ol>
   */
  public static Path dataCacheDir() {
    return dataCacheDir(System.getenv(DATA_CACHE_ENV), System.getProperty(DATA_CACHE_PROPERTY),
        Paths.get("").toAbsolutePath(), userDataCache());
  }

  /** {@link #dataCacheDir()} from its inputs (for tests). */
  static Path dataCacheDir(String env, String prop, Path workingFolder, Path user) {
    if (env != null && !env.isEmpty()) {
      return Paths.get(env).toAbsolutePath();
    }
    if (prop != null && !prop.isEmpty()) {
      return Paths.get(prop).toAbsolutePath();
    }
    Path checkout = checkoutDataCache(workingFolder);
    if (checkout != null && Files.isDirectory(checkout)) {
      return checkout;
    }
    if (Files.isDirectory(user) || checkout == null) {
      return user;
    }
    return checkout;
  }

  /**
   * The per-user data cache: {@code $XDG_CACHE_HOME/dks/data-cache} when {@code XDG_CACHE_HOME}
   * is set, else {@code ~/.cache/dks/data-cache}. {@code scripts/fetch-assets.sh} makes it a link
   * to the folder it fills, so programs run outside the checkout find the data.
   */
  public static Path userDataCache() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isEmpty() ? Paths.get(xdg)
        : Paths.get(System.getProperty("user.home"), ".cache");
    return base.resolve("dks").resolve("data-cache").toAbsolutePath();
  }

  /** The {@code data-cache} of the checkout the working folder lies in, or null outside one. */
  private static Path checkoutDataCache(Path workingFolder) {
    Path p = workingFolder;
    for (int i = 0; i < LEVELS && p != null; i++, p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("scripts").resolve("fetch-assets.sh"))) {
        return p.resolve("data-cache");
      }
    }
    return null;
  }

  /**
   * Where the data cache was looked for, in order, with what was found, for error messages: e.g.
   * {@code $DKS_DATA_CACHE: unset; -Ddks.data.cache: unset; checkout: not inside one; per-user:
   * /home/u/.cache/dks/data-cache (missing)}.
   */
  public static String dataCacheSearch() {
    String env = System.getenv(DATA_CACHE_ENV);
    String prop = System.getProperty(DATA_CACHE_PROPERTY);
    Path checkout = checkoutDataCache(Paths.get("").toAbsolutePath());
    Path user = userDataCache();
    return "$" + DATA_CACHE_ENV + ": " + (env == null || env.isEmpty() ? "unset" : state(
        Paths.get(env).toAbsolutePath())) + "; -D" + DATA_CACHE_PROPERTY + ": "
        + (prop == null || prop.isEmpty() ? "unset" : state(Paths.get(prop).toAbsolutePath()))
        + "; checkout: " + (checkout == null ? "not inside one (working folder "
            + Paths.get("").toAbsolutePath() + ")" : state(checkout))
        + "; per-user: " + state(user);
  }

  private static String state(Path p) {
    return p + (Files.isDirectory(p) ? "" : " (missing)");
  }

  /**
   * What to do when a data set is missing from the data cache {@link #dataCacheDir()} (for error
   * messages): where the cache was looked for, and how to fill or name it.
   */
  public static String dataCacheHint() {
    return "data cache " + dataCacheDir() + ", looked for as " + dataCacheSearch()
        + ". Fetch the data with scripts/fetch-assets.sh from a dks checkout (it fills the "
        + "checkout's data-cache/ and links " + userDataCache() + " to it), or set "
        + DATA_CACHE_ENV + " (or -D" + DATA_CACHE_PROPERTY + ") to a folder that holds it";
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
    return orSkip(dataCacheDir().resolve(relative), dataCacheHint(), skip);
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
