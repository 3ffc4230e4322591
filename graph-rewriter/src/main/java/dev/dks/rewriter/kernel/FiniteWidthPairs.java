package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Dag;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;

/**
 * Kernel predictions at the network's own widths: the expected q and c that the kernel check
 * measures, averaged over the initializations, computed by simulating input pairs through the
 * network in plain Java.
 *
 * <p>Why: the local Q and C maps are the kernel of an infinitely wide network. At finite width
 * the q and c a layer sees fluctuate from example to example and draw to draw, and a map that is
 * curved turns those fluctuations into a bias of the average: {@code E[Q(q^)] = Q(1) + Q''(1)
 * Var(q^) / 2 + ...}. A narrow bottleneck makes Var(q^) large (MobileNetV2 at width multiplier
 * 0.35 projects to 8 channels: q^ of the next layer has a relative variance of about 0.2), so a
 * DKS softplus MobileNetV2's measured q grew 1-7 % per block and its c at input c 0 reached 0.12
 * where the infinite-width maps say 1 and 0, while TAT's leaky ReLU (Q(q) = q exactly, no
 * curvature) had no such bias. The check compares the measured average with the prediction, so
 * the prediction has to be the finite-width average, which this class computes; at large widths it
 * tends to the maps' values.
 *
 * <p><b>Method</b>: with the pairs' input the same vector at every location and Delta-initialized
 * kernels, the network is per location an MLP with the kernels' centre taps. Each simulated pair
 * goes through its own fresh draw of the weights (the expectation over weights and pairs is the
 * same as with weights shared by a draw's pairs), one DAG node after the other, as two vectors
 * of the node's width:
 * <ul>
 *   <li>a mixing layer ({@code Conv2D}, {@code MatMul}; scaled uniform orthogonal, factor {@code
 *       max(sqrt(out/in), 1)}): its output depends on the Haar weights only through the images of
 *       an orthonormal basis (e, f) of the input pair's span, which are a uniformly random
 *       orthonormal pair in {@code R^max(in, out)} (truncated to {@code out} coordinates when
 *       {@code out <= in}). So with {@code x = alpha e}, {@code x' = beta e + gamma f} the outputs
 *       are {@code s alpha a} and {@code s (beta a + gamma b)}, {@code (a, b)} by Gram-Schmidt of
 *       two Gaussian vectors: exact in distribution at O(in + out) per pair, no matrix;</li>
 *   <li>a depthwise convolution (channel multiplier 1): a random sign per channel;</li>
 *   <li>an activation: the shaped function per unit;</li>
 *   <li>a normalized sum: the operands unit by unit, weighted by {@code sqrt(fraction)};</li>
 *   <li>a concatenation: the operands one after the other; of copies of one tensor (a CRelu,
 *       {@code concat([h, -h])}, which the analysis reads as h): the copies, negated where the
 *       operand is a Neg;</li>
 *   <li>a product of streams (a gate): the operands multiplied channel by channel (a gate
 *       broadcast over locations has the features' channels; a factor of width 1 is
 *       broadcast); exact in distribution, as each factor's units come from its own layers'
 *       draws;</li>
 *   <li>a reshape that flattens a spatially constant map: copies of the vector (its Gram is all a
 *       following mixing layer sees);</li>
 *   <li>a depth-to-space rearrangement (channels last, block b): the first width / b^2 units,
 *       which location 0 of its output holds (the other locations hold the other slices; the
 *       check measures location 0);</li>
 *   <li>other ops that keep the width (biases, which are zero,
 *       pads, pooling, means over locations, scalings the sums account for): the identity.</li>
 * </ul>
 * q at a node is the pair's mean square (averaged over the two inputs), c their normalized inner
 * product, both averaged over the simulated pairs as {@link PairSums} averages the measured ones.
 * The pairs start at the first measured node with mean square 1 each and the measured c exactly
 * (per-location normalization makes every fed pair so).
 *
 * <p>Deterministic (fixed seed, fixed batches whatever the thread count). Pairs are simulated in
 * batches until the standard error of the predicted c at the judged node is at most a target
 * (at least {@link #TARGET_SE}) or {@link #UNIT_BUDGET} units have been computed for the input
 * c ({@link Prediction#cStandardError} says how far it got).
 *
 * <p>Not used (null layout) where an op's effect on the units is not known: a width change that
 * is neither a mixing layer nor a flatten nor a channels-last depth-to-space, a depthwise
 * multiplier, a sum of unequal widths, a mixing layer of unknown width.
 */
final class FiniteWidthPairs {
  /** The standard error of the predicted c at the judged node the simulation aims at. */
  static final double TARGET_SE = 0.002;
  /**
   * Fewest simulated pairs per input c (fewer only when {@link #UNIT_BUDGET} pays for fewer, but
   * never under {@link #BATCH}). A narrow network's q is heavy-tailed, so its predicted mean q
   * needs many pairs: a DKS softplus MobileNetV2's output q came out 1.2-27.6 over input c
   * values and seeds from 512 pairs, 3.5-5.4 from 60,000 (measured over 96 draws: 4.6-5.1).
   */
  static final int MIN_PAIRS = 4096;
  /** Pairs per batch (the unit of parallel work and of the stopping rule). */
  static final int BATCH = 64;
  /**
   * Most units (node values computed, summed over the nodes from the start) simulated per input
   * c: about 2 s of CPU (a DKS softplus MobileNetV2 pair is about 3,000 units and 0.4 ms,
   * measured 2026-12-07 on this machine under load). An op that keeps the units (a bias, the
   * shaping's scalings and shifts) reuses its input's vectors and sums and counts 1: a DKS
   * softplus blazepose-detector pair is about 39,000 units that way (about 100,000 counting
   * those ops at their widths, which held it to 192 pairs, a standard error of 0.012 on its
   * judged c), 512 pairs in about 2.5 s of CPU (2026-12-08, this machine under load).
   */
  static final double UNIT_BUDGET = 2e7;
  /** The simulation seed. */
  static final long SEED = 0xF1717EL;

  /** What an AFFINE node does to the units. */
  enum Op {
    /** Keeps them. */
    PASS,
    /** A mixing layer: fresh units from the Haar weights. */
    MIX,
    /** A depthwise layer: a random sign per channel. */
    SIGN,
    /** A flatten of a spatially constant map: copies. */
    TILE,
    /**
     * A depth-to-space rearrangement: the first units (what the check measures at location 0).
     */
    SLICE
  }

  /**
   * What the DAG's nodes do.
   *
   * @param width units per node
   * @param op per AFFINE node, what it does (PASS for the others)
   * @param concat per AVERAGE node, whether it concatenates
   * @param signs per TILE node, the sign of each copy (a CRelu's negated half), or null: all 1
   */
  record Layout(int[] width, Op[] op, boolean[] concat, double[][] signs) {
    /** A layout whose copies (TILE) are all positive. */
    Layout(int[] width, Op[] op, boolean[] concat) {
      this(width, op, concat, new double[width.length][]);
    }
  }

  /**
   * q and c per DAG node (NaN before the start), the standard error of each c (the simulation's
   * own noise), the standard error of c at the judged node, the pairs simulated, and the mean of
   * log q per node with its standard error. A narrow network's q is heavy-tailed (a product of
   * one random factor per layer: a DKS softplus MobileNetV2's predicted mean q at its head came
   * out 1.2, 1.7 and 3.8 at the three input c values from 4096 pairs each, though the mean q
   * does not depend on the input c), so its mean is poorly determined by any affordable number of
   * pairs or draws, while log q, a sum of one term per layer, is not: the check judges it
   * ({@link KernelCheck#logQAllowed}). {@code simulated} says which nodes the simulation computed
   * ({@link #simulated}); the others are NaN.
   */
  record Prediction(double[] q, double[] c, double[] cSe, double cStandardError, int pairs,
      double[] logQ, double[] logQSe, boolean[] simulated) {}

  private FiniteWidthPairs() {}

  /**
   * The layout of {@code a}'s DAG read from the graph's ops and static shapes ({@code tg}: the
   * imported graph); a node whose effect on the units is not known gets width -1 (and so do the
   * nodes whose width follows from it), and a simulation that would go through it is not made
   * ({@link #predict}).
   */
  static Layout layout(Graph tg, GraphView g, NetworkAnalysis a) {
    Dag dag = a.dag();
    int n = dag.nodes().size();
    String[] name = new String[n];
    for (Map.Entry<String, Integer> e : a.dagIndex().entrySet()) {
      int i = e.getValue();
      if (i < n && dag.nodes().get(i).kind() != Dag.Kind.INPUT
          && (name[i] == null || e.getKey().compareTo(name[i]) < 0)) {
        name[i] = e.getKey();
      }
    }
    for (Map.Entry<String, Integer> e : a.dagIndex().entrySet()) {
      if (e.getValue() == 0) {
        name[0] = e.getKey();
      }
    }
    int[] width = new int[n];
    Op[] op = new Op[n];
    boolean[] concat = new boolean[n];
    double[][] signs = new double[n][];
    Arrays.fill(op, Op.PASS);
    for (int i = 0; i < n; i++) {
      Dag.Node node = dag.nodes().get(i);
      long declared = name[i] == null ? -1 : channels(tg, name[i]);
      String type = name[i] != null && g.contains(name[i]) ? g.get(name[i]).getOp() : "";
      switch (node.kind()) {
        case INPUT -> width[i] = (int) declared;
        case LAYER -> width[i] = width[node.inputs()[0]];
        case AVERAGE -> {
          concat[i] = type.equals("ConcatV2") || type.equals("Concat");
          int w = concat[i] ? 0 : width[node.inputs()[0]];
          for (int j : node.inputs()) {
            if (width[j] <= 0) {
              w = -1;
              break;
            } else if (concat[i]) {
              w += width[j];
            } else if (width[j] != w) {
              w = -1;
              break;
            }
          }
          width[i] = w;
        }
        case PRODUCT -> {
          // channel by channel; a factor of width 1 (a per-example scalar) is broadcast
          int w = 1;
          for (int j : node.inputs()) {
            if (width[j] <= 0 || width[j] != 1 && w != 1 && width[j] != w) {
              w = -1;
              break;
            }
            w = Math.max(w, width[j]);
          }
          width[i] = w;
        }
        case AFFINE -> {
          int in = width[node.inputs()[0]];
          if (type.equals("Conv2D") || type.equals("MatMul")) {
            op[i] = Op.MIX;
            width[i] = (int) declared;
          } else if (type.equals("DepthwiseConv2dNative")) {
            op[i] = Op.SIGN;
            width[i] = in;
            if (declared != in) {
              width[i] = -1;
            }
          } else if (type.equals("DepthToSpace") && depthToSpaceSlice(g, name[i], in, declared)) {
            // location 0 of the output holds the input's first in / block^2 channels
            op[i] = Op.SLICE;
            width[i] = (int) declared;
          } else if ((type.equals("ConcatV2") || type.equals("Concat")) && in > 0
              && declared > in && declared % in == 0) {
            // copies of one tensor, some negated (a CRelu: concat([h, -h]))
            op[i] = Op.TILE;
            width[i] = (int) declared;
            signs[i] = copySigns(g, name[i]);
          } else if (declared > 0 && declared != in && node.inputs()[0] == 0) {
            // preprocessing of the raw input (per-location normalization's homogeneous
            // coordinate adds a channel): the pairs start at or after it, with its width
            width[i] = (int) declared;
          } else if (declared > 0 && declared != in) {
            boolean tile = type.equals("Reshape") && in > 0 && declared % in == 0;
            op[i] = Op.TILE;
            width[i] = tile ? (int) declared : -1;
          } else {
            width[i] = in > 0 ? in : (int) declared;
          }
        }
        default -> throw new IllegalStateException();
      }
    }
    return new Layout(width, op, concat, signs);
  }

  /**
   * The sign of each operand of the concatenation {@code node} (all copies of one tensor): -1 for
   * a Neg's output, else 1.
   */
  private static double[] copySigns(GraphView g, String node) {
    List<Double> s = new ArrayList<>();
    NodeDef n = g.get(node);
    for (int k = 0; k < n.getInputCount(); k++) {
      String in = n.getInput(k);
      if (in.startsWith("^")) {
        continue;
      }
      String producer = dev.dks.rewriter.graph.TensorName.parse(in).node();
      boolean axis = n.getOp().equals("ConcatV2") ? k == n.getInputCount() - 1 : k == 0;
      if (!axis) {
        s.add(g.contains(producer) && g.get(producer).getOp().equals("Neg") ? -1.0 : 1.0);
      }
    }
    return s.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /**
   * Whether the DepthToSpace {@code node} (channels last) maps {@code in} channels to {@code
   * out}: in = out * block^2. Its output at block position (i, j) holds input channels {@code (i
   * block + j) out} to {@code (i block + j + 1) out - 1} of the input location, so location 0,
   * where the check measures, holds the first {@code out}: a spatially constant input becomes a
   * map whose locations carry different slices of the units. Channels first (NCHW): false.
   */
  private static boolean depthToSpaceSlice(GraphView g, String node, int in, long out) {
    if (in <= 0 || out <= 0 || !g.contains(node)) {
      return false;
    }
    NodeDef n = g.get(node);
    AttrValue format = n.getAttrMap().get("data_format");
    if (format != null && !format.getS().toStringUtf8().equals("NHWC")) {
      return false;
    }
    AttrValue block = n.getAttrMap().get("block_size");
    long b = block == null ? -1 : block.getI();
    return b >= 2 && in == out * b * b;
  }

  /** The static size of {@code node}'s output 0's last dimension, or -1. */
  private static long channels(Graph tg, String node) {
    GraphOperation o = tg.operation(node);
    if (o == null || o.numOutputs() == 0) {
      return -1;
    }
    Shape s = o.output(0).shape();
    return s.isUnknown() || s.numDimensions() < 1 ? -1 : s.size(s.numDimensions() - 1);
  }

  /**
   * q and c at every DAG node from node {@code start} to node {@code judged}: its pairs have mean
   * square 1 and correlation {@code startC}; the simulation stops on the standard error of c at
   * node {@code judged}. Nodes after {@code judged} cannot change it (the DAG is in topological
   * order), so they are neither simulated nor required to have a known width (an op past which
   * the check does not judge, {@link Unpredictable}, may change the width in ways the layout does
   * not know); their q and c are NaN. Nor are the nodes before it that it does not depend on,
   * where the simulation cannot compute them ({@link #simulated}; also NaN). Null when {@code
   * judged} precedes {@code start}, or a node {@code judged} depends on reads one before the
   * start or has no known width. A NaN {@code startC} leaves every prediction NaN.
   */
  static Prediction predict(Dag dag, Map<Integer, LocalMaps> layerMaps, Layout layout,
      int start, double startC, int judged) {
    return predict(dag, layerMaps, layout, start, startC, judged, TARGET_SE);
  }

  /**
   * As {@link #predict(Dag, Map, Layout, int, double, int)}, stopping at the standard error
   * {@code targetSe} (at least {@link #TARGET_SE}; the check aims it at a third of the
   * measurement's own, which it then adds about 5 % to).
   */
  static Prediction predict(Dag dag, Map<Integer, LocalMaps> layerMaps, Layout layout,
      int start, double startC, int judged, double targetSe) {
    return predict(dag, layerMaps, layout, start, startC, judged, targetSe, Integer.MAX_VALUE);
  }

  /**
   * As {@link #predict(Dag, Map, Layout, int, double, int, double)}, with at most {@code
   * pairsCap} pairs (rounded up to a batch; fewer than {@link #MIN_PAIRS} for a quick look:
   * {@link KernelCheck#predictedOverflow}).
   */
  static Prediction predict(Dag dag, Map<Integer, LocalMaps> layerMaps, Layout layout,
      int start, double startC, int judged, double targetSe, int pairsCap) {
    double target = Math.max(TARGET_SE, targetSe);
    int n = dag.nodes().size();
    if (judged < start || judged >= n) {
      return null;
    }
    boolean[] sim = simulated(dag, layout, start, judged);
    if (sim == null) {
      return null;
    }
    if (Double.isNaN(startC)) {
      double[] nan = new double[n];
      Arrays.fill(nan, Double.NaN);
      return new Prediction(nan, nan.clone(), nan.clone(), Double.NaN, 0, nan.clone(),
          nan.clone(), sim);
    }
    Activation[] phi = new Activation[n];
    long unitsPerPair = 0;
    for (int i = start; i <= judged; i++) {
      if (!sim[i]) {
        continue;
      }
      Dag.Node node = dag.nodes().get(i);
      if (node.kind() == Dag.Kind.LAYER) {
        phi[i] = layerMaps.get(i).activation();
      }
      // an op that keeps the units costs nothing (its input's vectors and sums are reused)
      boolean keeps = i > start && node.kind() == Dag.Kind.AFFINE && layout.op()[i] == Op.PASS;
      unitsPerPair += keeps ? 1 : layout.width()[i];
    }
    int maxPairs = (int) Math.max(BATCH, Math.min(pairsCap,
        Math.min(1 << 20, UNIT_BUDGET / Math.max(1, unitsPerPair))));
    Sums total = new Sums(n);
    SplittableRandom root = new SplittableRandom(SEED ^ Double.doubleToLongBits(startC));
    int pairs = 0;
    int step = Math.max(1, Math.min(MIN_PAIRS, maxPairs) / BATCH);
    while (true) {
      List<SplittableRandom> rngs = new ArrayList<>();
      for (int b = 0; b < step; b++) {
        rngs.add(root.split());
      }
      List<Sums> parts = IntStream.range(0, step).parallel().mapToObj(b -> {
        Sums s = new Sums(n);
        for (int k = 0; k < BATCH; k++) {
          simulate(dag, layout, phi, sim, start, judged, startC, rngs.get(b), s);
        }
        return s;
      }).toList();
      for (Sums s : parts) {
        total.add(s);
      }
      pairs += step * BATCH;
      // the standard error falls as 1/sqrt(pairs): aim at the target, at most double
      double ratio = total.cStandardError(judged) / target;
      if (!(ratio > 1) || pairs >= maxPairs) {
        break;
      }
      double want = pairs * ratio * ratio * 1.1;
      int next = (int) Math.min(maxPairs, Math.min(2.0 * pairs, want));
      step = Math.max(1, (next - pairs + BATCH - 1) / BATCH);
    }
    double[] q = new double[n];
    double[] c = new double[n];
    double[] se = new double[n];
    double[] lq = new double[n];
    double[] lqSe = new double[n];
    for (int i = 0; i < n; i++) {
      q[i] = i < start ? Double.NaN : total.q[i] / total.count[i];
      c[i] = i < start ? Double.NaN : total.c[i] / total.count[i];
      se[i] = i < start ? Double.NaN : total.cStandardError(i);
      lq[i] = i < start ? Double.NaN : total.lq[i] / total.lqCount[i];
      lqSe[i] = i < start ? Double.NaN : total.logQStandardError(i);
    }
    return new Prediction(q, c, se, total.cStandardError(judged), pairs, lq, lqSe, sim);
  }

  /**
   * Which nodes from {@code start} to {@code judged} the simulation computes: those of known width
   * whose inputs it computes (the start's input excepted) and that are not a width change kept as
   * PASS after the start. Null when {@code judged} or a node it depends on is not among them. A
   * node the judged one does not depend on (another output head, a side branch) may be left out:
   * it cannot change the judged prediction (blazepose-detector's other heads flatten maps that a
   * depth-to-space made non-constant, width unknown, in the index range before its judged node;
   * the whole simulation used to be given up for them).
   */
  static boolean[] simulated(Dag dag, Layout layout, int start, int judged) {
    int n = dag.nodes().size();
    if (judged < start || judged >= n) {
      return null;
    }
    boolean[] sim = new boolean[n];
    for (int i = start; i <= judged; i++) {
      Dag.Node node = dag.nodes().get(i);
      boolean ok = layout.width()[i] > 0;
      if (i > start) {
        for (int j : node.inputs()) {
          ok &= j >= start && sim[j];
        }
        // a width change kept as PASS (the raw input's preprocessing) only where the pairs start
        ok &= !(node.kind() == Dag.Kind.AFFINE && layout.op()[i] == Op.PASS
            && layout.width()[i] != layout.width()[node.inputs()[0]]);
      }
      sim[i] = ok;
    }
    // judged and every node it depends on from the start
    boolean[] needed = new boolean[n];
    needed[judged] = true;
    for (int i = judged; i >= start; i--) {
      if (!needed[i]) {
        continue;
      }
      if (!sim[i]) {
        return null;
      }
      if (i > start) {
        for (int j : dag.nodes().get(i).inputs()) {
          if (j < start) {
            return null;
          }
          needed[j] = true;
        }
      }
    }
    return sim;
  }

  /** Running sums over the simulated pairs, per node (pairs with a c that is not finite skipped). */
  private static final class Sums {
    final double[] q;
    final double[] c;
    final double[] cc;
    final long[] count;
    final double[] lq;
    final double[] lqq;
    final long[] lqCount;

    Sums(int n) {
      q = new double[n];
      c = new double[n];
      cc = new double[n];
      count = new long[n];
      lq = new double[n];
      lqq = new double[n];
      lqCount = new long[n];
    }

    void add(Sums o) {
      for (int i = 0; i < q.length; i++) {
        q[i] += o.q[i];
        c[i] += o.c[i];
        cc[i] += o.cc[i];
        count[i] += o.count[i];
        lq[i] += o.lq[i];
        lqq[i] += o.lqq[i];
        lqCount[i] += o.lqCount[i];
      }
    }

    /** The standard error of the mean log q at {@code node} over the pairs. */
    double logQStandardError(int node) {
      return standardError(lq[node], lqq[node], lqCount[node]);
    }

    double cStandardError(int node) {
      return standardError(c[node], cc[node], count[node]);
    }

    /** The standard error of a mean from the sum and the sum of squares of m values. */
    private static double standardError(double sum, double squares, long m) {
      if (m < 2) {
        return Double.NaN;
      }
      double mean = sum / m;
      double var = Math.max(0, (squares - m * mean * mean) / (m - 1));
      return Math.sqrt(var / m);
    }
  }

  /**
   * One pair through fresh weights from node {@code start} to node {@code end} (the nodes of
   * {@code sim}), its q and c added to {@code s}.
   */
  private static void simulate(Dag dag, Layout layout, Activation[] phi, boolean[] sim,
      int start, int end, double startC, SplittableRandom rng, Sums s) {
    int n = dag.nodes().size();
    double[][] xs = new double[n][];
    double[][] ys = new double[n][];
    double[][] gram = new double[n][3];
    int[] lastUse = new int[n];
    for (int i = start; i <= end; i++) {
      lastUse[i] = i;
      if (!sim[i]) {
        continue;
      }
      for (int j : dag.nodes().get(i).inputs()) {
        lastUse[j] = Math.max(lastUse[j], i);
      }
    }
    for (int i = start; i <= end; i++) {
      if (!sim[i]) {
        continue;
      }
      Dag.Node node = dag.nodes().get(i);
      int w = layout.width()[i];
      double[] x;
      double[] y;
      if (i == start) {
        double[][] p = pair(w, Math.max(-1, Math.min(1, startC)), rng);
        x = p[0];
        y = p[1];
      } else {
        int in = node.inputs()[0];
        switch (node.kind()) {
          case LAYER -> {
            x = new double[w];
            y = new double[w];
            Activation f = phi[i];
            for (int k = 0; k < w; k++) {
              x[k] = f.value(xs[in][k]);
              y[k] = f.value(ys[in][k]);
            }
          }
          case AFFINE -> {
            switch (layout.op()[i]) {
              case MIX -> {
                double[][] p = mix(xs[in], ys[in], w, rng);
                x = p[0];
                y = p[1];
              }
              case SIGN -> {
                x = xs[in].clone();
                y = ys[in].clone();
                for (int k = 0; k < w; k++) {
                  if (rng.nextBoolean()) {
                    x[k] = -x[k];
                    y[k] = -y[k];
                  }
                }
              }
              case SLICE -> {
                x = Arrays.copyOf(xs[in], w);
                y = Arrays.copyOf(ys[in], w);
              }
              case TILE -> {
                x = new double[w];
                y = new double[w];
                int m = xs[in].length;
                double[] sg = layout.signs()[i];
                for (int k = 0; k < w; k += m) {
                  double f = sg == null || sg.length == 0 ? 1 : sg[(k / m) % sg.length];
                  for (int u = 0; u < m; u++) {
                    x[k + u] = f * xs[in][u];
                    y[k + u] = f * ys[in][u];
                  }
                }
              }
              default -> {
                x = xs[in];
                y = ys[in];
              }
            }
          }
          case AVERAGE -> {
            x = new double[w];
            y = new double[w];
            int from = 0;
            for (int j = 0; j < node.inputs().length; j++) {
              double[] ox = xs[node.inputs()[j]];
              double[] oy = ys[node.inputs()[j]];
              if (layout.concat()[i]) {
                System.arraycopy(ox, 0, x, from, ox.length);
                System.arraycopy(oy, 0, y, from, oy.length);
                from += ox.length;
              } else {
                double f = Math.sqrt(node.fractions()[j]);
                for (int k = 0; k < w; k++) {
                  x[k] += f * ox[k];
                  y[k] += f * oy[k];
                }
              }
            }
          }
          case PRODUCT -> {
            x = new double[w];
            y = new double[w];
            Arrays.fill(x, 1.0);
            Arrays.fill(y, 1.0);
            for (int j : node.inputs()) {
              double[] ox = xs[j];
              double[] oy = ys[j];
              boolean scalar = ox.length == 1;
              for (int k = 0; k < w; k++) {
                x[k] *= ox[scalar ? 0 : k];
                y[k] *= oy[scalar ? 0 : k];
              }
            }
          }
          default -> throw new IllegalStateException("input node after the start");
        }
      }
      xs[i] = x;
      ys[i] = y;
      double xx = 0;
      double yy = 0;
      double xy = 0;
      int from = i == start ? -1 : node.inputs()[0];
      if (from >= 0 && x == xs[from] && y == ys[from]) {
        // an op that keeps the units (a bias, a scaling the sums account for): the input's sums
        xx = gram[from][0];
        yy = gram[from][1];
        xy = gram[from][2];
      } else {
        for (int k = 0; k < x.length; k++) {
          xx += x[k] * x[k];
          yy += y[k] * y[k];
          xy += x[k] * y[k];
        }
      }
      gram[i][0] = xx;
      gram[i][1] = yy;
      gram[i][2] = xy;
      double c = xy / Math.sqrt(xx * yy);
      double pq = (xx + yy) / (2.0 * x.length);
      if (Double.isFinite(c)) {
        s.q[i] += pq;
        s.c[i] += c;
        s.cc[i] += c * c;
        s.count[i]++;
      }
      if (pq > 0 && Double.isFinite(pq)) {
        s.lq[i] += Math.log(pq);
        s.lqq[i] += Math.log(pq) * Math.log(pq);
        s.lqCount[i]++;
      }
      for (int j : node.inputs()) {
        if (j >= start && lastUse[j] == i) {
          xs[j] = null;
          ys[j] = null;
        }
      }
    }
  }

  /**
   * Two vectors of length w with mean square 1 each and normalized inner product exactly c (w =
   * 1: c is +-1 only; its sign).
   */
  private static double[][] pair(int w, double c, SplittableRandom rng) {
    if (w < 2) {
      return new double[][] {{1}, {c < 0 ? -1 : 1}};
    }
    double[][] ab = orthonormalPair(w, rng);
    double r = Math.sqrt(w);
    double s = Math.sqrt((1 - c) * (1 + c));
    double[] x = new double[w];
    double[] y = new double[w];
    for (int k = 0; k < w; k++) {
      x[k] = r * ab[0][k];
      y[k] = r * (c * ab[0][k] + s * ab[1][k]);
    }
    return new double[][] {x, y};
  }

  /**
   * The outputs of a scaled uniform orthogonal layer of {@code out} units for the pair (x, y):
   * see the class comment.
   */
  static double[][] mix(double[] x, double[] y, int out, SplittableRandom rng) {
    int in = x.length;
    double xx = 0;
    double xy = 0;
    double yy = 0;
    for (int k = 0; k < in; k++) {
      xx += x[k] * x[k];
      xy += x[k] * y[k];
      yy += y[k] * y[k];
    }
    double alpha = Math.sqrt(xx);
    double beta = alpha > 0 ? xy / alpha : 0;
    double gamma = Math.sqrt(Math.max(0, yy - beta * beta));
    if (alpha == 0) {
      // x = 0: y spans the line alone
      alpha = 0;
      beta = Math.sqrt(yy);
      gamma = 0;
    }
    int m = Math.max(in, out);
    double scale = out > in ? Math.sqrt((double) out / in) : 1;
    double[][] ab = orthonormalPair(Math.max(m, 2), rng);
    double[] u = new double[out];
    double[] v = new double[out];
    for (int k = 0; k < out; k++) {
      u[k] = scale * alpha * ab[0][k];
      v[k] = scale * (beta * ab[0][k] + gamma * ab[1][k]);
    }
    return new double[][] {u, v};
  }

  /** A uniformly random orthonormal pair in R^m (Gram-Schmidt of two Gaussian vectors). */
  private static double[][] orthonormalPair(int m, SplittableRandom rng) {
    double[] a = new double[m];
    double[] b = new double[m];
    double aa = 0;
    for (int k = 0; k < m; k++) {
      a[k] = rng.nextGaussian();
      b[k] = rng.nextGaussian();
      aa += a[k] * a[k];
    }
    double na = 1 / Math.sqrt(aa);
    double ab = 0;
    for (int k = 0; k < m; k++) {
      a[k] *= na;
      ab += a[k] * b[k];
    }
    double bb = 0;
    for (int k = 0; k < m; k++) {
      b[k] -= ab * a[k];
      bb += b[k] * b[k];
    }
    double nb = 1 / Math.sqrt(bb);
    for (int k = 0; k < m; k++) {
      b[k] *= nb;
    }
    return new double[][] {a, b};
  }
}
