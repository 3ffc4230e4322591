package dev.dks.trainers.graph;

import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.optim.SgdOptimizer;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link TrainingGraph#build} adds to a model. Start from {@link #defaults()} and use the
 * withers.
 *
 * @param optimizer the update rule (learning rate and momentum are fed per step)
 * @param labelSmoothing epsilon in [0, 1): targets become {@code (1 - eps) y + eps / classes}
 * @param l2 coefficient of {@code sum ||kernel||^2} added to the loss (kernels only, biases and
 *     other variables excluded), &gt;= 0
 * @param logitsTensor the logits tensor ({@code node} or {@code node:k}); null for the first
 *     output of the model's serving_default signature
 * @param inputTensor the input tensor; null for the first input of serving_default
 * @param trainable the variables to train, by node name; null for every float32 variable of
 *     the model except the moving mean and variance a FusedBatchNorm reads (no gradient reaches
 *     them)
 * @param kfac K-FAC's hyper-parameters when the update is K-FAC (which then replaces the SGD rule
 *     of {@code optimizer} and keeps its own momentum), or null for the SGD family
 * @param batchNorm how batch normalization trains: {@link BatchNormTraining.Mode#TRAIN} (the
 *     default; Keras semantics: batch statistics in training steps, moving averages updated,
 *     moving statistics in evaluation and in the exported model) or
 *     {@link BatchNormTraining.Mode#FROZEN} (BN stays an affine map with fixed statistics)
 * @param batchNormMomentum the moving averages' momentum for every trained BN, in [0, 1), or null
 *     for the model's own (see {@link BatchNormTraining}), else Keras' 0.99
 * @param declaredSites activation sites the model declares, node name to kind (its shaping
 *     record's sites): the structure analysis takes Sin and Cos nodes for activations only where
 *     named here, as {@code dks verify} and {@code inspect} do; empty for none (never null)
 */
public record TrainingSpec(
    SgdOptimizer.Kind optimizer,
    double labelSmoothing,
    double l2,
    String logitsTensor,
    String inputTensor,
    List<String> trainable,
    KfacOptions kfac,
    BatchNormTraining.Mode batchNorm,
    Double batchNormMomentum,
    Map<String, String> declaredSites) {

  /** Validates. */
  public TrainingSpec {
    Objects.requireNonNull(optimizer, "optimizer");
    Objects.requireNonNull(batchNorm, "batchNorm");
    if (batchNormMomentum != null && !(batchNormMomentum >= 0 && batchNormMomentum < 1)) {
      throw new IllegalArgumentException("batch norm momentum must be in [0, 1), got "
          + batchNormMomentum);
    }
    if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
      throw new IllegalArgumentException("label smoothing must be in [0, 1), got "
          + labelSmoothing);
    }
    if (!(l2 >= 0) || Double.isInfinite(l2)) {
      throw new IllegalArgumentException("l2 must be finite and >= 0, got " + l2);
    }
    trainable = trainable == null ? null : List.copyOf(trainable);
    declaredSites = declaredSites == null ? Map.of() : Map.copyOf(declaredSites);
  }

  /**
   * Plain SGD, no smoothing, no L2, tensors from serving_default, every float variable, batch
   * norm in training mode.
   */
  public static TrainingSpec defaults() {
    return new TrainingSpec(SgdOptimizer.Kind.SGD, 0, 0, null, null, null, null,
        BatchNormTraining.Mode.TRAIN, null, Map.of());
  }

  /** With batch normalization trained (Keras semantics) or frozen. */
  public TrainingSpec withBatchNorm(BatchNormTraining.Mode mode) {
    return new TrainingSpec(optimizer, labelSmoothing, l2, logitsTensor, inputTensor, trainable,
        kfac, mode, batchNormMomentum, declaredSites);
  }

  /**
   * With one momentum for every trained BN's moving averages (null: the model's own, else
   * 0.99); e.g. 0.9 for runs too short for 0.99's averages to forget their start.
   */
  public TrainingSpec withBatchNormMomentum(Double momentum) {
    return new TrainingSpec(optimizer, labelSmoothing, l2, logitsTensor, inputTensor, trainable,
        kfac, batchNorm, momentum, declaredSites);
  }

  /** With K-FAC as the update rule (null: back to the SGD family). */
  public TrainingSpec withKfac(KfacOptions options) {
    return new TrainingSpec(optimizer, labelSmoothing, l2, logitsTensor, inputTensor, trainable,
        options, batchNorm, batchNormMomentum, declaredSites);
  }

  /** With another optimizer of the SGD family (K-FAC off). */
  public TrainingSpec withOptimizer(SgdOptimizer.Kind kind) {
    return new TrainingSpec(kind, labelSmoothing, l2, logitsTensor, inputTensor, trainable, null,
        batchNorm, batchNormMomentum, declaredSites);
  }

  /** With label smoothing epsilon. */
  public TrainingSpec withLabelSmoothing(double eps) {
    return new TrainingSpec(optimizer, eps, l2, logitsTensor, inputTensor, trainable, kfac,
        batchNorm, batchNormMomentum, declaredSites);
  }

  /** With an L2 coefficient on kernels. */
  public TrainingSpec withL2(double coefficient) {
    return new TrainingSpec(optimizer, labelSmoothing, coefficient, logitsTensor, inputTensor,
        trainable, kfac, batchNorm, batchNormMomentum, declaredSites);
  }

  /** With an explicit logits tensor. */
  public TrainingSpec withLogitsTensor(String tensor) {
    return new TrainingSpec(optimizer, labelSmoothing, l2, tensor, inputTensor, trainable, kfac,
        batchNorm, batchNormMomentum, declaredSites);
  }

  /** With an explicit input tensor. */
  public TrainingSpec withInputTensor(String tensor) {
    return new TrainingSpec(optimizer, labelSmoothing, l2, logitsTensor, tensor, trainable, kfac,
        batchNorm, batchNormMomentum, declaredSites);
  }

  /** With an explicit list of trainable variables. */
  public TrainingSpec withTrainable(List<String> variables) {
    return new TrainingSpec(optimizer, labelSmoothing, l2, logitsTensor, inputTensor, variables,
        kfac, batchNorm, batchNormMomentum, declaredSites);
  }

  /**
   * With the activation sites the model declares (node name to kind, from its shaping record), for
   * the structure analysis that finds the layers.
   */
  public TrainingSpec withDeclaredSites(Map<String, String> sites) {
    return new TrainingSpec(optimizer, labelSmoothing, l2, logitsTensor, inputTensor, trainable,
        kfac, batchNorm, batchNormMomentum, sites);
  }
}
