package dev.dks.trainers.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Reads a folder with one subfolder per class ({@code root/<class>/<image>}), the classes sorted
 * by folder name (label {@code i} is the {@code i}-th name), the images of a class sorted by file
 * name. Images are decoded with {@link ImageIO} (PNG, JPEG, GIF, BMP), resized bilinearly to
 * {@code height x width} (half-pixel centres, as TensorFlow's {@code resize_bilinear} with {@code
 * half_pixel_centers}), and converted to 1 channel (luma {@code 0.299 R + 0.587 G + 0.114 B}) or
 * 3 channels (RGB). Values are 0..255 as floats (alpha is ignored). Hidden files (name starting
 * with a dot) are skipped; a file ImageIO cannot decode is a {@link DataFormatException}.
 */
public final class ImageFolder {
  private ImageFolder() {}

  /** The class names of {@code root}: its subfolders, sorted by name. */
  public static List<String> classNames(Path root) {
    try (Stream<Path> s = Files.list(root)) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
          .filter(n -> !n.startsWith(".")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(root + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads all images under {@code root}.
   *
   * @param channels 1 (grey) or 3 (RGB)
   */
  public static Dataset read(Path root, int height, int width, int channels) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("channels must be 1 or 3: " + channels);
    }
    if (!Files.isDirectory(root)) {
      throw new DataNotFoundException(root + " is not a folder");
    }
    List<String> classes = classNames(root);
    if (classes.isEmpty()) {
      throw new DataFormatException(root, "no class subfolders");
    }
    List<float[]> images = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    for (int k = 0; k < classes.size(); k++) {
      List<Path> files;
      try (Stream<Path> s = Files.list(root.resolve(classes.get(k)))) {
        files = s.filter(Files::isRegularFile)
            .filter(p -> !p.getFileName().toString().startsWith("."))
            .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
            .toList();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      for (Path f : files) {
        images.add(load(f, height, width, channels));
        labels.add(k);
      }
    }
    int size = height * width * channels;
    float[] all = new float[images.size() * size];
    int[] lb = new int[images.size()];
    for (int i = 0; i < lb.length; i++) {
      System.arraycopy(images.get(i), 0, all, i * size, size);
      lb[i] = labels.get(i);
    }
    return new Dataset(root.getFileName() == null ? root.toString()
        : root.getFileName().toString(), all, lb, height, width, channels, classes.size());
  }

  /** Decodes one image file and resizes it to {@code [height, width, channels]}. */
  public static float[] load(Path file, int height, int width, int channels) {
    BufferedImage img;
    try {
      img = ImageIO.read(file.toFile());
    } catch (IOException e) {
      throw new DataFormatException(file, "cannot decode image: " + e.getMessage(), e);
    }
    if (img == null) {
      throw new DataFormatException(file, "not an image format ImageIO can read");
    }
    int sh = img.getHeight();
    int sw = img.getWidth();
    int[] argb = img.getRGB(0, 0, sw, sh, null, 0, sw);
    float[] src = new float[sh * sw * channels];
    for (int i = 0; i < argb.length; i++) {
      int p = argb[i];
      float r = (p >> 16) & 0xff;
      float g = (p >> 8) & 0xff;
      float b = p & 0xff;
      if (channels == 1) {
        src[i] = 0.299f * r + 0.587f * g + 0.114f * b;
      } else {
        src[3 * i] = r;
        src[3 * i + 1] = g;
        src[3 * i + 2] = b;
      }
    }
    return resizeBilinear(src, sh, sw, channels, height, width);
  }

  /**
   * Bilinear resize of one {@code [sh, sw, c]} image to {@code [dh, dw, c]} with half-pixel
   * centres (source coordinate {@code (d + 0.5) * s / d' - 0.5}, clamped to the edge).
   */
  public static float[] resizeBilinear(float[] src, int sh, int sw, int c, int dh, int dw) {
    float[] dst = new float[dh * dw * c];
    double sy = (double) sh / dh;
    double sx = (double) sw / dw;
    for (int y = 0; y < dh; y++) {
      double fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), sh - 1);
      int y0 = (int) Math.floor(fy);
      int y1 = Math.min(y0 + 1, sh - 1);
      double wy = fy - y0;
      for (int x = 0; x < dw; x++) {
        double fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), sw - 1);
        int x0 = (int) Math.floor(fx);
        int x1 = Math.min(x0 + 1, sw - 1);
        double wx = fx - x0;
        for (int ch = 0; ch < c; ch++) {
          double a = src[(y0 * sw + x0) * c + ch];
          double b = src[(y0 * sw + x1) * c + ch];
          double d = src[(y1 * sw + x0) * c + ch];
          double e = src[(y1 * sw + x1) * c + ch];
          double top = a + (b - a) * wx;
          double bot = d + (e - d) * wx;
          dst[(y * dw + x) * c + ch] = (float) (top + (bot - top) * wy);
        }
      }
    }
    return dst;
  }
}
