package dev.dks.trainers.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.savedmodels.assets.SharedAssets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/** The real data sets in the data cache against their published sizes and class counts. */
class RealDataTest {
  private static Path cache(String relative) {
    SharedAssets.dataCacheOrSkip(relative, TestAbortedException::new);
    return SharedAssets.dataCacheDir();
  }

  private static void assertUnitRange(Dataset d) {
    float min = Float.MAX_VALUE;
    float max = -Float.MAX_VALUE;
    for (float v : d.images()) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assertEquals(0f, min);
    assertEquals(1f, max);
  }

  @Test
  void fashionMnistTrainHas60000BalancedImages() {
    Path cache = cache("fashion-mnist/train-images-idx3-ubyte.gz");
    cache("fashion-mnist/train-labels-idx1-ubyte.gz");
    Dataset d = DataSets.load("fashion-mnist", cache);
    assertEquals(60_000, d.size());
    assertEquals(28, d.h());
    assertEquals(28, d.w());
    assertEquals(1, d.c());
    assertEquals(10, d.classes());
    assertEquals(60_000L * 28 * 28, d.images().length);
    int[] expected = new int[10];
    java.util.Arrays.fill(expected, 6_000);
    assertArrayEquals(expected, d.classCounts());
    assertUnitRange(d);
  }

  @Test
  void mnistTestHasKnownLabelCounts() {
    Path cache = cache("mnist/t10k-images-idx3-ubyte");
    cache("mnist/t10k-labels-idx1-ubyte");
    Dataset d = DataSets.load("mnist", cache, DataSets.Part.TEST);
    assertEquals(10_000, d.size());
    assertEquals(28, d.h());
    assertEquals(28, d.w());
    assertArrayEquals(new int[] {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009},
        d.classCounts());
    assertUnitRange(d);
    // The same pair through the path form of load.
    Dataset viaPath = DataSets.load(cache.resolve("mnist").toString(), cache,
        DataSets.Part.TEST);
    assertArrayEquals(d.labels(), viaPath.labels());
  }

  @Test
  void digitsHas1797RowsWithKnownLabelCounts() {
    Path cache = cache("digits/digits.csv.gz");
    Dataset d = DataSets.load("digits", cache);
    assertEquals(1_797, d.size());
    assertEquals(8, d.h());
    assertEquals(8, d.w());
    assertEquals(1, d.c());
    assertArrayEquals(new int[] {178, 182, 177, 183, 181, 182, 181, 179, 174, 180},
        d.classCounts());
    assertUnitRange(d);
    // First row of sklearn's digits (a zero): pixels 2..5 of row 0 are 5, 13, 9, 1.
    assertEquals(0, d.labels()[0]);
    assertEquals(5f / 16, d.images()[2]);
    assertEquals(13f / 16, d.images()[3]);
    Dataset.Split s = d.split(0.2, 7);
    assertEquals(359, s.validation().size());
    assertEquals(1_797 - 359, s.train().size());
    assertTrue(s.train().size() > 0);
  }
}
