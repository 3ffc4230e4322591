package dev.dks.trainers.loop;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Draws the loss and accuracy curves of a run into a PNG at the end of the run, with XChart:
 * loss on the left, accuracy on the right, the training values of every step as lines and the
 * evaluations as marked points (at their completed-step count).
 *
 * <p>The PNG is written with {@link Checkpoint#writeAtomically} (a temporary file in the same
 * directory moved into place with {@code ATOMIC_MOVE}), so a reader never sees a partial image.
 * Non-finite values (a diverged run) are left out of the curves. A resumed run plots the steps
 * it ran. Rendering needs no display (AWT runs headless without one).
 */
public final class PlotListener implements TrainingListener {
  /** Default image width in pixels. */
  public static final int DEFAULT_WIDTH = 1200;
  /** Default image height in pixels. */
  public static final int DEFAULT_HEIGHT = 500;

  private final Path png;
  private final int width;
  private final int height;
  private final Series trainLoss = new Series();
  private final Series trainAccuracy = new Series();
  private final Series evalLoss = new Series();
  private final Series evalAccuracy = new Series();

  /** Writes a {@value #DEFAULT_WIDTH}x{@value #DEFAULT_HEIGHT} PNG to {@code png}. */
  public PlotListener(Path png) {
    this(png, DEFAULT_WIDTH, DEFAULT_HEIGHT);
  }

  /** Writes a {@code width}x{@code height} PNG to {@code png}. */
  public PlotListener(Path png, int width, int height) {
    this.png = Objects.requireNonNull(png, "png");
    if (width < 200 || height < 150) {
      throw new IllegalArgumentException("image too small: " + width + "x" + height);
    }
    this.width = width;
    this.height = height;
  }

  /** The PNG file. */
  public Path path() {
    return png;
  }

  @Override
  public void onStart(TrainingContext context) {
    trainLoss.clear();
    trainAccuracy.clear();
    evalLoss.clear();
    evalAccuracy.clear();
  }

  @Override
  public void onStep(TrainingContext context, StepResult r) {
    trainLoss.add(r.step(), r.loss());
    trainAccuracy.add(r.step(), r.accuracy());
  }

  @Override
  public void onEvaluation(TrainingContext context, EvaluationResult r) {
    evalLoss.add(r.step(), r.loss());
    evalAccuracy.add(r.step(), r.accuracy());
  }

  @Override
  public void onEnd(TrainingContext context, TrainingOutcome outcome) {
    write(render());
  }

  /** Renders the current curves (what {@link #onEnd} writes). */
  public BufferedImage render() {
    int half = width / 2;
    return PngCharts.sideBySide(chart("Loss", "loss", half, trainLoss, evalLoss),
        chart("Accuracy", "accuracy", width - half, trainAccuracy, evalAccuracy), width, height);
  }

  private XYChart chart(String title, String yTitle, int w, Series train, Series eval) {
    XYChart c = new XYChartBuilder().width(w).height(height).title(title).xAxisTitle("step")
        .yAxisTitle(yTitle).build();
    Styler st = c.getStyler();
    st.setChartBackgroundColor(Color.WHITE);
    st.setLegendPosition(Styler.LegendPosition.InsideNE);
    st.setLegendVisible(!train.isEmpty() || !eval.isEmpty());
    if (!train.isEmpty()) {
      XYSeries s = c.addSeries("train", train.xs(), train.ys());
      s.setMarker(SeriesMarkers.NONE);
      s.setLineColor(new Color(31, 119, 180));
    }
    if (!eval.isEmpty()) {
      XYSeries s = c.addSeries("eval", eval.xs(), eval.ys());
      s.setMarker(SeriesMarkers.CIRCLE);
      s.setMarkerColor(new Color(255, 127, 14));
      s.setLineColor(new Color(255, 127, 14));
    }
    return c;
  }

  private void write(BufferedImage image) {
    PngCharts.write(png, image);
  }

  /** Finite (x, y) points in arrival order. */
  private static final class Series {
    private final List<double[]> points = new ArrayList<>();

    void add(long x, double y) {
      if (Double.isFinite(y)) {
        points.add(new double[] {x, y});
      }
    }

    void clear() {
      points.clear();
    }

    boolean isEmpty() {
      return points.isEmpty();
    }

    double[] xs() {
      return points.stream().mapToDouble(p -> p[0]).toArray();
    }

    double[] ys() {
      return points.stream().mapToDouble(p -> p[1]).toArray();
    }
  }
}
