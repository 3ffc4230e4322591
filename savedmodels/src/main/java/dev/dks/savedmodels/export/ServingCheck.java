package dev.dks.savedmodels.export;

import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.safety.UnsafeOpsException;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.TensorValues;
import dev.dks.savedmodels.UntrustedOps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * The serving contract check: loads a SavedModel folder with only the {@code serve} tag through
 * TensorFlow's C API (as TF Serving does), reads {@code serving_default} from the MetaGraphDef the
 * way TF Serving's Predict handler does (method name, input and output TensorInfo names, dtypes
 * and shapes), feeds a batch of the declared shape (unknown dimensions: batch 2, others 1; floats
 * uniform in [0, 1), strings empty unless the graph decodes them ({@link StringInputs}: a WAV for
 * {@code DecodeWav}, a small image for the image decoders), other types zero) and checks that every output has the declared dtype and
 * shape and that float outputs are finite.
 *
 * <p>Judged as TF Serving judges: an input of unknown rank is served (the client picks the
 * shape), so it is a warning, not a failure; the check feeds the shape given for it, or else the
 * first of {@link #UNKNOWN_RANK_TRIALS} the graph runs with (it fails only when none runs, and
 * says to give one). A model without variables has no checkpoint to restore and passes; a
 * failure of a model that has variables but no {@code variables/variables.index} says the
 * checkpoint is gone.
 *
 * <p>Untrusted models (issue 17): TensorFlow's loader runs the folder's init and restore ops and
 * the check runs {@code serving_default}, so before anything is loaded the folder's meta graphs
 * are scanned ({@link UntrustedOps#requireSafeSavedModel}): an op of {@link
 * dev.dks.rewriter.safety.OpPolicy} (file or stream I/O) on a serving path, in the init op or in
 * a restore other than the saver's own ends the check with {@link UnsafeOpsException} unless the
 * caller allows its op type, and files the loader would read outside the folder (assets, links),
 * an oversized saved_model.pb or an out-of-bounds tensor with {@link ModelFormatException}. These
 * are refusals, not verdicts: nothing ran.
 */
public final class ServingCheck {
  /** Batch size fed for an unknown leading dimension. */
  public static final int BATCH = 2;

  /** The shapes tried, in order, for an input of unknown rank without a given shape. */
  public static final List<long[]> UNKNOWN_RANK_TRIALS = List.of(new long[] {BATCH},
      new long[] {BATCH, 1}, new long[] {BATCH, 1, 1}, new long[] {BATCH, 1, 1, 1}, new long[0]);

  private static final java.util.Set<String> VARIABLE_OPS =
      java.util.Set.of("VariableV2", "Variable", "VarHandleOp");

  private ServingCheck() {}

  /**
   * One checked tensor.
   *
   * @param key the signature's name for it
   * @param tensor the graph tensor name
   * @param dtype its dtype
   * @param declared its declared shape (-1 unknown), null for unknown rank
   * @param actual the fed or fetched shape
   */
  public record TensorCheck(
      String key, String tensor, DataType dtype, long[] declared, long[] actual) {}

  /**
   * The verdict.
   *
   * @param passed whether the folder honours the serving contract
   * @param reason why not (empty when passed)
   * @param inputs the fed inputs
   * @param outputs the fetched outputs
   * @param warnings what TF Serving accepts but a client should know (e.g. an unknown rank)
   */
  public record Result(boolean passed, String reason, List<TensorCheck> inputs,
      List<TensorCheck> outputs, List<String> warnings) {
    /** A result without warnings. */
    public Result(
        boolean passed, String reason, List<TensorCheck> inputs, List<TensorCheck> outputs) {
      this(passed, reason, inputs, outputs, List.of());
    }

    static Result fail(String reason) {
      return new Result(false, reason, List.of(), List.of());
    }
  }

  /**
   * Checks the folder; never throws for a broken model, it says why in the result.
   *
   * @throws UnsafeOpsException when the folder holds an op with effects outside the tensors that
   *     loading or serving would run (nothing is loaded then)
   * @throws ModelFormatException when a file the loader would read lies outside the folder, or
   *     saved_model.pb or a tensor it holds exceeds its bounds
   */
  public static Result check(Path dir) {
    return check(dir, Map.of());
  }

  /**
   * Checks the folder feeding {@code inputShapes} (by signature input key) where given; never
   * throws for a broken model, it says why in the result.
   *
   * @throws IllegalArgumentException when a given shape names no input of {@code
   *     serving_default} or contradicts the input's declared shape (a request TF Serving would
   *     refuse)
   * @throws UnsafeOpsException when the folder holds an op with effects outside the tensors that
   *     loading or serving would run (nothing is loaded then)
   * @throws ModelFormatException when a file the loader would read lies outside the folder, or
   *     saved_model.pb or a tensor it holds exceeds its bounds
   */
  public static Result check(Path dir, Map<String, long[]> inputShapes) {
    return check(dir, inputShapes, Set.of());
  }

  /**
   * As {@link #check(Path, Map)}, accepting the policy ops in {@code allowedOps} (op types, e.g.
   * {@code PrintV2}, for a model the caller trusts; TensorFlow then runs them).
   *
   * @throws UnsafeOpsException when the folder holds another op with effects outside the tensors
   *     that loading or serving would run (nothing is loaded then)
   */
  public static Result check(Path dir, Map<String, long[]> inputShapes, Set<String> allowedOps) {
    if (!Files.isDirectory(dir)) {
      return Result.fail(dir + " is not a folder");
    }
    if (!Files.isRegularFile(dir.resolve("saved_model.pb"))) {
      return Result.fail(dir + " has no saved_model.pb");
    }
    UntrustedOps.requireSafeSavedModel(dir, allowedOps);
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(dir.toString()).withTags(ServingExporter.SERVE_TAG).load();
    } catch (RuntimeException | Error e) {
      return Result.fail("TensorFlow cannot load " + dir + " with the tag 'serve': "
          + e.getMessage());
    }
    try (bundle) {
      SignatureDef sig = bundle.metaGraphDef().getSignatureDefMap().get("serving_default");
      if (sig == null) {
        return Result.fail("no 'serving_default' signature; the model has "
            + bundle.metaGraphDef().getSignatureDefMap().keySet());
      }
      if (!sig.getMethodName().equals("tensorflow/serving/predict")) {
        return Result.fail("serving_default has method name '" + sig.getMethodName()
            + "'; TF Serving's Predict API needs 'tensorflow/serving/predict'");
      }
      validate(sig, inputShapes);
      StringInputs strings = new StringInputs(bundle.metaGraphDef().getGraphDef());
      Result r = run(bundle.session(), sig, inputShapes, strings);
      return r.passed() ? r : withCheckpointHint(dir, bundle.metaGraphDef().getGraphDef(), r);
    }
  }

  private static void validate(SignatureDef sig, Map<String, long[]> given) {
    for (Map.Entry<String, long[]> e : given.entrySet()) {
      TensorInfo info = sig.getInputsMap().get(e.getKey());
      if (info == null) {
        throw new IllegalArgumentException("--input-shape " + e.getKey() + ": serving_default "
            + "has no input '" + e.getKey() + "'; its inputs are " + sig.getInputsMap().keySet());
      }
      long[] declared = declared(info.getTensorShape());
      long[] shape = e.getValue();
      boolean fits = declared == null || declared.length == shape.length;
      for (int i = 0; fits && i < shape.length; i++) {
        fits = shape[i] >= 0 && (declared == null || declared[i] < 0 || declared[i] == shape[i]);
      }
      if (!fits) {
        throw new IllegalArgumentException("--input-shape " + e.getKey() + "="
            + java.util.Arrays.toString(shape) + " does not fit its declared shape "
            + (declared == null ? "(unknown rank)" : java.util.Arrays.toString(declared)));
      }
    }
  }

  /**
   * A failed model that has variables but whose checkpoint index is missing: say so (TensorFlow
   * loads such a folder silently and only fails when a variable is read uninitialized). A model
   * without variables needs no checkpoint.
   */
  private static Result withCheckpointHint(Path dir, org.tensorflow.proto.GraphDef graph,
      Result r) {
    Path variables = dir.resolve("variables");
    Path index = variables.resolve("variables.index");
    if (Files.exists(index) || !hasVariables(graph)) {
      return r;
    }
    String what = (Files.isDirectory(variables) ? index : variables) + " is missing";
    return new Result(false, r.reason() + " (the variables checkpoint is gone: " + what + ")",
        r.inputs(), r.outputs(), r.warnings());
  }

  /** Whether the graph (or a function of its library) holds a variable op. */
  static boolean hasVariables(org.tensorflow.proto.GraphDef graph) {
    if (graph.getNodeList().stream().anyMatch(n -> VARIABLE_OPS.contains(n.getOp()))) {
      return true;
    }
    return graph.getLibrary().getFunctionList().stream().flatMap(f -> f.getNodeDefList().stream())
        .anyMatch(n -> VARIABLE_OPS.contains(n.getOp()));
  }

  /**
   * Runs the signature; inputs of unknown rank without a given shape get each shape of {@link
   * #UNKNOWN_RANK_TRIALS} in turn until TensorFlow runs the graph.
   */
  private static Result run(Session session, SignatureDef sig, Map<String, long[]> given,
      StringInputs strings) {
    List<String> unknown = new ArrayList<>();
    sig.getInputsMap().forEach((k, v) -> {
      if (v.getTensorShape().getUnknownRank() && !given.containsKey(k)) {
        unknown.add(k);
      }
    });
    if (unknown.isEmpty()) {
      return run(session, sig, given, List.of(), strings);
    }
    List<String> tried = new ArrayList<>();
    for (long[] trial : UNKNOWN_RANK_TRIALS) {
      Map<String, long[]> shapes = new java.util.HashMap<>(given);
      unknown.forEach(k -> shapes.put(k, trial));
      List<String> warnings = new ArrayList<>();
      for (String k : unknown) {
        warnings.add("input '" + k + "' has an unknown rank: TF Serving serves it and clients "
            + "choose the shape; fed " + java.util.Arrays.toString(trial)
            + ", a shape the graph accepts (choose one with --input-shape " + k + "=DIMS)");
      }
      Result r = run(session, sig, shapes, warnings, strings);
      if (r.passed() || !r.reason().startsWith(RUN_FAILED)) {
        return r;
      }
      tried.add(java.util.Arrays.toString(trial));
    }
    return Result.fail("input" + (unknown.size() > 1 ? "s " : " ") + "'"
        + String.join("', '", unknown) + "' " + (unknown.size() > 1 ? "have" : "has")
        + " an unknown rank and the graph runs with none of the shapes tried ("
        + String.join(", ", tried) + "): give one with --input-shape " + unknown.get(0)
        + "=DIMS");
  }

  private static final String RUN_FAILED = "running serving_default failed: ";

  private static Result run(Session session, SignatureDef sig, Map<String, long[]> given,
      List<String> warnings, StringInputs strings) {
    List<Tensor> opened = new ArrayList<>();
    List<TensorCheck> ins = new ArrayList<>();
    List<TensorCheck> outs = new ArrayList<>();
    SplittableRandom rng = new SplittableRandom(1);
    try {
      Session.Runner r = session.runner();
      for (Map.Entry<String, TensorInfo> e : sig.getInputsMap().entrySet()) {
        TensorInfo info = e.getValue();
        long[] declared = declared(info.getTensorShape());
        long[] shape = given.get(e.getKey());
        if (shape == null) {
          shape = declared.clone(); // unknown-rank inputs always have a shape in given
          for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
              shape[i] = i == 0 ? BATCH : 1;
            }
          }
        }
        String refused = strings.refusal(info.getName());
        if (refused != null) {
          return new Result(false, "input '" + e.getKey() + "': " + refused, ins, outs,
              warnings);
        }
        Tensor t;
        try {
          t = TensorValues.toTensor(sample(info.getDtype(), shape, rng,
              strings.valueFor(info.getName())));
        } catch (RuntimeException ex) {
          return Result.fail("input '" + e.getKey() + "' has dtype " + info.getDtype()
              + ", which cannot be fed: " + ex.getMessage());
        }
        opened.add(t);
        r.feed(info.getName(), t);
        ins.add(new TensorCheck(e.getKey(), info.getName(), info.getDtype(), declared, shape));
      }
      List<Map.Entry<String, TensorInfo>> outputs = new ArrayList<>(sig.getOutputsMap()
          .entrySet());
      outputs.forEach(e -> r.fetch(e.getValue().getName()));
      try (org.tensorflow.Result res = r.run()) {
        for (int i = 0; i < outputs.size(); i++) {
          TensorInfo info = outputs.get(i).getValue();
          Tensor t = res.get(i);
          long[] actual = t.shape().asArray();
          long[] declared = declared(info.getTensorShape());
          outs.add(new TensorCheck(outputs.get(i).getKey(), info.getName(), info.getDtype(),
              declared, actual));
          String bad = compare(outputs.get(i).getKey(), info, declared, t);
          if (bad != null) {
            return new Result(false, bad, ins, outs, warnings);
          }
        }
      }
      return new Result(true, "", ins, outs, warnings);
    } catch (RuntimeException e) {
      return new Result(false, RUN_FAILED + e.getMessage(), ins, outs, warnings);
    } finally {
      opened.forEach(Tensor::close);
    }
  }

  private static String compare(String key, TensorInfo info, long[] declared, Tensor t) {
    if (t.dataType() != info.getDtype()) {
      return "output '" + key + "' is " + t.dataType() + " but declared " + info.getDtype();
    }
    long[] actual = t.shape().asArray();
    if (declared != null) {
      if (declared.length != actual.length) {
        return "output '" + key + "' has rank " + actual.length + " but declared "
            + declared.length;
      }
      for (int d = 0; d < declared.length; d++) {
        if (declared[d] >= 0 && declared[d] != actual[d]) {
          return "output '" + key + "' has shape " + java.util.Arrays.toString(actual)
              + " but declared " + java.util.Arrays.toString(declared);
        }
      }
    }
    if (t.dataType() == DataType.DT_FLOAT) {
      for (float v : TensorProtos.floats(TensorProtos.fromTensor(t))) {
        if (!Float.isFinite(v)) {
          return "output '" + key + "' holds a non-finite value (" + v + ")";
        }
      }
    }
    return null;
  }

  private static long[] declared(TensorShapeProto s) {
    if (s.getUnknownRank()) {
      return null;
    }
    return s.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
  }

  private static TensorProto sample(DataType dtype, long[] shape, SplittableRandom rng,
      com.google.protobuf.ByteString stringValue) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (dtype == DataType.DT_FLOAT) {
      float[] v = new float[Math.toIntExact(n)];
      for (int i = 0; i < v.length; i++) {
        v[i] = (float) rng.nextDouble();
      }
      return TensorProtos.ofFloats(shape, v);
    }
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(dtype)
        .setTensorShape(TensorProtos.shapeProto(shape));
    if (dtype == DataType.DT_STRING) {
      for (long i = 0; i < n; i++) {
        b.addStringVal(stringValue);
      }
      return b.build();
    }
    int size = switch (dtype) {
      case DT_DOUBLE, DT_INT64, DT_UINT64 -> 8;
      case DT_INT32, DT_UINT32 -> 4;
      case DT_HALF, DT_BFLOAT16, DT_INT16, DT_UINT16 -> 2;
      default -> 1;
    };
    return b.setTensorContent(com.google.protobuf.ByteString.copyFrom(new byte[Math.toIntExact(
        n * size)])).build();
  }
}
