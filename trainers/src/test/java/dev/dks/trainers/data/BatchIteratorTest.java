package dev.dks.trainers.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Iterator;
import org.junit.jupiter.api.Test;

/** Determinism, permutations, resume, augmentation shapes and targets of BatchIterator. */
class BatchIteratorTest {
  /** 103 images of 5x4x2 whose values encode (image, position) so moves are visible. */
  private static Dataset data() {
    int n = 103;
    int size = 5 * 4 * 2;
    float[] im = new float[n * size];
    int[] lb = new int[n];
    for (int i = 0; i < n; i++) {
      lb[i] = i % 7;
      for (int j = 0; j < size; j++) {
        im[i * size + j] = 1 + i * 1000 + j;
      }
    }
    return new Dataset("toy", im, lb, 5, 4, 2, 7);
  }

  private static BatchIterator.Builder base() {
    return BatchIterator.builder(data()).batchSize(10).seed(42);
  }

  @Test
  void batchAtIsDeterministic() {
    BatchIterator a = base().cropPadding(2).horizontalFlip(true).labelSmoothing(0.1f).build();
    BatchIterator b = base().cropPadding(2).horizontalFlip(true).labelSmoothing(0.1f).build();
    for (long s : new long[] {0, 5, 10, 11, 37, 1000, 3}) {
      Batch x = a.batchAt(s);
      Batch y = b.batchAt(s);
      assertArrayEquals(x.indices(), y.indices());
      assertArrayEquals(x.images(), y.images());
      assertArrayEquals(x.oneHot(), y.oneHot());
      assertArrayEquals(x.images(), a.batchAt(s).images()); // same instance, asked again
    }
    BatchIterator other = base().seed(43).build();
    assertFalse(Arrays.equals(a.batchAt(0).indices(), other.batchAt(0).indices()));
  }

  @Test
  void everyEpochIsAPermutation() {
    for (boolean dropLast : new boolean[] {false, true}) {
      BatchIterator it = base().dropLast(dropLast).build();
      assertEquals(dropLast ? 10 : 11, it.batchesPerEpoch());
      int[] firstOrder = null;
      for (long e = 0; e < 4; e++) {
        int[] seen = new int[103];
        int count = 0;
        for (long s = e * it.batchesPerEpoch(); s < (e + 1) * it.batchesPerEpoch(); s++) {
          Batch b = it.batchAt(s);
          assertEquals(e, b.epoch());
          assertEquals(dropLast || s % 11 != 10 ? 10 : 3, b.size());
          for (int i : b.indices()) {
            seen[i]++;
            count++;
          }
        }
        assertEquals(dropLast ? 100 : 103, count);
        for (int v : seen) {
          assertTrue(v <= 1);
        }
        int[] order = it.epochOrder(e);
        int[] sorted = order.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < 103; i++) {
          assertEquals(i, sorted[i]);
        }
        if (firstOrder == null) {
          firstOrder = order;
        } else {
          assertFalse(Arrays.equals(firstOrder, order), "epochs are reshuffled");
        }
      }
    }
  }

  @Test
  void resumingAtStepKMatchesUninterrupted() {
    BatchIterator full = base().cropPadding(1).horizontalFlip(true).build();
    Iterator<Batch> uninterrupted = full.iterator(0);
    Batch[] reference = new Batch[40];
    for (int s = 0; s < 40; s++) {
      reference[s] = uninterrupted.next();
    }
    for (int k : new int[] {0, 7, 11, 23}) {
      // A fresh iterator, as after a restart, starting at step k.
      Iterator<Batch> resumed = base().cropPadding(1).horizontalFlip(true).build().iterator(k);
      for (int s = k; s < 40; s++) {
        Batch b = resumed.next();
        assertEquals(s, b.step());
        assertArrayEquals(reference[s].indices(), b.indices());
        assertArrayEquals(reference[s].images(), b.images());
        assertArrayEquals(reference[s].labels(), b.labels());
      }
    }
  }

  @Test
  void noAugmentationGivesTheSourceImages() {
    Dataset d = data();
    BatchIterator it = BatchIterator.builder(d).batchSize(10).seed(1).cropPadding(0)
        .horizontalFlip(false).build();
    for (long s = 0; s < 15; s++) {
      Batch b = it.batchAt(s);
      int size = d.imageSize();
      for (int k = 0; k < b.size(); k++) {
        int i = b.indices()[k];
        assertArrayEquals(Arrays.copyOfRange(d.images(), i * size, (i + 1) * size),
            Arrays.copyOfRange(b.images(), k * size, (k + 1) * size));
        assertEquals(d.labels()[i], b.labels()[k]);
      }
    }
  }

  @Test
  void cropAndFlipKeepShapesAndMoveOnlySourcePixels() {
    Dataset d = data();
    BatchIterator it = BatchIterator.builder(d).batchSize(10).seed(9).cropPadding(2)
        .horizontalFlip(true).build();
    int size = d.imageSize();
    boolean changed = false;
    for (long s = 0; s < 20; s++) {
      Batch b = it.batchAt(s);
      assertEquals(b.size() * size, b.images().length);
      assertEquals(5, b.h());
      assertEquals(4, b.w());
      assertEquals(2, b.c());
      for (int k = 0; k < b.size(); k++) {
        int i = b.indices()[k];
        for (int j = 0; j < size; j++) {
          float v = b.images()[k * size + j];
          // zero padding or a pixel of the same image, same channel
          assertTrue(v == 0 || ((int) v - 1) / 1000 == i && ((int) v - 1) % 1000 % 2 == j % 2,
              "value " + v + " at " + j + " of image " + i);
          changed |= v != d.images()[i * size + j];
        }
      }
    }
    assertTrue(changed, "augmentation moved something");
  }

  @Test
  void oneHotAndLabelSmoothingRowsSumToOne() {
    for (float eps : new float[] {0f, 0.1f, 0.3f}) {
      BatchIterator it = base().labelSmoothing(eps).build();
      Batch b = it.batchAt(3);
      for (int k = 0; k < b.size(); k++) {
        double sum = 0;
        for (int j = 0; j < 7; j++) {
          float v = b.oneHot()[k * 7 + j];
          sum += v;
          float expect = (j == b.labels()[k] ? 1 - eps : 0) + eps / 7;
          assertEquals(expect, v, 1e-6);
        }
        assertEquals(1.0, sum, 1e-6);
      }
    }
    assertNotEquals(0, base().build().batchAt(0).oneHot().length);
  }
}
