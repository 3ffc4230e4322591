package dev.dks.trainers.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison plot's smoothing against hand-computed trailing means, and the PNG it writes. */
class ComparisonPlotTest {
  @TempDir Path tmp;

  @Test
  void trailingMeanSkipsNonFiniteLosses() {
    List<double[]> rows = List.of(new double[] {1, 1, 0, 0.1}, new double[] {2, 2, 0, 0.2},
        new double[] {3, 3, 0, 0.3}, new double[] {4, Double.NaN, 0, 0.4},
        new double[] {5, 5, 0, 0.5});
    double[][] xy = ComparisonPlot.smoothed(rows, 2, r -> r[3]);
    assertArrayEquals(new double[] {0.1, 0.2, 0.3, 0.5}, xy[0], 0);
    assertArrayEquals(new double[] {1, 1.5, 2.5, 4}, xy[1], 1e-12);
  }

  @Test
  void writesBothRunsAsAPng() throws Exception {
    CurveRecorder a = new CurveRecorder("a");
    CurveRecorder b = new CurveRecorder("b");
    for (int s = 0; s < 30; s++) {
      a.onStep(null, new StepResult(s, 0, 2.0 / (s + 1), 0.5, 0.1, 0.01));
      b.onStep(null, new StepResult(s, 0, 1.0 / (s + 1), 0.5, 0.1, 0.03));
    }
    assertEquals(0.3, a.stepSeconds(), 1e-9);
    assertEquals(30, b.steps().get(29)[0]);
    Path png = tmp.resolve("c.png");
    ComparisonPlot.write(png, List.of(a, b), 5);
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(1200, img.getWidth());
    assertEquals(500, img.getHeight());
    assertTrue(Files.list(tmp).count() == 1, "no temporary file left behind");
  }
}
