package dev.dks.trainers.loop;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws the training-loss curves of several runs into one PNG with XChart: loss against steps on
 * the left, against cumulative step time (seconds) on the right, so runs compare per step and per
 * wall time. Each curve is smoothed by a trailing mean over {@code window} steps (1 = raw);
 * non-finite losses are left out. Written atomically like {@link PlotListener}'s PNG.
 */
public final class ComparisonPlot {
  private static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14),
      new Color(44, 160, 44), new Color(214, 39, 40), new Color(148, 103, 189)};

  private ComparisonPlot() {}

  /** Renders {@code runs} and writes the PNG to {@code png} (1200x500). */
  public static void write(Path png, List<CurveRecorder> runs, int window) {
    PngCharts.write(png, render(runs, window, 1200, 500));
  }

  /** The image {@link #write} writes. */
  public static BufferedImage render(List<CurveRecorder> runs, int window, int width,
      int height) {
    int half = width / 2;
    return PngCharts.sideBySide(
        chart("Training loss per step", "step", half, height, runs, window, r -> r[0]),
        chart("Training loss per wall time", "seconds", width - half, height, runs, window,
            r -> r[3]), width, height);
  }

  private static XYChart chart(String title, String xTitle, int w, int h,
      List<CurveRecorder> runs, int window, ToDoubleFunction<double[]> x) {
    XYChart c = new XYChartBuilder().width(w).height(h).title(title).xAxisTitle(xTitle)
        .yAxisTitle("loss").build();
    Styler st = c.getStyler();
    st.setChartBackgroundColor(Color.WHITE);
    st.setLegendPosition(Styler.LegendPosition.InsideNE);
    int k = 0;
    for (CurveRecorder r : runs) {
      double[][] xy = smoothed(r.steps(), window, x);
      if (xy[0].length == 0) {
        continue;
      }
      XYSeries s = c.addSeries(r.name(), xy[0], xy[1]);
      s.setMarker(SeriesMarkers.NONE);
      s.setLineColor(COLORS[k++ % COLORS.length]);
    }
    return c;
  }

  /** Trailing means of the finite losses over {@code window} steps, with their x. */
  static double[][] smoothed(List<double[]> rows, int window,
      ToDoubleFunction<double[]> x) {
    List<double[]> finite = rows.stream().filter(r -> Double.isFinite(r[1])).toList();
    double[] xs = new double[finite.size()];
    double[] ys = new double[finite.size()];
    double sum = 0;
    for (int i = 0; i < finite.size(); i++) {
      sum += finite.get(i)[1];
      if (i >= window) {
        sum -= finite.get(i - window)[1];
      }
      xs[i] = x.applyAsDouble(finite.get(i));
      ys[i] = sum / Math.min(i + 1, window);
    }
    return new double[][] {xs, ys};
  }
}
