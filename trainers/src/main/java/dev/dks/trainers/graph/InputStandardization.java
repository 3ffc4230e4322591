package dev.dks.trainers.graph;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.trainers.data.Dataset;
import java.util.List;
import java.util.Optional;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Per-channel standardization of the input as ops inside the model: {@code (x - mean[ch]) *
 * inverseStd[ch]} on the last (channel) axis of the serving input, with the statistics of the
 * training data as constants. Training and the exported serving model run the same ops, so users
 * keep feeding raw pixels and the serving signature does not change.
 *
 * <p>Why one would: raw Fashion-MNIST pixels in [0, 1] have mean 0.286 at every location, so
 * two images are highly correlated before the first layer, and a shaped network's C map only
 * raises correlations with depth; centering removes that shared component. Measured on the
 * 20-layer TAT CNN (README, {@code cnn} table) it did not help K-FAC with K-FAC-reduce conv
 * blocks (loss spikes, or divergence with adaptive damping), so {@code dks train} leaves it off
 * unless asked ({@code --standardize on}).
 *
 * <p>Conventions: the nodes live under {@link #SCOPE}; a model that already holds them (written by
 * an earlier {@code dks train}) is left as it is and its own constants are reported, so training a
 * trained model again never standardizes twice. A standard deviation below 1e-12 counts as 1 (a
 * constant channel becomes 0), as {@link Dataset#standardized(Dataset.ChannelStats)} does.
 */
public final class InputStandardization {
  /** The name scope of the inserted nodes. */
  public static final String SCOPE = "dks_input_standardization";
  private static final String MEAN = SCOPE + "/mean";
  private static final String INVERSE_STD = SCOPE + "/inverse_std";
  private static final String CENTERED = SCOPE + "/centered";
  private static final String OUT = SCOPE + "/standardized";

  private InputStandardization() {}

  /**
   * What {@link #apply} did.
   *
   * @param model the model to train (the input's with the ops, or the input unchanged)
   * @param mean the per-channel mean the model subtracts, or null when it standardizes nothing
   * @param std the per-channel standard deviation it divides by, or null
   * @param added whether this call added the ops (false: already present, or not applicable)
   * @param note a human sentence saying what happened
   */
  public record Result(Model model, float[] mean, float[] std, boolean added, String note) {
    /** Whether the returned model standardizes its input. */
    public boolean standardizes() {
      return mean != null;
    }
  }

  /**
   * The model with the standardization by {@code stats} in front of its serving input, or, when it
   * already has one, unchanged with the existing constants.
   *
   * @throws InputNotStandardizableException when the input is not a float32 [-1, h, w, C] image
   *     with C the channels of {@code stats}: standardization was asked for and cannot be done
   */
  public static Result apply(Model m, Dataset.ChannelStats stats) {
    Optional<float[][]> existing = existing(m);
    if (existing.isPresent()) {
      return new Result(m, existing.get()[0], existing.get()[1], false,
          "the model already standardizes its input (" + SCOPE + ", from an earlier dks train)");
    }
    TensorSpec in = m.signature(Signature.SERVING_DEFAULT).inputs().values().iterator().next();
    int c = stats.mean().length;
    long[] shape = in.shape();
    if (in.dtype() != DataType.DT_FLOAT || shape == null || shape.length != 4
        || shape[3] != c) {
      throw new InputNotStandardizableException("cannot standardize the input per channel: '"
          + in.tensor() + "' is " + (in.dtype() == DataType.DT_FLOAT ? "float32"
              : in.dtype().name().replaceFirst("^DT_", "").toLowerCase(java.util.Locale.ROOT)) + " " + (shape == null ? "of unknown shape"
              : java.util.Arrays.toString(shape)) + ", not a float32 [-1, h, w, " + c
          + "] image (" + c + " channel" + (c == 1 ? "" : "s") + " as in the data); train "
          + "without it (dks train --standardize off)");
    }
    float[] mean = stats.mean().clone();
    float[] std = new float[c];
    float[] inv = new float[c];
    for (int ch = 0; ch < c; ch++) {
      std[ch] = stats.std()[ch] > 1e-12f ? stats.std()[ch] : 1f;
      inv[ch] = 1f / std[ch];
    }
    GraphView g = GraphView.of(m.graph());
    TensorName x = in.tensor();
    g.add(Nodes.constant(MEAN, TensorProtos.ofFloats(new long[] {c}, mean)));
    g.add(Nodes.constant(INVERSE_STD, TensorProtos.ofFloats(new long[] {c}, inv)));
    g.add(Nodes.op("Sub", CENTERED).input(x).input(MEAN).type("T", DataType.DT_FLOAT).build());
    g.add(Nodes.op("Mul", OUT).input(CENTERED).input(INVERSE_STD).type("T", DataType.DT_FLOAT)
        .build());
    g.replaceUses(x, TensorName.of(OUT), List.of(CENTERED));
    return new Result(m.with(g.toGraphDef(), m.variables()), mean, std, true,
        "input standardized per channel by the training data's statistics (part of the "
            + "exported models; feed raw values)");
  }

  /** The mean and standard deviation of a model's existing standardization, if it has one. */
  public static Optional<float[][]> existing(Model m) {
    NodeDef mean = null;
    NodeDef inv = null;
    for (NodeDef n : m.graph().getNodeList()) {
      if (n.getName().equals(MEAN)) {
        mean = n;
      } else if (n.getName().equals(INVERSE_STD)) {
        inv = n;
      }
    }
    if (mean == null || inv == null) {
      return Optional.empty();
    }
    float[] mu = TensorProtos.floats(mean.getAttrOrThrow("value").getTensor());
    float[] is = TensorProtos.floats(inv.getAttrOrThrow("value").getTensor());
    float[] s = new float[is.length];
    for (int i = 0; i < s.length; i++) {
      s[i] = 1f / is[i];
    }
    return Optional.of(new float[][] {mu, s});
  }
}
