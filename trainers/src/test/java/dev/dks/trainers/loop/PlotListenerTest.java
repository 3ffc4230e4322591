package dev.dks.trainers.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The PNG of the loss/accuracy curves at the end of a short run. */
class PlotListenerTest {

  @Test
  void writesADecodableNonBlankPngOfTheExpectedSize(@TempDir Path dir) throws Exception {
    Path png = dir.resolve("plots").resolve("curves.png");
    try (TrainingGraph g = LoopFixtures.graph(LoopFixtures.model())) {
      TrainingOutcome o = LoopFixtures.trainer(g,
              BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), 12)
          .validation(LoopFixtures.validation())
          .listener(new EvaluationListener(5, 40))
          .listener(new PlotListener(png, 900, 400))
          .build().run();
      assertEquals(TrainingOutcome.Status.COMPLETED, o.status());
    }
    assertTrue(Files.isRegularFile(png));
    assertEquals(List.of("curves.png"), LoopFixtures.files(png.getParent())); // no temp left
    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img, "not a decodable image");
    assertEquals(900, img.getWidth());
    assertEquals(400, img.getHeight());
    int background = img.getRGB(0, 0);
    int different = 0;
    int colored = 0;
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int p = img.getRGB(x, y);
        if (p != background) {
          different++;
        }
        int r = (p >> 16) & 0xff;
        int gr = (p >> 8) & 0xff;
        int b = p & 0xff;
        if (Math.max(r, Math.max(gr, b)) - Math.min(r, Math.min(gr, b)) > 60) {
          colored++; // the (blue/orange) curves, not grey axes or text
        }
      }
    }
    assertTrue(different > 1000, "blank image: " + different + " non-background pixels");
    assertTrue(colored > 100, "no curves drawn: " + colored + " colored pixels");
  }
}
