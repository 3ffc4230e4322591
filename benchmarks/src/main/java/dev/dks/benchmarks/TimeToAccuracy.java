package dev.dks.benchmarks;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The time-to-accuracy view of interleaved training runs (issue 16): each run's test accuracy at
 * checkpoints against its training time (the sum of its own step times, evaluation excluded, wall
 * and process CPU), the accuracy a reference run reaches at a target step, and when every run
 * first reaches it. Renders a Markdown table, a CSV, a small text chart and an XChart PNG.
 *
 * <p>Conventions: a run reaches the target at its first checkpoint whose accuracy is at least the
 * target (no interpolation between checkpoints, so the time is an upper bound at the checkpoint
 * spacing); "-" when it never does.
 */
final class TimeToAccuracy {
  private TimeToAccuracy() {}

  /** One evaluation: after {@code step} steps, the run's training seconds so far and accuracy. */
  record Checkpoint(long step, double wallSeconds, double cpuSeconds, double accuracy,
      int examples) {}

  /** One run's checkpoints. */
  record Series(String label, List<Checkpoint> checkpoints) {
    /** The first checkpoint at or above {@code target}, or null. */
    Checkpoint firstReaching(double target) {
      for (Checkpoint c : checkpoints) {
        if (c.accuracy() >= target) {
          return c;
        }
      }
      return null;
    }

    /** The checkpoint after {@code step} steps (or the last before it), or null. */
    Checkpoint at(long step) {
      Checkpoint out = null;
      for (Checkpoint c : checkpoints) {
        if (c.step() <= step) {
          out = c;
        }
      }
      return out;
    }
  }

  /** The target: the reference's accuracy at its checkpoint of {@code step}. */
  record Target(String reference, long step, double accuracy, double wallSeconds,
      double cpuSeconds) {
    static Target of(Series reference, long step) {
      Checkpoint c = reference.at(step);
      if (c == null) {
        throw new IllegalArgumentException("the reference run " + reference.label() + " has no "
            + "checkpoint at or before step " + step);
      }
      return new Target(reference.label(), c.step(), c.accuracy(), c.wallSeconds(),
          c.cpuSeconds());
    }
  }

  /** Per run: when it reached the target, as JSON-ready rows. */
  static List<Map<String, Object>> rows(List<Series> runs, Target t) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (Series s : runs) {
      Checkpoint c = s.firstReaching(t.accuracy());
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("run", s.label());
      row.put("targetAccuracy", t.accuracy());
      row.put("targetFrom", t.reference() + " at step " + t.step());
      row.put("reachedAtStep", c == null ? null : c.step());
      row.put("reachedWallSeconds", c == null ? null : c.wallSeconds());
      row.put("reachedCpuSeconds", c == null ? null : c.cpuSeconds());
      row.put("wallRatioToReference", c == null ? null : c.wallSeconds() / t.wallSeconds());
      row.put("cpuRatioToReference", c == null ? null : c.cpuSeconds() / t.cpuSeconds());
      Checkpoint last = s.checkpoints().isEmpty() ? null
          : s.checkpoints().get(s.checkpoints().size() - 1);
      row.put("lastStep", last == null ? null : last.step());
      row.put("lastAccuracy", last == null ? null : last.accuracy());
      row.put("lastWallSeconds", last == null ? null : last.wallSeconds());
      row.put("lastCpuSeconds", last == null ? null : last.cpuSeconds());
      out.add(row);
    }
    return out;
  }

  /** The Markdown: the time-to-target table, then every checkpoint side by side. */
  static String markdown(List<Series> runs, Target t) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "Target: test accuracy %.4f = %s after %d steps "
        + "(%.1f s wall, %.1f s CPU of training).%n%n", t.accuracy(), t.reference(), t.step(),
        t.wallSeconds(), t.cpuSeconds()));
    b.append("| run | reaches target at step | training wall s | / reference | training CPU s "
        + "| / reference | last step | last acc |\n");
    b.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (Series s : runs) {
      Checkpoint c = s.firstReaching(t.accuracy());
      Checkpoint last = s.checkpoints().isEmpty() ? null
          : s.checkpoints().get(s.checkpoints().size() - 1);
      b.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s |%n",
          s.label(), c == null ? "not reached" : Long.toString(c.step()),
          c == null ? "-" : fmt(c.wallSeconds()),
          c == null ? "-" : String.format(Locale.ROOT, "%.2fx", c.wallSeconds()
              / t.wallSeconds()),
          c == null ? "-" : fmt(c.cpuSeconds()),
          c == null ? "-" : String.format(Locale.ROOT, "%.2fx", c.cpuSeconds()
              / t.cpuSeconds()),
          last == null ? "-" : Long.toString(last.step()),
          last == null ? "-" : String.format(Locale.ROOT, "%.4f", last.accuracy())));
    }
    b.append("\nTest accuracy at checkpoints (training wall s / CPU s so far):\n\n| step |");
    for (Series s : runs) {
      b.append(' ').append(s.label()).append(" |");
    }
    b.append("\n| ---: |");
    runs.forEach(s -> b.append(" ---: |"));
    b.append('\n');
    for (long step : steps(runs)) {
      b.append("| ").append(step).append(" |");
      for (Series s : runs) {
        Checkpoint c = s.checkpoints().stream().filter(x -> x.step() == step).findFirst()
            .orElse(null);
        b.append(c == null ? " - |" : String.format(Locale.ROOT, " %.4f (%s / %s s) |",
            c.accuracy(), fmt(c.wallSeconds()), fmt(c.cpuSeconds())));
      }
      b.append('\n');
    }
    return b.toString();
  }

  private static List<Long> steps(List<Series> runs) {
    return runs.stream().flatMap(s -> s.checkpoints().stream()).map(Checkpoint::step)
        .distinct().sorted().toList();
  }

  private static String fmt(double s) {
    return String.format(Locale.ROOT, s < 100 ? "%.1f" : "%.0f", s);
  }

  /** {@code run,step,wall_s,cpu_s,accuracy,examples} rows. */
  static String csv(List<Series> runs) {
    StringBuilder b = new StringBuilder("run,step,wall_s,cpu_s,accuracy,examples\n");
    for (Series s : runs) {
      for (Checkpoint c : s.checkpoints()) {
        b.append(String.format(Locale.ROOT, "\"%s\",%d,%.3f,%.3f,%.4f,%d%n", s.label(),
            c.step(), c.wallSeconds(), c.cpuSeconds(), c.accuracy(), c.examples()));
      }
    }
    return b.toString();
  }

  /**
   * A text chart of accuracy (rows, top = highest) against training wall seconds (columns), one
   * letter per run (A, B, ...), the target as a line of dots; {@code width x height} cells.
   */
  static String textChart(List<Series> runs, Target t, int width, int height) {
    double maxT = runs.stream().flatMap(s -> s.checkpoints().stream())
        .mapToDouble(Checkpoint::wallSeconds).max().orElse(1);
    double lo = Math.min(t.accuracy(), runs.stream().flatMap(s -> s.checkpoints().stream())
        .mapToDouble(Checkpoint::accuracy).min().orElse(0));
    double hi = Math.max(t.accuracy(), runs.stream().flatMap(s -> s.checkpoints().stream())
        .mapToDouble(Checkpoint::accuracy).max().orElse(1));
    if (hi - lo < 1e-6) {
      hi = lo + 0.01;
    }
    char[][] grid = new char[height][width];
    for (char[] row : grid) {
      java.util.Arrays.fill(row, ' ');
    }
    int targetRow = row(t.accuracy(), lo, hi, height);
    java.util.Arrays.fill(grid[targetRow], '.');
    for (int i = 0; i < runs.size(); i++) {
      char mark = (char) ('A' + i);
      for (Checkpoint c : runs.get(i).checkpoints()) {
        int col = (int) Math.min(width - 1, Math.round(c.wallSeconds() / maxT * (width - 1)));
        grid[row(c.accuracy(), lo, hi, height)][col] = mark;
      }
    }
    StringBuilder b = new StringBuilder();
    for (int r = 0; r < height; r++) {
      double acc = hi - (hi - lo) * r / (height - 1);
      b.append(String.format(Locale.ROOT, "%6.3f |", acc)).append(grid[r]).append('\n');
    }
    b.append("       +").append("-".repeat(width)).append('\n');
    b.append(String.format(Locale.ROOT, "        0 s%" + (width - 3) + "s%n",
        fmt(maxT) + " s training wall"));
    for (int i = 0; i < runs.size(); i++) {
      b.append("        ").append((char) ('A' + i)).append(" = ").append(runs.get(i).label())
          .append('\n');
    }
    b.append("        . = target ").append(String.format(Locale.ROOT, "%.4f", t.accuracy()))
        .append('\n');
    return b.toString();
  }

  private static int row(double acc, double lo, double hi, int height) {
    return (int) Math.max(0, Math.min(height - 1, Math.round((hi - acc) / (hi - lo)
        * (height - 1))));
  }

  /** The PNG: test accuracy against training wall seconds, one line per run, and the target. */
  static void plot(Path png, List<Series> runs, Target t) throws IOException {
    XYChart c = new XYChartBuilder().width(900).height(500)
        .title("Test accuracy against training time (evaluation excluded)")
        .xAxisTitle("training wall seconds").yAxisTitle("test accuracy").build();
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    double maxT = 1;
    for (Series s : runs) {
      if (s.checkpoints().isEmpty()) {
        continue;
      }
      double[] x = s.checkpoints().stream().mapToDouble(Checkpoint::wallSeconds).toArray();
      double[] y = s.checkpoints().stream().mapToDouble(Checkpoint::accuracy).toArray();
      maxT = Math.max(maxT, x[x.length - 1]);
      c.addSeries(s.label(), x, y).setMarker(SeriesMarkers.CIRCLE);
    }
    c.addSeries(String.format(Locale.ROOT, "target %.4f (%s, step %d)", t.accuracy(),
        t.reference(), t.step()), new double[] {0, maxT},
        new double[] {t.accuracy(), t.accuracy()}).setMarker(SeriesMarkers.NONE);
    Path parent = png.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path tmp = Files.createTempFile(parent, "accuracy", ".png");
    try {
      BitmapEncoder.saveBitmap(c, tmp.toString(), BitmapEncoder.BitmapFormat.PNG);
      Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
