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
 * TensorBoard event files from TF's summary ops, read back without TensorBoard: TFRecord framing
 * with masked CRC32C checked here, {@link Event} protos, scalars equal to what the trainer
 * reported.
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
    Event first = Event.parseFrom(records.get(0));
    assertEquals("brain.Event:2", first.getFileVersion());

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
  void maskedCrcMatchesTheFormula() {
    // TFRecord masking of the CRC32C of "" (0) and a reference value from TF's crc32c tests
    assertEquals(0xa282ead8, mask(0));
    CRC32C c = new CRC32C();
    c.update(new byte[32]); // 32 zero bytes: CRC32C 0x8a9136aa (RFC 3720 test vector)
    assertEquals(0x8a9136aa, (int) c.getValue());
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
    assertTrue(out.size() >= 1 + 3 * N + 2 * 3, "records: " + out.size());
    return out;
  }

  private static int crc32c(byte[] b) {
    CRC32C c = new CRC32C();
    c.update(b);
    return (int) c.getValue();
  }

  private static int mask(int crc) {
    return ((crc >>> 15) | (crc << 17)) + 0xa282ead8;
  }
}
