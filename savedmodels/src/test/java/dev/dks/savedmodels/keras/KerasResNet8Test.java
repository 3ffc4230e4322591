package dev.dks.savedmodels.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.rewriter.passes.norm.StripNormalizationPass;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.savedmodels.TestAssets;
import dev.dks.savedmodels.keras.ReferenceOps.T;
import io.jhdf.HdfFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * The MLPerf Tiny ResNet-8 (Keras HDF5, {@code ../shared/models/keras_h5_mlperftiny_resnet8}):
 * loads, has its 7 batch norms as FusedBatchNormV3 and its 3 residual AddV2, and its logits and
 * probabilities on a random input equal an independent double-precision forward pass computed
 * here from the HDF5 weights (read with jHDF directly, not through the reader).
 */
class KerasResNet8Test {
  private static final String H5 = "keras_h5_mlperftiny_resnet8/pretrainedResnet.h5";

  @Test
  void loadsRunsAndMatchesReferenceForwardPass() throws Exception {
    Path h5 = TestAssets.sharedModel(H5);
    Model m = KerasModelReader.readH5(h5);

    Map<String, Integer> ops = new HashMap<>();
    for (NodeDef n : m.graph().getNodeList()) {
      ops.merge(n.getOp(), 1, Integer::sum);
    }
    System.out.println("resnet8 ops: " + new java.util.TreeMap<>(ops));
    assertEquals(7, ops.get("FusedBatchNormV3"));
    assertEquals(3, ops.get("AddV2"));
    assertEquals(9, ops.get("Conv2D"));
    // 9 conv kernels + biases, 7 x 4 BN parameters, dense kernel + bias
    assertEquals(9 * 2 + 7 * 4 + 2, m.variables().size());
    for (NodeDef n : m.graph().getNodeList()) {
      if (n.getOp().equals("FusedBatchNormV3")) {
        assertEquals(false, n.getAttrOrThrow("is_training").getB());
        for (int i = 1; i < 5; i++) {
          String var = TensorName.parse(n.getInput(i)).node().replace("/read", "");
          assertTrue(m.variables().containsKey(var), n.getName() + " reads " + var);
        }
      }
    }

    Signature sig = m.signature(Signature.SERVING_DEFAULT);
    assertEquals(Signature.PREDICT_METHOD, sig.methodName());
    assertEquals(List.of("input_1"), List.copyOf(sig.inputs().keySet()));
    assertEquals(List.of("dense"), List.copyOf(sig.outputs().keySet()));
    TensorSpec in = sig.inputs().get("input_1");
    assertEquals("[-1, 32, 32, 3]", Arrays.toString(in.shape()));
    assertEquals("[-1, 10]", Arrays.toString(sig.outputs().get("dense").shape()));

    Random rnd = new Random(42);
    float[] x = new float[32 * 32 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextFloat();
    }
    float[] probs;
    float[] logits;
    try (ModelSession s = new ModelSession(m)) {
      Map<String, TensorProto> out = s.run(
          Map.of(in.tensor().toString(), TensorProtos.ofFloats(new long[] {1, 32, 32, 3}, x)),
          List.of(sig.outputs().get("dense").tensor().toString(), "dense/BiasAdd"));
      probs = TensorProtos.floats(out.get(sig.outputs().get("dense").tensor().toString()));
      logits = TensorProtos.floats(out.get("dense/BiasAdd"));
    }

    double[] refLogits = reference(h5, x);
    double[] refProbs = ReferenceOps.softmax(refLogits);
    double eLogits = ReferenceOps.relError(logits, refLogits);
    double eProbs = ReferenceOps.relError(probs, refProbs);
    System.out.printf("resnet8 logits (TF)  %s%nresnet8 logits (ref) %s%n"
        + "relative error: logits %.3g, probabilities %.3g%n", Arrays.toString(logits),
        Arrays.toString(refLogits), eLogits, eProbs);
    assertTrue(eLogits < 1e-4, "logits relative error " + eLogits);
    assertTrue(eProbs < 1e-4, "probabilities relative error " + eProbs);
  }

  /**
   * The batch norms are real FusedBatchNormV3 nodes over VariableV2 parameters: the rewriter's
   * strip-norm pass (fold mode) removes all 7 and the function is unchanged.
   */
  @Test
  void rewriterFoldsAllBatchNorms() {
    Model m = KerasModelReader.readH5(TestAssets.sharedModel(H5));
    GraphView g = GraphView.of(m.graph());
    RewriteContext ctx = new RewriteContext(g, m.variables(), m.inputNodes(), m.outputNodes());
    PassOutcome o = new StripNormalizationPass(StripNormalizationPass.Mode.FOLD).run(ctx);
    Model folded = m.with(g.toGraphDef(), ctx.variables());
    long left = folded.graph().getNodeList().stream()
        .filter(n -> n.getOp().startsWith("FusedBatchNorm")).count();
    System.out.println("strip-norm (fold): " + o.changes() + " changes, " + left + " left");
    assertEquals(7, o.changes());
    assertEquals(0, left);

    Random rnd = new Random(7);
    float[] x = new float[2 * 32 * 32 * 3];
    for (int i = 0; i < x.length; i++) {
      x[i] = rnd.nextFloat();
    }
    Map<String, TensorProto> feed =
        Map.of("input_1", TensorProtos.ofFloats(new long[] {2, 32, 32, 3}, x));
    float[] a;
    float[] b;
    try (ModelSession s = new ModelSession(m)) {
      a = TensorProtos.floats(s.run(feed, List.of("dense/BiasAdd")).get("dense/BiasAdd"));
    }
    try (ModelSession s = new ModelSession(folded)) {
      b = TensorProtos.floats(s.run(feed, List.of("dense/BiasAdd")).get("dense/BiasAdd"));
    }
    double maxDiff = 0;
    for (int i = 0; i < a.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    }
    System.out.printf("folded vs original logits: max abs diff %.3g%n", maxDiff);
    assertTrue(maxDiff < 1e-4, "max abs diff " + maxDiff);
  }

  /** Forward pass of exactly this model's layer kinds, walking the config in file order. */
  private static double[] reference(Path h5, float[] input) throws Exception {
    JsonNode cfg;
    Map<String, T> acts = new HashMap<>();
    double[] flat = null;
    double[] logits = null;
    try (HdfFile f = new HdfFile(h5)) {
      cfg = new ObjectMapper().readTree((String) f.getAttribute("model_config").getData());
      double[] v = new double[input.length];
      for (int i = 0; i < v.length; i++) {
        v[i] = input[i];
      }
      for (JsonNode l : cfg.get("config").get("layers")) {
        String name = l.get("name").asText();
        String cls = l.get("class_name").asText();
        JsonNode c = l.get("config");
        JsonNode inbound = l.get("inbound_nodes");
        T x = inbound.isEmpty() ? null : acts.get(inbound.get(0).get(0).get(0).asText());
        String p = "model_weights/" + name + "/" + name + "/";
        switch (cls) {
          case "InputLayer" -> acts.put(name, new T(32, 32, 3, v));
          case "Conv2D" -> {
            int k = c.get("kernel_size").get(0).asInt();
            int s = c.get("strides").get(0).asInt();
            assertEquals("same", c.get("padding").asText());
            acts.put(name, ReferenceOps.conv(x, w(f, p + "kernel:0"), k, k,
                c.get("filters").asInt(), s, 1, true, w(f, p + "bias:0")));
          }
          case "BatchNormalization" -> acts.put(name, ReferenceOps.batchNorm(x,
              w(f, p + "gamma:0"), w(f, p + "beta:0"), w(f, p + "moving_mean:0"),
              w(f, p + "moving_variance:0"), c.get("epsilon").asDouble()));
          case "Activation" -> {
            assertEquals("relu", c.get("activation").asText());
            acts.put(name, ReferenceOps.relu(x, Double.POSITIVE_INFINITY));
          }
          case "Add" -> acts.put(name, ReferenceOps.add(x,
              acts.get(inbound.get(0).get(1).get(0).asText())));
          case "AveragePooling2D" -> {
            assertEquals("valid", c.get("padding").asText());
            acts.put(name, ReferenceOps.pool(x, c.get("pool_size").get(0).asInt(),
                c.get("strides").get(0).asInt(), false, false));
          }
          case "Flatten" -> flat = x.v();
          case "Dense" -> {
            assertEquals("softmax", c.get("activation").asText());
            logits = ReferenceOps.dense(flat, w(f, p + "kernel:0"), w(f, p + "bias:0"),
                c.get("units").asInt());
          }
          default -> throw new AssertionError("reference has no " + cls);
        }
      }
    }
    return logits;
  }

  private static float[] w(HdfFile f, String path) {
    return (float[]) f.getDatasetByPath(path).getDataFlat();
  }
}
