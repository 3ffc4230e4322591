package dev.dks.rewriter.kernel;

import dev.dks.rewriter.analysis.ActivationSite;
import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.safety.OpGate;
import dev.dks.rewriter.safety.UnsafeOpsException;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.activation.LeakyRelu;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Dag;
import dev.dks.solver.solve.ShapingSolution;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.DataType;

/**
 * Checks a network's kernel at initialization: feeds pairs of inputs with q = 1 and chosen c
 * values, measures q and c at every layer's input and at the output through the TF runtime, and
 * compares them with the values the local C maps of the (shaped) activations predict along the
 * derived structure.
 *
 * <p>Inputs are the same feature vector at every spatial location, so that convolutions with
 * Delta-initialized kernels act per location like dense layers and pooling changes nothing: the
 * per-location kernel theory then applies exactly up to finite-width noise (about {@code (1 -
 * c^2)/sqrt(width)} per pair, averaged over the pairs). Every location then carries the same
 * values (the corner the check reads equals the global average pool: zero padding only meets the
 * zero taps of Delta kernels). The finite-width error is a property of the weights, common to all
 * pairs: the prediction is the kernel averaged over initializations, so the measurements are
 * averaged over several weight draws (see {@link Options#draws()}). The verdict looks at the
 * features the last layer reads (the network's output representation).
 *
 * <p>Predictions at the network's own widths: the measured q and c are averages over
 * initializations of a finite network, which differ from the infinite-width maps by a bias that
 * grows with the maps' curvature and 1/width (a DKS softplus MobileNetV2 with 8-channel
 * bottlenecks: q 4.6 measured where the maps say 1), so wherever the DAG's ops are known the
 * prediction is that average, simulated pair by pair in plain Java ({@link FiniteWidthPairs}); it
 * also holds where an activation reads a non-Gaussian input (ResNet v1's post-add activation
 * after an identity shortcut, activations joined by depthwise convolutions). Elsewhere those have
 * their own infinite-width predictions ({@link SampledUnits}, {@link DepthwiseChains}) and the
 * rest the local maps.
 *
 * <p>Every output: each model output is checked on its own path ({@link StructureAnalyzer} run
 * from the input to that output alone: its layers, merges and depth), all outputs measured in the
 * same forward passes; the verdict is over every checked output. An output that is not a float
 * tensor or does not depend on the fed input is reported as not checked ({@link OutputCheck}).
 *
 * <p>Memory: the statistics are reduced inside the graph ({@link PairStatistics}: three float64
 * sums per pair per measured tensor), the inputs are built in the graph from one feature row per
 * example ({@link PairFeed}), and the pairs go through in chunks sized by a memory budget ({@link
 * PairChunks}), so neither the Java heap nor TensorFlow's memory grows with depth x width x
 * locations x pairs. A graph whose batch is fixed (e.g. at 1) gets its examples one at a time,
 * with the same statistics ({@link PairStatistics}; {@link KernelReport#oneAtATime()} says so).
 * Time: when the first chunk shows that the activations are spatially
 * constant (Delta-initialized convolutions), the other chunks run on far fewer locations, down to
 * 1x1 ({@link PairSums}).
 *
 * <p>Untrusted models (issue 17): the check runs the model's graph, so a graph holding an op of
 * {@link dev.dks.rewriter.safety.OpPolicy} (file or stream I/O) is refused before anything runs
 * ({@link UnsafeOpsException}) unless the caller allows its op type.
 */
public final class KernelCheck {
  /**
   * Options.
   *
   * @param inputCs the input c values (default 0, 0.5, 0.9)
   * @param pairs input pairs per c value, averaged (default 128; split over the weight draws of
   *     the width rule, at least {@value #MIN_PAIRS_PER_DRAW} per draw; draws the sequential
   *     rule adds take {@value #SEQUENTIAL_PAIRS_PER_DRAW} each, or more when the first did)
   * @param seed seed of the random inputs (and of the weight draws)
   * @param cTolerance allowed output c error (default 0.03)
   * @param qTolerance allowed output q error (default 0.5: q fluctuates from layer to layer by
   *     about sqrt(2 depth / width) for ReLU-like activations at finite width, common to all
   *     inputs, so only gross scale errors are judged)
   * @param draws weight draws the measurements are averaged over: the model's own weights, then
   *     Haar-rotated copies ({@link WeightRotations}); 0 (the default) chooses them in two
   *     steps. First from the widths: about one draw per 0.02 of the sum of 1/width over the
   *     measured tensors, at most {@value #MAX_AUTO_DRAWS}, fewer when their rotations would
   *     cost more than {@link #ROTATION_FLOP_BUDGET} but then not fewer than {@value
   *     #MIN_BUDGET_DRAWS} (the prediction is an average over initializations; one narrow
   *     network deviates from it by O(1/sqrt(width)) whatever the number of input pairs). Then
   *     sequentially, when that gave 2 or more: while the standard error of the mean c at the
   *     judged tensor (sample standard deviation of the draws' mean c over sqrt(draws), the
   *     largest over the input c values and checked outputs; it holds both the weights' and the
   *     pairs' noise) exceeds {@link #SE_FRACTION} of the c tolerance, more draws (as many as
   *     1/sqrt(draws) predicts reach it, times {@link #SEQUENTIAL_MARGIN}), up to {@value
   *     #MAX_SEQUENTIAL_DRAWS} and as many as {@link #SEQUENTIAL_CPU_SECONDS} of estimated CPU
   *     pay for ({@link #drawSeconds}); a network whose draws are expensive (a ResNet-50 at
   *     224x224) keeps the first step's count. With automatic draws, those of the first step
   *     take the sequential rule's pairs where pairs are cheap ({@link #widthRulePairs}). Where
   *     q is judged by its mean log q (a finite-width prediction and
   *     several draws, {@link #logQAllowed}), it also adds draws while the standard error of
   *     the judged mean log q exceeds {@link #SE_FRACTION} of log(1 + qTolerance), where the
   *     allowed log q error would otherwise widen past that. The draws it adds measure
   *     {@link #addedPairsPerDraw} pairs each, 8 to {@value #SEQUENTIAL_PAIRS_PER_DRAW} (a
   *     narrow net's draw mean varies with its pairs as well as with its weights; few pairs
   *     where a pair's forward pass is dear next to a draw's rotations). The report says what was
   *     measured ({@link KernelSampling}) and when the cost cap left an allowance wider than its
   *     tolerance ({@link KernelReport#widenedAllowances})
   * @param declaredSites activation sites the model declares (node name to kind, from its shaping
   *     record), for ops that are activations only where declared (Sin, Cos: {@link
   *     dev.dks.rewriter.analysis.ActivationMatcher#find(GraphView, Map)}); empty for none
   */
  public record Options(double[] inputCs, int pairs, long seed, double cTolerance,
      double qTolerance, int draws, Map<String, String> declaredSites) {
    /** Copies the declared sites (null: none). */
    public Options {
      declaredSites = declaredSites == null ? Map.of() : Map.copyOf(declaredSites);
    }

    /** Options without declared sites. */
    public Options(double[] inputCs, int pairs, long seed, double cTolerance, double qTolerance,
        int draws) {
      this(inputCs, pairs, seed, cTolerance, qTolerance, draws, Map.of());
    }

    /** Options with the weight draws chosen from the widths. */
    public Options(double[] inputCs, int pairs, long seed, double cTolerance, double qTolerance) {
      this(inputCs, pairs, seed, cTolerance, qTolerance, 0);
    }

    /** These options with the activation sites the model declares. */
    public Options withDeclaredSites(Map<String, String> sites) {
      return new Options(inputCs, pairs, seed, cTolerance, qTolerance, draws, sites);
    }

    /** The defaults. */
    public static Options defaults() {
      return new Options(new double[] {0.0, 0.5, 0.9}, 128, 1234, 0.03, 0.5, 0);
    }

    /** These options with {@code draws} weight draws (0: chosen from the widths). */
    public Options withDraws(int draws) {
      return new Options(inputCs, pairs, seed, cTolerance, qTolerance, draws, declaredSites);
    }
  }

  /** Most weight draws the automatic choice takes. */
  public static final int MAX_AUTO_DRAWS = 24;
  /**
   * Floating-point operations of the Java rotations ({@link WeightRotations#drawFlops}) per
   * second of CPU: measured 4.5-5.8 GFLOP/s of process CPU (2026-12-08, this 2-core machine at
   * load 13-19) rotating the 1176 x 200 dense kernel of ML.NET's MNIST conv net (0.52 GFLOP by
   * the model, 90 ms) and the kernels of the Teachable Machine MobileNetV2 (0.50 GFLOP, 90-130
   * ms); about 6 GFLOP/s on 2026-12-07 for a ResNet-50's.
   */
  static final double ROTATION_FLOPS_PER_SECOND = 5e9;
  /**
   * Floating-point operations of the pairs' forward pass ({@link #pairCost}) per second of CPU,
   * TensorFlow's: measured about 10 GFLOP/s (2026-12-08, same load) for the MNIST conv net's
   * draws of 64 pairs (0.21 GFLOP, 20-30 ms of process CPU with the session overhead); these
   * batches are small, far from a large MatMul's rate.
   */
  static final double FORWARD_FLOPS_PER_SECOND = 10e9;
  /**
   * CPU seconds of a draw beyond its arithmetic: the session runs (the chunks, the statistics
   * fetch) and loading its rotated variables. Measured 10-15 ms per draw (2026-12-08): a draw of
   * the MNIST conv net took 20 ms of process CPU at 32 pairs and 20-30 ms at 64.
   */
  static final double DRAW_OVERHEAD_SECONDS = 0.01;
  /**
   * CPU seconds of rotations ({@link #ROTATION_FLOPS_PER_SECOND}) the width rule may spend on the
   * draws after the first: 60 s, the 300 GFLOP of before (2026-12-07). What an ImageNet-size
   * draw costs is its rotations: measuring it in the shared session takes 0.1-0.4 s even for a
   * ResNet-50, whose kernels take about 11 s of CPU to rotate (estimated 67 GFLOP: the model is
   * pessimistic); the layers rotate in parallel, so this is about 25-30 s on 2 idle cores.
   * Replaces the cap of 50M parameter-draws, which gave a ResNet-50 two draws: too few to tell
   * its q spread from a scale error.
   */
  static final double ROTATION_CPU_SECONDS = 60;
  /** {@link #ROTATION_CPU_SECONDS} in rotation FLOP: 300 GFLOP. */
  static final double ROTATION_FLOP_BUDGET = ROTATION_CPU_SECONDS * ROTATION_FLOPS_PER_SECOND;
  /**
   * Fewest draws the rotation budget leaves (when the width rule asks for more): the q verdict
   * needs the draws' spread ({@link #qAllowed}). At a ResNet-50's spread (sd of log q about 0.45
   * over 12 draws at the global pool) the mean of 6 draws has a standard error of about 0.19,
   * so a correctly shaped model passes the 0.5 tolerance and a mis-scaled one still fails.
   */
  static final int MIN_BUDGET_DRAWS = 6;
  /** Sum of 1/width over the measured tensors per automatic weight draw. */
  static final double WIDTH_SUM_PER_DRAW = 0.02;
  /**
   * The sequential rule's target: the standard error of the judged c ({@link
   * KernelSampling#cStandardError}) at most this fraction of the c tolerance. At a quarter a
   * correctly shaped network fails on noise in fewer than 1 of 10,000 rows (|z| > 4), while a
   * c off by the tolerance is still measured off by it, give or take a quarter of it.
   */
  static final double SE_FRACTION = 0.25;
  /**
   * Most weight draws the sequential rule reaches (narrow, cheap networks; a draw of a width-16
   * MLP costs about 10 ms of CPU). At 96 the width-16 MLP and plain CNN rows of the verify sweep
   * (benchmarks/run-verify-sweep.sh) stopped at a standard error of 0.009-0.011, above the
   * target, at under 2.5 s of CPU for the whole check; the cost cap governs the others.
   */
  static final int MAX_SEQUENTIAL_DRAWS = 256;
  /**
   * Estimated CPU seconds ({@link #drawSeconds}) the sequential rule may spend on its draws,
   * counted from the second: 15 s. It was 20 GFLOP (about 3.5 s at these rates), which stopped
   * ML.NET's MNIST conv net (TAT rewrite: convolutions 6-24 wide, a 1176 x 200 dense) at 30
   * draws and a weak pass, where its standard error of c (a draw's sd about 0.07) needs about
   * 90: 0.13 s a draw by the model (0.11 s measured), so 15 s pays for 112. Networks whose draws
   * cost a second or more (a ResNet-50 at 224x224: 13 s of rotations a draw) keep the width
   * rule's count; the Teachable Machine MobileNetV2 (about 0.16 s a draw of 48 pairs) may reach
   * 93 draws (its {@code draw_cap}, 2026-12-08) where the 20 GFLOP allowed its width rule's 24.
   */
  static final double SEQUENTIAL_CPU_SECONDS = 15;
  /**
   * Input pairs per input c in each draw the sequential rule adds (at least the width rule's
   * count). A draw's mean c varies with the weights and with the pairs: for the width-16 DKS
   * tanh ResNet-18 with shortcut weight 0.8, 8 pairs a draw gave a spread (sd over draws) of
   * 0.10 at the global pool, of which the weights' part is about 0.05 (sd over init seeds with
   * many pairs), so a pair's own c varies by about 0.26. Minimizing the cost of a given standard
   * error, the pairs per draw should be sqrt(cost of a draw's fixed part / cost of a pair) x
   * (pair sd / weight sd), about sqrt(18) x 5 = 21 there. The cap is 64 (was 32): where a
   * pair's log q is heavy-tailed (ML.NET's MNIST conv net, fed 2 features per location, TReLU
   * slope near 0: now and then an example's every unit is negative at some layer and its q drops
   * by the slope squared, log q by 35 or more), the pairs' noise dominates the judged log q's
   * standard error, and there a pair costs 0.3 ms against a draw's 0.11 s of rotations.
   */
  static final int SEQUENTIAL_PAIRS_PER_DRAW = 64;
  /**
   * The ratio of a pair's c spread to a draw's (the weights') that {@link #addedPairsPerDraw}
   * assumes: about 5 for the width-16 DKS tanh ResNet-18 (0.26 against 0.05, {@link
   * #SEQUENTIAL_PAIRS_PER_DRAW}).
   */
  static final double PAIR_TO_WEIGHT_SPREAD = 5;
  /**
   * Standard errors of the c difference the allowed c error covers when the sequential rule could
   * not reach its target ({@link #cAllowed}): 1 / {@link #SE_FRACTION}, so the tolerance widens
   * exactly where the target was missed.
   */
  static final double C_SE_FACTOR = 1 / SE_FRACTION;
  /** Factor on the draws the sequential rule predicts, for the error of the estimate. */
  static final double SEQUENTIAL_MARGIN = 1.2;
  /** Pairs the quick q prediction of {@link #predictedOverflow} simulates. */
  static final int OVERFLOW_PAIRS = 512;
  /** Fewest input pairs per c value in one weight draw. */
  static final int MIN_PAIRS_PER_DRAW = 8;

  private KernelCheck() {}

  /**
   * Runs the check on {@code model} (weights as initialized). {@code solution} gives the shaped
   * activations by id; activation kinds it lacks are taken raw (q is then not predicted). The
   * measured q and c are averaged over {@link Options#draws()} weight draws (the model's own
   * weights and Haar-rotated copies, {@link WeightRotations}), each with its share of the pairs.
   *
   * @throws UnsafeOpsException when the graph holds an op with effects outside the tensors
   */
  public static KernelReport run(Model model, ShapingSolution solution, Options o) {
    return run(model, solution, o, PairChunks.DEFAULT_BUDGET_BYTES);
  }

  /**
   * As {@link #run(Model, ShapingSolution, Options)}, accepting the ops of {@link
   * dev.dks.rewriter.safety.OpPolicy} in {@code allowedOps} (op types, for a model the caller
   * trusts; the other entry points allow none).
   *
   * @throws UnsafeOpsException when the graph holds another op with effects outside the tensors
   */
  public static KernelReport run(Model model, ShapingSolution solution, Options o,
      Set<String> allowedOps) {
    return run(model, solution, o, PairChunks.DEFAULT_BUDGET_BYTES, allowedOps);
  }

  /**
   * As {@link #run(Model, ShapingSolution, Options)}, with the memory budget of one chunk of
   * pairs in bytes (the formula is in {@link PairChunks}; the default is 256 MiB). Smaller budgets
   * run more, smaller chunks and measure the same numbers.
   */
  public static KernelReport run(Model model, ShapingSolution solution, Options o,
      long memoryBudgetBytes) {
    return run(model, solution, o, memoryBudgetBytes, Set.of());
  }

  /**
   * As {@link #run(Model, ShapingSolution, Options, long)}, accepting the policy ops in {@code
   * allowedOps}.
   *
   * @throws UnsafeOpsException when the graph holds another op with effects outside the tensors
   */
  public static KernelReport run(Model model, ShapingSolution solution, Options o,
      long memoryBudgetBytes, Set<String> allowedOps) {
    return run(model, solution, o, memoryBudgetBytes, allowedOps, PairStatistics.Feeding.AUTO);
  }

  /**
   * As {@link #run(Model, ShapingSolution, Options, long, Set)}, feeding the examples as {@code
   * feeding} says (AUTO: one batch per chunk unless the graph's batch is fixed; the others force
   * a path, for tests comparing them).
   */
  static KernelReport run(Model model, ShapingSolution solution, Options o,
      long memoryBudgetBytes, Set<String> allowedOps, PairStatistics.Feeding feeding) {
    OpGate.requireGraphSafe(model.graph(), allowedOps, "the model given to the kernel check");
    // the first float tensor: the input, or the Cast of an integer image input (KernelEntry)
    KernelEntry entry = KernelEntry.of(model);
    // a feature computed from a string input: the network from that tensor, fed as a placeholder
    model = ComputedFeatureEntry.cut(model, entry);
    GraphView g = GraphView.of(model.graph());
    List<String> inputs = List.of(entry.node());
    List<String> outputs = model.outputNodes();
    // one plan per checkable output, each with the structure from the input to it alone
    Map<String, Plan> plans = new LinkedHashMap<>();
    Map<String, String> notChecked = new LinkedHashMap<>();
    RuntimeException firstError = null;
    NetworkAnalysis all;
    // the graph is imported once for its ops and inferred shapes: the analyses, the plans, the
    // draw count and the draws' cost read them from here (a ResNet-50 at 224x224 was imported
    // four times before the measuring session's own import)
    Map<String, long[]> shapes;
    try (Graph tg = new Graph()) {
      RuntimeException importError = null;
      try {
        GraphImport.into(tg, model.graph());
      } catch (RuntimeException e) {
        importError = e;
      }
      shapes = importError == null ? StructureAnalyzer.shapes(tg, g) : new HashMap<>();
      // the analysis's refusal first, as before: it names the construct
      all = StructureAnalyzer.analyze(g, inputs, outputs, shapes, o.declaredSites());
      if (importError != null) {
        throw importError;
      }
      String feedNode = null;
      for (String out : outputs) {
        String why = notFloat(tg, out);
        if (why != null) {
          notChecked.put(out, why);
          continue;
        }
        NetworkAnalysis a;
        try {
          a = outputs.size() == 1 ? all
              : StructureAnalyzer.analyze(g, inputs, List.of(out), shapes, o.declaredSites());
        } catch (IllegalArgumentException e) {
          notChecked.put(out, "the structure analysis refused it: " + e.getMessage());
          firstError = firstError == null ? e : firstError;
          continue;
        }
        String target = measuredEnd(a, out, tg);
        if (target == null) {
          notChecked.put(out, "it does not depend on the input '" + inputs.get(0) + "'");
          continue;
        }
        Plan p = plan(entry, g, tg, shapes, a, solution, target);
        if (p.judged() < 0) {
          notChecked.put(out, "the per-location maps predict nothing past the fed input on its "
              + "path: " + p.judgedNote());
          continue;
        }
        if (feedNode != null && !p.feedNode().equals(feedNode)) {
          notChecked.put(out, "its first layer reads '" + p.feedNode() + "', but the pairs are "
              + "fed at '" + feedNode + "' (the first layer input of the first checked output)");
          continue;
        }
        feedNode = p.feedNode();
        plans.put(out, p);
      }
    }
    if (plans.isEmpty()) {
      if (firstError != null) {
        throw firstError;
      }
      throw new IllegalArgumentException("no output of the model can be kernel-checked: "
          + notChecked);
    }
    // the union of the measured tensors, in order of first appearance
    List<String> measured = new ArrayList<>();
    List<LayerSite> layers = new ArrayList<>(all.layers());
    for (Plan p : plans.values()) {
      p.measured().stream().filter(n -> !measured.contains(n)).forEach(measured::add);
      p.analysis().layers().stream().filter(l -> !layers.contains(l)).forEach(layers::add);
    }
    Plan first = plans.values().iterator().next();
    UnfedInputException.check(g, first.feedNode(), measured);
    // the prediction assumes zero biases (dks-init's): say which are not, before measuring
    List<InitialBiases.NonZero> biases = InitialBiases.nonZero(model, g, layers);
    List<WeightRotations.Kernel> kernels = WeightRotations.kernels(model, layers, g);
    boolean auto = o.draws() <= 0;
    int draws = auto ? autoDraws(shapes, plans.values(), kernels) : o.draws();
    int split = draws == 1 ? o.pairs()
        : Math.max(MIN_PAIRS_PER_DRAW, (o.pairs() + draws - 1) / draws);
    // the judged tensor of every checked output, by index in the measured union
    List<Integer> judged = plans.values().stream()
        .map(p -> measured.indexOf(p.measured().get(p.judged()))).distinct().toList();
    String rule = auto ? "widths" : "given";
    // one graph and session for all draws: a draw loads its rotated kernels into the variables
    List<PairSums> sums = new ArrayList<>();
    KernelSampling sampling;
    String oneAtATime;
    int perDraw;
    try (PairStatistics st = new PairStatistics(model, first.feedNode(), first.feedShape(),
        measured, allowedOps, feeding)) {
      // the sequential rule's draws (and, with automatic draws, the width rule's too): not when
      // the examples go one at a time, where each added draw would cost hundreds of
      // single-example runs, which the cost model does not price
      boolean sequential = auto && draws >= 2 && st.oneAtATimeReason() == null;
      perDraw = sequential ? widthRulePairs(kernels, shapes, first.feedShape(),
          o.inputCs().length, split) : split;
      measureDraws(st, model, layers, g, o, perDraw, memoryBudgetBytes, sums, draws);
      // the sequential rule: more draws while the judged c, or the judged log q where q is
      // judged by it, is not determined to a fraction of its tolerance, as far as the cost cap
      // allows
      long[] locations = kernelLocations(shapes, kernels, first.feedShape(),
          sums.get(0).spatialUsed());
      int addedPerDraw = addedPairsPerDraw(kernels, locations, o.inputCs().length, perDraw);
      int cap = sequential
          ? sequentialCap(draws,
              drawSeconds(kernels, locations, addedPerDraw, o.inputCs().length))
          : draws;
      double cTarget = SE_FRACTION * o.cTolerance();
      boolean logQJudged = plans.values().stream()
          .anyMatch(p -> p.allShaped() && p.finite() != null);
      double qTarget = logQJudged ? SE_FRACTION * Math.log1p(o.qTolerance()) : Double.NaN;
      int cs = o.inputCs().length;
      while (sums.size() < cap) {
        double ratio = precisionRatio(cStandardError(sums, judged, cs), cTarget,
            logQJudged ? logQStandardError(sums, judged, cs) : Double.NaN, qTarget);
        if (!(ratio > 1)) {
          break;
        }
        int want = sequentialDraws(sums.size(), ratio, 1, cap);
        measureDraws(st, model, layers, g, o, addedPerDraw, memoryBudgetBytes, sums, want);
        rule = "precision";
      }
      double cSe = cStandardError(sums, judged, cs);
      double logQSe = logQJudged ? logQStandardError(sums, judged, cs) : Double.NaN;
      if (rule.equals("precision") && precisionRatio(cSe, cTarget, logQSe, qTarget) > 1) {
        rule = "cost cap";
      }
      sampling = new KernelSampling(sums.size(), perDraw, sums.size() - draws,
          sums.size() > draws ? addedPerDraw : 0, cSe, rule, logQSe, cap);
      oneAtATime = st.oneAtATimeReason();
    }
    if (outputs.size() == 1) {
      return report(first, measured, sums, o).withSampling(sampling)
          .withOneAtATime(oneAtATime).withNonZeroBiases(biases);
    }
    List<OutputCheck> checks = new ArrayList<>();
    KernelReport firstReport = null;
    boolean pass = true;
    for (String out : outputs) {
      Plan p = plans.get(out);
      if (p == null) {
        checks.add(new OutputCheck(out, null, notChecked.get(out)));
        continue;
      }
      KernelReport r = report(p, measured, sums, o).withSampling(sampling);
      firstReport = firstReport == null ? r : firstReport;
      pass &= r.passed();
      checks.add(new OutputCheck(out, r, null));
    }
    return new KernelReport(firstReport.rows(), o.cTolerance(), o.qTolerance(),
        firstReport.width(), firstReport.judgedTensor(), pass, checks, oneAtATime, sampling,
        firstReport.judgedNote(), biases);
  }

  /**
   * The kernel check's q prediction alone, nothing run through TensorFlow: the first of the
   * tensors the check would measure whose predicted q (at input c 0, the pairs starting at c 0
   * where the first layer reads) overflows float32 ({@link QOverflow}), or null. Only networks
   * that multiply streams ({@code Dag.Kind#PRODUCT}) are simulated: without products every
   * network Q'(1) is at most the local ones (1 or less), so q's fluctuations do not compound and
   * null is returned at once. The simulation runs {@value #OVERFLOW_PAIRS} pairs (the check's
   * prediction: 4096 or more per input c), a quick look: the overflows it is for are by many
   * orders of magnitude (meet at local Q'(1) = 1: 5e46 at its fifth gate). For {@code dks
   * rewrite}, which refuses to write such a model. A model the check cannot feed or map (its
   * {@link KernelEntry} or analysis refuses it) gets null: no prediction, nothing to refuse.
   *
   * @param declared activation sites the model declares (node to kind), as {@link
   *     Options#declaredSites()}
   */
  public static QOverflow predictedOverflow(Model model, ShapingSolution solution,
      Map<String, String> declared) {
    GraphView g = GraphView.of(model.graph());
    List<String> outputs = model.outputNodes();
    NetworkAnalysis a;
    try {
      KernelEntry entry = KernelEntry.of(model);
      a = StructureAnalyzer.analyze(g, List.of(entry.node()), outputs, null, declared);
    } catch (IllegalArgumentException noCheck) {
      // the check could not feed or map this model (an integer input with a second reader, a
      // bool input, a string no layer reads): it predicts no q, so there is nothing to refuse;
      // rewrite writes the model as it did before the overflow guard, and verify says why
      return null;
    }
    if (!a.dag().hasProducts()) {
      return null;
    }
    try (Graph tg = new Graph()) {
      GraphImport.into(tg, model.graph());
      for (String out : outputs) {
        String target = notFloat(tg, out) == null ? measuredEnd(a, out, tg) : null;
        if (target == null) {
          continue;
        }
        // the plan's parts the simulation needs (not the depthwise chains' maps: nested
        // quadratures, and the simulation carries the chains' units itself)
        Map<Integer, LocalMaps> layerMaps = shapedMaps(a, solution);
        FiniteWidthPairs.Layout layout = FiniteWidthPairs.layout(tg, g, a);
        List<String> measured = measuredNodes(g, a, target);
        Map<Integer, Unpredictable.Source> tainted = Unpredictable.sources(g, a);
        int judgedAt = Unpredictable.judgedIndex(measured, a.dagIndex(), tainted);
        if (layerMaps == null || judgedAt < 0) {
          continue;
        }
        int[] depth = depths(a.dag());
        int start = a.dagIndex().get(measured.get(0));
        int judged = a.dagIndex().get(measured.get(judgedAt));
        FiniteWidthPairs.Prediction f = FiniteWidthPairs.predict(a.dag(), layerMaps, layout,
            start, 0.0, judged, Double.POSITIVE_INFINITY, OVERFLOW_PAIRS);
        if (f == null) {
          continue;
        }
        double[] q = f.q();
        for (String node : measured) {
          int i = a.dagIndex().get(node);
          if (i <= judged && !tainted.containsKey(i) && QOverflow.overflows(q[i])) {
            return new QOverflow(node, depth[i], 0.0, q[i]);
          }
        }
      }
    }
    return null;
  }

  /** The shaped maps per LAYER node, or null when the solution lacks a site's kind. */
  private static Map<Integer, LocalMaps> shapedMaps(NetworkAnalysis a, ShapingSolution solution) {
    Map<String, LocalMaps> byKind = new HashMap<>();
    Map<Integer, LocalMaps> out = new HashMap<>();
    for (Map.Entry<Integer, ActivationSite> e : a.layerActivations().entrySet()) {
      String kind = e.getValue().kind();
      if (!solution.activations().containsKey(kind)) {
        return null;
      }
      out.put(e.getKey(), byKind.computeIfAbsent(kind,
          k -> LocalMaps.of(solution.get(k).transformed())));
    }
    return out;
  }

  /**
   * Measures weight draws {@code sums.size()} to {@code until - 1} (draw 0: the model's own
   * weights; draw d: rotations seeded {@code seed + d}, inputs seeded {@code seed + d}) and adds
   * their sums to {@code sums}. Later draws run at the location count the first one validated
   * (rotations keep zero taps).
   */
  private static void measureDraws(PairStatistics st, Model model, List<LayerSite> layers,
      GraphView g, Options o, int perDraw, long memoryBudgetBytes, List<PairSums> sums,
      int until) {
    long[] spatial = sums.isEmpty() ? null : sums.get(0).spatialUsed();
    for (int d = sums.size(); d < until; d++) {
      if (d > 0) {
        st.assign(WeightRotations.rotatedVariables(model, layers, g, o.seed() + d));
      }
      PairSums s = PairSums.measure(st, new Options(o.inputCs(), perDraw, o.seed() + d,
          o.cTolerance(), o.qTolerance(), 1), memoryBudgetBytes, spatial);
      spatial = s.spatialUsed();
      sums.add(s);
    }
  }

  /**
   * The largest standard error of the mean c over the draws at the {@code judged} tensors, over
   * the {@code cs} input c values: sample standard deviation of the draws' mean c over
   * sqrt(draws). NaN for fewer than 2 draws; rows whose c is not finite are skipped.
   */
  static double cStandardError(List<PairSums> sums, List<Integer> judged, int cs) {
    if (sums.size() < 2) {
      return Double.NaN;
    }
    double worst = 0;
    for (int node : judged) {
      for (int ci = 0; ci < cs; ci++) {
        double[] c = new double[sums.size()];
        for (int d = 0; d < c.length; d++) {
          c[d] = sums.get(d).meanC(node, ci);
        }
        double se = standardError(c);
        worst = Double.isFinite(se) ? Math.max(worst, se) : worst;
      }
    }
    return worst;
  }

  /**
   * As {@link #cStandardError} for the draws' mean log q: the largest standard error of the mean
   * log q at the {@code judged} tensors over the input c values. NaN for fewer than 2 draws;
   * rows whose log q is not finite in some draw (a pair with q 0) are skipped, as the verdict
   * then judges their mean q ({@link #logQAllowed}).
   */
  static double logQStandardError(List<PairSums> sums, List<Integer> judged, int cs) {
    if (sums.size() < 2) {
      return Double.NaN;
    }
    double worst = 0;
    for (int node : judged) {
      for (int ci = 0; ci < cs; ci++) {
        double[] l = new double[sums.size()];
        for (int d = 0; d < l.length; d++) {
          l[d] = sums.get(d).meanLogQ(node, ci);
        }
        double se = standardError(l);
        worst = Double.isFinite(se) ? Math.max(worst, se) : worst;
      }
    }
    return worst;
  }

  /**
   * How far the draws are from the sequential rule's targets: the larger of {@code cSe /
   * cTarget} and {@code logQSe / logQTarget} (a ratio that is not a number is left out: no
   * standard error, or q not judged by log q); at most 1 when both are reached, NaN when neither
   * ratio is a number. The standard errors fall as 1/sqrt(draws), so the draws reach both
   * targets at about {@code draws ratio^2} ({@link #sequentialDraws}).
   */
  static double precisionRatio(double cSe, double cTarget, double logQSe, double logQTarget) {
    double c = cSe / cTarget;
    double q = logQSe / logQTarget;
    if (Double.isNaN(c)) {
      return q;
    }
    return Double.isNaN(q) ? c : Math.max(c, q);
  }

  /**
   * The standard error of the mean of {@code x}: the sample standard deviation (n - 1 in the
   * denominator) over sqrt(n); NaN for fewer than 2 values or a value that is not finite.
   */
  static double standardError(double[] x) {
    int n = x.length;
    if (n < 2) {
      return Double.NaN;
    }
    double mean = 0;
    for (double v : x) {
      if (!Double.isFinite(v)) {
        return Double.NaN;
      }
      mean += v / n;
    }
    double var = 0;
    for (double v : x) {
      var += (v - mean) * (v - mean) / (n - 1);
    }
    return Math.sqrt(var / n);
  }

  /**
   * The draw count the sequential rule asks for next: the standard error falls as
   * 1/sqrt(draws), so {@code draws (se / target)^2} reach the target, times {@link
   * #SEQUENTIAL_MARGIN} for the error of the estimate; at least one more than {@code draws}, at
   * most twice {@code draws} (the added draws measure more pairs each, so their spread is
   * smaller: the estimate is made again after each step) and at most {@code cap}.
   */
  static int sequentialDraws(int draws, double se, double target, int cap) {
    double want = Math.ceil(draws * (se / target) * (se / target) * SEQUENTIAL_MARGIN);
    return (int) Math.min(Math.min(cap, 2L * draws), Math.max(draws + 1, want));
  }

  /**
   * The most draws the sequential rule may reach: {@link #MAX_SEQUENTIAL_DRAWS}, fewer when the
   * draws after the first would cost more than {@link #SEQUENTIAL_CPU_SECONDS} ({@link
   * #drawSeconds}), never fewer than {@code draws} (what the width rule chose).
   */
  static int sequentialCap(int draws, List<WeightRotations.Kernel> kernels, int perDraw,
      int cs, long locations) {
    return sequentialCap(draws, drawSeconds(kernels, perDraw, cs, locations));
  }

  /** As above for draws that cost {@code seconds} of CPU each. */
  static int sequentialCap(int draws, double seconds) {
    int affordable = seconds > 0
        ? (int) Math.min(MAX_SEQUENTIAL_DRAWS, 1 + Math.floor(SEQUENTIAL_CPU_SECONDS / seconds))
        : MAX_SEQUENTIAL_DRAWS;
    return Math.max(draws, affordable);
  }

  /**
   * What one more weight draw costs, in estimated seconds of CPU: its rotations ({@link
   * WeightRotations#drawFlops} at {@link #ROTATION_FLOPS_PER_SECOND}), the forward pass of its
   * pairs (2 inputs x {@code cs} input c values x {@code perDraw} pairs, 2 operations per live
   * kernel weight per location, at the {@code locations} the draws run at, at {@link
   * #FORWARD_FLOPS_PER_SECOND}), and {@link #DRAW_OVERHEAD_SECONDS} for the session runs and
   * the variable loads.
   */
  static double drawSeconds(List<WeightRotations.Kernel> kernels, int perDraw, int cs,
      long locations) {
    long[] at = new long[kernels.size()];
    Arrays.fill(at, locations);
    return drawSeconds(kernels, at, perDraw, cs);
  }

  /**
   * As {@link #drawSeconds(List, int, int, long)} with each kernel at its own location count
   * ({@code locations[i]} for {@code kernels.get(i)}, {@link #kernelLocations}): a dense head
   * after a pooled or flattened body runs at 1 location, not at the fed input's.
   */
  static double drawSeconds(List<WeightRotations.Kernel> kernels, long[] locations, int perDraw,
      int cs) {
    return fixedDrawSeconds(kernels) + perDraw * pairSeconds(kernels, locations, cs);
  }

  /** The part of a draw's CPU seconds that does not grow with its pairs: rotations, overhead. */
  static double fixedDrawSeconds(List<WeightRotations.Kernel> kernels) {
    return WeightRotations.drawFlops(kernels) / ROTATION_FLOPS_PER_SECOND
        + DRAW_OVERHEAD_SECONDS;
  }

  /** The CPU seconds of one pair per input c value's forward pass ({@link #pairCost}). */
  static double pairSeconds(List<WeightRotations.Kernel> kernels, long[] locations, int cs) {
    return pairCost(kernels, locations, cs) / FORWARD_FLOPS_PER_SECOND;
  }

  /**
   * The forward pass of one pair per input c value: 2 inputs x {@code cs} input c values, 2
   * operations per live kernel weight per location of that kernel's output.
   */
  static double pairCost(List<WeightRotations.Kernel> kernels, long[] locations, int cs) {
    double f = 0;
    for (int i = 0; i < kernels.size(); i++) {
      WeightRotations.Kernel k = kernels.get(i);
      f += (double) Math.max(1, k.liveTaps()) * k.in() * k.out() * k.channels()
          * Math.max(1, locations[i]);
    }
    return 2.0 * f * 2 * cs;
  }

  /**
   * Input pairs per input c in each draw of the width rule when the draws are automatic: the
   * {@code split} of the pairs option over the draws, or, when more, what {@link
   * #addedPairsPerDraw} gives the sequential rule's draws with every kernel priced at the fed
   * input's full locations ({@link #kernelLocations} before any spatial reduction: pairs are not
   * made to look cheaper than they may be). Why: the draws' standard errors treat every draw
   * alike, and a draw of 8 pairs weighs as much as one of 64; where a pair's log q is
   * heavy-tailed (ML.NET's MNIST conv net: now and then a pair's q falls by the TReLU slope
   * squared, log q by 35 or more), the 18 draws of 8 pairs of its width rule held most of the
   * judged log q's variance (a draw's mean log q at input c 0.9 of -7.9 and -8.8, the others
   * near -0.5), and 94 added draws of 64 pairs left its standard error at 0.14, above the 0.10
   * of the target. A network whose pairs are dear at its full input size (an ImageNet-size
   * graph) keeps the split.
   */
  static int widthRulePairs(List<WeightRotations.Kernel> kernels, Map<String, long[]> shapes,
      long[] feedShape, int cs, int split) {
    long[] full = Arrays.copyOfRange(feedShape, 1, Math.max(1, feedShape.length - 1));
    long[] locations = kernelLocations(shapes, kernels, feedShape, full);
    return Math.max(split, addedPairsPerDraw(kernels, locations, cs, split));
  }

  /**
   * Input pairs per input c in each draw the sequential rule adds: the count that minimizes the
   * cost of a given standard error, {@code sqrt(fixed part of a draw / cost of a pair)} x {@link
   * #PAIR_TO_WEIGHT_SPREAD} (see {@link #SEQUENTIAL_PAIRS_PER_DRAW}), rounded up to a multiple
   * of {@value #MIN_PAIRS_PER_DRAW}, between the width rule's {@code perDraw} (at least {@value
   * #MIN_PAIRS_PER_DRAW}) and {@value #SEQUENTIAL_PAIRS_PER_DRAW}. Where a pair's forward pass
   * is dear next to a draw's rotations (a small-width network on a large input, such as the
   * 64x64 age model's convolutions before its dense head of 3-6 units), the draws take few pairs
   * each and more draws fit the budget: the weights' spread is what more draws average out.
   */
  static int addedPairsPerDraw(List<WeightRotations.Kernel> kernels, long[] locations, int cs,
      int perDraw) {
    int least = Math.max(MIN_PAIRS_PER_DRAW, perDraw);
    double pair = pairSeconds(kernels, locations, cs);
    if (!(pair > 0)) {
      return Math.max(least, SEQUENTIAL_PAIRS_PER_DRAW);
    }
    double best = Math.sqrt(fixedDrawSeconds(kernels) / pair) * PAIR_TO_WEIGHT_SPREAD;
    int rounded = (int) Math.min(SEQUENTIAL_PAIRS_PER_DRAW,
        MIN_PAIRS_PER_DRAW * Math.ceil(best / MIN_PAIRS_PER_DRAW));
    return Math.max(least, rounded);
  }

  /**
   * Locations per example each kernel's layer runs at in the draws: its output's static spatial
   * size (1 for a dense layer), scaled by the share of the fed locations the draws run at ({@code
   * used} of the fed shape's spatial dimensions, {@link PairSums#spatialUsed}), at least 1; a
   * layer whose output shape is not static takes the draws' own location count. {@code shapes}:
   * the static output-0 shapes by node name ({@link StructureAnalyzer#shapes(Graph, GraphView)}
   * of the graph the check imported, batch dimension included).
   */
  static long[] kernelLocations(Map<String, long[]> shapes,
      List<WeightRotations.Kernel> kernels, long[] feed, long[] used) {
    double fed = 1;
    for (int i = 1; i < feed.length - 1; i++) {
      fed *= Math.max(1, feed[i]);
    }
    long run = 1;
    for (long d : used) {
      run *= Math.max(1, d);
    }
    double share = Math.min(1, run / fed);
    long[] at = new long[kernels.size()];
    for (int i = 0; i < at.length; i++) {
      long[] sh = shapes.get(kernels.get(i).layer().node());
      long n = 1;
      boolean known = sh != null && sh.length >= 2;
      for (int d = 1; known && d < sh.length - 1; d++) {
        known = sh[d] > 0;
        n *= Math.max(1, sh[d]);
      }
      at[i] = known ? Math.max(1, Math.round(n * share)) : run;
    }
    return at;
  }

  /** Why {@code node}'s output 0 is not checked as a float tensor, or null when it is one. */
  private static String notFloat(Graph tg, String node) {
    org.tensorflow.GraphOperation op = tg.operation(node);
    if (op == null || op.numOutputs() == 0) {
      return "no tensor '" + node + ":0' in the graph";
    }
    DataType t = op.output(0).dataType();
    return switch (t) {
      case DT_FLOAT, DT_DOUBLE, DT_HALF, DT_BFLOAT16 -> null;
      default -> "it is " + t + ", not a floating-point tensor (q and c are not defined)";
    };
  }

  /**
   * What one output's check measures and predicts with: its analysis, the measured tensors (the
   * inputs of its layers, then the output), the local maps per layer, where the pairs are fed,
   * and the judged tensor (index into measured: the last layer's input, or the deepest one before
   * every op the maps cannot predict past, {@link Unpredictable}; -1 when none is) with why it is
   * not the last layer's input (null when it is).
   */
  private record Plan(NetworkAnalysis analysis, List<String> measured,
      Map<Integer, LocalMaps> layerMaps, Map<Integer, DepthwiseChains.Chain> chains,
      boolean allShaped, String feedNode, long[] feedShape, SampledUnits.Layout sampled,
      int judged, String judgedNote, FiniteWidthPairs.Layout finite,
      Map<Integer, Unpredictable.Source> unpredictable) {}

  private static Plan plan(KernelEntry entry, GraphView g, Graph tg, Map<String, long[]> shapes,
      NetworkAnalysis a, ShapingSolution solution, String output) {
    Map<String, LocalMaps> maps = new HashMap<>();
    boolean allShaped = true;
    Map<Integer, LocalMaps> layerMaps = new HashMap<>();
    for (Map.Entry<Integer, ActivationSite> e : a.layerActivations().entrySet()) {
      ActivationSite s = e.getValue();
      boolean shaped = solution != null && solution.activations().containsKey(s.kind());
      allShaped &= shaped;
      String key = s.kind() + "/" + s.parameter();
      layerMaps.put(e.getKey(), maps.computeIfAbsent(key, k -> LocalMaps.of(shaped
          ? solution.get(s.kind()).transformed() : raw(s))));
    }
    List<String> measured = measuredNodes(g, a, output);
    // where the random pairs are fed: the model input, or, when it has a single channel (no
    // correlation but +-1 exists between scalars), the first layer's input (e.g. the per-location
    // normalization's output with its homogeneous coordinate), which predictions start from
    // anyway; when the first layer reads the single-channel input itself, its output: a scalar
    // per location has c = +-1 only, and a Delta-initialized first layer maps it per location to
    // a rank-one image, so no other input c can be fed before it
    String feedNode = entry.node();
    long[] shape = entry.shape().clone();
    if (shape[shape.length - 1] < 2) {
      if (measured.get(0).equals(feedNode)) {
        String inputNode = feedNode;
        LayerSite firstLayer = a.layers().stream()
            .filter(l -> TensorName.parse(g.get(l.node()).getInput(0)).node().equals(inputNode))
            .findFirst().orElseThrow(() -> new IllegalArgumentException("the kernel check needs "
                + "at least 2 input features, and no layer reads the single-channel input '"
                + inputNode + "' directly"));
        measured = new ArrayList<>(measured);
        measured.set(0, firstLayer.node());
      }
      feedNode = measured.get(0);
      shape = staticShape(shapes, feedNode);
    }
    Map<Integer, DepthwiseChains.Chain> chains = DepthwiseChains.find(a, layerMaps);
    // an activation reading a non-Gaussian input (ResNet v1's post-add activation after an
    // identity shortcut): predicted unit by unit (SampledUnits); depthwise chains keep theirs
    SampledUnits.Layout layout = SampledUnits.layout(g, a);
    SampledUnits.Layout sampled = chains.isEmpty()
        && SampledUnits.needed(a.dag(), layout, a.dagIndex().get(measured.get(0)))
        ? layout : null;
    // the judged tensor: the last layer's input, unless an op the maps cannot predict past
    // (a transposed convolution the rewrite left trained) lies before it
    Map<Integer, Unpredictable.Source> tainted = Unpredictable.sources(g, a);
    int judged = Unpredictable.judgedIndex(measured, a.dagIndex(), tainted);
    int last = Math.max(0, measured.size() - 2);
    String note = null;
    if (judged != last) {
      String why = String.valueOf(tainted.get(a.dagIndex().get(measured.get(last))));
      note = judged < 0 ? why : "judged at '" + measured.get(judged) + "', not at the last "
          + "layer's input '" + measured.get(last) + "', which the maps cannot predict: " + why;
    }
    return new Plan(a, measured, layerMaps, chains, allShaped, feedNode, shape, sampled, judged,
        note, FiniteWidthPairs.layout(tg, g, a), tainted);
  }

  /**
   * The report of the draws' sums: measured q and c averaged over the draws, predictions started
   * from the c the first draw measured where the first layer reads (whatever precedes it, e.g.
   * per-location normalization with a homogeneous coordinate, is taken as given), the verdict on
   * the features the last layer reads.
   */
  private static KernelReport report(Plan plan, List<String> union, List<PairSums> sums,
      Options o) {
    NetworkAnalysis a = plan.analysis();
    List<String> measured = plan.measured();
    int[] depth = depths(a.dag());
    List<KernelMeasurement> rows = new ArrayList<>();
    int first = a.dagIndex().get(measured.get(0));
    int judgedIdx = a.dagIndex().get(measured.get(plan.judged()));
    int judgedUi = union.indexOf(measured.get(plan.judged()));
    double[][][] perC = new double[o.inputCs().length][][];
    for (int ci = 0; ci < o.inputCs().length; ci++) {
      double startC = sums.get(0).meanC(union.indexOf(measured.get(0)), ci);
      double[] judgedC = new double[sums.size()];
      for (int d = 0; d < judgedC.length; d++) {
        judgedC[d] = sums.get(d).meanC(judgedUi, ci);
      }
      perC[ci] = predictions(plan, o.inputCs()[ci], first, startC, judgedIdx,
          standardError(judgedC) / 3);
    }
    poolQ(perC);
    for (int ci = 0; ci < o.inputCs().length; ci++) {
      double[][] qc = perC[ci];
      for (int ni = 0; ni < measured.size(); ni++) {
        String node = measured.get(ni);
        int idx = a.dagIndex().get(node);
        double q = 0;
        double c = 0;
        int ui = union.indexOf(node);
        double[] drawC = new double[sums.size()];
        double[] drawLogQ = new double[sums.size()];
        double logQ = 0;
        for (int d = 0; d < drawC.length; d++) {
          q += sums.get(d).meanQ(ui, ci);
          drawC[d] = sums.get(d).meanC(ui, ci);
          c += drawC[d];
          drawLogQ[d] = sums.get(d).meanLogQ(ui, ci);
          logQ += drawLogQ[d] / drawC.length;
        }
        Unpredictable.Source past = plan.unpredictable().get(idx);
        if (past != null) {
          // downstream of an op the maps predict nothing past: measured, not predicted or judged
          rows.add(KernelMeasurement.pastJudged(node, depth[idx], o.inputCs()[ci],
              q / sums.size(), c / sums.size(), logQ, "not predicted: past "
              + past.shortName() + ", which the per-location maps cannot predict past"));
          continue;
        }
        // q judged by log q where the simulation predicts it and the draws give its spread
        double logAllowed = plan.allShaped() ? logQAllowed(o.qTolerance(),
            standardError(drawLogQ), qc[4][idx]) : Double.NaN;
        boolean byLog = Double.isFinite(qc[3][idx]) && Double.isFinite(logAllowed);
        rows.add(new KernelMeasurement(node, depth[idx], o.inputCs()[ci],
            !plan.allShaped() ? Double.NaN : qc[0][idx], q / sums.size(),
            qc[1][idx],
            c / sums.size(), qAllowed(sums, ui, ci, o.qTolerance(), qc[0][idx]),
            cAllowed(o.cTolerance(), standardError(drawC), qc[2][idx]),
            byLog ? qc[3][idx] : Double.NaN, byLog ? logQ : Double.NaN,
            byLog ? logAllowed : Double.NaN));
      }
    }
    String last = measured.get(plan.judged());
    long width = sums.get(0).width(union.indexOf(last));
    boolean pass = true;
    for (KernelMeasurement r : rows) {
      if (r.tensor().equals(last)) {
        pass &= r.cError() <= r.cAllowed();
        pass &= !plan.allShaped() || !r.qFails(o.qTolerance());
      }
    }
    rows.sort(java.util.Comparator.comparingInt(KernelMeasurement::depth)
        .thenComparingDouble(KernelMeasurement::inputC));
    return new KernelReport(rows, o.cTolerance(), o.qTolerance(), width, last, pass)
        .withJudgedNote(plan.judgedNote());
  }

  /**
   * Pools the predicted q ({@link #predictions} row 0) over the input c values, node by node, in
   * place: a pair's q is the mean of its two inputs' own mean squares, and each input goes
   * through the network alone (its law does not depend on the pair's c), so E[q] does not depend
   * on c; the simulation estimates it once per input c from separate pairs, and the pooled mean is
   * the same expectation from all of them. Why: a narrow network's q is heavy-tailed, so each
   * estimate of the mean q rests on a few pairs: blazepose-lite's DKS head input (width 192) was
   * predicted q 1.37, 2.56 and 11.5 at input c 0, 0.5 and 0.9, and the mean-q allowance, which
   * scales with the prediction, was 8.1 at the last. Not the mean log q: the log of the pair's
   * mean q depends on how alike the two inputs' q are, so on c (Jensen). Entries that are not
   * finite (a NaN start c) are neither used nor replaced.
   */
  static void poolQ(double[][][] perC) {
    if (perC.length < 2) {
      return;
    }
    int n = perC[0][0].length;
    for (int i = 0; i < n; i++) {
      double sum = 0;
      int m = 0;
      for (double[][] p : perC) {
        if (Double.isFinite(p[0][i])) {
          sum += p[0][i];
          m++;
        }
      }
      for (double[][] p : perC) {
        if (Double.isFinite(p[0][i])) {
          p[0][i] = sum / m;
        }
      }
    }
  }

  /**
   * The c error allowed at one row: {@code max(cTolerance, C_SE_FACTOR * se)}, where se is the
   * standard error of the difference measured - predicted: the measured mean c's over the weight
   * draws ({@code measuredSe}, the sample standard deviation of the draws' mean c over
   * sqrt(draws)) and the prediction's own ({@code predictedSe}, the finite-width simulation's
   * noise) in quadrature; a standard error that is not finite counts as 0 (one draw: the
   * tolerance as given). Why: the sequential rule aims the standard error at {@link
   * #SE_FRACTION} of the tolerance, where noise alone fails a correctly shaped network in fewer
   * than 1 of 10,000 rows; when its cost cap stops it short (a narrow ResNet-50: 0.018 at 14-24
   * draws against the 0.0075 target), the tolerance widens to {@link #C_SE_FACTOR} standard
   * errors instead, so that the verdict still does not depend on the noise, and the report
   * shows the widened value.
   */
  static double cAllowed(double cTolerance, double measuredSe, double predictedSe) {
    double m = Double.isFinite(measuredSe) ? measuredSe : 0;
    double p = Double.isFinite(predictedSe) ? predictedSe : 0;
    return Math.max(cTolerance, C_SE_FACTOR * Math.hypot(m, p));
  }

  /**
   * The log q error allowed at one row where q is judged by log q: {@code max(log(1 +
   * qTolerance), C_SE_FACTOR * se)}, se the standard error of the difference of the measured
   * mean log q ({@code measuredSe}: the sample standard deviation of the draws' mean log q over
   * sqrt(draws)) and the predicted one ({@code predictedSe}: the finite-width simulation's) in
   * quadrature. NaN when {@code measuredSe} is not finite (one draw, or a pair with q 0): the mean
   * q is judged then. Why log q: at finite width q is a product of one random factor per layer,
   * so a narrow network's q is heavy-tailed and its mean over 24 draws misses the expectation by
   * far more than its own spread shows (a DKS softplus MobileNetV2: measured mean q 1.16 against
   * a predicted mean of 3.8 at a correctly shaped seed, the draws' log q spread about 0.4); log q
   * is a sum of those factors' logarithms, nearly Gaussian, and its mean is determined by the
   * same draws. A mis-scaled layer still shifts every draw's log q alike: a kernel off by a
   * factor k shifts it by 2 log k (a doubled kernel: 1.39 against the 0.41 of the default q
   * tolerance 0.5, a factor 1.5 in q).
   */
  static double logQAllowed(double qTolerance, double measuredSe, double predictedSe) {
    if (!Double.isFinite(measuredSe)) {
      return Double.NaN;
    }
    double p = Double.isFinite(predictedSe) ? predictedSe : 0;
    return Math.max(Math.log1p(qTolerance), C_SE_FACTOR * Math.hypot(measuredSe, p));
  }

  private static double[] nan(int n) {
    double[] x = new double[n];
    Arrays.fill(x, Double.NaN);
    return x;
  }

  /**
   * The q error allowed at one row: {@code max(qTolerance, 3 p sqrt((exp(s^2) - 1) / D))}, where
   * s is the standard deviation of log q over the D weight draws (each draw's mean q over its
   * pairs) and p the predicted q (1 when it is not a positive number; not the measured mean,
   * which a mis-scaled network inflates with its error). Why: at finite width the
   * q of one draw is a product of one random factor per layer (about 1 + O(1/sqrt(width)) each),
   * so across draws it is about log-normal with E[q] = p when the prediction holds; the mean of D
   * draws then has the standard error p sqrt((exp(s^2) - 1) / D), which s estimates from the
   * draws themselves (the finite-width prediction of a narrow DKS softplus MobileNetV2 is q 3.5-5
   * at its output, where the maps say 1: the error scales with it). A narrow deep net (the demo's width-4
   * ResNet-18: per-draw q from 0.001 to 7 at the global pool, s about 2) leaves q undetermined
   * and is not failed for it; a mis-scaled kernel shifts every draw alike (small s) and still
   * fails. With one draw, or q not positive, the tolerance as given.
   */
  static double qAllowed(List<PairSums> sums, int node, int ci, double qTolerance) {
    return qAllowed(sums, node, ci, qTolerance, 1);
  }

  /** As {@link #qAllowed(List, int, int, double)} for the predicted q {@code predicted}. */
  static double qAllowed(List<PairSums> sums, int node, int ci, double qTolerance,
      double predicted) {
    double p = predicted > 0 && Double.isFinite(predicted) ? predicted : 1;
    int d = sums.size();
    if (d < 2) {
      return qTolerance;
    }
    double mean = 0;
    double[] logs = new double[d];
    for (int i = 0; i < d; i++) {
      double q = sums.get(i).meanQ(node, ci);
      if (!(q > 0) || Double.isInfinite(q)) {
        return qTolerance;
      }
      logs[i] = Math.log(q);
      mean += logs[i] / d;
    }
    double var = 0;
    for (double l : logs) {
      var += (l - mean) * (l - mean) / (d - 1);
    }
    return Math.max(qTolerance, 3 * p * Math.sqrt(Math.expm1(var) / d));
  }

  /**
   * Weight draws for the automatic choice: one per {@link #WIDTH_SUM_PER_DRAW} of the sum of
   * 1/width over the measured tensors after the first (the finite-width variance of the output c
   * grows about like that sum), between 1 and {@link #MAX_AUTO_DRAWS}; then, if the draws after
   * the first would rotate more than {@link #ROTATION_FLOP_BUDGET} ({@code kernels}, {@link
   * WeightRotations#drawFlops}), as many as fit, but at least {@link #MIN_BUDGET_DRAWS}. The
   * widths are the last dimensions of {@code shapes} (static output-0 shapes by node name).
   */
  static int autoDraws(Map<String, long[]> shapes, java.util.Collection<Plan> plans,
      List<WeightRotations.Kernel> kernels) {
    // the largest sum over the checked outputs (each output's error grows along its own path)
    double sum = 0;
    for (Plan p : plans) {
      double s = 0;
      for (String node : p.measured().subList(1, p.measured().size())) {
        long[] sh = shapes.get(node);
        long c = sh == null || sh.length < 1 ? -1 : sh[sh.length - 1];
        if (c > 0) {
          s += 1.0 / c;
        }
      }
      sum = Math.max(sum, s);
    }
    return drawsWithin(Math.ceil(sum / WIDTH_SUM_PER_DRAW), WeightRotations.drawFlops(kernels));
  }

  /**
   * The width rule's {@code wanted} draws, between 1 and {@link #MAX_AUTO_DRAWS}, cut to what
   * {@link #ROTATION_FLOP_BUDGET} pays for at {@code flopsPerDraw} (the first draw is the
   * model's own weights: no rotation) but not below {@link #MIN_BUDGET_DRAWS}.
   */
  static int drawsWithin(double wanted, double flopsPerDraw) {
    int draws = (int) Math.max(1, Math.min(MAX_AUTO_DRAWS, wanted));
    if (flopsPerDraw > 0 && (draws - 1) * flopsPerDraw > ROTATION_FLOP_BUDGET) {
      int affordable = 1 + (int) Math.floor(ROTATION_FLOP_BUDGET / flopsPerDraw);
      draws = Math.max(Math.min(draws, MIN_BUDGET_DRAWS), affordable);
    }
    return draws;
  }

  /** The static shape of {@code node}'s first output, batch dimension included (as -1). */
  private static long[] staticShape(Map<String, long[]> shapes, String node) {
    long[] known = shapes.get(node);
    long[] d = known == null ? new long[0] : known.clone();
    for (int i = 1; i < d.length; i++) {
      if (d[i] < 1) {
        d = new long[0];
        break;
      }
    }
    if (d.length < 2) {
      throw new IllegalArgumentException("the kernel check needs a static shape at '" + node
          + "', the first layer's input (the model input has a single channel), got "
          + (known == null ? "<unknown>" : Shape.of(known)));
    }
    return d;
  }

  private static Activation raw(ActivationSite s) {
    if (s.kind().equals("leaky_relu")) {
      return new LeakyRelu(s.parameter());
    }
    return Activations.byName(s.kind());
  }

  /**
   * The node whose tensor ends the measured path of {@code out}: the output itself when it is on
   * the kernel DAG, else the body tensor its head reads (an output after a control-flow loop or
   * other head ops the DAG does not model), or null when neither depends on the input.
   */
  static String measuredEnd(NetworkAnalysis a, String out) {
    return measuredEnd(a, out, null);
  }

  /**
   * As {@link #measuredEnd(NetworkAnalysis, String)}; with the imported graph {@code tg}, a body
   * tensor that holds features (floating point, rank 2 or more, or rank unknown) is preferred to
   * one that does not: a head may also read shape arithmetic done on the input (faceboxes reads
   * its image-padding sizes, rank 0 and 1), which has no per-example features to measure.
   */
  static String measuredEnd(NetworkAnalysis a, String out, Graph tg) {
    if (a.dagIndex().containsKey(out)) {
      return out;
    }
    List<TensorName> body = a.bodyOutputs().getOrDefault(out, List.of());
    String fallback = null;
    for (TensorName t : body) {
      if (a.dagIndex().containsKey(t.node())) {
        if (tg == null || holdsFeatures(tg, t.node())) {
          return t.node();
        }
        fallback = fallback == null ? t.node() : fallback;
      }
    }
    return fallback;
  }

  /** Whether {@code node}'s output 0 is a floating-point tensor of rank 2 or more (or unknown). */
  private static boolean holdsFeatures(Graph tg, String node) {
    if (notFloat(tg, node) != null) {
      return false;
    }
    Shape sh = tg.operation(node).output(0).shape();
    return sh.isUnknown() || sh.numDimensions() >= 2;
  }

  /** Inputs of every layer on the path, then the output, in DAG order, without repeats. */
  private static List<String> measuredNodes(GraphView g, NetworkAnalysis a, String output) {
    List<String> nodes = new ArrayList<>();
    for (LayerSite l : a.layers()) {
      String in = TensorName.parse(g.get(l.node()).getInput(0)).node();
      if (a.dagIndex().containsKey(in) && !nodes.contains(in)) {
        nodes.add(in);
      }
    }
    nodes.sort(java.util.Comparator.comparingInt(a.dagIndex()::get));
    nodes.remove(output);
    nodes.add(output);
    return nodes;
  }

  private static int[] depths(Dag dag) {
    int[] d = new int[dag.nodes().size()];
    for (int i = 1; i < d.length; i++) {
      Dag.Node n = dag.nodes().get(i);
      int m = 0;
      for (int in : n.inputs()) {
        m = Math.max(m, d[in]);
      }
      d[i] = m + (n.kind() == Dag.Kind.LAYER ? 1 : 0);
    }
    return d;
  }

  /**
   * Predicted q and c at every DAG node for input c {@code c0}, node {@code start} (where the
   * first layer reads) taking q 1 and c {@code startC}: {q, c, standard error of c}. From {@link
   * FiniteWidthPairs} (the network at its own widths, simulated; used wherever its layout is
   * known up to {@code judged} on the nodes it depends on, the simulation stopping there at the
   * standard error {@code targetSe}, a third of the measurement's; the nodes after it, and those
   * before it that it neither depends on nor can simulate, from the maps), else from {@link
   * SampledUnits} where a pre-activation is not Gaussian, else from the maps ({@link #mapWalk});
   * those two have no standard error to speak of (0).
   */
  private static double[][] predictions(Plan plan, double c0, int start, double startC,
      int judged, double targetSe) {
    Dag dag = plan.analysis().dag();
    if (plan.finite() != null) {
      FiniteWidthPairs.Prediction p = FiniteWidthPairs.predict(dag, plan.layerMaps(),
          plan.finite(), start, startC, judged, Double.isFinite(targetSe) ? targetSe : 0);
      if (p != null) {
        boolean all = true;
        for (int i = start; i < p.q().length; i++) {
          all &= p.simulated()[i];
        }
        if (all) {
          return new double[][] {p.q(), p.c(), p.cSe(), p.logQ(), p.logQSe()};
        }
        // where the simulation stops (past the judged tensor) or does not go (a side branch the
        // judged tensor does not depend on, of an op it cannot simulate): rows shown, not judged,
        // from the maps
        double[][] m = mapWalk(dag, plan.layerMaps(), plan.chains(), c0, start, startC);
        double[] q = p.q().clone();
        double[] c = p.c().clone();
        double[] se = p.cSe().clone();
        for (int i = start; i < q.length; i++) {
          if (!p.simulated()[i]) {
            q[i] = m[0][i];
            c[i] = m[1][i];
            se[i] = 0;
          }
        }
        return new double[][] {q, c, se, p.logQ(), p.logQSe()};
      }
    }
    if (plan.sampled() != null) {
      SampledUnits.Prediction p = SampledUnits.predict(dag, plan.layerMaps(), plan.sampled(), c0,
          start, startC);
      return new double[][] {p.q(), p.c(), new double[p.c().length], nan(p.c().length),
          nan(p.c().length)};
    }
    double[][] m = mapWalk(dag, plan.layerMaps(), plan.chains(), c0, start, startC);
    return new double[][] {m[0], m[1], new double[m[0].length], nan(m[0].length),
        nan(m[0].length)};
  }

  /**
   * q and c at every DAG node by the maps, {q, c}: a layer applies its local Q and C maps to its
   * input's q and c, or, when it ends a depthwise chain that starts at or after {@code start},
   * the chain's sign-averaged maps to the values at the chain's start; affine nodes pass them on;
   * averages average them with their fractions (the branches' cross terms vanish in expectation
   * over the weights); products multiply them (factors independent at initialization: q_z = q_a
   * q_b, c_z = c_a c_b). The input takes c {@code c0}; node {@code start} c {@code startC}; q is 1
   * up to {@code start} (the pairs are fed with q = 1). Shaped activations keep q = 1 for a
   * Gaussian pre-activation of q = 1, so q leaves 1 after a depthwise chain of smooth activations
   * (whose input is not Gaussian; TAT's leaky ReLU chains keep it exactly) and the later layers'
   * Q maps carry it on.
   */
  private static double[][] mapWalk(Dag dag, Map<Integer, LocalMaps> layerMaps,
      Map<Integer, DepthwiseChains.Chain> chains, double c0, int start, double startC) {
    double[] q = new double[dag.nodes().size()];
    double[] c = new double[q.length];
    for (int i = 0; i < q.length; i++) {
      Dag.Node n = dag.nodes().get(i);
      if (n.kind() == Dag.Kind.INPUT || i == start) {
        q[i] = 1.0;
        c[i] = i == start ? startC : c0;
        continue;
      }
      switch (n.kind()) {
        case AFFINE -> {
          q[i] = q[n.inputs()[0]];
          c[i] = c[n.inputs()[0]];
        }
        case LAYER -> {
          DepthwiseChains.Chain ch = chains.get(i);
          boolean chained = ch != null && ch.start() >= start;
          int from = chained ? ch.start() : n.inputs()[0];
          q[i] = mapQ(chained ? ch.maps()::q : layerMaps.get(i)::q, q[from]);
          c[i] = mapC(chained ? ch.maps()::c : layerMaps.get(i)::c, c[from]);
        }
        case PRODUCT -> {
          // independent factors: second moments multiply, so q and c do (KernelSemantics#product)
          q[i] = 1.0;
          c[i] = 1.0;
          for (int j : n.inputs()) {
            q[i] *= q[j];
            c[i] *= c[j];
          }
        }
        default -> {
          for (int j = 0; j < n.inputs().length; j++) {
            q[i] += n.fractions()[j] * q[n.inputs()[j]];
            c[i] += n.fractions()[j] * c[n.inputs()[j]];
          }
        }
      }
      if (i < start) {
        q[i] = 1.0;
      }
    }
    return new double[][] {q, c};
  }

  /** A Q map at q (negative rounding clamped to 0); NaN stays NaN. */
  private static double mapQ(java.util.function.DoubleUnaryOperator map, double q) {
    return Double.isNaN(q) ? Double.NaN : map.applyAsDouble(Math.max(0, q));
  }

  /**
   * A C map at c clamped to [-1, 1]; NaN stays NaN (a measured start c of NaN, e.g. all-zero
   * features, leaves the predictions undefined and the verdict a failure, not an error).
   */
  private static double mapC(java.util.function.DoubleUnaryOperator map, double c) {
    return Double.isNaN(c) ? Double.NaN : map.applyAsDouble(Math.max(-1, Math.min(1, c)));
  }
}
