package dev.dks.cli;

import dev.dks.savedmodels.assets.SharedAssets;
import java.nio.file.Path;
import org.opentest4j.TestAbortedException;

/**
 * The real models the serving tests convert, through {@link SharedAssets}: {@code
 * ../shared/models} beside the checkout and the {@code data-cache/} folder that {@code
 * scripts/fetch-assets.sh} fills. A missing file skips the calling test with a printed reason, or
 * fails it when the environment variable {@code DKS_REQUIRE_SHARED} is set (as in CI).
 */
final class Assets {
  private Assets() {}

  /** A file or folder under {@code shared/models}. */
  static Path sharedModel(String relative) {
    return SharedAssets.sharedModelOrSkip(relative, TestAbortedException::new);
  }

  /** A file or folder under the data cache. */
  static Path dataCache(String relative) {
    return SharedAssets.dataCacheOrSkip(relative, TestAbortedException::new);
  }
}
