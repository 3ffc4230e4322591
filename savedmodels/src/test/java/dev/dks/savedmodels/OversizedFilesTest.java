package dev.dks.savedmodels;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.savedmodels.export.ServingCheck;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model files larger than what the JVM can read into memory (untrusted models, issue 17): sparse
 * files of 2 GiB + 1 byte (nothing on disk) as saved_model.pb, a frozen graph, a TF.js model.json
 * and saved_model.pbtxt. {@code Files.readAllBytes} of such a file throws OutOfMemoryError
 * ("Required array size too large") whatever the heap; each read now ends with a
 * ModelFormatException naming the file and its size, from its size alone. Control: the same
 * folders with a small file of garbage fail for another reason (the bytes do not parse), so the
 * size is what refused the large ones.
 */
class OversizedFilesTest {
  @TempDir Path tmp;
  private static final long SIZE = (1L << 31) + 1;

  private static Path sparse(Path file, long size) throws IOException {
    Files.createDirectories(file.getParent());
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(size);
    }
    return file;
  }

  private static void tooLarge(Executable read, Path file) {
    ModelFormatException e = assertThrows(ModelFormatException.class, read);
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(SIZE
        + " bytes, more than dks reads into memory"), e.getMessage());
  }

  @Test
  void aHugeSavedModelPbIsRefusedBySize() throws IOException {
    Path pb = sparse(tmp.resolve("sm/saved_model.pb"), SIZE);
    Path dir = pb.getParent();
    tooLarge(() -> ModelReaders.read(dir), pb);
    tooLarge(() -> SavedModelReader.read(dir), pb);
    tooLarge(() -> UntrustedOps.requireSafeSavedModel(dir, Set.of()), pb);
    tooLarge(() -> ServingCheck.check(dir), pb);
    Path text = sparse(tmp.resolve("smtxt/saved_model.pbtxt"), SIZE);
    tooLarge(() -> ModelReaders.read(text.getParent()), text);
    // control: a small unparsable file is refused for its bytes, not its size
    Path small = tmp.resolve("small/saved_model.pb");
    Files.createDirectories(small.getParent());
    Files.write(small, new byte[] {1, 2, 3, 4, 5, 6, 7});
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> ModelReaders.read(small.getParent()));
    assertFalse(e.getMessage().contains("more than dks reads"), e.getMessage());
  }

  @Test
  void aHugeFrozenGraphAndModelJsonAreRefusedBySize() throws IOException {
    Path frozen = sparse(tmp.resolve("big.pb"), SIZE);
    tooLarge(() -> ModelReaders.read(frozen), frozen);
    Path json = sparse(tmp.resolve("tfjs/model.json"), SIZE);
    tooLarge(() -> ModelReaders.read(json.getParent()), json);
    Path smallPb = tmp.resolve("small.pb");
    Files.write(smallPb, new byte[] {1, 2, 3, 4, 5, 6, 7});
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> ModelReaders.read(smallPb));
    assertFalse(e.getMessage().contains("more than dks reads"), e.getMessage());
  }
}
