package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Dag;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Kernel predictions for DAGs where an activation reads a pre-activation that is not Gaussian:
 * an earlier activation's output that reaches it through no layer mixing the features. ResNet v1
 * with a shortcut weight w is the case: the post-add activation of an identity-shortcut block
 * reads {@code w * phi(z) + sqrt(1 - w^2) * g} per unit, and {@code phi(z)} of a shaped
 * activation is skewed, so its local Q and C maps (which assume a Gaussian input) are wrong even
 * at infinite width (built DKS tanh ResNet-18 v1, w = 0.8, width 16: q 1.08 after the first
 * block, 1.22 after the second, 1.64 at the output, where the maps say 1; an infinitely wide
 * unit-by-unit simulation says 1.086, 1.220, 1.67).
 *
 * <p><b>Method</b>: the network at infinite width, unit by unit. Every DAG node holds {@value
 * #UNITS} sampled units, each a pair of values (the two inputs of a pair). A layer that mixes
 * features ({@code Conv2D}, {@code MatMul}: SUO/Delta-orthogonal weights preserve the mean
 * square, zero biases) gives fresh, independent Gaussian pairs with the second moments of its
 * input's units; an activation applies the shaped function to each unit; a normalized sum adds
 * its operands unit by unit with weights {@code sqrt(fraction)} (the same unit of an identity
 * shortcut and a fresh unit of the residual branch); a concatenation takes its units from each
 * operand in proportion to the widths; other ops (biases, pads, pooling, reshapes) keep the units.
 * q at a node is the units' mean square (averaged over the two inputs), c their correlation.
 * Deterministic (fixed seed); the sampling error of c is about {@code (1 - c^2) / sqrt(UNITS)}
 * per mixing layer (0.0015 at c = 0.5).
 *
 * <p>Used only where needed ({@link #needed}), and never on a DAG with a depthwise convolution: a
 * Delta-initialized depthwise kernel flips each channel's sign and mixes nothing (its chains have
 * their own predictions, {@link DepthwiseChains}), which this method does not model.
 */
final class SampledUnits {
  /** Units per DAG node. */
  static final int UNITS = 1 << 18;
  /** The sampling seed. */
  static final long SEED = 0x5EEDL;

  private static final Set<String> MIXING_OPS = Set.of("Conv2D", "MatMul");

  /**
   * What a node does to units beyond its {@link Dag.Kind}.
   *
   * @param mixing per DAG node: a layer mixing the features (fresh Gaussian units)
   * @param concat per DAG node: an AVERAGE that concatenates (units taken from each operand)
   * @param depthwise whether a depthwise convolution lies on the DAG (then never sampled)
   */
  record Layout(boolean[] mixing, boolean[] concat, boolean depthwise) {}

  /** q and c per DAG node. */
  record Prediction(double[] q, double[] c) {}

  private SampledUnits() {}

  /** The layout of {@code a}'s DAG read from the graph's ops. */
  static Layout layout(GraphView g, NetworkAnalysis a) {
    int n = a.dag().nodes().size();
    boolean[] mixing = new boolean[n];
    boolean[] concat = new boolean[n];
    boolean depthwise = false;
    for (Map.Entry<String, Integer> e : a.dagIndex().entrySet()) {
      if (e.getValue() >= n || !g.contains(e.getKey())) {
        continue;
      }
      String op = g.get(e.getKey()).getOp();
      depthwise |= op.equals("DepthwiseConv2dNative");
      Dag.Kind k = a.dag().nodes().get(e.getValue()).kind();
      mixing[e.getValue()] |= k == Dag.Kind.AFFINE && MIXING_OPS.contains(op);
      concat[e.getValue()] |= k == Dag.Kind.AVERAGE
          && (op.equals("ConcatV2") || op.equals("Concat"));
    }
    return new Layout(mixing, concat, depthwise);
  }

  /**
   * Whether some activation at or after node {@code start} reads a non-Gaussian input: one that
   * depends on an activation's output through no mixing layer (the input, {@code start} and
   * mixing layers are Gaussian; other affine ops keep their input's kind; sums are Gaussian when
   * all operands are; activations are not).
   */
  static boolean needed(Dag dag, Layout layout, int start) {
    if (layout.depthwise()) {
      return false;
    }
    boolean[] gauss = gaussian(dag, layout, start);
    for (int i = start + 1; i < gauss.length; i++) {
      Dag.Node n = dag.nodes().get(i);
      if (n.kind() == Dag.Kind.LAYER && !gauss[n.inputs()[0]]) {
        return true;
      }
    }
    return false;
  }

  private static boolean[] gaussian(Dag dag, Layout layout, int start) {
    boolean[] gauss = new boolean[dag.nodes().size()];
    for (int i = 0; i < gauss.length; i++) {
      Dag.Node n = dag.nodes().get(i);
      gauss[i] = i == start || switch (n.kind()) {
        case INPUT -> true;
        case LAYER -> false;
        case AFFINE -> layout.mixing()[i] || gauss[n.inputs()[0]];
        case AVERAGE -> Arrays.stream(n.inputs()).allMatch(j -> gauss[j]);
        case PRODUCT -> false;
      };
    }
    return gauss;
  }

  /**
   * q and c at every DAG node: the input's units are Gaussian pairs with q 1 and correlation
   * {@code c0}, node {@code start}'s (where the measurement starts) fresh ones with correlation
   * {@code startC}. A NaN {@code startC} leaves every prediction NaN.
   */
  static Prediction predict(Dag dag, Map<Integer, LocalMaps> layerMaps, Layout layout,
      double c0, int start, double startC) {
    int n = dag.nodes().size();
    double[] q = new double[n];
    double[] c = new double[n];
    if (Double.isNaN(startC)) {
      Arrays.fill(q, Double.NaN);
      Arrays.fill(c, Double.NaN);
      return new Prediction(q, c);
    }
    int[] lastUse = new int[n];
    for (int i = 0; i < n; i++) {
      lastUse[i] = i;
      for (int j : dag.nodes().get(i).inputs()) {
        lastUse[j] = i;
      }
    }
    SplittableRandom rng = new SplittableRandom(SEED);
    double[][][] units = new double[n][][];
    for (int i = 0; i < n; i++) {
      Dag.Node node = dag.nodes().get(i);
      double[][] u;
      if (i == start || node.kind() == Dag.Kind.INPUT) {
        u = gaussian(rng, 1, 1, clamp(i == start ? startC : c0));
      } else {
        u = switch (node.kind()) {
          case AFFINE -> layout.mixing()[i] ? fresh(rng, units[node.inputs()[0]])
              : units[node.inputs()[0]];
          case LAYER -> apply(layerMaps.get(i).activation(), units[node.inputs()[0]]);
          case AVERAGE -> layout.concat()[i] ? concat(node, units) : sum(node, units);
          case PRODUCT -> product(node, units);
          case INPUT -> throw new IllegalStateException();
        };
      }
      units[i] = u;
      double[] m = moments(u);
      q[i] = (m[0] + m[1]) / 2;
      c[i] = m[2] / Math.sqrt(m[0] * m[1]);
      for (int j : node.inputs()) {
        if (lastUse[j] == i) {
          units[j] = null;
        }
      }
    }
    return new Prediction(q, c);
  }

  private static double clamp(double c) {
    return Math.max(-1, Math.min(1, c));
  }

  /** {E[x^2], E[y^2], E[x y]} over the units. */
  private static double[] moments(double[][] u) {
    double xx = 0;
    double yy = 0;
    double xy = 0;
    double[] x = u[0];
    double[] y = u[1];
    for (int k = 0; k < x.length; k++) {
      xx += x[k] * x[k];
      yy += y[k] * y[k];
      xy += x[k] * y[k];
    }
    return new double[] {xx / x.length, yy / x.length, xy / x.length};
  }

  /** Fresh Gaussian pairs with the second moments of {@code in}. */
  private static double[][] fresh(SplittableRandom rng, double[][] in) {
    double[] m = moments(in);
    double r = m[0] > 0 && m[1] > 0 ? m[2] / Math.sqrt(m[0] * m[1]) : 0;
    return gaussian(rng, m[0], m[1], clamp(r));
  }

  private static double[][] gaussian(SplittableRandom rng, double qx, double qy, double c) {
    double[] x = new double[UNITS];
    double[] y = new double[UNITS];
    double sx = Math.sqrt(qx);
    double sy = Math.sqrt(qy);
    double s = Math.sqrt((1 - c) * (1 + c));
    for (int k = 0; k < UNITS; k++) {
      double z1 = rng.nextGaussian();
      double z2 = rng.nextGaussian();
      x[k] = sx * z1;
      y[k] = sy * (c * z1 + s * z2);
    }
    return new double[][] {x, y};
  }

  private static double[][] apply(Activation phi, double[][] in) {
    double[] x = new double[UNITS];
    double[] y = new double[UNITS];
    for (int k = 0; k < UNITS; k++) {
      x[k] = phi.value(in[0][k]);
      y[k] = phi.value(in[1][k]);
    }
    return new double[][] {x, y};
  }

  /** A normalized sum: operand j weighted by sqrt(fraction j), unit by unit. */
  private static double[][] sum(Dag.Node node, double[][][] units) {
    double[] x = new double[UNITS];
    double[] y = new double[UNITS];
    for (int j = 0; j < node.inputs().length; j++) {
      double w = Math.sqrt(node.fractions()[j]);
      double[][] in = units[node.inputs()[j]];
      for (int k = 0; k < UNITS; k++) {
        x[k] += w * in[0][k];
        y[k] += w * in[1][k];
      }
    }
    return new double[][] {x, y};
  }

  /** A product of streams: the operands' units multiplied unit by unit. */
  private static double[][] product(Dag.Node node, double[][][] units) {
    double[] x = new double[UNITS];
    double[] y = new double[UNITS];
    Arrays.fill(x, 1.0);
    Arrays.fill(y, 1.0);
    for (int j : node.inputs()) {
      double[][] in = units[j];
      for (int k = 0; k < UNITS; k++) {
        x[k] *= in[0][k];
        y[k] *= in[1][k];
      }
    }
    return new double[][] {x, y};
  }

  /** A concatenation: consecutive ranges of units from each operand, sized by the fractions. */
  private static double[][] concat(Dag.Node node, double[][][] units) {
    double[] x = new double[UNITS];
    double[] y = new double[UNITS];
    int from = 0;
    double cum = 0;
    for (int j = 0; j < node.inputs().length; j++) {
      cum += node.fractions()[j];
      int to = j == node.inputs().length - 1 ? UNITS : (int) Math.round(cum * UNITS);
      double[][] in = units[node.inputs()[j]];
      System.arraycopy(in[0], from, x, from, to - from);
      System.arraycopy(in[1], from, y, from, to - from);
      from = to;
    }
    return new double[][] {x, y};
  }
}
