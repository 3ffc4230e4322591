package dev.dks.trainers.loop;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.graph.TrainingGraph;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checkpoint format round-trips, and writes are atomic. */
class CheckpointTest {

  private static Checkpoint sample(long step) {
    return new Checkpoint(step, OptionalLong.of(5), 42L,
        Map.of("w", TensorProtos.ofFloats(new long[] {2, 2}, new float[] {1, -0f, 3, 4})),
        Map.of("v", TensorProtos.ofFloats(new long[] {1}, new float[] {Float.MIN_VALUE})));
  }

  @Test
  void roundTripsAndRejectsCorruption(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("c.ckpt");
    Checkpoint c = sample(7);
    c.save(p);
    Checkpoint back = Checkpoint.load(p);
    assertEquals(7, back.step());
    assertEquals(OptionalLong.of(5), back.dataSeed());
    assertEquals(42L, back.dataFingerprint());
    LoopFixtures.assertSameBytes(c.variables(), back.variables());
    LoopFixtures.assertSameBytes(c.slots(), back.slots());

    byte[] bytes = Files.readAllBytes(p);
    Files.write(p, Arrays.copyOf(bytes, bytes.length - 3));
    assertThrows(IOException.class, () -> Checkpoint.load(p));
    bytes[bytes.length - 20] ^= 1;
    Files.write(p, bytes);
    assertThrows(IOException.class, () -> Checkpoint.load(p));
  }

  @Test
  void atomicWritesKeepTheDefaultFilePermissions(@TempDir Path dir) throws Exception {
    // reference: a file created plainly in the same folder (the process umask), not the JDK
    // temp file's owner-only rw-------, which made plots and checkpoints unreadable to others
    String plain = java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(Files.createFile(dir.resolve("plain"))));
    Path p = dir.resolve("c.ckpt");
    sample(1).save(p);
    assertEquals(plain, java.nio.file.attribute.PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p)));
  }

  @Test
  void failedWriteLeavesThePreviousFileAndNoTempFile(@TempDir Path dir) throws Exception {
    Path p = dir.resolve("c.ckpt");
    sample(1).save(p);
    byte[] before = Files.readAllBytes(p);
    IOException e = assertThrows(IOException.class, () -> Checkpoint.writeAtomically(p, out -> {
      out.write(new byte[1000]);
      throw new IOException("disk full (simulated)");
    }));
    assertEquals("disk full (simulated)", e.getMessage());
    assertArrayEquals(before, Files.readAllBytes(p));
    assertEquals(List.of("c.ckpt"), LoopFixtures.files(dir));
    assertThrows(IllegalStateException.class, () -> Checkpoint.writeAtomically(p, out -> {
      sample(2).writeTo(out);
      throw new IllegalStateException("crash after the last byte, before the move");
    }));
    assertArrayEquals(before, Files.readAllBytes(p));
    assertEquals(List.of("c.ckpt"), LoopFixtures.files(dir));
  }

  /** Fails after {@code limit} bytes. */
  private static final class Failing extends FilterOutputStream {
    private long left;

    Failing(OutputStream out, long limit) {
      super(out);
      left = limit;
    }

    @Override
    public void write(int b) throws IOException {
      if (--left < 0) {
        throw new IOException("crash mid-write (simulated)");
      }
      out.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      for (int i = 0; i < len; i++) {
        write(b[off + i]);
      }
    }
  }

  @Test
  void crashWhileTheListenerWritesKeepsTheLastGoodCheckpoint(@TempDir Path dir)
      throws Exception {
    Path p = dir.resolve("run.ckpt");
    int[] writes = {0};
    CheckpointListener cl = new CheckpointListener(p, 5).withStreamFilter(
        out -> ++writes[0] == 2 ? new Failing(out, 300) : out);
    try (TrainingGraph g = LoopFixtures.graph(LoopFixtures.model())) {
      Trainer t = LoopFixtures.trainer(g,
          BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), 20).listener(cl).build();
      UncheckedIOException e = assertThrows(UncheckedIOException.class, t::run);
      assertTrue(e.getMessage().contains("step 10"), e.getMessage());
      assertEquals(5, cl.lastWrittenStep());
    }
    Checkpoint c = Checkpoint.load(p);
    assertEquals(5, c.step());
    assertEquals(List.of("run.ckpt"), LoopFixtures.files(dir));
    // and it is the state after 5 steps: resume from it equals 5 fresh steps
    try (TrainingGraph g = LoopFixtures.graph(LoopFixtures.model())) {
      LoopFixtures.trainer(g, BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), 20)
          .totalSteps(5).build().run();
      LoopFixtures.assertSameBytes(g.variables(), c.variables());
      LoopFixtures.assertSameBytes(g.slots(), c.slots());
    }
  }
}
