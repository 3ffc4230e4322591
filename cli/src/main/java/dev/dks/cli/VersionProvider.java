package dev.dks.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** Reports the project version, filtered into {@code version.properties} at build time. */
public final class VersionProvider implements IVersionProvider {
  /** The version lines printed by {@code dks --version}. */
  @Override
  public String[] getVersion() {
    return new String[] {"dks " + version()};
  }

  /** The project version, or {@code "unknown"} when the resource is missing. */
  public static String version() {
    try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
