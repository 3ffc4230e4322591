package dev.dks.savedmodels.export;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import javax.imageio.ImageIO;

/**
 * Small encoded images the serving check feeds a string input that an image decoder reads
 * ({@link StringInputs}): {@value #SIDE}x{@value #SIDE} pixels of a smooth deterministic pattern
 * ({@link #value}), as PNG, JPEG and GIF (written by {@link ImageIO}) or BMP (written here: 24 or
 * 32 bits per pixel, uncompressed), with the channels the decoder asks for.
 *
 * <p>Channels follow TensorFlow's decoders: 1 is gray, 3 RGB, 4 RGBA (PNG) or BGRA (BMP); 0 (the
 * file's own) is written as RGB. JPEG has no alpha; GIF is palette-indexed and decodes to RGB
 * frames.
 */
final class EncodedImages {
  /** Width and height of every image, in pixels. */
  static final int SIDE = 32;

  private EncodedImages() {}

  /**
   * The pattern's value (0-255) of channel {@code c} at column {@code x}, row {@code y}: {@code 3x
   * + 2y + 40c} for the colour channels (0 red or gray, 1 green, 2 blue), {@code 255 - 2x - y} for
   * alpha (3).
   */
  static int value(int x, int y, int c) {
    return c == 3 ? 255 - 2 * x - y : 3 * x + 2 * y + 40 * c;
  }

  /** A PNG of 1 (gray), 3 (RGB) or 4 (RGBA) channels; 0 gives RGB. */
  static byte[] png(int channels) {
    return write(image(channels == 1 ? 1 : channels == 4 ? 4 : 3), "png");
  }

  /** A baseline JPEG of 1 (gray) or 3 (RGB) channels; anything else gives RGB. */
  static byte[] jpeg(int channels) {
    return write(image(channels == 1 ? 1 : 3), "jpeg");
  }

  /** A GIF (palette-indexed; TensorFlow decodes it to one RGB frame). */
  static byte[] gif() {
    BufferedImage rgb = image(3);
    BufferedImage indexed = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_BYTE_INDEXED);
    indexed.getGraphics().drawImage(rgb, 0, 0, null);
    return write(indexed, "gif");
  }

  /**
   * An uncompressed BMP of 4 (32 bits, BGRA) or 3 (24 bits, BGR) channels (anything but 4 gives
   * 24 bits): a 14-byte file header, a 40-byte BITMAPINFOHEADER, rows bottom-up, each padded to a
   * multiple of 4 bytes.
   */
  static byte[] bmp(int channels) {
    int bytesPerPixel = channels == 4 ? 4 : 3;
    int row = (SIDE * bytesPerPixel + 3) / 4 * 4;
    int pixels = row * SIDE;
    ByteBuffer b = ByteBuffer.allocate(54 + pixels).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'B').put((byte) 'M').putInt(54 + pixels).putInt(0).putInt(54);
    b.putInt(40).putInt(SIDE).putInt(SIDE).putShort((short) 1)
        .putShort((short) (8 * bytesPerPixel)).putInt(0).putInt(pixels).putInt(2835)
        .putInt(2835).putInt(0).putInt(0);
    for (int y = SIDE - 1; y >= 0; y--) {
      int start = b.position();
      for (int x = 0; x < SIDE; x++) {
        b.put((byte) value(x, y, 2)).put((byte) value(x, y, 1)).put((byte) value(x, y, 0));
        if (bytesPerPixel == 4) {
          b.put((byte) value(x, y, 3));
        }
      }
      while (b.position() - start < row) {
        b.put((byte) 0);
      }
    }
    return b.array();
  }

  /** The pattern as an image of 1 (gray), 3 (RGB) or 4 (ARGB) channels. */
  private static BufferedImage image(int channels) {
    int type = channels == 1 ? BufferedImage.TYPE_BYTE_GRAY
        : channels == 4 ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB;
    BufferedImage im = new BufferedImage(SIDE, SIDE, type);
    for (int y = 0; y < SIDE; y++) {
      for (int x = 0; x < SIDE; x++) {
        if (channels == 1) {
          im.getRaster().setSample(x, y, 0, value(x, y, 0));
        } else {
          int a = channels == 4 ? value(x, y, 3) : 255;
          im.setRGB(x, y, a << 24 | value(x, y, 0) << 16 | value(x, y, 1) << 8 | value(x, y, 2));
        }
      }
    }
    return im;
  }

  private static byte[] write(BufferedImage im, String format) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(im, format, out)) {
        throw new IllegalStateException("no ImageIO writer for " + format + " (image type "
            + im.getType() + ")");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
