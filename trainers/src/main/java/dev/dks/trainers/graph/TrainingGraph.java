package dev.dks.trainers.graph;

import dev.dks.rewriter.analysis.LayerSite;
import dev.dks.rewriter.analysis.NetworkAnalysis;
import dev.dks.rewriter.analysis.StructureAnalyzer;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.safety.OpGate;
import dev.dks.rewriter.safety.UnsafeOpsException;
import dev.dks.trainers.data.Batch;
import dev.dks.trainers.device.OneDnnIsaCheck;
import dev.dks.trainers.distributed.ReplicaOps;
import dev.dks.trainers.distributed.Replication;
import dev.dks.trainers.kfac.DampingAdaptation;
import dev.dks.trainers.kfac.KfacGraph;
import dev.dks.trainers.kfac.KfacOptimizer;
import dev.dks.trainers.kfac.LayerMatcher;
import dev.dks.trainers.kfac.Registration;
import dev.dks.trainers.kfac.SubBatchForward;
import dev.dks.trainers.optim.SgdOptimizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * A model imported into a fresh TF {@link Graph} together with its training graph, and a
 * {@link Session} in which the model's variables hold their values (assigned through
 * placeholder-fed {@code Assign}s, never embedded as constants; TF Java notes R8).
 *
 * <p>Added to the model, under the name scope {@code train}:
 *
 * <ul>
 *   <li>a one-hot label placeholder {@code labels}, float32 {@code [-1, classes]} (named
 *       {@code train/labels} if the model already has a node {@code labels});
 *   <li>optionally label smoothing: targets {@code (1 - eps) y + eps / classes};
 *   <li>loss = mean over the batch of {@code SoftmaxCrossEntropyWithLogits(logits, targets)}
 *       (one-hot form: the sparse op has no gradient, R1) plus {@code l2 * sum ||K||^2} over the
 *       <b>kernels only</b>. Kernels are the weight variables of the affine layers (Conv2D,
 *       DepthwiseConv2dNative, MatMul) as found by {@link StructureAnalyzer}
 *       ({@link LayerSite#kernelVariable()}); biases, normalization parameters and anything else
 *       are not decayed;
 *   <li>accuracy = mean of {@code argmax(logits) == argmax(labels)};
 *   <li>gradients from {@code Graph.addGradients(loss, vars)} with the explicit list of trainable
 *       float32 variables (not {@code Optimizer.minimize}, R3; no custom gradients, R2);
 *   <li>the update ops of {@link SgdOptimizer} with the learning rate and momentum as scalar
 *       placeholders fed each {@link #step}, so any schedule works; or, when the spec asks for
 *       K-FAC, the ops of {@link KfacOptimizer} under {@code train/kfac}, whose statistics,
 *       inverse refreshes and updates {@link #step} runs on the schedule of
 *       {@link KfacGraph#phases} (after a {@link #burnIn} before the first step).
 * </ul>
 *
 * <p><b>Batch normalization</b> (unless {@link TrainingSpec#batchNorm()} freezes it) trains with
 * Keras semantics through {@link BatchNormTraining}: the training steps (and K-FAC's statistics)
 * normalize with the batch's statistics; each update also advances the moving mean and variance
 * ({@link MovingStatistics}, in the same session call); {@link #evaluate} runs an inference-form
 * twin of the network ({@link InferenceCopy}, under {@code inference/}) that reads the moving
 * statistics, as the exported model does. The moving statistics are model variables, so
 * {@link #variables()}, checkpoints and {@link #assign} carry them.
 *
 * <p>The logits are the first output of the model's serving_default signature (the builder's
 * {@code logits}) unless {@link TrainingSpec#logitsTensor()} names another tensor; likewise the
 * input. Optimizer slots are zeroed once when this is built (see {@link SgdOptimizer} for why
 * they are not in the init scope). Close it to free native memory (session before graph).
 */
public final class TrainingGraph implements AutoCloseable {
  private final Graph graph;
  private final Session session;
  private final String inputName;
  /** Whether the input is {@code [batch, D]}: batches are fed flattened. */
  private final boolean flatInput;
  private final Placeholder<TFloat32> labels;
  private final Placeholder<TFloat32> lr;
  private final Placeholder<TFloat32> momentum;
  private final Operand<TFloat32> loss;
  private final Operand<TFloat32> accuracy;
  private final Operand<TFloat32> evalLoss;
  private final Operand<TFloat32> evalAccuracy;
  private final List<BatchNormTraining.Site> batchNorm;
  /** The BN moving-average updates to run with each optimizer-update op (empty: none). */
  private final Map<Op, Op> movingUpdates;
  private final List<String> trainable;
  private final List<Output<?>> gradients;
  private final List<String> kernels;
  private final int structureDepth;
  private final List<String> modelVariables;
  private final List<String> slotVariables;
  private final Map<String, Placeholder<TFloat32>> assignFeeds;
  private final Map<String, Op> assignOps;
  private final SgdOptimizer.Update update;
  private final KfacGraph kfac;
  private final Op initSlots;
  private final int classes;
  private final String logits;
  private final String softmaxOutput;
  // distributed hook: the step's fetched loss/accuracy (cross-replica means when replicated)
  private final Operand<TFloat32> stepLoss;
  private final Operand<TFloat32> stepAccuracy;
  private final Op syncFromRank0;
  private long nextStep;
  private double[] kfacDiagnostics = {Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN};

  private TrainingGraph(Graph graph, Session session, Builder b) {
    this.graph = graph;
    this.session = session;
    this.inputName = b.inputName;
    this.flatInput = b.flatInput;
    this.labels = b.labels;
    this.lr = b.lr;
    this.momentum = b.momentum;
    this.loss = b.loss;
    this.accuracy = b.accuracy;
    this.evalLoss = b.evalLoss;
    this.evalAccuracy = b.evalAccuracy;
    this.batchNorm = List.copyOf(b.batchNorm);
    this.movingUpdates = b.movingUpdates;
    this.trainable = List.copyOf(b.trainable);
    this.gradients = List.copyOf(b.gradients);
    this.kernels = List.copyOf(b.kernels);
    this.structureDepth = b.structureDepth;
    this.modelVariables = List.copyOf(b.modelVariables);
    this.slotVariables = List.copyOf(b.slotVariables);
    this.assignFeeds = b.assignFeeds;
    this.assignOps = b.assignOps;
    this.update = b.update;
    this.kfac = b.kfac;
    this.initSlots = b.initSlots;
    this.classes = b.classes;
    this.logits = b.logitsName.toString();
    this.softmaxOutput = b.softmaxOutput == null ? null : b.softmaxOutput.toString();
    this.stepLoss = b.stepLoss != null ? b.stepLoss : b.loss;
    this.stepAccuracy = b.stepAccuracy != null ? b.stepAccuracy : b.accuracy;
    this.syncFromRank0 = b.syncFromRank0;
  }

  /**
   * Builds with the default session configuration.
   *
   * @throws UnsafeOpsException when the graph holds an op with effects outside the tensors
   */
  public static TrainingGraph build(Model model, TrainingSpec spec) {
    return build(model, spec, null);
  }

  /**
   * Imports {@code model}, adds the training graph of {@code spec}, opens a session (with
   * {@code config} unless null), assigns the variables and zeroes the optimizer slots.
   *
   * @throws UnsafeOpsException when the graph holds an op with effects outside the tensors
   */
  public static TrainingGraph build(Model model, TrainingSpec spec, ConfigProto config) {
    return build(model, spec, config, null);
  }

  /**
   * As {@link #build(Model, TrainingSpec, ConfigProto)}, as one replica of a synchronous
   * data-parallel run when {@code replication} is not null: each step's gradients, loss and
   * accuracy are averaged across replicas (one all-reduce) before the update, the session is the
   * replication's (its {@code config} applies), and {@link #syncFromRank0()} copies rank 0's
   * state. With K-FAC the statistics' shares join that all-reduce on statistics steps (see
   * {@link KfacOptimizer}).
   */
  public static TrainingGraph build(Model model, TrainingSpec spec, ConfigProto config,
      Replication replication) {
    return build(model, spec, config, replication, Set.of());
  }

  /**
   * As {@link #build(Model, TrainingSpec, ConfigProto, Replication)}, accepting the ops of {@link
   * dev.dks.rewriter.safety.OpPolicy} in {@code allowedOps} (op types, for a model the caller
   * trusts); the other overloads allow none. Training runs the model's graph, so a graph
   * holding an op with effects outside the tensors (file or stream I/O) is refused before it is
   * imported.
   *
   * @throws UnsafeOpsException naming the nodes of such ops not allowed
   */
  public static TrainingGraph build(Model model, TrainingSpec spec, ConfigProto config,
      Replication replication, Set<String> allowedOps) {
    OpGate.requireGraphSafe(model.graph(), allowedOps, "the model given to the trainer");
    OneDnnIsaCheck.warnOnce();
    Graph g = new Graph();
    Session s = null;
    try {
      Builder b = new Builder();
      b.replication = replication;
      GraphImport.into(g, b.prepare(model, spec));
      b.emit(g, model, spec);
      if (replication != null) {
        s = replication.openSession(g);
        s.initialize();
      } else {
        s = config == null ? new Session(g) : new Session(g, config);
      }
      TrainingGraph tg = new TrainingGraph(g, s, b);
      tg.assign(model.variables());
      s.runner().addTarget(tg.initSlots).run().close();
      return tg;
    } catch (RuntimeException e) {
      if (s != null) {
        s.close();
      }
      g.close();
      throw e;
    }
  }

  /**
   * Runs the next optimizer update (global step = number of {@code step} calls on this graph so
   * far) on a batch; see {@link #step(long, float[], long[], float[], double, double)}.
   */
  public double[] step(float[] x, long[] xShape, float[] yOneHot, double learningRate,
      double mu) {
    return step(nextStep, x, xShape, yOneHot, learningRate, mu);
  }

  /**
   * Runs the optimizer update of global step {@code globalStep} on a batch and returns {loss,
   * accuracy} computed before the update. SGD ignores the step; K-FAC uses it for its schedule
   * (statistics, inverse refreshes) and to seed its sampled targets, so a resumed run repeats an
   * uninterrupted one exactly.
   *
   * @param globalStep the 0-based step
   * @param x inputs, row-major
   * @param xShape their shape, batch first
   * @param yOneHot one-hot labels, row-major {@code [batch, classes]}
   * @param learningRate the learning rate of this step
   * @param mu the momentum of this step (ignored by plain SGD)
   */
  public double[] step(long globalStep, float[] x, long[] xShape, float[] yOneHot,
      double learningRate, double mu) {
    nextStep = globalStep + 1;
    if (kfac != null) {
      return kfacStep(globalStep, x, xShape, yOneHot, learningRate, mu);
    }
    try (TFloat32 xt = inputTensor(x, xShape);
        TFloat32 yt = labelTensor(yOneHot);
        TFloat32 lrt = TFloat32.scalarOf((float) learningRate);
        TFloat32 mut = TFloat32.scalarOf((float) mu);
        Result r = withMovingUpdate(session.runner().feed(inputName, xt).feed(labels, yt)
            .feed(lr, lrt).feed(momentum, mut).fetch(stepLoss).fetch(stepAccuracy)
            .addTarget(update.apply()), update.apply()).run()) {
      return new double[] {scalar(r.get(0)), scalar(r.get(1))};
    }
  }

  /** Adds the BN moving-average updates (if any) to a run that applies {@code apply}. */
  private Session.Runner withMovingUpdate(Session.Runner r, Op apply) {
    Op u = movingUpdates.get(apply);
    return u == null ? r : r.addTarget(u);
  }

  private double[] kfacStep(long globalStep, float[] x, long[] xShape, float[] yOneHot,
      double learningRate, double mu) {
    KfacGraph kfac = this.kfac.forBatch(xShape[0]);
    double[] out = null;
    double modelChange = Double.NaN;
    try (TFloat32 xt = inputTensor(x, xShape);
        TFloat32 yt = labelTensor(yOneHot);
        TFloat32 lrt = TFloat32.scalarOf((float) learningRate);
        TFloat32 mut = TFloat32.scalarOf((float) mu);
        TFloat32 rho = TFloat32.scalarOf((float) kfac.decayPerUpdate(globalStep));
        TInt64 seed = TInt64.vectorOf(kfac.options().seed(), globalStep)) {
      for (KfacGraph.Phase phase : kfac.phases(globalStep)) {
        Session.Runner r = session.runner();
        KfacGraph.UpdateOutputs fetched = null;
        switch (phase) {
          case STATISTICS -> r.feed(inputName, xt).feed(labels, yt).feed(kfac.rho(), rho)
              .feed(kfac.seed(), seed).addTarget(kfac.statistics());
          case INVERSES -> r.addTarget(kfac.inverses());
          case STATISTICS_AND_APPLY -> {
            fetched = kfac.statisticsAndApplyOutputs();
            withMovingUpdate(r.feed(inputName, xt).feed(labels, yt).feed(lr, lrt)
                .feed(momentum, mut).feed(kfac.rho(), rho).feed(kfac.seed(), seed)
                .addTarget(kfac.statisticsAndApply()), kfac.statisticsAndApply());
          }
          case STATISTICS_INVERSES_AND_APPLY -> {
            fetched = kfac.statisticsInversesAndApplyOutputs();
            withMovingUpdate(r.feed(inputName, xt).feed(labels, yt).feed(lr, lrt)
                .feed(momentum, mut).feed(kfac.rho(), rho).feed(kfac.seed(), seed)
                .addTarget(kfac.statisticsInversesAndApply()), kfac.statisticsInversesAndApply());
          }
          case APPLY -> {
            fetched = kfac.applyOutputs();
            withMovingUpdate(r.feed(inputName, xt).feed(labels, yt).feed(lr, lrt)
                .feed(momentum, mut).addTarget(kfac.apply()), kfac.apply());
          }
          default -> throw new AssertionError(phase);
        }
        if (fetched != null) {
          r.fetch(fetched.loss()).fetch(fetched.accuracy()).fetch(fetched.gradientDotUpdate())
              .fetch(fetched.clip())
              .fetch(fetched.modelChange()).fetch(kfac.damping());
        }
        try (Result res = runKfac(r, phase, globalStep)) {
          if (fetched != null) {
            out = new double[] {scalar(res.get(0)), scalar(res.get(1))};
            modelChange = scalar(res.get(4));
            kfacDiagnostics = new double[] {scalar(res.get(2)), scalar(res.get(3)),
                scalar(res.get(5)), Double.NaN, modelChange};
          }
        }
      }
    }
    DampingAdaptation adapt = kfac.options().adaptation();
    if (adapt != null && (globalStep + 1) % adapt.interval() == 0) {
      // reduction ratio of this update on its own batch (one extra forward pass, in the
      // training form the quadratic model describes)
      double after = run(x, xShape, yOneHot, kfac.batchLoss(), kfac.batchAccuracy())[0];
      double ratio = (after - out[0]) / modelChange;
      double lambda = adapt.next(kfacDiagnostics[2], ratio);
      try (TFloat32 nd = TFloat32.scalarOf((float) lambda)) {
        session.runner().feed(kfac.newDamping(), nd).addTarget(kfac.setDamping()).run().close();
      }
      kfacDiagnostics[3] = ratio;
    }
    return out;
  }

  private Result runKfac(Session.Runner r, KfacGraph.Phase phase, long step) {
    try {
      return r.run();
    } catch (TFInvalidArgumentException e) {
      if (phase == KfacGraph.Phase.INVERSES
          || phase == KfacGraph.Phase.STATISTICS_INVERSES_AND_APPLY) {
        throw new IllegalStateException("K-FAC could not invert its curvature factors at step "
            + step + " (" + e.getMessage().lines().findFirst().orElse("") + "): a damped factor "
            + "is not positive definite in float32. Raise the damping (--damping, now "
            + kfac.options().damping() + ") or use the LU or eigen inverse method", e);
      }
      throw e;
    }
  }

  /**
   * K-FAC's burn-in: folds the statistics of {@code batches} into the curvature averages as a
   * plain mean (rho = 1), without updating any weight; the trainer runs it once before step 0
   * with the first {@link #burnInBatches()} training batches. Their sampled targets are seeded
   * with steps -1, -2, ... so they differ from the training steps'. Does nothing for SGD.
   */
  public void burnIn(List<Batch> batches) {
    if (kfac == null) {
      return;
    }
    long k = -1;
    for (Batch b : batches) {
      KfacGraph kfac = this.kfac.forBatch(b.size());
      try (TFloat32 xt = inputTensor(b.images(), new long[] {b.size(), b.h(), b.w(), b.c()});
          TFloat32 yt = labelTensor(b.oneHot());
          TFloat32 one = TFloat32.scalarOf(1f);
          TInt64 seed = TInt64.vectorOf(kfac.options().seed(), k--)) {
        session.runner().feed(inputName, xt).feed(labels, yt).feed(kfac.rho(), one)
            .feed(kfac.seed(), seed).addTarget(kfac.statistics()).run().close();
      }
    }
  }

  /**
   * Distributed runs: makes every replica's variables and optimizer slots bit-equal to rank 0's
   * (run by every replica together after building, and after a resume). Does nothing without a
   * replication.
   */
  public void syncFromRank0() {
    if (syncFromRank0 != null) {
      session.runner().addTarget(syncFromRank0).run().close();
    }
  }

  /**
   * Sets K-FAC's damping state to {@code lambda} (what {@link DampingAdaptation} does after its
   * look at the batch), for a damping that follows a schedule; the cached inverses take it at
   * their next refresh.
   *
   * @throws IllegalStateException for an SGD-family graph
   */
  public void setKfacDamping(double lambda) {
    if (kfac == null) {
      throw new IllegalStateException("setKfacDamping: this graph trains with SGD, not K-FAC");
    }
    if (!(lambda > 0) || Double.isInfinite(lambda)) {
      throw new IllegalArgumentException("damping must be finite and > 0, got " + lambda);
    }
    try (TFloat32 nd = TFloat32.scalarOf((float) lambda)) {
      session.runner().feed(kfac.newDamping(), nd).addTarget(kfac.setDamping()).run().close();
    }
  }

  /** The number of burn-in batches the optimizer wants before step 0 (0 for SGD). */
  public int burnInBatches() {
    return kfac == null ? 0 : kfac.options().burnIn();
  }

  /**
   * K-FAC's {grad . u, clip coefficient, damping, reduction ratio, model change} of the last
   * update (NaN before the first one or with SGD): {@code grad . u} is the squared norm of the
   * update in the damped curvature's metric; the damping is the one the update used; the
   * reduction ratio is set on the steps where {@link DampingAdaptation} adapted the damping, else
   * NaN; the model change is the loss change K-FAC's quadratic model predicted for the update.
   */
  public double[] kfacDiagnostics() {
    return kfacDiagnostics.clone();
  }

  /** The K-FAC ops, or empty when the update is from the SGD family. */
  public java.util.Optional<KfacGraph> kfac() {
    return java.util.Optional.ofNullable(kfac);
  }

  /**
   * {loss, accuracy} on a batch in inference form (batch norm with its moving statistics, as the
   * exported model computes), without updating anything.
   */
  public double[] evaluate(float[] x, long[] xShape, float[] yOneHot) {
    return run(x, xShape, yOneHot, evalLoss, evalAccuracy);
  }

  /**
   * {loss, accuracy} on a batch as a training step computes them (batch norm with the batch's
   * statistics), without updating anything: the loss {@link #step} would report.
   */
  public double[] trainingLoss(float[] x, long[] xShape, float[] yOneHot) {
    return run(x, xShape, yOneHot, loss, accuracy);
  }

  private double[] run(float[] x, long[] xShape, float[] yOneHot, Operand<TFloat32> l,
      Operand<TFloat32> a) {
    try (TFloat32 xt = inputTensor(x, xShape);
        TFloat32 yt = labelTensor(yOneHot);
        Result r = session.runner().feed(inputName, xt).feed(labels, yt).fetch(l).fetch(a)
            .run()) {
      return new double[] {scalar(r.get(0)), scalar(r.get(1))};
    }
  }

  /**
   * The batch-norm nodes that train with batch statistics and whose moving averages each update
   * step advances (empty when the model has none or the spec froze them).
   */
  public List<BatchNormTraining.Site> batchNormSites() {
    return batchNorm;
  }

  /**
   * The gradient of the loss with respect to each trainable variable on a batch (row-major values,
   * keyed by variable name in {@link #trainableVariables()} order), without updating anything.
   */
  public Map<String, float[]> gradients(float[] x, long[] xShape, float[] yOneHot) {
    try (TFloat32 xt = inputTensor(x, xShape);
        TFloat32 yt = labelTensor(yOneHot)) {
      Session.Runner r = session.runner().feed(inputName, xt).feed(labels, yt);
      gradients.forEach(r::fetch);
      Map<String, float[]> out = new LinkedHashMap<>();
      try (Result res = r.run()) {
        for (int i = 0; i < trainable.size(); i++) {
          out.put(trainable.get(i), TensorProtos.floats(TensorProtos.fromTensor(res.get(i))));
        }
      }
      return out;
    }
  }

  /** Current values of the model's variables (not the optimizer slots), in model order. */
  public Map<String, TensorProto> variables() {
    return fetch(modelVariables);
  }

  /** Current values of the optimizer's slot variables (empty for plain SGD). */
  public Map<String, TensorProto> slots() {
    return fetch(slotVariables);
  }

  /**
   * Assigns values to model variables and/or optimizer slots by name (e.g. a restored
   * checkpoint). Unknown names are refused.
   */
  public void assign(Map<String, TensorProto> values) {
    if (values.isEmpty()) {
      return;
    }
    List<Tensor> opened = new ArrayList<>();
    try {
      Session.Runner r = session.runner();
      for (Map.Entry<String, TensorProto> e : values.entrySet()) {
        Placeholder<TFloat32> ph = assignFeeds.get(e.getKey());
        if (ph == null) {
          throw new IllegalArgumentException("no float32 variable or slot named '" + e.getKey()
              + "' in the training graph");
        }
        TFloat32 t = TensorProtos.toTensor(e.getValue());
        opened.add(t);
        r.feed(ph, t).addTarget(assignOps.get(e.getKey()));
      }
      r.run().close();
    } finally {
      opened.forEach(Tensor::close);
    }
  }

  /** The variables that are trained, in gradient order. */
  public List<String> trainableVariables() {
    return trainable;
  }

  /**
   * Nonlinear layers in series from the input to the logits, as the trainer's structure analysis
   * found them (with {@link TrainingSpec#declaredSites()}: a DKS sin model is otherwise linear to
   * it); 0 when the analysis failed and nothing needed it.
   */
  public int structureDepth() {
    return structureDepth;
  }

  /** The kernel variables that L2 decays (found by the structure analysis). */
  public List<String> kernelVariables() {
    return kernels;
  }

  /** Names of the optimizer slot variables. */
  public List<String> slotVariables() {
    return slotVariables;
  }

  /** The tensor trained as the logits (TensorName form: {@code node}, or {@code node:index} past output 0). */
  public String logitsTensor() {
    return logits;
  }

  /**
   * The served output whose Softmax the trainer looks through ({@link SoftmaxHead}: its input is
   * {@link #logitsTensor()}), if the signature serves probabilities.
   */
  public Optional<String> softmaxOutput() {
    return Optional.ofNullable(softmaxOutput);
  }

  /** Number of classes (last dimension of the logits). */
  public int classes() {
    return classes;
  }

  /** The name of the label placeholder. */
  public String labelsName() {
    return labels.op().name();
  }

  /** The graph. */
  public Graph graph() {
    return graph;
  }

  /** The session. */
  public Session session() {
    return session;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }

  private Map<String, TensorProto> fetch(List<String> names) {
    Map<String, TensorProto> out = new LinkedHashMap<>();
    if (names.isEmpty()) {
      return out;
    }
    Session.Runner r = session.runner();
    names.forEach(r::fetch);
    try (Result res = r.run()) {
      for (int i = 0; i < names.size(); i++) {
        out.put(names.get(i), TensorProtos.fromTensor(res.get(i)));
      }
    }
    return out;
  }

  private TFloat32 labelTensor(float[] y) {
    if (y.length % classes != 0) {
      throw new IllegalArgumentException(y.length + " label values are not a multiple of "
          + classes + " classes");
    }
    return tensor(y, new long[] {y.length / classes, classes});
  }

  /**
   * The input batch {@code x} of shape {@code xShape} (batch first) as the model takes it: a
   * model whose input is a flat {@code [batch, D]} (a TF1 MLP on MNIST's 784 pixels) gets each
   * example's values in the same row-major order as {@code [batch, D]}; any other input gets
   * {@code xShape} as it is.
   */
  private TFloat32 inputTensor(float[] x, long[] xShape) {
    if (flatInput && xShape.length > 2) {
      long d = 1;
      for (int i = 1; i < xShape.length; i++) {
        d *= xShape[i];
      }
      return tensor(x, new long[] {xShape[0], d});
    }
    return tensor(x, xShape);
  }

  /** Whether the model's input is a flat {@code [batch, D]} (see {@link #inputTensor}). */
  public boolean flatInput() {
    return flatInput;
  }

  private static TFloat32 tensor(float[] v, long[] shape) {
    return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(v, true, false));
  }

  private static double scalar(Tensor t) {
    return ((TFloat32) t).getFloat();
  }

  /** Emits the training ops into the graph; collects what the TrainingGraph keeps. */
  private static final class Builder {
    String inputName;
    boolean flatInput;
    Placeholder<TFloat32> labels;
    Placeholder<TFloat32> lr;
    Placeholder<TFloat32> momentum;
    Operand<TFloat32> loss;
    Operand<TFloat32> accuracy;
    Operand<TFloat32> evalLoss;
    Operand<TFloat32> evalAccuracy;
    List<BatchNormTraining.Site> batchNorm = List.of();
    Map<Op, Op> movingUpdates = Map.of();
    TensorName logitsName;
    TensorName softmaxOutput;
    TensorName inName;
    GraphDef trainingForm;
    String inferencePrefix;
    List<String> trainable = new ArrayList<>();
    List<Output<?>> gradients = new ArrayList<>();
    List<String> kernels = new ArrayList<>();
    int structureDepth;
    List<String> modelVariables = new ArrayList<>();
    List<String> slotVariables = new ArrayList<>();
    Map<String, Placeholder<TFloat32>> assignFeeds = new LinkedHashMap<>();
    Map<String, Op> assignOps = new LinkedHashMap<>();
    SgdOptimizer.Update update;
    KfacGraph kfac;
    Op initSlots;
    int classes;
    Replication replication;
    SubBatchForward subBatchForward;
    Operand<TFloat32> stepLoss;
    Operand<TFloat32> stepAccuracy;
    Op syncFromRank0;

    /**
     * Resolves the input and logits and returns the GraphDef to import: the model with its
     * trained BN sites in training form plus their inference twin ({@link InferenceCopy}).
     */
    GraphDef prepare(Model model, TrainingSpec spec) {
      Signature serving = spec.logitsTensor() == null || spec.inputTensor() == null
          ? model.signature(Signature.SERVING_DEFAULT) : null;
      if (spec.logitsTensor() != null) {
        logitsName = TensorName.parse(spec.logitsTensor());
      } else {
        // a served Softmax is not trained through: its input is the logits (SoftmaxHead)
        TensorName out = serving.outputs().values().iterator().next().tensor();
        GraphView v = GraphView.of(model.graph());
        Optional<TensorName> behindSoftmax = SoftmaxHead.logitsBehind(v, out);
        logitsName = behindSoftmax.orElse(SoftmaxHead.behindIdentityN(v, out));
        softmaxOutput = behindSoftmax.isPresent() ? out : null;
      }
      inName = spec.inputTensor() != null ? TensorName.parse(spec.inputTensor())
          : serving.inputs().values().iterator().next().tensor();
      trainingForm = model.graph();
      if (spec.batchNorm() == BatchNormTraining.Mode.TRAIN) {
        batchNorm = BatchNormTraining.sites(model, spec.batchNormMomentum());
      }
      if (batchNorm.isEmpty()) {
        if (spec.kfac() != null && spec.kfac().statisticsExamples() > 0
            && SubBatchForward.fixedBatchNode(trainingForm, inName, logitsName.node()) == null) {
          // statistics on a sub-batch: a copy of the forward pass on its rows, so that the
          // sampled backward pass runs on those rows only (examples do not interact without
          // batch statistics; with them, or with a batch size fixed in a constant shape that the
          // copy's fewer rows would break, the statistics mask the other rows' seeds instead)
          SubBatchForward.WithCopy c = SubBatchForward.add(trainingForm, inName,
              logitsName.node(), spec.kfac().statisticsExamples(),
              replication == null ? 0 : replication.rank());
          subBatchForward = c.forward();
          return c.graph();
        }
        return trainingForm;
      }
      trainingForm = BatchNormTraining.trainingForm(model.graph(), batchNorm);
      inferencePrefix = Nodes.freeScope(model.graph(), "inference");
      return InferenceCopy.with(trainingForm, model.graph(),
          batchNorm.stream().map(BatchNormTraining.Site::node).toList(), logitsName.node(),
          inferencePrefix);
    }

    void emit(Graph g, Model model, TrainingSpec spec) {
      // one view of the training form for the batch-norm scan, the structure analysis and K-FAC
      GraphView view = GraphView.of(trainingForm);
      inputName = inName.node() + ":" + inName.index();
      flatInput = g.operationOrThrow(inName.node()).output(inName.index()).shape()
          .numDimensions() == 2;
      Output<TFloat32> logits = g.operationOrThrow(logitsName.node()).output(logitsName.index());
      Shape ls = logits.shape();
      if (ls.isUnknown() || ls.numDimensions() != 2 || ls.get(1) < 1) {
        throw new IllegalArgumentException("the logits " + logitsName + " must be [batch, "
            + "classes] with known classes, got shape " + ls);
      }
      classes = Math.toIntExact(ls.get(1));

      for (Map.Entry<String, TensorProto> e : model.variables().entrySet()) {
        if (e.getValue().getDtype() == DataType.DT_FLOAT) {
          modelVariables.add(e.getKey());
        }
      }
      if (spec.trainable() != null) {
        trainable.addAll(spec.trainable());
      } else {
        Set<String> stats = batchNormStatistics(view);
        modelVariables.stream().filter(v -> !stats.contains(v)).forEach(trainable::add);
      }
      for (String v : trainable) {
        if (!modelVariables.contains(v)) {
          throw new IllegalArgumentException("trainable variable '" + v + "' is not a float32 "
              + "variable of the model");
        }
      }
      NetworkAnalysis analysis = analysis(view, inName.node(), logitsName.node(),
          spec.declaredSites(), spec.l2() > 0 || spec.kfac() != null);
      List<LayerSite> sites = analysis == null ? List.of() : analysis.layers();
      structureDepth = analysis == null ? 0 : analysis.dag().depth();
      for (LayerSite site : sites) {
        if (!site.kernelVariable().isEmpty() && model.variables().containsKey(site.kernelVariable())
            && !kernels.contains(site.kernelVariable())) {
          kernels.add(site.kernelVariable());
        }
      }
      if (spec.l2() > 0 && kernels.isEmpty()) {
        throw new IllegalArgumentException("L2 was asked for but the structure analysis found "
            + "no kernel variables between " + inName.node() + " and " + logitsName.node());
      }

      Ops root = Ops.create(g);
      Ops tf = root.withSubScope("train");
      labels = (g.operation("labels") == null ? root : tf).withName("labels")
          .placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, classes)));
      lr = tf.withName("learning_rate").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));
      momentum = tf.withName("momentum").placeholder(TFloat32.class,
          Placeholder.shape(Shape.scalar()));

      Operand<TFloat32> l2Term = null;
      if (spec.l2() > 0 && !kernels.isEmpty()) {
        Ops l2 = tf.withSubScope("l2");
        Operand<TFloat32> sum = null;
        for (String k : kernels) {
          Output<TFloat32> w = g.operationOrThrow(k).output(0);
          int rank = w.shape().numDimensions();
          int[] axes = new int[rank];
          for (int i = 0; i < rank; i++) {
            axes[i] = i;
          }
          // read through an Identity: differentiating Square of the raw ref output directly
          // crashes TF_AddGradientsWithPrefix (SIGSEGV in Node::output_type)
          Operand<TFloat32> sq = l2.sum(l2.math.square(l2.identity(w)), l2.constant(axes));
          sum = sum == null ? sq : l2.math.add(sum, sq);
        }
        l2Term = l2.math.mul(l2.constant((float) spec.l2()), sum);
      }
      Operand<TFloat32>[] la = lossAndAccuracy(tf, logits, spec, l2Term);
      loss = tf.withName("loss").identity(la[0]);
      accuracy = tf.withName("accuracy").identity(la[1]);
      GraphOperation twin = inferencePrefix == null ? null
          : g.operation(inferencePrefix + "/" + logitsName.node());
      if (twin == null) {
        // no trained BN before the logits: training and inference forms agree
        evalLoss = loss;
        evalAccuracy = accuracy;
      } else {
        Ops inf = tf.withSubScope("inference");
        Operand<TFloat32>[] e = lossAndAccuracy(inf, twin.<TFloat32>output(logitsName.index()),
            spec, l2Term);
        evalLoss = inf.withName("loss").identity(e[0]);
        evalAccuracy = inf.withName("accuracy").identity(e[1]);
      }
      emitUpdate(g, model, spec, view, tf, logits, sites);
      if (!batchNorm.isEmpty()) {
        movingUpdates = MovingStatistics.emitAll(tf.withSubScope("batch_norm"), g, batchNorm,
            kfac != null ? List.of(kfac.apply(), kfac.statisticsAndApply(),
                kfac.statisticsInversesAndApply())
                : List.of(update.apply()));
      }
    }

    /** {mean cross-entropy (+ the L2 term), accuracy} of {@code logits} against the labels. */
    @SuppressWarnings("unchecked")
    private Operand<TFloat32>[] lossAndAccuracy(Ops tf, Operand<TFloat32> logits,
        TrainingSpec spec, Operand<TFloat32> l2Term) {
      Operand<TFloat32> targets = labels;
      if (spec.labelSmoothing() > 0) {
        double eps = spec.labelSmoothing();
        targets = tf.withName("smoothed_labels").math.add(
            tf.math.mul(labels, tf.constant((float) (1 - eps))),
            tf.constant((float) (eps / classes)));
      }
      Operand<TFloat32> ce = tf.nn.softmaxCrossEntropyWithLogits(logits, targets).loss();
      Operand<TFloat32> total = tf.withName("cross_entropy").math.mean(ce, tf.constant(0));
      if (l2Term != null) {
        total = tf.math.add(total, l2Term);
      }
      Operand<TFloat32> hit = tf.dtypes.cast(tf.math.equal(tf.math.argMax(logits, tf.constant(1)),
          tf.math.argMax(labels, tf.constant(1))), TFloat32.class);
      return new Operand[] {total, tf.math.mean(hit, tf.constant(0))};
    }

    private void emitUpdate(Graph g, Model model, TrainingSpec spec, GraphView view, Ops tf,
        Output<TFloat32> logits, List<LayerSite> sites) {
      List<Output<TFloat32>> vars = new ArrayList<>();
      for (String v : trainable) {
        vars.add(g.operationOrThrow(v).output(0));
      }
      Output<?>[] grads;
      try {
        grads = g.addGradients(loss.asOutput(), vars.toArray(new Output<?>[0]));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("cannot differentiate the loss with respect to the "
            + "trainable variables " + trainable + " (each must reach the logits): "
            + e.getMessage(), e);
      }
      List<Output<TFloat32>> typed = new ArrayList<>();
      List<String> unreached = new ArrayList<>();
      for (int i = 0; i < grads.length; i++) {
        try {
          typed.add(grads[i].expect(TFloat32.class));
          gradients.add(grads[i]);
        } catch (IllegalStateException | NullPointerException e) {
          // TF returns an empty output for a variable the loss does not depend on
          unreached.add(trainable.get(i));
        }
      }
      if (!unreached.isEmpty()) {
        throw new IllegalArgumentException("no gradient reaches the trainable variable(s) "
            + unreached + " from the loss (e.g. a batch norm's moving statistics, or a variable "
            + "off the path to the logits): leave them out of the trainable list");
      }
      if (replication != null && spec.kfac() == null) {
        // distributed hook: average gradients, loss and accuracy over the replicas (K-FAC does it
        // itself, with its statistics in the same all-reduce)
        ReplicaOps r = ReplicaOps.emit(replication, tf.withSubScope("replicas"), typed, loss,
            accuracy);
        typed = new ArrayList<>(r.gradients());
        stepLoss = r.loss();
        stepAccuracy = r.accuracy();
      }
      if (spec.kfac() != null) {
        Registration reg = LayerMatcher.match(view, g, sites, trainable);
        kfac = KfacOptimizer.emit(g, tf.withSubScope("kfac"), spec.kfac(), reg, logits, labels,
            trainable, vars, typed, loss, accuracy, spec.l2(), lr, momentum, replication,
            subBatchForward);
        for (Variable<TFloat32> s : kfac.state()) {
          slotVariables.add(s.op().name());
        }
        initSlots = kfac.initState();
      } else {
        update = new SgdOptimizer(spec.optimizer()).emit(tf.withSubScope("optimizer"), vars,
            typed, lr, momentum);
        for (Variable<TFloat32> s : update.slots()) {
          slotVariables.add(s.op().name());
        }
        initSlots = update.initSlots();
      }
      Ops assign = tf.withSubScope("assign");
      List<String> all = new ArrayList<>(modelVariables);
      all.addAll(slotVariables);
      for (String name : all) {
        GraphOperation op = g.operationOrThrow(name);
        Output<TFloat32> var = op.output(0);
        Placeholder<TFloat32> ph = assign.placeholder(TFloat32.class);
        assignFeeds.put(name, ph);
        assignOps.put(name, assign.assign(var, ph));
      }
      if (replication != null) {
        List<Output<TFloat32>> state = new ArrayList<>();
        for (String name : all) {
          state.add(g.operationOrThrow(name).output(0));
        }
        syncFromRank0 = ReplicaOps.syncFromRank0(replication, tf, state);
      }
    }

    /**
     * The variables a FusedBatchNorm reads as its mean and variance (inputs 3 and 4, through
     * Identity reads): moving statistics, not trained by gradients (they have none).
     */
    private static Set<String> batchNormStatistics(GraphView g) {
      Set<String> out = new HashSet<>();
      for (NodeDef n : g.nodes()) {
        if (!n.getOp().startsWith("FusedBatchNorm") || n.getInputCount() < 5) {
          continue;
        }
        for (int i = 3; i <= 4; i++) {
          String src = TensorName.parse(n.getInput(i)).node();
          while (g.contains(src) && g.get(src).getOp().equals("Identity")) {
            src = TensorName.parse(g.get(src).getInput(0)).node();
          }
          out.add(src);
        }
      }
      return out;
    }

    /** The structure analysis from the input to the logits; null when it fails and is optional. */
    private static NetworkAnalysis analysis(GraphView view, String input, String logits,
        Map<String, String> declaredSites, boolean required) {
      try {
        // Sin/Cos are activations only where the model declares them (as in verify and inspect)
        return StructureAnalyzer.analyze(view, List.of(input), List.of(logits), null,
            declaredSites);
      } catch (RuntimeException e) {
        if (required) {
          throw e;
        }
        return null;
      }
    }
  }
}
