package dev.dks.trainers.loop;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.knowm.xchart.XYChart;

/** Two XChart charts side by side on a white image, and the PNG written atomically. */
final class PngCharts {
  private PngCharts() {}

  /** {@code left} in the left half (width {@code width / 2}), {@code right} in the rest. */
  static BufferedImage sideBySide(XYChart left, XYChart right, int width, int height) {
    int half = width / 2;
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      left.paint(g, half, height);
      g.translate(half, 0);
      right.paint(g, width - half, height);
    } finally {
      g.dispose();
    }
    return image;
  }

  /** Writes {@code image} as a PNG through {@link Checkpoint#writeAtomically}. */
  static void write(Path png, BufferedImage image) {
    try {
      Checkpoint.writeAtomically(png, out -> {
        if (!ImageIO.write(image, "png", out)) {
          throw new IOException("no PNG writer");
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + png, e);
    }
  }
}
