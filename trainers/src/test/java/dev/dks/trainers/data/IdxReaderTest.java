package dev.dks.trainers.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** IDX files written by hand, raw and gzipped, intact and broken. */
class IdxReaderTest {
  @TempDir Path dir;

  /** A header written byte by byte, independent of IdxReader's writer. */
  private static byte[] handImages() {
    return new byte[] {
        0, 0, 8, 3, // magic 2051
        0, 0, 0, 2, // 2 images
        0, 0, 0, 2, // 2 rows
        0, 0, 0, 3, // 3 cols
        0, 1, 2, 3, 4, 5,
        (byte) 255, (byte) 128, 7, 8, 9, 10};
  }

  private static byte[] handLabels() {
    return new byte[] {0, 0, 8, 1, 0, 0, 0, 2, 3, 9};
  }

  private static byte[] gzip(byte[] b) throws IOException {
    ByteArrayOutputStream bos = new ByteArrayOutputStream();
    try (OutputStream o = new GZIPOutputStream(bos)) {
      o.write(b);
    }
    return bos.toByteArray();
  }

  private void checkHandPair(Dataset d) {
    assertEquals(2, d.size());
    assertEquals(2, d.h());
    assertEquals(3, d.w());
    assertEquals(1, d.c());
    assertEquals(10, d.classes());
    assertArrayEquals(new int[] {3, 9}, d.labels());
    assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 255, 128, 7, 8, 9, 10}, d.images());
  }

  @Test
  void readsHandWrittenRawAndGzipped() throws IOException {
    Path im = Files.write(dir.resolve("x-images-idx3-ubyte"), handImages());
    Path lb = Files.write(dir.resolve("x-labels-idx1-ubyte"), handLabels());
    checkHandPair(IdxReader.read(im, lb, "hand", 10));
    Path imz = Files.write(dir.resolve("x-images-idx3-ubyte.gz"), gzip(handImages()));
    Path lbz = Files.write(dir.resolve("x-labels-idx1-ubyte.gz"), gzip(handLabels()));
    checkHandPair(IdxReader.read(imz, lbz, "hand", 10));
  }

  @Test
  void writerRoundTrip() throws IOException {
    Path im = dir.resolve("w-images");
    Path lb = dir.resolve("w-labels");
    IdxReader.writeImages(im, 2, 2, 3, Arrays.copyOfRange(handImages(), 16, 28));
    IdxReader.writeLabels(lb, new int[] {3, 9});
    assertArrayEquals(handImages(), Files.readAllBytes(im));
    assertArrayEquals(handLabels(), Files.readAllBytes(lb));
  }

  @Test
  void pathFolderWithOnePair() throws IOException {
    Path sub = Files.createDirectory(dir.resolve("tiny"));
    Files.write(sub.resolve("train-images-idx3-ubyte"), handImages());
    Files.write(sub.resolve("train-labels-idx1-ubyte.gz"), gzip(handLabels()));
    Dataset d = DataSets.load(sub.toString(), dir);
    assertEquals(2, d.size());
    assertEquals(1f, d.images()[6]);
    assertEquals(10, d.classes());
  }

  @Test
  void truncatedGzipNamesTheFile() throws IOException {
    byte[] z = gzip(handImages());
    Path f = Files.write(dir.resolve("cut-images-idx3-ubyte.gz"),
        Arrays.copyOf(z, z.length / 2));
    DataFormatException e = assertThrows(DataFormatException.class,
        () -> IdxReader.readImages(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    assertEquals(f, e.file());
  }

  @Test
  void truncatedRawBodyAndHeader() throws IOException {
    Path body = Files.write(dir.resolve("body"), Arrays.copyOf(handImages(), 20));
    DataFormatException e = assertThrows(DataFormatException.class,
        () -> IdxReader.readImages(body));
    assertTrue(e.getMessage().contains(body.toString()) && e.getMessage().contains("truncated"),
        e.getMessage());
    Path header = Files.write(dir.resolve("header"), Arrays.copyOf(handLabels(), 6));
    e = assertThrows(DataFormatException.class, () -> IdxReader.readLabels(header));
    assertTrue(e.getMessage().contains("header"), e.getMessage());
  }

  @Test
  void garbageAndMismatches() throws IOException {
    Path junk = Files.write(dir.resolve("junk"), "hello, this is not IDX".getBytes());
    DataFormatException e = assertThrows(DataFormatException.class,
        () -> IdxReader.readImages(junk));
    assertTrue(e.getMessage().contains("magic"), e.getMessage());
    Path im = Files.write(dir.resolve("im"), handImages());
    // Labels where images are expected and vice versa.
    assertThrows(DataFormatException.class, () -> IdxReader.readLabels(im));
    byte[] extra = Arrays.copyOf(handLabels(), handLabels().length + 1);
    Path trailing = Files.write(dir.resolve("trailing"), extra);
    e = assertThrows(DataFormatException.class, () -> IdxReader.readLabels(trailing));
    assertTrue(e.getMessage().contains("trailing"), e.getMessage());
    Path three = Files.write(dir.resolve("three"), new byte[] {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3});
    e = assertThrows(DataFormatException.class, () -> IdxReader.read(im, three, "x", 10));
    assertTrue(e.getMessage().contains("3 labels"), e.getMessage());
    Path badCsv = Files.write(dir.resolve("bad.csv"), "1,2,3\n".getBytes());
    e = assertThrows(DataFormatException.class, () -> DigitsCsv.read(badCsv));
    assertTrue(e.getMessage().contains("line 1"), e.getMessage());
  }
}
