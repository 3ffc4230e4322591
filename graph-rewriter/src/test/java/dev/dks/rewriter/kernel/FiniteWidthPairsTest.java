package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.TransformedActivation;
import dev.dks.solver.init.HaarOrthogonal;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Dag;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The kernel at finite width ({@link FiniteWidthPairs}) against two independent sources: a closed
 * form for one layer, and a brute-force simulation with explicit Haar weight matrices for a small
 * DAG with every node kind (bottleneck, expansion, depthwise sign, identity shortcut from an
 * activation, concatenation).
 */
class FiniteWidthPairsTest {
  /** A DKS tanh (zeta 1.5) of a built ResNet-18 v1 (as in SampledUnitsTest). */
  private static final Activation PHI = new TransformedActivation(Activations.byName("tanh"),
      ShapingParams.of(0.2700950230537588, 0.6367228522046653, -0.5366276021186666,
          5.371974502435377));

  /**
   * x -> SUO layer (in -> out) -> square: each output unit is s times a coordinate of a uniform
   * point on the sphere of radius sqrt(in) in R^max(in, out) (s = sqrt(out / in) when out &gt;
   * in), so E[h^4] = 3 in / (in + 2) when out &lt;= in and 3 out / (out + 2) when out &gt; in;
   * the infinite-width Q map of the square says 3 (negative control).
   */
  @Test
  void squareAfterOneLayerHasTheSphereMoment() {
    Activation square = Activations.byName("square");
    for (int[] io : new int[][] {{8, 4}, {4, 16}, {6, 6}}) {
      int in = io[0];
      int out = io[1];
      Dag.Builder b = Dag.builder();
      b.affine(b.layer(b.affine(b.input())));
      Dag dag = b.build();
      FiniteWidthPairs.Layout layout = new FiniteWidthPairs.Layout(new int[] {in, out, out, out},
          new FiniteWidthPairs.Op[] {FiniteWidthPairs.Op.PASS, FiniteWidthPairs.Op.MIX,
              FiniteWidthPairs.Op.PASS, FiniteWidthPairs.Op.PASS}, new boolean[4]);
      FiniteWidthPairs.Prediction p = FiniteWidthPairs.predict(dag,
          Map.of(2, LocalMaps.of(square)), layout, 0, 0.5, 2);
      int m = Math.max(in, out);
      double expected = 3.0 * m / (m + 2);
      assertEquals(expected, p.q()[2], 0.03, in + " -> " + out);
      assertEquals(1.0, p.q()[1], 0.01, "the layer keeps q in expectation");
      assertTrue(Math.abs(p.q()[2] - LocalMaps.of(square).q(1)) > 0.3,
          "the infinite-width map says " + LocalMaps.of(square).q(1));
    }
  }

  /**
   * Mean log q after a bottleneck (closed form): x of mean square 1 at width in, y = x (input c
   * 1), through an SUO layer to out &lt; in units: the output's q is (in / out) B with B the
   * squared length of out coordinates of a uniform unit vector in R^in, B ~ Beta(out / 2, (in -
   * out) / 2), so E[q] = 1 and E[log q] = log(in / out) + psi(out / 2) - psi(in / 2) (digamma by
   * psi(1) = -gamma, psi(1/2) = -gamma - 2 log 2, psi(x + 1) = psi(x) + 1 / x). Negative control:
   * the log of the mean q is 0, 0.09-0.25 above the mean log q (the gap a check comparing one with
   * the other would take for a scale error).
   */
  @Test
  void meanLogQAfterABottleneckIsTheBetaLogMoment() {
    for (int[] io : new int[][] {{16, 4}, {9, 3}, {24, 8}}) {
      int in = io[0];
      int out = io[1];
      Dag.Builder b = Dag.builder();
      b.affine(b.input());
      Dag dag = b.build();
      FiniteWidthPairs.Layout layout = new FiniteWidthPairs.Layout(new int[] {in, out},
          new FiniteWidthPairs.Op[] {FiniteWidthPairs.Op.PASS, FiniteWidthPairs.Op.MIX},
          new boolean[2]);
      FiniteWidthPairs.Prediction p = FiniteWidthPairs.predict(dag, Map.of(), layout, 0, 1.0, 1);
      double expected = Math.log((double) in / out) + psiHalf(out) - psiHalf(in);
      System.out.printf("%d -> %d: E[log q] %.5f, simulated %.5f +- %.5f (%d pairs)%n", in, out,
          expected, p.logQ()[1], p.logQSe()[1], p.pairs());
      assertEquals(expected, p.logQ()[1], 4 * p.logQSe()[1] + 1e-3, in + " -> " + out);
      assertEquals(1.0, p.q()[1], 0.03, "E[q] = 1");
      assertEquals(0.0, p.logQ()[0], 1e-12, "the input keeps log q 0");
      assertTrue(Math.abs(Math.log(p.q()[1]) - expected) > 0.06, "log E[q] against E[log q]");
    }
  }

  /** psi(n / 2) for a positive integer n (see the test above). */
  private static double psiHalf(int n) {
    double euler = 0.5772156649015329;
    double x = n % 2 == 0 ? 1 : 0.5;
    double psi = n % 2 == 0 ? -euler : -euler - 2 * Math.log(2);
    for (; x < n / 2.0; x += 1) {
      psi += 1 / x;
    }
    return psi;
  }

  /**
   * Nodes after the judged one (an op the check does not judge past, e.g. a transposed
   * convolution that changes the channels, whose width the layout does not know) neither stop
   * the simulation nor enter it: the judged node keeps the sphere moment of
   * {@link #squareAfterOneLayerHasTheSphereMoment}; judging at the unknown node itself still
   * gives no prediction (control).
   */
  @Test
  void nodesAfterTheJudgedOneMayHaveUnknownWidths() {
    Dag.Builder b = Dag.builder();
    b.affine(b.layer(b.affine(b.input())));
    Dag dag = b.build();
    FiniteWidthPairs.Layout layout = new FiniteWidthPairs.Layout(new int[] {6, 6, 6, -1},
        new FiniteWidthPairs.Op[] {FiniteWidthPairs.Op.PASS, FiniteWidthPairs.Op.MIX,
            FiniteWidthPairs.Op.PASS, FiniteWidthPairs.Op.MIX}, new boolean[4]);
    Map<Integer, LocalMaps> maps = Map.of(2, LocalMaps.of(Activations.byName("square")));
    FiniteWidthPairs.Prediction p = FiniteWidthPairs.predict(dag, maps, layout, 0, 0.5, 2);
    assertTrue(p != null, "an unknown width after the judged node");
    assertEquals(3.0 * 6 / 8, p.q()[2], 0.03, "E[h^4] at width 6");
    assertTrue(Double.isNaN(p.q()[3]), "not simulated past the judged node: " + p.q()[3]);
    assertTrue(FiniteWidthPairs.predict(dag, maps, layout, 0, 0.5, 3) == null,
        "judged at the node of unknown width");
  }

  /**
   * A depth-to-space slice (blazepose-detector's heads): 0 input (8), 1 mix -> 32, 2 act, 3 slice
   * to the first 2 units, 4 mix -> 16, 5 act. Against explicit Haar matrices with the slice taken
   * as the first 2 rows (brute force, another method than the simulation's orthonormal pairs): c
   * and q at node 5 agree within 4 standard errors. Negative control: the infinite-width maps,
   * which keep c through the slice (C(C(c0))), are off by more than 0.03.
   */
  @Test
  void depthToSpaceSliceMatchesExplicitWeightMatrices() {
    Dag.Builder b = Dag.builder();
    b.layer(b.affine(b.affine(b.layer(b.affine(b.input())))));
    Dag dag = b.build();
    FiniteWidthPairs.Op pass = FiniteWidthPairs.Op.PASS;
    FiniteWidthPairs.Op mix = FiniteWidthPairs.Op.MIX;
    FiniteWidthPairs.Layout layout = new FiniteWidthPairs.Layout(new int[] {8, 32, 32, 2, 16, 16},
        new FiniteWidthPairs.Op[] {pass, mix, pass, FiniteWidthPairs.Op.SLICE, mix, pass},
        new boolean[6]);
    LocalMaps maps = LocalMaps.of(PHI);
    double c0 = 0.5;
    FiniteWidthPairs.Prediction p = FiniteWidthPairs.predict(dag, Map.of(2, maps, 5, maps),
        layout, 0, c0, 5);
    SplittableRandom rng = new SplittableRandom(11);
    int pairs = 20_000;
    double sc = 0;
    double scc = 0;
    double sq = 0;
    for (int t = 0; t < pairs; t++) {
      double[][] x = startPair(8, c0, rng);
      double[][] h = act(suo(x, 32, rng));
      double[][] sliced = {java.util.Arrays.copyOf(h[0], 2), java.util.Arrays.copyOf(h[1], 2)};
      double[][] y = act(suo(sliced, 16, rng));
      double c = dot(y[0], y[1]) / Math.sqrt(dot(y[0], y[0]) * dot(y[1], y[1]));
      sc += c;
      scc += c * c;
      sq += (dot(y[0], y[0]) + dot(y[1], y[1])) / 32;
    }
    double mc = sc / pairs;
    double bruteSe = Math.sqrt((scc / pairs - mc * mc) / pairs);
    double tol = 4 * Math.hypot(p.cStandardError(), bruteSe);
    System.out.printf("slice: sim c %.4f se %.4f (%d pairs); brute c %.4f se %.4f; maps %.4f%n",
        p.c()[5], p.cStandardError(), p.pairs(), mc, bruteSe, maps.c(maps.c(c0)));
    assertEquals(mc, p.c()[5], tol, "c after the slice and the next layer");
    assertEquals(sq / pairs, p.q()[5], 0.05, "q after the slice and the next layer");
    assertTrue(Math.abs(maps.c(maps.c(c0)) - mc) > Math.max(0.03, tol),
        "control: the maps' c " + maps.c(maps.c(c0)));
  }

  /**
   * A side branch the judged node does not depend on (another output head) whose width the
   * layout does not know (-1), at a DAG index before the judged node: the simulation goes
   * around it (before, any unknown width from the start to the judged node gave no prediction,
   * and blazepose-detector fell back to the infinite-width maps for its whole network). The
   * judged prediction is the one of the same DAG without the branch (the branch draws no random
   * numbers), the branch is marked not simulated and NaN; control: judged at the branch, or with
   * the branch on the judged path, still no prediction.
   */
  @Test
  void sideBranchOfUnknownWidthDoesNotStopTheSimulation() {
    // 0 input, 1 mix, 2 act, 3 side (unknown width), 4 mix, 5 act (judged)
    Dag.Builder b = Dag.builder();
    int a2 = b.layer(b.affine(b.input()));
    b.affine(a2);
    b.layer(b.affine(a2));
    Dag dag = b.build();
    FiniteWidthPairs.Op pass = FiniteWidthPairs.Op.PASS;
    FiniteWidthPairs.Op mix = FiniteWidthPairs.Op.MIX;
    FiniteWidthPairs.Layout layout = new FiniteWidthPairs.Layout(new int[] {6, 8, 8, -1, 8, 8},
        new FiniteWidthPairs.Op[] {pass, mix, pass, FiniteWidthPairs.Op.TILE, mix, pass},
        new boolean[6]);
    LocalMaps maps = LocalMaps.of(PHI);
    FiniteWidthPairs.Prediction p = FiniteWidthPairs.predict(dag, Map.of(2, maps, 5, maps),
        layout, 0, 0.5, 5);
    assertTrue(p != null, "a side branch of unknown width");
    assertTrue(!p.simulated()[3] && Double.isNaN(p.c()[3]), "the branch is not simulated");
    // the same chain without the branch
    Dag.Builder b2 = Dag.builder();
    b2.layer(b2.affine(b2.layer(b2.affine(b2.input()))));
    FiniteWidthPairs.Layout chain = new FiniteWidthPairs.Layout(new int[] {6, 8, 8, 8, 8},
        new FiniteWidthPairs.Op[] {pass, mix, pass, mix, pass}, new boolean[5]);
    FiniteWidthPairs.Prediction q = FiniteWidthPairs.predict(b2.build(),
        Map.of(2, maps, 4, maps), chain, 0, 0.5, 4);
    assertEquals(q.c()[4], p.c()[5], 1e-12);
    assertEquals(q.q()[4], p.q()[5], 1e-12);
    assertEquals(q.pairs(), p.pairs());
    assertTrue(FiniteWidthPairs.predict(dag, Map.of(2, maps, 5, maps), layout, 0, 0.5, 3) == null,
        "judged at the branch");
    // the branch on the judged path: 0 input, 1 mix, 2 act, 3 unknown, 4 mix, 5 act
    Dag.Builder b3 = Dag.builder();
    b3.layer(b3.affine(b3.affine(b3.layer(b3.affine(b3.input())))));
    assertTrue(FiniteWidthPairs.predict(b3.build(), Map.of(2, maps, 5, maps), layout, 0, 0.5, 5)
        == null, "an unknown width on the judged path");
  }

  /** Two vectors of mean square 1 at width w with normalized inner product exactly c. */
  private static double[][] startPair(int w, double c, SplittableRandom rng) {
    double[] a = new double[w];
    double[] u = new double[w];
    for (int k = 0; k < w; k++) {
      a[k] = rng.nextGaussian();
      u[k] = rng.nextGaussian();
    }
    double na = Math.sqrt(dot(a, a));
    for (int k = 0; k < w; k++) {
      a[k] /= na;
    }
    double d = dot(a, u);
    for (int k = 0; k < w; k++) {
      u[k] -= d * a[k];
    }
    double nu = Math.sqrt(dot(u, u));
    double[][] x = new double[2][w];
    for (int k = 0; k < w; k++) {
      x[0][k] = Math.sqrt(w) * a[k];
      x[1][k] = Math.sqrt(w) * (c * a[k] + Math.sqrt(1 - c * c) * u[k] / nu);
    }
    return x;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      s += a[k] * b[k];
    }
    return s;
  }

  /** Widths of the DAG of {@link #dag()}, node by node. */
  private static final int[] WIDTHS = {6, 4, 4, 12, 12, 12, 12, 12, 12, 12, 16, 5, 5, 5};
  private static final double W = 0.8;
  private static final double S = 0.6;

  /**
   * 0 input (6), 1 mix -> 4, 2 act, 3 mix -> 12, 4 act, 5 depthwise, 6 act, 7 mix -> 12, 8 sum
   * (W: node 4, S: node 7), 9 act, 10 concat (9, 2), 11 mix -> 5, 12 act, 13 output.
   */
  private static Dag dag() {
    Dag.Builder b = Dag.builder();
    int a2 = b.layer(b.affine(b.input()));
    int a4 = b.layer(b.affine(a2));
    int a6 = b.layer(b.affine(a4));
    int m7 = b.affine(a6);
    int a9 = b.layer(b.normalizedSum(new double[] {W, S}, a4, m7));
    int cat = b.concat(new long[] {12, 4}, a9, a2);
    b.affine(b.layer(b.affine(cat)));
    return b.build();
  }

  @Test
  void smallDagMatchesExplicitWeightMatrices() {
    Dag dag = dag();
    FiniteWidthPairs.Op pass = FiniteWidthPairs.Op.PASS;
    FiniteWidthPairs.Op mix = FiniteWidthPairs.Op.MIX;
    FiniteWidthPairs.Op[] ops = {pass, mix, pass, mix, pass, FiniteWidthPairs.Op.SIGN, pass, mix,
        pass, pass, pass, mix, pass, pass};
    boolean[] concat = new boolean[14];
    concat[10] = true;
    FiniteWidthPairs.Layout layout = new FiniteWidthPairs.Layout(WIDTHS, ops, concat);
    LocalMaps maps = LocalMaps.of(PHI);
    Map<Integer, LocalMaps> layerMaps = new HashMap<>();
    for (int i : new int[] {2, 4, 6, 9, 12}) {
      layerMaps.put(i, maps);
    }
    double c0 = 0.3;
    FiniteWidthPairs.Prediction p = FiniteWidthPairs.predict(dag, layerMaps, layout, 0, c0, 12);
    double[] brute = bruteForce(c0, 20_000, new SplittableRandom(7));
    double cTol = 4 * Math.hypot(p.cStandardError(), brute[2]);
    System.out.printf("sim q %.4f c %.4f se %.4f (%d pairs); brute q %.4f c %.4f se %.4f%n",
        p.q()[12], p.c()[12], p.cStandardError(), p.pairs(), brute[0], brute[1], brute[2]);
    assertEquals(brute[1], p.c()[12], cTol, "c at the last activation");
    assertEquals(brute[0], p.q()[12], 0.02, "q at the last activation");
    double logTol = 4 * Math.hypot(p.logQSe()[12], brute[4]);
    System.out.printf("sim log q %.4f se %.4f; brute log q %.4f se %.4f%n", p.logQ()[12],
        p.logQSe()[12], brute[3], brute[4]);
    assertEquals(brute[3], p.logQ()[12], logTol, "mean log q at the last activation");
    assertTrue(Math.abs(Math.log(brute[0]) - brute[3]) > logTol,
        "the log of the mean q is another number: " + Math.log(brute[0]));
    // negative control: the infinite-width maps
    double[][] inf = mapsWalk(maps, c0);
    assertTrue(Math.abs(inf[1][12] - brute[1]) > cTol, "the maps' c " + inf[1][12]
        + " against the brute force's " + brute[1]);
    assertTrue(Math.abs(inf[0][12] - brute[0]) > 0.05, "the maps' q " + inf[0][12]
        + " against the brute force's " + brute[0]);
  }

  /**
   * The DAG of {@link #dag()} with explicit SUO matrices (HaarOrthogonal, factor max(sqrt(out /
   * in), 1)) and sign vectors drawn per pair: {mean q, mean c, standard error of c, mean log q,
   * standard error of log q} at node 12.
   */
  private static double[] bruteForce(double c0, int pairs, SplittableRandom rng) {
    double sq = 0;
    double sc = 0;
    double scc = 0;
    double sl = 0;
    double sll = 0;
    for (int t = 0; t < pairs; t++) {
      double[][] x = new double[2][];
      double[] v1 = new double[6];
      double[] u = new double[6];
      // x1 uniform with |x1|^2 = 6; x2 = c0 x1 + sqrt(1 - c0^2) u, u orthogonal, |u|^2 = 6
      double n1 = 0;
      for (int k = 0; k < 6; k++) {
        v1[k] = rng.nextGaussian();
        n1 += v1[k] * v1[k];
      }
      double d = 0;
      for (int k = 0; k < 6; k++) {
        v1[k] *= Math.sqrt(6 / n1);
        u[k] = rng.nextGaussian();
      }
      for (int k = 0; k < 6; k++) {
        d += u[k] * v1[k];
      }
      double nu = 0;
      for (int k = 0; k < 6; k++) {
        u[k] -= d / 6 * v1[k];
        nu += u[k] * u[k];
      }
      double[] v2 = new double[6];
      for (int k = 0; k < 6; k++) {
        v2[k] = c0 * v1[k] + Math.sqrt(1 - c0 * c0) * u[k] * Math.sqrt(6 / nu);
      }
      double[][] h2 = act(suo(new double[][] {v1, v2}, 4, rng));
      double[][] h4 = act(suo(h2, 12, rng));
      double[][] h5 = new double[2][12];
      for (int k = 0; k < 12; k++) {
        double s = rng.nextBoolean() ? 1 : -1;
        h5[0][k] = s * h4[0][k];
        h5[1][k] = s * h4[1][k];
      }
      double[][] h7 = suo(act(h5), 12, rng);
      double[][] h8 = new double[2][12];
      for (int e = 0; e < 2; e++) {
        for (int k = 0; k < 12; k++) {
          h8[e][k] = W * h4[e][k] + S * h7[e][k];
        }
      }
      double[][] h9 = act(h8);
      double[][] h10 = new double[2][16];
      for (int e = 0; e < 2; e++) {
        System.arraycopy(h9[e], 0, h10[e], 0, 12);
        System.arraycopy(h2[e], 0, h10[e], 12, 4);
      }
      x = act(suo(h10, 5, rng));
      double xx = 0;
      double yy = 0;
      double xy = 0;
      for (int k = 0; k < 5; k++) {
        xx += x[0][k] * x[0][k];
        yy += x[1][k] * x[1][k];
        xy += x[0][k] * x[1][k];
      }
      double c = xy / Math.sqrt(xx * yy);
      sq += (xx + yy) / 10;
      sc += c;
      scc += c * c;
      double l = Math.log((xx + yy) / 10);
      sl += l;
      sll += l * l;
    }
    double mc = sc / pairs;
    double ml = sl / pairs;
    return new double[] {sq / pairs, mc, Math.sqrt((scc / pairs - mc * mc) / pairs), ml,
        Math.sqrt((sll / pairs - ml * ml) / pairs)};
  }

  /** y = factor W^T x for a Haar W of in x out (row-major), for both inputs. */
  private static double[][] suo(double[][] x, int out, SplittableRandom rng) {
    int in = x[0].length;
    double[] w = HaarOrthogonal.sample(in, out, rng);
    double f = Math.max(Math.sqrt((double) out / in), 1);
    double[][] y = new double[2][out];
    for (int e = 0; e < 2; e++) {
      for (int j = 0; j < out; j++) {
        double s = 0;
        for (int i = 0; i < in; i++) {
          s += x[e][i] * w[i * out + j];
        }
        y[e][j] = f * s;
      }
    }
    return y;
  }

  private static double[][] act(double[][] x) {
    double[][] y = new double[2][x[0].length];
    for (int e = 0; e < 2; e++) {
      for (int k = 0; k < y[e].length; k++) {
        y[e][k] = PHI.value(x[e][k]);
      }
    }
    return y;
  }

  /** The infinite-width maps along the DAG (depthwise pair composed, as a Gaussian walk). */
  private static double[][] mapsWalk(LocalMaps m, double c0) {
    double q2 = m.q(1);
    double c2 = m.c(c0);
    double q4 = m.q(q2);
    double c4 = m.c(c2);
    double q6 = m.q(q4);
    double c6 = m.c(c4);
    double q8 = W * W * q4 + S * S * q6;
    double c8 = W * W * c4 + S * S * c6;
    double q9 = m.q(q8);
    double c9 = m.c(c8);
    double q10 = 0.75 * q9 + 0.25 * q2;
    double c10 = 0.75 * c9 + 0.25 * c2;
    double[] q = new double[14];
    double[] c = new double[14];
    q[12] = m.q(q10);
    c[12] = m.c(c10);
    return new double[][] {q, c};
  }
}
