package dev.dks.rewriter.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reference: a file created plainly with {@link Files#createFile} in the same folder carries the
 * process's default permissions; {@link Files#createTempFile} (what atomic writes used) does not.
 */
class TempFilesTest {
  @TempDir Path dir;

  @Test
  void tempFilesGetTheDefaultPermissionsNotOwnerOnly() throws Exception {
    String plain = PosixFilePermissions.toString(Files.getPosixFilePermissions(
        Files.createFile(dir.resolve("plain"))));
    Path a = TempFiles.createIn(dir, ".x.", ".tmp");
    Path b = TempFiles.createIn(dir, ".x.", ".tmp");
    assertNotEquals(a, b);
    assertTrue(a.getFileName().toString().startsWith(".x.") && a.toString().endsWith(".tmp"));
    assertEquals(0, Files.size(a));
    assertEquals(plain, PosixFilePermissions.toString(Files.getPosixFilePermissions(a)));
    // the JDK's temp files are owner-only, which is why atomic writes do not use them
    String jdk = PosixFilePermissions.toString(Files.getPosixFilePermissions(
        Files.createTempFile(dir, "j", ".tmp")));
    assertEquals("rw-------", jdk);
  }
}
