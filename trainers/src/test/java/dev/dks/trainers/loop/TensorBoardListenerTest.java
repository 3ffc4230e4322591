package dev.dks.trainers.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.Summary;

/**
 * TensorBoard event files the listener writes through TF's summary ops, read back without
 * TensorBoard: the TFRecord framing ({@code uint64 length, masked crc32c(length), data, masked
 * crc32c(data)}, the mask being TFRecord's rotate-right-15-plus-0xa282ead8) checked against the
 * JDK's CRC32C, {@link Event} protos, scalars equal to what the trainer reported, flushed at each
 * evaluation, one file per run. A corrupted copy of a written file fails the framing check (its
 * negative control).
 */
class TensorBoardListenerTest {
  private static final long N = 12;

  @Test
  void eventFileHoldsEveryScalarTheTrainerReported(@TempDir Path dir) throws Exception {
    Path logDir = dir.resolve("tb");
    List<StepResult> steps = new ArrayList<>();
    List<EvaluationResult> evals = new ArrayList<>();
    TrainingListener recorder = new TrainingListener() {
      @Override
      public void onStep(TrainingContext c, StepResult r) {
        steps.add(r);
      }

      @Override
      public void onEvaluation(TrainingContext c, EvaluationResult r) {
        evals.add(r);
      }
    };
    try (TrainingGraph g = LoopFixtures.graph(LoopFixtures.model())) {
      TrainingOutcome o = LoopFixtures.trainer(g,
              BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), N)
          .validation(LoopFixtures.validation())
          .listener(new EvaluationListener(5, 40))
          .listener(recorder).listener(new TensorBoardListener(logDir))
          .build().run();
      assertEquals(TrainingOutcome.Status.COMPLETED, o.status());
    }
    assertEquals(N, steps.size());
    assertEquals(List.of(5L, 10L, 12L), evals.stream().map(EvaluationResult::step).toList());

    List<String> files = LoopFixtures.files(logDir);
    assertEquals(1, files.size(), files.toString());
    assertTrue(files.get(0).startsWith("events.out.tfevents."), files.get(0));

    List<byte[]> records = readRecords(logDir.resolve(files.get(0)));
    assertTrue(records.size() >= 1 + 3 * N + 2 * 3, "records: " + records.size());
    Event first = Event.parseFrom(records.get(0));
    assertEquals("brain.Event:2", first.getFileVersion());

    Map<String, Map<Long, Float>> scalars = scalars(records);
    assertEquals(List.of("eval/accuracy", "eval/loss", "train/accuracy", "train/loss",
        "train/lr"), new ArrayList<>(scalars.keySet()));

    Map<Long, Float> loss = scalars.get("train/loss");
    assertEquals(12, loss.size());
    for (StepResult r : steps) {
      assertEquals((float) r.loss(), loss.get(r.step()), "train/loss at " + r.step());
      assertEquals((float) r.accuracy(), scalars.get("train/accuracy").get(r.step()));
      assertEquals((float) r.learningRate(), scalars.get("train/lr").get(r.step()));
    }
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L),
        new ArrayList<>(loss.keySet()));
    for (EvaluationResult r : evals) {
      assertEquals((float) r.loss(), scalars.get("eval/loss").get(r.step()));
      assertEquals((float) r.accuracy(), scalars.get("eval/accuracy").get(r.step()));
    }
  }

  @Test
  void evaluationFlushesAndEveryRunWritesItsOwnFile(@TempDir Path dir) throws Exception {
    // the writer queues 10 events and flushes every 5 s by itself; the listener flushes after
    // each evaluation, so a listener running after it finds that evaluation's scalars on disk
    // (20 scalars by step 6: without the flush the last of them would still be queued)
    Path logDir = dir.resolve("tb");
    TensorBoardListener tb = new TensorBoardListener(logDir);
    List<Long> seenOnDisk = new ArrayList<>();
    TrainingListener reader = new TrainingListener() {
      @Override
      public void onEvaluation(TrainingContext c, EvaluationResult r) {
        try {
          List<String> files = LoopFixtures.files(logDir);
          Map<String, Map<Long, Float>> s = scalars(readRecords(
              logDir.resolve(files.get(files.size() - 1))));
          assertEquals((float) r.loss(), s.get("eval/loss").get(r.step()),
              "eval/loss of step " + r.step() + " on disk during the run");
          assertEquals(r.step(), s.get("train/lr").size(), "every train/lr so far");
          seenOnDisk.add(r.step());
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };
    for (int run = 1; run <= 2; run++) {
      try (TrainingGraph g = LoopFixtures.graph(LoopFixtures.model())) {
        LoopFixtures.trainer(g, BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), 8)
            .validation(LoopFixtures.validation()).listener(tb)
            .listener(new EvaluationListener(6, 40)).listener(reader).build().run();
      }
      assertEquals(run, LoopFixtures.files(logDir).size(), "one new event file per run");
      Thread.sleep(1100); // the file name holds the time in seconds
    }
    assertEquals(List.of(6L, 8L, 6L, 8L), seenOnDisk);
  }

  @Test
  void corruptedRecordsFailTheCrcCheck(@TempDir Path dir) throws Exception {
    // negative control of the framing check in readRecords: a flipped bit in a record's data,
    // or in its length, no longer matches the masked CRC32C the writer stored
    Path logDir = dir.resolve("tb");
    try (TrainingGraph g = LoopFixtures.graph(LoopFixtures.model())) {
      LoopFixtures.trainer(g, BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), 6)
          .listener(new TensorBoardListener(logDir)).build().run();
    }
    Path file = logDir.resolve(LoopFixtures.files(logDir).get(0));
    byte[] good = Files.readAllBytes(file);
    assertEquals(1 + 3 * 6, readRecords(file).size());
    long firstLen = ByteBuffer.wrap(good, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    int second = (int) (8 + 4 + firstLen + 4); // offset of the second record
    for (int offset : new int[] {second + 12 + 3, second + 1, second + 8}) {
      byte[] bad = good.clone();
      bad[offset] ^= 0x10;
      Path copy = Files.write(dir.resolve("bad" + offset), bad);
      AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
          () -> readRecords(copy));
      assertTrue(e.getMessage().contains("of record 1") || e.getMessage().contains("length"),
          e.getMessage());
    }
  }

  /** Scalars by tag and step of the records after the file-version record. */
  static Map<String, Map<Long, Float>> scalars(List<byte[]> records) throws IOException {
    Map<String, Map<Long, Float>> scalars = new TreeMap<>();
    for (byte[] rec : records.subList(1, records.size())) {
      Event e = Event.parseFrom(rec);
      if (!e.hasSummary()) {
        continue;
      }
      for (Summary.Value v : e.getSummary().getValueList()) {
        Map<Long, Float> byStep = scalars.computeIfAbsent(v.getTag(), k -> new TreeMap<>());
        assertEquals(null, byStep.put(e.getStep(), v.getSimpleValue()),
            "duplicate " + v.getTag() + " at " + e.getStep());
      }
    }
    return scalars;
  }

  /** Reads every record, checking both masked CRC32Cs of each against our own CRC32C. */
  static List<byte[]> readRecords(Path file) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    List<byte[]> out = new ArrayList<>();
    while (buf.hasRemaining()) {
      byte[] lenBytes = new byte[8];
      buf.get(lenBytes);
      long len = ByteBuffer.wrap(lenBytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
      int lenCrc = buf.getInt();
      assertEquals(mask(crc32c(lenBytes)), lenCrc, "length CRC of record " + out.size());
      assertTrue(len >= 0 && len <= buf.remaining() - 4, "record length " + len);
      byte[] data = new byte[(int) len];
      buf.get(data);
      int dataCrc = buf.getInt();
      assertEquals(mask(crc32c(data)), dataCrc, "data CRC of record " + out.size());
      out.add(data);
    }
    return out;
  }

  private static int crc32c(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return (int) c.getValue();
  }

  /** TFRecord's masked CRC: rotate right by 15 bits, add 0xa282ead8. */
  private static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
  }
}
