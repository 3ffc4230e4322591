package dev.dks.trainers.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads MNIST-style IDX files, gzipped or raw (gzip is recognised by its magic bytes {@code 1f
 * 8b}, whatever the file name).
 *
 * <p>Format: a big-endian header, then unsigned bytes. Images: magic {@code 2051} ({@code
 * 0x00000803}), count, rows, cols, then {@code count * rows * cols} pixels row-major. Labels:
 * magic {@code 2049} ({@code 0x00000801}), count, then {@code count} labels. Any deviation
 * (wrong magic, non-positive or too large sizes, truncated data, trailing data, corrupt gzip) is
 * a {@link DataFormatException} naming the file.
 */
public final class IdxReader {
  /** Magic number of an IDX image file (unsigned byte, 3 dimensions). */
  public static final int IMAGES_MAGIC = 2051;
  /** Magic number of an IDX label file (unsigned byte, 1 dimension). */
  public static final int LABELS_MAGIC = 2049;

  private IdxReader() {}

  /**
   * The pixels of an IDX image file.
   *
   * @param count number of images
   * @param rows image height
   * @param cols image width
   * @param pixels unsigned bytes (read with {@code & 0xff}), {@code count * rows * cols}
   */
  public record Images(int count, int rows, int cols, byte[] pixels) {}

  /** Reads an image file (magic 2051). */
  public static Images readImages(Path file) {
    try (DataInputStream in = open(file)) {
      int magic = headerInt(in, file);
      if (magic != IMAGES_MAGIC) {
        throw new DataFormatException(file, "not an IDX image file: magic " + magic
            + " (0x" + Integer.toHexString(magic) + "), expected " + IMAGES_MAGIC);
      }
      int count = headerInt(in, file);
      int rows = headerInt(in, file);
      int cols = headerInt(in, file);
      if (count < 0 || rows <= 0 || cols <= 0
          || (long) count * rows * cols > Integer.MAX_VALUE - 8) {
        throw new DataFormatException(file, "bad IDX image header: count " + count + ", rows "
            + rows + ", cols " + cols);
      }
      byte[] pixels = new byte[count * rows * cols];
      readBody(in, file, pixels, count + " images of " + rows + "x" + cols);
      return new Images(count, rows, cols, pixels);
    } catch (IOException e) {
      throw ioError(file, e);
    }
  }

  /** Reads a label file (magic 2049); labels are unsigned bytes 0..255. */
  public static int[] readLabels(Path file) {
    try (DataInputStream in = open(file)) {
      int magic = headerInt(in, file);
      if (magic != LABELS_MAGIC) {
        throw new DataFormatException(file, "not an IDX label file: magic " + magic
            + " (0x" + Integer.toHexString(magic) + "), expected " + LABELS_MAGIC);
      }
      int count = headerInt(in, file);
      if (count < 0 || count > Integer.MAX_VALUE - 8) {
        throw new DataFormatException(file, "bad IDX label header: count " + count);
      }
      byte[] raw = new byte[count];
      readBody(in, file, raw, count + " labels");
      int[] labels = new int[count];
      for (int i = 0; i < count; i++) {
        labels[i] = raw[i] & 0xff;
      }
      return labels;
    } catch (IOException e) {
      throw ioError(file, e);
    }
  }

  /**
   * Reads an image file and its label file as a data set of {@code rows x cols x 1} images with
   * the raw pixel values 0..255 as floats (use {@link Dataset#scaledTo01(float)} with 255).
   * The number of classes is {@code max(label) + 1}, at least {@code minClasses}.
   *
   * @throws DataFormatException when either file is malformed or the counts differ
   */
  public static Dataset read(Path imagesFile, Path labelsFile, String name, int minClasses) {
    Images im = readImages(imagesFile);
    int[] labels = readLabels(labelsFile);
    if (labels.length != im.count()) {
      throw new DataFormatException(labelsFile, labels.length + " labels but " + imagesFile
          + " holds " + im.count() + " images");
    }
    int max = minClasses - 1;
    for (int l : labels) {
      max = Math.max(max, l);
    }
    float[] px = new float[im.pixels().length];
    byte[] b = im.pixels();
    for (int i = 0; i < px.length; i++) {
      px[i] = b[i] & 0xff;
    }
    return new Dataset(name, px, labels, im.rows(), im.cols(), 1, Math.max(1, max + 1));
  }

  /** Writes an IDX image file (raw, not gzipped): for tests and tools. */
  public static void writeImages(Path file, int count, int rows, int cols, byte[] pixels)
      throws IOException {
    if (pixels.length != count * rows * cols) {
      throw new IllegalArgumentException(pixels.length + " pixels for " + count + " images of "
          + rows + "x" + cols);
    }
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(16 + pixels.length);
    buf.putInt(IMAGES_MAGIC).putInt(count).putInt(rows).putInt(cols).put(pixels);
    Files.write(file, buf.array());
  }

  /** Writes an IDX label file (raw, not gzipped): for tests and tools. */
  public static void writeLabels(Path file, int[] labels) throws IOException {
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(8 + labels.length);
    buf.putInt(LABELS_MAGIC).putInt(labels.length);
    for (int l : labels) {
      if (l < 0 || l > 255) {
        throw new IllegalArgumentException("label " + l + " does not fit an unsigned byte");
      }
      buf.put((byte) l);
    }
    Files.write(file, buf.array());
  }

  /** Opens a file, through gzip when it starts with the gzip magic bytes. */
  static DataInputStream open(Path file) throws IOException {
    InputStream raw;
    try {
      raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    } catch (NoSuchFileException e) {
      throw new DataNotFoundException(file + " does not exist");
    }
    raw.mark(2);
    int b0 = raw.read();
    int b1 = raw.read();
    raw.reset();
    if (b0 == 0x1f && b1 == 0x8b) {
      try {
        raw = new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16);
      } catch (IOException e) {
        raw.close();
        throw e;
      }
    }
    return new DataInputStream(raw);
  }

  private static int headerInt(DataInputStream in, Path file) throws IOException {
    int b0 = in.read();
    int b1 = in.read();
    int b2 = in.read();
    int b3 = in.read();
    if ((b0 | b1 | b2 | b3) < 0) {
      throw new DataFormatException(file, "truncated: the file ends inside the IDX header");
    }
    return (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
  }

  private static void readBody(DataInputStream in, Path file, byte[] dst, String what)
      throws IOException {
    int off = 0;
    while (off < dst.length) {
      int r = in.read(dst, off, dst.length - off);
      if (r < 0) {
        throw new DataFormatException(file, "truncated: the header announces " + what + " ("
            + dst.length + " bytes) but the data ends after " + off + " bytes");
      }
      off += r;
    }
    if (in.read() >= 0) {
      throw new DataFormatException(file, "trailing data after the " + dst.length
          + " bytes of " + what + " that the header announces");
    }
  }

  private static RuntimeException ioError(Path file, IOException e) {
    if (e instanceof ZipException || e instanceof EOFException) {
      // GZIPInputStream reports a cut-off stream as EOFException("Unexpected end of ZLIB input
      // stream") and corrupt data as ZipException.
      return new DataFormatException(file, "corrupt or truncated gzip data: " + e.getMessage(),
          e);
    }
    return new UncheckedIOException(file + ": " + e.getMessage(), e);
  }
}
