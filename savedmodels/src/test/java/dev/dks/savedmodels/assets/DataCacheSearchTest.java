package dev.dks.savedmodels.assets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data cache search of {@link SharedAssets#dataCacheDir} (issue 16), on folders made here: a
 * fake checkout (a folder with scripts/fetch-assets.sh) and a per-user cache. The environment
 * variable wins over the property, the property over the checkout, the checkout's data-cache
 * (when it exists) over the per-user cache, which is found from a folder outside any checkout,
 * the situation of a Java program using dks as a library.
 */
class DataCacheSearchTest {
  @TempDir
  Path tmp;

  @Test
  void theSearchOrderIsEnvPropertyCheckoutUser() throws IOException {
    Path checkout = Files.createDirectories(tmp.resolve("dks-java"));
    Files.createDirectories(checkout.resolve("scripts"));
    Files.writeString(checkout.resolve("scripts/fetch-assets.sh"), "#!/bin/sh\n");
    Path module = Files.createDirectories(checkout.resolve("trainers"));
    Path user = tmp.resolve("home/.cache/dks/data-cache");
    Path outside = Files.createDirectories(tmp.resolve("elsewhere/app"));
    Path env = tmp.resolve("env-cache");
    Path prop = tmp.resolve("prop-cache");

    assertEquals(env, SharedAssets.dataCacheDir(env.toString(), prop.toString(), module, user));
    assertEquals(prop, SharedAssets.dataCacheDir("", prop.toString(), module, user));
    // nothing fetched anywhere: inside the checkout its data-cache, outside the per-user one
    assertEquals(checkout.resolve("data-cache"),
        SharedAssets.dataCacheDir(null, null, module, user));
    assertEquals(user, SharedAssets.dataCacheDir(null, null, outside, user));
    // fetched, with the per-user link fetch-assets.sh makes: found from outside the checkout
    Files.createDirectories(checkout.resolve("data-cache/mnist"));
    Files.createDirectories(user.getParent());
    Files.createSymbolicLink(user, checkout.resolve("data-cache"));
    assertEquals(user, SharedAssets.dataCacheDir(null, null, outside, user));
    assertTrue(Files.isDirectory(SharedAssets.dataCacheDir(null, null, outside, user)
        .resolve("mnist")));
    assertEquals(checkout.resolve("data-cache"),
        SharedAssets.dataCacheDir(null, null, module, user));
  }

  @Test
  void thePropertyIsHonouredAndTheHintSaysWhereItLooked() {
    if (System.getenv(SharedAssets.DATA_CACHE_ENV) != null) {
      System.out.println("skipped the property check: " + SharedAssets.DATA_CACHE_ENV
          + " is set and wins");
      return;
    }
    String before = System.getProperty(SharedAssets.DATA_CACHE_PROPERTY);
    try {
      System.setProperty(SharedAssets.DATA_CACHE_PROPERTY, tmp.toString());
      assertEquals(tmp, SharedAssets.dataCacheDir());
      String hint = SharedAssets.dataCacheHint();
      assertTrue(hint.contains("-Ddks.data.cache: " + tmp), hint);
      assertTrue(hint.contains("$DKS_DATA_CACHE: unset"), hint);
      assertTrue(hint.contains("per-user: " + SharedAssets.userDataCache()), hint);
      assertTrue(hint.contains("scripts/fetch-assets.sh"), hint);
    } finally {
      if (before == null) {
        System.clearProperty(SharedAssets.DATA_CACHE_PROPERTY);
      } else {
        System.setProperty(SharedAssets.DATA_CACHE_PROPERTY, before);
      }
    }
  }
}
