package dev.dks.rewriter.builder;

import java.util.Locale;

/**
 * The shape of one input example in NHWC order without the batch axis: height x width x
 * channels. The graph's {@code input} placeholder has shape {@code [-1, height, width, channels]}.
 *
 * @param height rows, &gt;= 1
 * @param width columns, &gt;= 1
 * @param channels channels, &gt;= 1
 */
public record InputShape(int height, int width, int channels) {
  /** The default input, 28x28x1 (MNIST-sized). */
  public static final InputShape DEFAULT = new InputShape(28, 28, 1);

  /** Checks that every dimension is positive. */
  public InputShape {
    if (height < 1 || width < 1 || channels < 1) {
      throw new IllegalArgumentException("input dimensions must be >= 1, got " + height + "x"
          + width + "x" + channels);
    }
  }

  /**
   * Parses {@code HxWxC}, e.g. {@code 28x28x1} or {@code 32x32x3}.
   *
   * @throws IllegalArgumentException when the text is not three positive integers joined by x
   */
  public static InputShape parse(String s) {
    String[] parts = s.trim().toLowerCase(Locale.ROOT).split("x", -1);
    if (parts.length != 3) {
      throw new IllegalArgumentException("input shape '" + s + "' is not HxWxC (e.g. 28x28x1)");
    }
    int[] d = new int[3];
    for (int i = 0; i < 3; i++) {
      try {
        d[i] = Integer.parseInt(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("input shape '" + s + "' is not HxWxC (e.g. 28x28x1)",
            e);
      }
    }
    return new InputShape(d[0], d[1], d[2]);
  }

  /** Number of values in one example, {@code height * width * channels}. */
  public long size() {
    return (long) height * width * channels;
  }

  /** The placeholder shape {@code [-1, height, width, channels]}. */
  public long[] batchShape() {
    return new long[] {-1, height, width, channels};
  }

  /** {@code HxWxC}. */
  @Override
  public String toString() {
    return height + "x" + width + "x" + channels;
  }
}
