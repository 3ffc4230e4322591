package dev.dks.trainers.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.trainers.graph.TrainingGraph;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Progress written to something that is not a terminal: plain lines at each tenth of the run and
 * no carriage returns; the redrawing bar (the negative control) writes carriage returns.
 */
class ProgressListenerLinesTest {
  private static final long N = 37; // not a multiple of 10: the tenths fall between steps
  private static final Pattern LINE =
      Pattern.compile("^train +(\\d+)% (\\d+)/" + N + " loss \\S+ acc \\S+ \\S+ steps/s");

  @Test
  void aStreamThatIsNotATerminalGetsOneLinePerTenthAndNoRedraws() throws Exception {
    ProgressListener p = new ProgressListener(new PrintStream(new ByteArrayOutputStream()), "train");
    assertEquals(ProgressListener.Mode.LINES, p.mode());

    String text = run(ProgressListener.Mode.AUTO, Duration.ofHours(1));
    assertEquals(0, text.chars().filter(c -> c == '\r').count(), text);
    List<String> lines = text.lines().toList();
    assertEquals(10, lines.size(), text);
    for (int i = 1; i <= 10; i++) {
      Matcher m = LINE.matcher(lines.get(i - 1));
      assertTrue(m.find(), lines.get(i - 1));
      long firstStepPastTenth = (i * N + 9) / 10; // ceil(i N / 10), the first step count >= i/10
      assertEquals(firstStepPastTenth, Long.parseLong(m.group(2)), lines.get(i - 1));
      assertEquals(100 * firstStepPastTenth / N, Long.parseLong(m.group(1)));
    }
  }

  @Test
  void aZeroIntervalAddsALinePerStep() {
    String text = drive(ProgressListener.Mode.LINES, Duration.ZERO, 0);
    assertEquals(N, text.lines().count(), text);
  }

  @Test
  void aResumedRunReportsTheTenthsItPasses() {
    String text = drive(ProgressListener.Mode.LINES, Duration.ofHours(1), 20);
    // from step 20 of 37 (54%): the tenths 6..10, first reached at ceil(i 37 / 10) steps
    List<Long> steps = text.lines().map(l -> {
      Matcher m = LINE.matcher(l);
      assertTrue(m.find(), l);
      return Long.parseLong(m.group(2));
    }).toList();
    assertEquals(List.of(23L, 26L, 30L, 34L, 37L), steps, text);
  }

  @Test
  void theBarRedrawsWithCarriageReturns() {
    String text = drive(ProgressListener.Mode.BAR, Duration.ofHours(1), 0);
    assertTrue(text.chars().filter(c -> c == '\r').count() >= 1, text);
  }

  /** The listener alone, driven through a run of N steps from {@code start} (no TensorFlow). */
  private static String drive(ProgressListener.Mode mode, Duration interval, long start) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    ProgressListener p = new ProgressListener(ps, "train", mode, interval);
    TrainingContext ctx = (TrainingContext) java.lang.reflect.Proxy.newProxyInstance(
        TrainingContext.class.getClassLoader(), new Class<?>[] {TrainingContext.class},
        (proxy, method, args) -> switch (method.getName()) {
          case "startStep" -> start;
          case "totalSteps" -> N;
          default -> throw new UnsupportedOperationException(method.getName());
        });
    p.onStart(ctx);
    for (long step = start; step < N; step++) {
      p.onStep(ctx, new StepResult(step, 0, 1.0, 0.5, 0.1, 0.01));
    }
    p.onEnd(ctx, new TrainingOutcome(TrainingOutcome.Status.COMPLETED, start, N, null, null,
        null, null));
    ps.flush();
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static String run(ProgressListener.Mode mode, Duration interval) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TrainingGraph g = LoopFixtures.graph(LoopFixtures.model());
        PrintStream ps = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      TrainingOutcome o = LoopFixtures.trainer(g,
              BatchSource.of(LoopFixtures.batches(LoopFixtures.DATA_SEED)), N)
          .listener(new ProgressListener(ps, "train", mode, interval)).build().run();
      assertEquals(TrainingOutcome.Status.COMPLETED, o.status());
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
