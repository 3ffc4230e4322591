package dev.dks.trainers.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads scikit-learn's {@code digits.csv.gz} (the UCI optdigits test set: 1,797 rows): per line
 * 65 comma-separated integers, 64 pixels (0..16, an 8x8 image row-major) then the label 0..9.
 * Gzipped or plain (recognised by content). The result is {@code 8x8x1} images with the raw
 * values 0..16 as floats (use {@link Dataset#scaledTo01(float)} with 16) and 10 classes. Blank
 * lines are ignored; anything else malformed is a {@link DataFormatException} naming the file and
 * the line.
 */
public final class DigitsCsv {
  /** Largest pixel value in the file. */
  public static final float MAX_VALUE = 16f;

  private DigitsCsv() {}

  /** Reads the file. */
  public static Dataset read(Path file) {
    List<float[]> rows = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    try (BufferedReader r = new BufferedReader(
        new InputStreamReader(IdxReader.open(file), StandardCharsets.US_ASCII))) {
      String line;
      int lineNo = 0;
      while ((line = r.readLine()) != null) {
        lineNo++;
        line = line.strip();
        if (line.isEmpty()) {
          continue;
        }
        String[] parts = line.split(",");
        if (parts.length != 65) {
          throw new DataFormatException(file, "line " + lineNo + ": " + parts.length
              + " values, expected 65 (64 pixels and the label)");
        }
        float[] px = new float[64];
        for (int i = 0; i < 64; i++) {
          double v = parse(file, lineNo, parts[i]);
          if (v < 0 || v > MAX_VALUE) {
            throw new DataFormatException(file, "line " + lineNo + ": pixel " + i + " = " + v
                + " outside 0..16");
          }
          px[i] = (float) v;
        }
        double l = parse(file, lineNo, parts[64]);
        if (l != Math.rint(l) || l < 0 || l > 9) {
          throw new DataFormatException(file, "line " + lineNo + ": label " + parts[64]
              + " is not an integer in 0..9");
        }
        rows.add(px);
        labels.add((int) l);
      }
    } catch (IOException e) {
      if (e instanceof java.util.zip.ZipException || e instanceof java.io.EOFException) {
        throw new DataFormatException(file, "corrupt or truncated gzip data: " + e.getMessage(),
            e);
      }
      throw new UncheckedIOException(file + ": " + e.getMessage(), e);
    }
    if (rows.isEmpty()) {
      throw new DataFormatException(file, "no rows");
    }
    float[] images = new float[rows.size() * 64];
    int[] lb = new int[rows.size()];
    for (int i = 0; i < lb.length; i++) {
      System.arraycopy(rows.get(i), 0, images, i * 64, 64);
      lb[i] = labels.get(i);
    }
    return new Dataset("digits", images, lb, 8, 8, 1, 10);
  }

  private static double parse(Path file, int lineNo, String s) {
    try {
      return Double.parseDouble(s.strip());
    } catch (NumberFormatException e) {
      throw new DataFormatException(file, "line " + lineNo + ": '" + s + "' is not a number", e);
    }
  }
}
