package dev.dks.trainers.graph;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * Batch normalization with Keras semantics in training: the matching half (which BN nodes train,
 * {@link #sites}) and the rewrite half ({@link #trainingForm}). {@link TrainingGraph} uses both,
 * {@link MovingStatistics} updates the moving averages each step and {@link InferenceCopy} keeps
 * an inference-form twin of the network for evaluation.
 *
 * <p>A <b>site</b> is a {@code FusedBatchNorm}, {@code FusedBatchNormV2} or {@code
 * FusedBatchNormV3} node in inference form ({@code is_training = false}, as the builder, the Keras
 * reader and served TF graphs hold them) whose mean and variance inputs are float32 variables of
 * the model (read directly or through {@code Identity}), each read by no other BN node. BN nodes
 * whose statistics are constants (frozen graphs) or shared, and nodes already in training form,
 * are left as they are.
 *
 * <p>In training form a site normalizes with the batch's statistics (per channel, over batch,
 * height and width) and, being {@code FusedBatchNormV3} (FusedBatchNorm v1 has no gradient in
 * TF's C++ registry; V1 and V2 nodes are converted), gives exact gradients through them. Its
 * outputs 1 and 2 are the batch mean and the batch variance with Bessel's correction
 * ({@code m / (m - 1)} for {@code m} values per channel), which is what Keras' fused BN and TF1's
 * {@code tf.layers.batch_normalization} fold into the moving variance.
 *
 * <p><b>Momentum</b>: {@code moving = moving * momentum + batch * (1 - momentum)}; the momentum of
 * a site is {@link TrainingSpec#batchNormMomentum()} when set, else {@code 1 - exponential_avg_factor} when the node carries that attribute with a value
 * other than 1 (TF2 Keras' fused form), otherwise {@link #DEFAULT_MOMENTUM} (Keras' default; TF1
 * called it {@code decay} and defaulted to 0.999).
 */
public final class BatchNormTraining {
  /** Keras' default BN momentum, used when the model stores none. */
  public static final double DEFAULT_MOMENTUM = 0.99;

  private static final Set<String> OPS = Set.of("FusedBatchNorm", "FusedBatchNormV2",
      "FusedBatchNormV3");

  private BatchNormTraining() {}

  /** How {@link TrainingGraph} treats batch normalization. */
  public enum Mode {
    /** Keras semantics: batch statistics in training steps, moving averages updated. */
    TRAIN,
    /** BN kept in inference form: fixed moving statistics, a per-channel affine map. */
    FROZEN
  }

  /**
   * One BN node that trains.
   *
   * @param node the BN node's name
   * @param meanVariable the moving mean variable
   * @param varianceVariable the moving variance variable
   * @param momentum the moving averages' momentum (see the class comment)
   */
  public record Site(String node, String meanVariable, String varianceVariable,
      double momentum) {}

  /** The sites of {@code model} (graph order). */
  public static List<Site> sites(Model model) {
    return sites(GraphView.of(model.graph()), floatVariables(model));
  }

  /** The sites of {@code model} with {@code momentum} for all of them (null: as found). */
  public static List<Site> sites(Model model, Double momentum) {
    List<Site> s = sites(model);
    return momentum == null ? s : s.stream()
        .map(x -> new Site(x.node(), x.meanVariable(), x.varianceVariable(), momentum)).toList();
  }

  /**
   * The sites of a graph view, given the names of the model's float32 variables.
   */
  public static List<Site> sites(GraphView g, Set<String> floatVariables) {
    List<Site> out = new ArrayList<>();
    Map<String, Integer> reads = new HashMap<>();
    List<NodeDef> candidates = new ArrayList<>();
    for (NodeDef n : g.nodes()) {
      if (!OPS.contains(n.getOp()) || n.getInputCount() < 5) {
        continue;
      }
      for (int i = 3; i <= 4; i++) {
        reads.merge(variableBehind(g, n.getInput(i)), 1, Integer::sum);
      }
      AttrValue t = n.getAttrMap().get("is_training");
      if (t == null || !t.getB()) {
        candidates.add(n);
      }
    }
    for (NodeDef n : candidates) {
      String mean = variableBehind(g, n.getInput(3));
      String var = variableBehind(g, n.getInput(4));
      if (!floatVariables.contains(mean) || !floatVariables.contains(var) || mean.equals(var)
          || reads.get(mean) != 1 || reads.get(var) != 1) {
        continue;
      }
      AttrValue f = n.getAttrMap().get("exponential_avg_factor");
      double momentum = f != null && f.getF() != 1f && f.getF() > 0 && f.getF() < 1
          ? 1 - Double.parseDouble(Float.toString(f.getF())) : DEFAULT_MOMENTUM;
      out.add(new Site(n.getName(), mean, var, momentum));
    }
    return out;
  }

  /** {@code model} with every site in training form (the moving averages are not updated). */
  public static Model trainingMode(Model model) {
    return model.with(trainingForm(model.graph(), sites(model)), model.variables());
  }

  /**
   * {@code graph} with each site as a {@code FusedBatchNormV3} with {@code is_training = true}
   * (same name, inputs and outputs 0..4; {@code exponential_avg_factor} reset to 1 so outputs 1
   * and 2 are the batch's own statistics).
   */
  public static GraphDef trainingForm(GraphDef graph, List<Site> sites) {
    Set<String> names = new java.util.HashSet<>();
    sites.forEach(s -> names.add(s.node()));
    GraphDef.Builder g = graph.toBuilder();
    for (NodeDef.Builder n : g.getNodeBuilderList()) {
      if (!names.contains(n.getName())) {
        continue;
      }
      if (!n.getOp().equals("FusedBatchNormV3")) {
        n.setOp("FusedBatchNormV3");
        n.putAttr("U", AttrValue.newBuilder().setType(DataType.DT_FLOAT).build());
      }
      n.putAttr("is_training", AttrValue.newBuilder().setB(true).build());
      n.putAttr("exponential_avg_factor", AttrValue.newBuilder().setF(1f).build());
    }
    return g.build();
  }

  /** The node behind {@code input} through Identity reads. */
  static String variableBehind(GraphView g, String input) {
    String src = TensorName.parse(input).node();
    while (g.contains(src) && g.get(src).getOp().equals("Identity")) {
      src = TensorName.parse(g.get(src).getInput(0)).node();
    }
    return src;
  }

  private static Set<String> floatVariables(Model model) {
    Set<String> out = new java.util.HashSet<>();
    model.variables().forEach((k, v) -> {
      if (v.getDtype() == DataType.DT_FLOAT) {
        out.add(k);
      }
    });
    return out;
  }
}
