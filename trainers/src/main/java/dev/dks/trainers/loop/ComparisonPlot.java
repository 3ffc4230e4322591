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
      new Color(44, 160, 44), new Color(214, 39, 40), new Color(148, 103, 189),
      new Color(140, 86, 75), new Color(227, 119, 194), new Color(127, 127, 127),
      new Color(188, 189, 34), new Color(23, 190, 207)};

  private ComparisonPlot() {}

  /**
   * One run's curve: its legend and rows {completed steps, loss, accuracy, cumulative step
   * seconds}, as {@link CurveRecorder#steps()}.
   */
  public record Curve(String name, List<double[]> steps) {}

  /** Renders {@code runs} and writes the PNG to {@code png} (1200x500). */
  public static void write(Path png, List<CurveRecorder> runs, int window) {
    writeCurves(png, runs.stream().map(r -> new Curve(r.name(), r.steps())).toList(), window,
        1200, 500);
  }

  /** Renders {@code curves} and writes the PNG to {@code png}. */
  public static void writeCurves(Path png, List<Curve> curves, int window, int width,
      int height) {
    PngCharts.write(png, render(curves, window, width, height));
  }

  /** The image {@link #writeCurves} writes. */
  public static BufferedImage render(List<Curve> curves, int window, int width, int height) {
    int half = width / 2;
    return PngCharts.sideBySide(
        chart("Training loss per step", "step", half, height, curves, window, r -> r[0]),
        chart("Training loss per wall time", "seconds", width - half, height, curves, window,
            r -> r[3]), width, height);
  }

  private static XYChart chart(String title, String xTitle, int w, int h, List<Curve> curves,
      int window, ToDoubleFunction<double[]> x) {
    XYChart c = new XYChartBuilder().width(w).height(h).title(title).xAxisTitle(xTitle)
        .yAxisTitle("loss").build();
    Styler st = c.getStyler();
    st.setChartBackgroundColor(Color.WHITE);
    st.setLegendPosition(Styler.LegendPosition.InsideNE);
    int k = 0;
    for (Curve r : curves) {
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
