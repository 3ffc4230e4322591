package dev.dks.rewriter.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A signature: a named entry point with named inputs and outputs, as in a SavedModel's
 * SignatureDef.
 *
 * @param key e.g. {@code serving_default}
 * @param methodName e.g. {@code tensorflow/serving/predict}
 * @param inputs input names to tensors
 * @param outputs output names to tensors
 */
public record Signature(
    String key, String methodName, Map<String, TensorSpec> inputs, Map<String, TensorSpec> outputs) {
  /** The key TF Serving calls by default. */
  public static final String SERVING_DEFAULT = "serving_default";
  /** The method name TF Serving's Predict API requires. */
  public static final String PREDICT_METHOD = "tensorflow/serving/predict";

  /** Copies the maps (order kept). */
  public Signature {
    inputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
    outputs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
  }
}
