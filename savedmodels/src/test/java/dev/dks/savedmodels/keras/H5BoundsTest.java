package dev.dks.savedmodels.keras;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.savedmodels.ModelFormatException;
import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.Dataset;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link H5Bounds}: a real weight written with jhdf passes against its own file and the heap;
 * the same numbers against a file shorter than the declared bytes, a 10^12-element declaration
 * and a budget below the weight are refused, naming the weight.
 */
class H5BoundsTest {
  @TempDir
  Path tmp;

  @Test
  void declaredSizesAreCheckedAgainstTheFileAndTheBudget() throws Exception {
    Path h5 = tmp.resolve("w.h5");
    try (WritableHdfFile w = HdfFile.write(h5)) {
      w.putGroup("dense").putDataset("kernel", new float[] {1f, 2f, 3f, 4f});
    }
    long fileSize = Files.size(h5);
    try (HdfFile f = new HdfFile(h5)) {
      Dataset ds = f.getDatasetByPath("dense/kernel");
      H5Bounds.check("dense/kernel", ds); // control: the real weight passes
      assertTrue(ds.getSizeInBytes() == 16);
    }
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> H5Bounds.check("k", 4 * fileSize, 16 * fileSize, true, fileSize, 1L << 40));
    assertTrue(e.getMessage().contains("weight 'k'") && e.getMessage().contains("only "
        + fileSize + " bytes"), e.getMessage());
    e = assertThrows(ModelFormatException.class,
        () -> H5Bounds.check("k", 1_000_000_000_000L, 4_000_000_000_000L, false, fileSize,
            1L << 40));
    assertTrue(e.getMessage().contains("memory budget"), e.getMessage());
    e = assertThrows(ModelFormatException.class,
        () -> H5Bounds.check("k", 1000, 4000, false, fileSize, 3999));
    assertTrue(e.getMessage().contains("4000 bytes"), e.getMessage());
    // compressed (not stored raw) data may exceed the file size
    H5Bounds.check("k", 1000, 4000, false, 100, 1L << 40);
  }
}
