package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.solver.activation.Activations;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Dag;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The predicted mean q is pooled over the input c values ({@link KernelCheck#poolQ}): each input
 * of a pair goes through the network alone, so E[q] does not depend on the pair's c, and the
 * simulation's separate estimates at each input c are one expectation. blazepose-lite (issue 12):
 * its DKS head input was predicted q 1.37, 2.56 and 11.5 at input c 0, 0.5 and 0.9 (heavy tail),
 * and the mean-q allowance scaled with the 11.5 to 8.1.
 *
 * <p>Closed form (independent number): x of mean square 1 at width {@code in}, an SUO layer to
 * {@code out <= in} units (each unit sqrt(in) times a coordinate of a uniform unit vector in
 * R^in), then the square: an input's q is the mean of {@code h^4} over the units, E[q] = 3 in /
 * (in + 2), and its variance follows from the sphere's moments E[h^8] = 105 in^3 / ((in + 2)(in +
 * 4)(in + 6)), E[h1^4 h2^4] = 9 in^3 / ((in + 2)(in + 4)(in + 6)); a pair's q (the mean of its two
 * inputs') varies at most as much as one input's, which bounds each estimate's standard error.
 * Over 60 independent repeats (256 pairs per input c each): the pooled q is the same at every
 * input c, its average within 4 standard errors of the closed form, its rms error within 1.5
 * times the bound and below 0.75 of the per-c estimates' (about 1/sqrt(3) expected). Control
 * (the old rows): the per-c estimates are three different numbers for one expectation.
 */
class PooledQTest {
  private static final int IN = 8;
  private static final int OUT = 4;
  private static final int PAIRS = 256;
  private static final int REPEATS = 60;

  /** The three per-c estimates at node 2 (pairs started at c + shift: another random stream). */
  private static double[][][] estimates(Dag dag, FiniteWidthPairs.Layout layout,
      Map<Integer, LocalMaps> maps, double shift) {
    double[] cs = {0.0, 0.5, 0.9};
    double[][][] perC = new double[cs.length][][];
    for (int k = 0; k < cs.length; k++) {
      FiniteWidthPairs.Prediction p = FiniteWidthPairs.predict(dag, maps, layout, 0,
          cs[k] + shift, 2, 1.0, PAIRS);
      assertEquals(PAIRS, p.pairs());
      perC[k] = new double[][] {p.q().clone(), p.c(), p.cSe(), p.logQ(), p.logQSe()};
    }
    return perC;
  }

  @Test
  void pooledQIsOneEstimateOfTheClosedFormWithASmallerSpread() {
    Dag.Builder b = Dag.builder();
    b.layer(b.affine(b.input()));
    Dag dag = b.build();
    FiniteWidthPairs.Layout layout = new FiniteWidthPairs.Layout(new int[] {IN, OUT, OUT},
        new FiniteWidthPairs.Op[] {FiniteWidthPairs.Op.PASS, FiniteWidthPairs.Op.MIX,
            FiniteWidthPairs.Op.PASS}, new boolean[3]);
    Map<Integer, LocalMaps> maps = Map.of(2, LocalMaps.of(Activations.byName("square")));
    double d = (IN + 2.0) * (IN + 4) * (IN + 6);
    double h8 = 105.0 * IN * IN * IN / d;
    double h44 = 9.0 * IN * IN * IN / d;
    double mean = 3.0 * IN / (IN + 2);
    double qVar = (h8 + (OUT - 1) * h44) / OUT - mean * mean;
    // one estimate's standard error at most sqrt(qVar / PAIRS); the pooled one's a third of the
    // root of three such variances
    double pooledBound = Math.sqrt(3 * qVar / PAIRS) / 3;
    double sumPooled = 0;
    double ssPooled = 0;
    double ssSingle = 0;
    for (int r = 0; r < REPEATS; r++) {
      double[][][] perC = estimates(dag, layout, maps, r * 1e-9);
      double[] raw = {perC[0][0][2], perC[1][0][2], perC[2][0][2]};
      KernelCheck.poolQ(perC);
      double pooled = perC[0][0][2];
      for (double[][] p : perC) {
        assertEquals(pooled, p[0][2], 0.0, "the same q at every input c");
        assertEquals(1.0, p[0][0], 1e-12, "the start keeps q 1");
      }
      assertEquals((raw[0] + raw[1] + raw[2]) / 3, pooled, 1e-12);
      // control (the old rows): the estimates pooled are not the same number
      assertTrue(raw[0] != raw[1] && raw[1] != raw[2], "per-c estimates " + raw[0] + " "
          + raw[1] + " " + raw[2]);
      sumPooled += pooled;
      ssPooled += (pooled - mean) * (pooled - mean);
      for (double q : raw) {
        ssSingle += (q - mean) * (q - mean) / 3;
      }
    }
    double avg = sumPooled / REPEATS;
    double rmsPooled = Math.sqrt(ssPooled / REPEATS);
    double rmsSingle = Math.sqrt(ssSingle / REPEATS);
    System.out.printf("closed form %.4f, mean pooled %.4f; rms error pooled %.4f (bound %.4f), "
        + "single %.4f%n", mean, avg, rmsPooled, pooledBound, rmsSingle);
    assertEquals(mean, avg, 4 * pooledBound / Math.sqrt(REPEATS), "E[q] = 3 in / (in + 2)");
    assertTrue(rmsPooled < 1.5 * pooledBound, "pooled error " + rmsPooled);
    // the spread shrinks by about sqrt(3) (0.58)
    assertTrue(rmsPooled < 0.75 * rmsSingle, "pooled " + rmsPooled + ", single " + rmsSingle);
  }
}
