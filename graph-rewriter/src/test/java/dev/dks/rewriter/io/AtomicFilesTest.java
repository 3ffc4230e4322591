package dev.dks.rewriter.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reference: a file created plainly with {@link Files#createFile} in the same folder carries the
 * process's default permissions; {@link Files#createTempFile} (what atomic writes used) does not.
 */
class AtomicFilesTest {
  @TempDir Path dir;

  @Test
  void writtenFilesGetTheDefaultPermissionsNotOwnerOnly() throws Exception {
    String plain = PosixFilePermissions.toString(Files.getPosixFilePermissions(
        Files.createFile(dir.resolve("plain"))));
    Path a = dir.resolve("sub").resolve("a.bin");
    AtomicFiles.write(a, new byte[] {1, 2, 3});
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(a));
    assertEquals(plain, PosixFilePermissions.toString(Files.getPosixFilePermissions(a)));
    Path b = dir.resolve("b.bin");
    AtomicFiles.copy(a, b);
    assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(b));
    assertEquals(plain, PosixFilePermissions.toString(Files.getPosixFilePermissions(b)));
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of("b.bin", "plain", "sub"), files.map(p -> p.getFileName().toString())
          .sorted().toList(), "no temporary file is left");
    }
    // the JDK's temp files are owner-only, which is why atomic writes do not use them
    String jdk = PosixFilePermissions.toString(Files.getPosixFilePermissions(
        Files.createTempFile(dir, "j", ".tmp")));
    assertEquals("rw-------", jdk);
  }
}
