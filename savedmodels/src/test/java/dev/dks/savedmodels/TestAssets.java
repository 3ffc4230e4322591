package dev.dks.savedmodels;

import dev.dks.savedmodels.assets.SharedAssets;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.opentest4j.TestAbortedException;

/**
 * The real files the tests use, through {@link SharedAssets}: a missing one skips the calling
 * test with a printed reason, or fails it when {@code DKS_REQUIRE_SHARED} is set (CI). Also the
 * photo preprocessing nsfwjs does: RGB / 255, then bilinear resize with aligned corners.
 */
public final class TestAssets {
  private TestAssets() {}

  /** A file or folder under {@code ../shared/models}; skips (or fails) when it is missing. */
  public static Path sharedModel(String relative) {
    return SharedAssets.sharedModelOrSkip(relative, TestAbortedException::new);
  }

  /** A file or folder under {@code data-cache/}; skips (or fails) when it is missing. */
  public static Path dataCache(String relative) {
    return SharedAssets.dataCacheOrSkip(relative, TestAbortedException::new);
  }

  /**
   * The photo as nsfwjs feeds it: RGB scaled to [0,1], resized to size x size with TF's
   * resizeBilinear(alignCorners=true), NHWC with batch 1, row-major.
   */
  public static float[] photo(Path jpg, int size) throws IOException {
    BufferedImage img = ImageIO.read(jpg.toFile());
    if (img == null) {
      throw new IOException(jpg + ": ImageIO cannot decode it");
    }
    int w = img.getWidth();
    int h = img.getHeight();
    float[] src = new float[h * w * 3];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = img.getRGB(x, y);
        int o = (y * w + x) * 3;
        src[o] = ((rgb >> 16) & 0xFF) / 255f;
        src[o + 1] = ((rgb >> 8) & 0xFF) / 255f;
        src[o + 2] = (rgb & 0xFF) / 255f;
      }
    }
    return resizeBilinearAlignCorners(src, h, w, size, size);
  }

  /** tf.image.resizeBilinear(x, [outH, outW], alignCorners = true) of an HWC float image. */
  static float[] resizeBilinearAlignCorners(float[] src, int h, int w, int outH, int outW) {
    float[] out = new float[outH * outW * 3];
    double sy = outH > 1 ? (h - 1) / (double) (outH - 1) : 0;
    double sx = outW > 1 ? (w - 1) / (double) (outW - 1) : 0;
    for (int y = 0; y < outH; y++) {
      double fy = y * sy;
      int y0 = (int) Math.floor(fy);
      int y1 = Math.min(h - 1, (int) Math.ceil(fy));
      double dy = fy - y0;
      for (int x = 0; x < outW; x++) {
        double fx = x * sx;
        int x0 = (int) Math.floor(fx);
        int x1 = Math.min(w - 1, (int) Math.ceil(fx));
        double dx = fx - x0;
        for (int c = 0; c < 3; c++) {
          double tl = src[(y0 * w + x0) * 3 + c];
          double tr = src[(y0 * w + x1) * 3 + c];
          double bl = src[(y1 * w + x0) * 3 + c];
          double br = src[(y1 * w + x1) * 3 + c];
          double top = tl + (tr - tl) * dx;
          double bottom = bl + (br - bl) * dx;
          out[(y * outW + x) * 3 + c] = (float) (top + (bottom - top) * dy);
        }
      }
    }
    return out;
  }
}
