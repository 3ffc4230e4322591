package dev.dks.trainers.loop;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Objects;

/**
 * Writes one JSON object per line to a file, flushed after every line so a crashed run keeps its
 * metrics:
 *
 * <ul>
 *   <li>{@code {"type":"step","step":s,"epoch":e,"loss":l,"accuracy":a,"lr":r,"seconds":t}} per
 *       step, with K-FAC also {@code "kfac":{"grad_dot_update":..,"clip":..,"damping":..,
 *       "rho":..,"model_change":..}} (see {@code TrainingGraph#kfacDiagnostics});
 *   <li>{@code {"type":"eval","step":s,"loss":l,"accuracy":a,"examples":n}} per evaluation
 *       ({@code step} = completed steps);
 *   <li>{@code {"type":"divergence","step":s,"loss":l,"input_finite":b,"first_non_finite":v}}
 *       when the run diverges, and {@code {"type":"end","status":...,"completed_steps":n}} at the
 *       end.
 * </ul>
 *
 * <p>Numbers are written with full (shortest round-trip) precision; NaN and infinities, which
 * JSON cannot express, are written as {@code null}. A run from step 0 truncates the file; a
 * resumed run appends to it (so lines of steps after the checkpoint of a crashed run appear
 * twice: readers keep the last line per step).
 */
public final class JsonLinesListener implements TrainingListener {
  private final Path path;
  private BufferedWriter out;

  /** Writes to {@code path} (its directory is created if needed). */
  public JsonLinesListener(Path path) {
    this.path = Objects.requireNonNull(path, "path");
  }

  /** The file. */
  public Path path() {
    return path;
  }

  @Override
  public void onStart(TrainingContext context) {
    try {
      Path parent = path.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      out = context.startStep() > 0
          ? Files.newBufferedWriter(path, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
              StandardOpenOption.APPEND)
          : Files.newBufferedWriter(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open " + path, e);
    }
  }

  @Override
  public void onStep(TrainingContext context, StepResult r) {
    String kfac = "";
    if (context.graph().kfac().isPresent()) {
      double[] d = context.graph().kfacDiagnostics();
      kfac = ",\"kfac\":{\"grad_dot_update\":" + num(d[0]) + ",\"clip\":" + num(d[1])
          + ",\"damping\":" + num(d[2]) + ",\"rho\":" + num(d[3]) + ",\"model_change\":"
          + num(d[4]) + "}";
    }
    line("{\"type\":\"step\",\"step\":" + r.step() + ",\"epoch\":" + r.epoch() + ",\"loss\":"
        + num(r.loss()) + ",\"accuracy\":" + num(r.accuracy()) + ",\"lr\":"
        + num(r.learningRate()) + ",\"seconds\":" + num(r.seconds()) + kfac + "}");
  }

  @Override
  public void onEvaluation(TrainingContext context, EvaluationResult r) {
    line("{\"type\":\"eval\",\"step\":" + r.step() + ",\"loss\":" + num(r.loss())
        + ",\"accuracy\":" + num(r.accuracy()) + ",\"examples\":" + r.examples() + "}");
  }

  @Override
  public void onDivergence(TrainingContext context, DivergenceReport r) {
    line("{\"type\":\"divergence\",\"step\":" + r.step() + ",\"loss\":" + num(r.loss())
        + ",\"loss_ceiling\":" + num(r.lossCeiling()) + ",\"input_finite\":" + r.inputFinite() + ",\"first_non_finite\":"
        + str(r.firstNonFiniteVariable()) + "}");
  }

  @Override
  public void onEnd(TrainingContext context, TrainingOutcome outcome) {
    if (out == null) {
      return;
    }
    try {
      if (outcome != null) {
        line("{\"type\":\"end\",\"status\":" + str(outcome.status().name().toLowerCase(
            Locale.ROOT)) + ",\"completed_steps\":" + outcome.completedSteps() + "}");
      }
    } finally {
      try {
        out.close();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot close " + path, e);
      } finally {
        out = null;
      }
    }
  }

  private void line(String json) {
    if (out == null) {
      throw new IllegalStateException("JsonLinesListener used outside a run");
    }
    try {
      out.write(json);
      out.newLine();
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + path, e);
    }
  }

  private static String num(double v) {
    return Double.isFinite(v) ? Double.toString(v) : "null";
  }

  private static String str(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder("\"");
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (ch < 0x20) {
            sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
          } else {
            sb.append(ch);
          }
        }
      }
    }
    return sb.append('"').toString();
  }
}
