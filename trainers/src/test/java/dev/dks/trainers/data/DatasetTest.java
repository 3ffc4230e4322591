package dev.dks.trainers.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dataset helpers, the synthetic task, image folders and DataSets errors. */
class DatasetTest {
  @TempDir Path dir;

  @Test
  void splitIsASeededPartition() {
    Dataset d = SyntheticTask.generate("s", 50, 2, 2, 3, 4, 0.5, 1, 0);
    Dataset.Split a = d.split(0.2, 5);
    Dataset.Split b = d.split(0.2, 5);
    assertEquals(10, a.validation().size());
    assertEquals(40, a.train().size());
    assertEquals(a.train(), b.train());
    assertArrayEquals(a.validation().images(), b.validation().images());
    // Every image lands in exactly one part: compare the multisets of first values.
    float[] all = new float[50];
    int k = 0;
    for (Dataset p : new Dataset[] {a.train(), a.validation()}) {
      for (int i = 0; i < p.size(); i++) {
        all[k++] = p.images()[i * 12];
      }
    }
    float[] orig = new float[50];
    for (int i = 0; i < 50; i++) {
      orig[i] = d.images()[i * 12];
    }
    Arrays.sort(all);
    Arrays.sort(orig);
    assertArrayEquals(orig, all);
  }

  @Test
  void scalingAndStandardization() {
    float[] im = {0, 10, 2, 20, 4, 30, 6, 40}; // 2 images of 2x1x2
    Dataset d = new Dataset("t", im, new int[] {0, 1}, 2, 1, 2, 2);
    assertArrayEquals(new float[] {0, 0.25f, 0.05f, 0.5f, 0.1f, 0.75f, 0.15f, 1f},
        d.scaledTo01(40).images());
    Dataset.ChannelStats st = d.channelStats();
    assertArrayEquals(new float[] {3, 25}, st.mean());
    assertEquals(Math.sqrt(5), st.std()[0], 1e-6);
    assertEquals(Math.sqrt(125), st.std()[1], 1e-5);
    Dataset.ChannelStats z = d.standardized().channelStats();
    for (int c = 0; c < 2; c++) {
      assertEquals(0, z.mean()[c], 1e-6);
      assertEquals(1, z.std()[c], 1e-6);
    }
    float[] mm = d.scaledTo01().images();
    assertEquals(0f, mm[0]);
    assertEquals(1f, mm[7]);
    assertThrows(IllegalArgumentException.class,
        () -> new Dataset("bad", new float[4], new int[] {0, 5}, 2, 1, 1, 2));
  }

  @Test
  void syntheticIsSeededAndSharesCentresAcrossParts() {
    Dataset a = SyntheticTask.generate("a", 200, 4, 4, 3, 5, 0.3, 11, 0);
    Dataset b = SyntheticTask.generate("a", 200, 4, 4, 3, 5, 0.3, 11, 0);
    assertEquals(a, b);
    assertArrayEquals(new int[] {40, 40, 40, 40, 40}, a.classCounts());
    Dataset test = SyntheticTask.generate("t", 50, 4, 4, 3, 5, 0.3, 11, 1);
    // Nearest class mean of the train part classifies the test part (same centres).
    int size = 48;
    double[][] mean = new double[5][size];
    for (int i = 0; i < a.size(); i++) {
      for (int j = 0; j < size; j++) {
        mean[a.labels()[i]][j] += a.images()[i * size + j] / 40.0;
      }
    }
    int correct = 0;
    for (int i = 0; i < test.size(); i++) {
      int best = -1;
      double bestD = Double.MAX_VALUE;
      for (int k = 0; k < 5; k++) {
        double dd = 0;
        for (int j = 0; j < size; j++) {
          double t = test.images()[i * size + j] - mean[k][j];
          dd += t * t;
        }
        if (dd < bestD) {
          bestD = dd;
          best = k;
        }
      }
      correct += best == test.labels()[i] ? 1 : 0;
    }
    assertEquals(50, correct);
    Dataset viaName = DataSets.load("synthetic:6x5x2:3:30", dir);
    assertEquals(30, viaName.size());
    assertEquals(6, viaName.h());
    assertEquals(5, viaName.w());
    assertEquals(2, viaName.c());
    assertEquals(3, viaName.classes());
  }

  @Test
  void imageFolderSortsClassesAndResizes() throws IOException {
    for (String cls : new String[] {"zebra", "ant"}) {
      Path sub = Files.createDirectories(dir.resolve("imgs").resolve(cls));
      for (int k = 0; k < 2; k++) {
        BufferedImage img = new BufferedImage(6, 4, BufferedImage.TYPE_INT_RGB);
        int rgb = cls.equals("ant") ? 0xFF0000 : 0x0000FF;
        for (int y = 0; y < 4; y++) {
          for (int x = 0; x < 6; x++) {
            img.setRGB(x, y, rgb);
          }
        }
        ImageIO.write(img, "png", sub.resolve("i" + k + ".png").toFile());
      }
    }
    Dataset d = ImageFolder.read(dir.resolve("imgs"), 3, 2, 3);
    assertEquals(4, d.size());
    assertEquals(2, d.classes());
    assertArrayEquals(new int[] {0, 0, 1, 1}, d.labels()); // "ant" before "zebra"
    assertEquals(255f, d.images()[0], 1e-3); // ant is red
    assertEquals(0f, d.images()[2], 1e-3);
    assertEquals(255f, d.images()[3 * 6 * 2 + 2], 1e-3); // zebra is blue
    Dataset grey = DataSets.loadImageFolder(dir.resolve("imgs"), 5, 5, 1);
    assertEquals(0.299f, grey.images()[0], 1e-4);
    // Bilinear: a 1x2 ramp [0, 10] widened to 1x4 gives [0, 2.5, 7.5, 10].
    assertArrayEquals(new float[] {0, 2.5f, 7.5f, 10},
        ImageFolder.resizeBilinear(new float[] {0, 10}, 1, 2, 1, 1, 4), 1e-5f);
    Files.writeString(dir.resolve("imgs").resolve("ant").resolve("notes.txt"), "hi");
    assertThrows(DataFormatException.class, () -> ImageFolder.read(dir.resolve("imgs"), 3, 2, 3));
  }

  @Test
  void missingCacheSaysToRunFetchAssets() {
    for (String name : new String[] {"fashion-mnist", "mnist", "digits"}) {
      DataNotFoundException e = assertThrows(DataNotFoundException.class,
          () -> DataSets.load(name, dir.resolve("empty-cache")));
      assertTrue(e.getMessage().contains("scripts/fetch-assets.sh"), e.getMessage());
      assertTrue(e.getMessage().contains("the data cache " + dir.resolve("empty-cache")),
          e.getMessage());
    }
    assertThrows(DataNotFoundException.class,
        () -> DataSets.load(dir.resolve("nope").toString(), dir));
  }

  /**
   * Issue 16: a data set missing from the data cache dks found says where it looked (the
   * property given here, the per-user cache), not only "run fetch-assets".
   */
  @Test
  void missingFromTheFoundCacheSaysWhereItLooked() {
    if (System.getenv(dev.dks.savedmodels.assets.SharedAssets.DATA_CACHE_ENV) != null) {
      System.out.println("skipped: DKS_DATA_CACHE is set and wins over the property");
      return;
    }
    Path cache = dir.resolve("prop-cache");
    String key = dev.dks.savedmodels.assets.SharedAssets.DATA_CACHE_PROPERTY;
    String before = System.getProperty(key);
    try {
      System.setProperty(key, cache.toString());
      DataNotFoundException e = assertThrows(DataNotFoundException.class,
          () -> DataSets.load("mnist", dev.dks.savedmodels.assets.SharedAssets.dataCacheDir()));
      assertTrue(e.getMessage().contains("-Ddks.data.cache: " + cache + " (missing)"),
          e.getMessage());
      assertTrue(e.getMessage().contains("per-user: "), e.getMessage());
    } finally {
      if (before == null) {
        System.clearProperty(key);
      } else {
        System.setProperty(key, before);
      }
    }
  }
}
