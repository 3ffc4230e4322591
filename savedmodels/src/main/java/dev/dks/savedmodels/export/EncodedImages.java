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
 * ({@link #value}), as PNG, JPEG and GIF (written by {@link ImageIO}) or BMP (written here: 8, 24
 * or 32 bits per pixel, uncompressed), with the channels the decoder asks for. A JPEG may be
 * larger (for a crop window, {@link #jpeg(int, int, int)}): the pattern then repeats every
 * {@value #SIDE} pixels.
 *
 * <p>Channels follow TensorFlow's decoders: 1 is gray, 3 RGB, 4 RGBA (PNG) or BGRA (BMP); 0 (the
 * file's own) is written as RGB. JPEG has no alpha; GIF is palette-indexed and decodes to RGB
 * frames. A 1-channel BMP is 8 bits per pixel with a gray palette (index i is gray i), the only
 * 1-channel BMP there is: TensorFlow's decoder reads the indices as they are (channels 0 gives
 * one channel), which the palette makes the same as what other readers show. TensorFlow 2.18's
 * DecodeBmp refuses channels=1 itself, whatever the file ({@link StringInputs#refusal}).
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

  /** The pattern's value at any pixel: {@link #value} of the position modulo {@value #SIDE}. */
  static int tiled(int x, int y, int c) {
    return value(x % SIDE, y % SIDE, c);
  }

  /** A PNG of 1 (gray), 3 (RGB) or 4 (RGBA) channels; 0 gives RGB. */
  static byte[] png(int channels) {
    return write(image(channels == 1 ? 1 : channels == 4 ? 4 : 3), "png");
  }

  /** A baseline JPEG of 1 (gray) or 3 (RGB) channels; anything else gives RGB. */
  static byte[] jpeg(int channels) {
    return jpeg(channels, SIDE, SIDE);
  }

  /**
   * A baseline JPEG of 1 (gray) or 3 (RGB) channels (anything else gives RGB), {@code width} x
   * {@code height} pixels of the {@link #tiled} pattern (at least 1 x 1).
   */
  static byte[] jpeg(int channels, int width, int height) {
    return write(image(channels == 1 ? 1 : 3, Math.max(1, width), Math.max(1, height)), "jpeg");
  }

  /** A GIF (palette-indexed; TensorFlow decodes it to one RGB frame). */
  static byte[] gif() {
    BufferedImage rgb = image(3);
    BufferedImage indexed = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_BYTE_INDEXED);
    indexed.getGraphics().drawImage(rgb, 0, 0, null);
    return write(indexed, "gif");
  }

  /**
   * An uncompressed BMP of 4 (32 bits, BGRA), 3 (24 bits, BGR) or 1 channel (8 bits, a 256-entry
   * gray palette; channel 0 of the pattern) (anything else gives 24 bits): a 14-byte file
   * header, a 40-byte BITMAPINFOHEADER, the palette (1 channel), rows bottom-up, each padded to a
   * multiple of 4 bytes.
   */
  static byte[] bmp(int channels) {
    int bytesPerPixel = channels == 4 ? 4 : channels == 1 ? 1 : 3;
    int palette = bytesPerPixel == 1 ? 256 : 0;
    int offset = 54 + 4 * palette;
    int row = (SIDE * bytesPerPixel + 3) / 4 * 4;
    int pixels = row * SIDE;
    ByteBuffer b = ByteBuffer.allocate(offset + pixels).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'B').put((byte) 'M').putInt(offset + pixels).putInt(0).putInt(offset);
    b.putInt(40).putInt(SIDE).putInt(SIDE).putShort((short) 1)
        .putShort((short) (8 * bytesPerPixel)).putInt(0).putInt(pixels).putInt(2835)
        .putInt(2835).putInt(palette).putInt(0);
    for (int i = 0; i < palette; i++) {
      b.put((byte) i).put((byte) i).put((byte) i).put((byte) 0); // blue, green, red, reserved
    }
    for (int y = SIDE - 1; y >= 0; y--) {
      int start = b.position();
      for (int x = 0; x < SIDE; x++) {
        if (bytesPerPixel == 1) {
          b.put((byte) value(x, y, 0));
          continue;
        }
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
    return image(channels, SIDE, SIDE);
  }

  /** The {@link #tiled} pattern, {@code width} x {@code height}, of 1, 3 or 4 channels. */
  private static BufferedImage image(int channels, int width, int height) {
    int type = channels == 1 ? BufferedImage.TYPE_BYTE_GRAY
        : channels == 4 ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB;
    BufferedImage im = new BufferedImage(width, height, type);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        if (channels == 1) {
          im.getRaster().setSample(x, y, 0, tiled(x, y, 0));
        } else {
          int a = channels == 4 ? tiled(x, y, 3) : 255;
          im.setRGB(x, y, a << 24 | tiled(x, y, 0) << 16 | tiled(x, y, 1) << 8 | tiled(x, y, 2));
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
