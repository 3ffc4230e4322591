package dev.dks.savedmodels.keras;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dks.rewriter.activation.ActivationEmitter;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.LayerNodes;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.OpRegistry;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.model.TensorSpec;
import dev.dks.savedmodels.ModelFormatException;
import dev.dks.savedmodels.keras.KerasConfig.Layer;
import dev.dks.savedmodels.keras.KerasConfig.Ref;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.StandardActivation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Builds a TF1 inference graph at NodeDef level (NHWC, float32) from a {@link KerasConfig} and the
 * layers' weights, in the conventions of the rewriter's model builder: weights are {@code
 * VariableV2 <layer>/<role>} read through {@code Identity <layer>/<role>/read}, convolutions are
 * {@code Conv2D} / {@code DepthwiseConv2dNative} + {@code BiasAdd}, dense layers {@code MatMul} +
 * {@code BiasAdd}, batch normalization is one {@code FusedBatchNormV3} in inference form, global
 * pooling is {@code Mean} over axes [1, 2], merges are {@code AddV2} / {@code ConcatV2}. Each input
 * layer is a float32 {@code Placeholder} named after it and each model output an {@code Identity}
 * named after its layer. Every node gets the op registry's default attributes.
 *
 * <p>Shapes are tracked statically (batch -1) to size reshapes and to check each weight against the
 * layer's config and input; a mismatch fails naming the layer.
 */
final class KerasGraphBuilder {
  /** The layer classes this builder knows. */
  static final Set<String> SUPPORTED = Set.of("InputLayer", "Conv2D", "Convolution2D",
      "DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D", "Dense",
      "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "PReLU", "Softmax", "Add",
      "Concatenate", "ZeroPadding2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D",
      "AvgPool2D", "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D",
      "GlobalMaxPool2D", "Flatten", "Reshape", "Dropout", "SpatialDropout2D");

  /** Keras clamps a fused batch norm's epsilon to this (cuDNN's minimum). */
  static final float MIN_FUSED_EPSILON = 1.001e-5f;

  private static final DataType F = DataType.DT_FLOAT;

  /** A tensor and its static shape (-1 = unknown). */
  private record Value(TensorName t, long[] shape) {
    int rank() {
      return shape.length;
    }

    long last() {
      return shape[shape.length - 1];
    }
  }

  private final GraphView graph = GraphView.of(GraphDef.newBuilder()
      .setVersions(OpRegistry.runtimeVersions()).build());
  private final Map<String, TensorProto> variables = new LinkedHashMap<>();
  private final Map<String, List<KerasWeight>> weights;
  /** Variable reads made so far, by variable name (shared layers reuse them). */
  private final Map<String, TensorName> reads = new HashMap<>();
  private final Set<String> scopes = new HashSet<>();
  private final Map<String, Value> values = new HashMap<>();
  private final Map<String, TensorSpec> inputSpecs = new LinkedHashMap<>();

  private KerasGraphBuilder(Map<String, List<KerasWeight>> weights) {
    this.weights = weights;
  }

  /**
   * The model for {@code config} with the weights by layer name.
   *
   * @throws ModelFormatException naming the layer at fault
   */
  static Model build(KerasConfig config, Map<String, List<KerasWeight>> weights) {
    return new KerasGraphBuilder(weights).run(config);
  }

  private Model run(KerasConfig cfg) {
    for (Layer l : cfg.layers) {
      if (!SUPPORTED.contains(l.className())) {
        throw new ModelFormatException(l.describe() + ": unsupported layer type '"
            + l.className() + "' (supported: " + new java.util.TreeSet<>(SUPPORTED) + ")");
      }
    }
    Map<String, Layer> byName = new HashMap<>();
    cfg.layers.forEach(l -> byName.put(l.name(), l));
    Map<String, Integer> done = new HashMap<>();
    boolean progress = true;
    while (progress) {
      progress = false;
      for (Layer l : cfg.layers) {
        int k = done.getOrDefault(l.name(), 0);
        int calls = l.className().equals("InputLayer") ? 1 : l.calls().size();
        while (k < calls) {
          List<Ref> refs = l.className().equals("InputLayer") ? List.of() : l.calls().get(k);
          List<Value> ins = new ArrayList<>();
          for (Ref r : refs) {
            Value v = values.get(key(r));
            if (v == null) {
              break;
            }
            ins.add(v);
          }
          if (ins.size() < refs.size()) {
            break;
          }
          values.put(key(new Ref(l.name(), k, 0)), emit(l, k, ins));
          k++;
          progress = true;
        }
        done.put(l.name(), k);
      }
    }
    Map<String, TensorSpec> outSpecs = new LinkedHashMap<>();
    for (Ref r : cfg.outputs) {
      Value v = values.get(key(r));
      if (v == null) {
        throw new ModelFormatException("the model output " + r + " cannot be computed: "
            + unresolved(cfg, byName, r));
      }
      String name = uniqueScope(sanitize(r.layer()));
      TensorName out = add(Nodes.op("Identity", name).input(v.t()).type("T", F).build());
      String key = outSpecs.containsKey(r.layer()) ? r.layer() + "_" + r.node() : r.layer();
      outSpecs.put(key, new TensorSpec(out, F, v.shape().clone()));
    }
    Map<String, TensorSpec> inSpecs = new LinkedHashMap<>();
    for (Ref r : cfg.inputs) {
      TensorSpec s = inputSpecs.get(r.layer());
      if (s == null) {
        throw new ModelFormatException("the model input '" + r.layer() + "' is not an "
            + "InputLayer");
      }
      inSpecs.put(r.layer(), s);
    }
    Signature sig = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD, inSpecs,
        outSpecs);
    GraphDef def = finish();
    check(def);
    return new Model(def, variables, List.of(sig));
  }

  /** Why output {@code r} is not computed: the first missing producer found upstream. */
  private String unresolved(KerasConfig cfg, Map<String, Layer> byName, Ref r) {
    Set<String> seen = new HashSet<>();
    Ref cur = r;
    while (seen.add(key(cur))) {
      Layer l = byName.get(cur.layer());
      if (l == null) {
        return "no layer is named '" + cur.layer() + "'";
      }
      if (cur.tensor() != 0) {
        return l.describe() + " has one output, tensor " + cur.tensor() + " is read";
      }
      if (!l.className().equals("InputLayer") && cur.node() >= l.calls().size()) {
        return l.describe() + " has " + l.calls().size() + " call(s), call " + cur.node()
            + " is read";
      }
      Ref next = null;
      for (Ref in : l.className().equals("InputLayer") ? List.<Ref>of()
          : l.calls().get(cur.node())) {
        if (!values.containsKey(key(in))) {
          next = in;
          break;
        }
      }
      if (next == null) {
        return l.describe() + " is never reached";
      }
      cur = next;
    }
    return "the layers form a cycle through '" + cur.layer() + "'";
  }

  private static String key(Ref r) {
    return r.layer() + "\u0000" + r.node() + "\u0000" + r.tensor();
  }

  // ---------------------------------------------------------------- layers

  private Value emit(Layer l, int call, List<Value> in) {
    String scope = uniqueScope(sanitize(l.name()) + (call == 0 ? "" : "_call" + call));
    String vscope = sanitize(l.name());
    JsonNode c = l.config();
    if (!l.className().equals("InputLayer")) {
      if (in.isEmpty()) {
        throw new ModelFormatException(l.describe() + " has no input");
      }
      String df = KerasConfig.text(c.get("data_format"));
      if (df != null && !df.equals("channels_last")) {
        throw new ModelFormatException(l.describe() + ": data_format '" + df + "' is not "
            + "supported (channels_last only)");
      }
      boolean merge = l.className().equals("Add") || l.className().equals("Concatenate");
      if (!merge && in.size() != 1) {
        throw new ModelFormatException(l.describe() + " is called on " + in.size()
            + " tensors; it takes one");
      }
    }
    Value x = in.isEmpty() ? null : in.get(0);
    return switch (l.className()) {
      case "InputLayer" -> input(l, scope);
      case "Conv2D", "Convolution2D" -> conv(l, scope, vscope, x);
      case "DepthwiseConv2D" -> depthwise(l, scope, vscope, x);
      case "SeparableConv2D", "SeparableConvolution2D" -> separable(l, scope, vscope, x);
      case "Dense" -> dense(l, scope, vscope, x);
      case "BatchNormalization" -> batchNorm(l, scope, vscope, x);
      case "Activation" -> activation(l, scope, x, c.get("activation"));
      case "ReLU" -> relu(l, scope, x);
      case "LeakyReLU" -> leakyRelu(l, scope, x);
      case "PReLU" -> prelu(l, scope, vscope, x);
      case "Softmax" -> softmax(l, scope, x);
      case "Add" -> addLayer(l, scope, in);
      case "Concatenate" -> concat(l, scope, in);
      case "ZeroPadding2D" -> zeroPad(l, scope, x);
      case "MaxPooling2D", "MaxPool2D" -> pool(l, scope, x, "MaxPool");
      case "AveragePooling2D", "AvgPool2D" -> pool(l, scope, x, "AvgPool");
      case "GlobalAveragePooling2D", "GlobalAvgPool2D" -> globalPool(l, scope, x, "Mean");
      case "GlobalMaxPooling2D", "GlobalMaxPool2D" -> globalPool(l, scope, x, "Max");
      case "Flatten" -> flatten(l, scope, x);
      case "Reshape" -> reshapeLayer(l, scope, x);
      case "Dropout", "SpatialDropout2D" -> x;
      default -> throw new ModelFormatException(l.describe() + ": unsupported layer type '"
          + l.className() + "'");
    };
  }

  private Value input(Layer l, String scope) {
    JsonNode c = l.config();
    JsonNode s = first(c, "batch_input_shape", "batch_shape", "batchInputShape");
    long[] shape;
    if (s != null) {
      shape = dims(l, s, "batch_input_shape");
    } else {
      JsonNode s1 = first(c, "input_shape", "shape");
      if (s1 == null) {
        throw new ModelFormatException(l.describe() + " declares no input shape");
      }
      long[] d = dims(l, s1, "input_shape");
      shape = new long[d.length + 1];
      shape[0] = -1;
      System.arraycopy(d, 0, shape, 1, d.length);
    }
    if (shape.length == 0) {
      throw new ModelFormatException(l.describe() + " has a scalar input shape");
    }
    shape[0] = -1;
    TensorName t = add(LayerNodes.placeholder(scope, shape));
    inputSpecs.put(l.name(), new TensorSpec(t, F, shape.clone()));
    return new Value(t, shape);
  }

  private Value conv(Layer l, String scope, String vscope, Value x) {
    requireRank(l, x, 4);
    JsonNode c = l.config();
    int groups = c.has("groups") ? c.get("groups").asInt(1) : 1;
    if (groups != 1) {
      throw new ModelFormatException(l.describe() + ": grouped convolution (groups=" + groups
          + ") is not supported");
    }
    ConvWindow win = ConvWindow.of(l);
    long filters = c.path("filters").asLong(-1);
    Map<String, KerasWeight> w = weightsOf(l, withBias(l, "kernel"));
    long cin = x.last();
    KerasWeight kw = w.get("kernel");
    expectShape(l, kw, win.k()[0], win.k()[1], cin, filters);
    TensorName kernel = variable(vscope, "kernel", kw);
    TensorName y = add(LayerNodes.conv2d(scope + "/Conv2D", x.t(), kernel, win.s(), win.pad())
        .attr("dilations", LayerNodes.ints(1, win.d()[0], win.d()[1], 1)).build());
    return convOutput(l, scope, vscope, x, win, y, w.get("bias"), kw.shape()[3]);
  }

  private Value depthwise(Layer l, String scope, String vscope, Value x) {
    requireRank(l, x, 4);
    JsonNode c = l.config();
    ConvWindow win = ConvWindow.of(l);
    long mult = c.path("depth_multiplier").asLong(1);
    Map<String, KerasWeight> w = weightsOf(l, withBias(l, "depthwise_kernel"));
    KerasWeight kw = w.get("depthwise_kernel");
    expectShape(l, kw, win.k()[0], win.k()[1], x.last(), mult);
    TensorName y = depthwiseOp(scope, x.t(), variable(vscope, "depthwise_kernel", kw), win);
    return convOutput(l, scope, vscope, x, win, y, w.get("bias"), kw.shape()[2] * kw.shape()[3]);
  }

  private Value separable(Layer l, String scope, String vscope, Value x) {
    requireRank(l, x, 4);
    JsonNode c = l.config();
    ConvWindow win = ConvWindow.of(l);
    long mult = c.path("depth_multiplier").asLong(1);
    long filters = c.path("filters").asLong(-1);
    Map<String, KerasWeight> w = weightsOf(l, withBias(l, "depthwise_kernel",
        "pointwise_kernel"));
    KerasWeight dw = w.get("depthwise_kernel");
    expectShape(l, dw, win.k()[0], win.k()[1], x.last(), mult);
    long mid = dw.shape()[2] * dw.shape()[3];
    KerasWeight pw = w.get("pointwise_kernel");
    expectShape(l, pw, 1, 1, mid, filters);
    TensorName y = depthwiseOp(scope, x.t(), variable(vscope, "depthwise_kernel", dw), win);
    y = add(LayerNodes.conv2d(scope + "/pointwise/Conv2D", y,
        variable(vscope, "pointwise_kernel", pw), new int[] {1, 1}, "VALID").build());
    return convOutput(l, scope, vscope, x, win, y, w.get("bias"), pw.shape()[3]);
  }

  /** A convolution layer's kernel size, strides, dilation rate and padding, from its config. */
  private record ConvWindow(int[] k, int[] s, int[] d, String pad) {
    static ConvWindow of(Layer l) {
      return new ConvWindow(pair(l, "kernel_size", null), pair(l, "strides", new int[] {1, 1}),
          pair(l, "dilation_rate", new int[] {1, 1}), padding(l));
    }

    /** The NHWC output shape on an input of shape {@code in}, with {@code out} channels. */
    long[] outShape(long[] in, long out) {
      return new long[] {in[0], outDim(in[1], k[0], s[0], d[0], pad),
          outDim(in[2], k[1], s[1], d[1], pad), out};
    }
  }

  /** The weight roles of a layer, with "bias" appended when its config uses one (the default). */
  private static List<String> withBias(Layer l, String... roles) {
    List<String> r = new ArrayList<>(List.of(roles));
    if (l.config().path("use_bias").asBoolean(true)) {
      r.add("bias");
    }
    return r;
  }

  /**
   * A convolution's output: {@code y} plus {@code bias} (when the layer has one), then the layer's
   * activation.
   */
  private Value convOutput(Layer l, String scope, String vscope, Value x, ConvWindow win,
      TensorName y, KerasWeight bias, long out) {
    TensorName z = bias == null ? y : biasAdd(l, scope, vscope, y, bias, out);
    return activation(l, scope, new Value(z, win.outShape(x.shape(), out)),
        l.config().get("activation"));
  }

  private TensorName depthwiseOp(String scope, TensorName x, TensorName kernel, ConvWindow win) {
    return add(Nodes.op("DepthwiseConv2dNative", scope + "/depthwise").input(x).input(kernel)
        .type("T", F).attr("strides", LayerNodes.ints(1, win.s()[0], win.s()[1], 1))
        .attr("padding", win.pad()).attr("data_format", "NHWC")
        .attr("dilations", LayerNodes.ints(1, win.d()[0], win.d()[1], 1)).build());
  }

  private Value dense(Layer l, String scope, String vscope, Value x) {
    if (x.rank() < 2) {
      throw new ModelFormatException(l.describe() + " needs an input of rank >= 2, got shape "
          + Arrays.toString(x.shape()));
    }
    JsonNode c = l.config();
    long units = c.path("units").asLong(-1);
    Map<String, KerasWeight> w = weightsOf(l, withBias(l, "kernel"));
    KerasWeight kw = w.get("kernel");
    expectShape(l, kw, x.last(), units);
    long out = kw.shape()[1];
    TensorName in = x.t();
    boolean flat = x.rank() > 2;
    if (flat) {
      in = reshape(scope + "/to_2d", in, new long[] {-1, kw.shape()[0]});
    }
    TensorName y = add(Nodes.op("MatMul", scope + "/MatMul").input(in)
        .input(variable(vscope, "kernel", kw)).type("T", F).build());
    if (w.containsKey("bias")) {
      y = biasAdd(l, scope, vscope, y, w.get("bias"), out);
    }
    long[] shape = x.shape().clone();
    shape[shape.length - 1] = out;
    if (flat) {
      y = reshape(scope + "/to_nd", y, batchless(l, shape));
    }
    return activation(l, scope, new Value(y, shape), c.get("activation"));
  }

  private Value batchNorm(Layer l, String scope, String vscope, Value x) {
    JsonNode c = l.config();
    JsonNode axisNode = c.get("axis");
    int axis = -1;
    if (axisNode != null && axisNode.isArray()) {
      if (axisNode.size() != 1) {
        throw new ModelFormatException(l.describe() + ": normalization over several axes "
            + axisNode + " is not supported (axis -1 only)");
      }
      axis = axisNode.get(0).asInt();
    } else if (axisNode != null && axisNode.canConvertToInt()) {
      axis = axisNode.asInt();
    }
    int rank = x.rank();
    int norm = axis < 0 ? axis + rank : axis;
    if (norm != rank - 1 || rank < 2) {
      throw new ModelFormatException(l.describe() + ": axis " + axis + " of a rank-" + rank
          + " input is not supported (axis -1, the channels of NHWC, only)");
    }
    boolean center = c.path("center").asBoolean(true);
    boolean scale = c.path("scale").asBoolean(true);
    double eps = c.path("epsilon").asDouble(1e-3);
    List<String> roles = new ArrayList<>();
    if (scale) {
      roles.add("gamma");
    }
    if (center) {
      roles.add("beta");
    }
    roles.add("moving_mean");
    roles.add("moving_variance");
    Map<String, KerasWeight> w = weightsOf(l, roles);
    long ch = w.get("moving_mean").shape().length == 1 ? w.get("moving_mean").shape()[0] : -1;
    for (String r : roles) {
      expectShape(l, w.get(r), x.last() >= 0 ? x.last() : ch);
    }
    TensorName gamma = scale ? variable(vscope, "gamma", w.get("gamma"))
        : add(Nodes.constant(scope + "/gamma", filled(ch, 1f)));
    TensorName beta = center ? variable(vscope, "beta", w.get("beta"))
        : add(Nodes.constant(scope + "/beta", filled(ch, 0f)));
    TensorName mean = variable(vscope, "moving_mean", w.get("moving_mean"));
    TensorName var = variable(vscope, "moving_variance", w.get("moving_variance"));
    boolean reshape = rank != 4;
    TensorName in = reshape ? reshape(scope + "/to_4d", x.t(), new long[] {-1, 1, 1, ch})
        : x.t();
    // Keras' momentum kept as TF's exponential_avg_factor = 1 - momentum (ignored in inference
    // form; the trainers' BatchNormTraining reads it back)
    double momentum = c.path("momentum").asDouble(0.99);
    NodeDef bn = LayerNodes.fusedBatchNorm(scope + "/FusedBatchNormV3", in, gamma, beta, mean,
        var, (float) Math.max(eps, MIN_FUSED_EPSILON));
    if (momentum > 0 && momentum < 1) {
      bn = bn.toBuilder().putAttr("exponential_avg_factor", org.tensorflow.proto.AttrValue
          .newBuilder().setF((float) (1 - momentum)).build()).build();
    }
    TensorName y = add(bn);
    if (reshape) {
      y = reshape(scope + "/to_nd", y, batchless(l, x.shape()));
    }
    return new Value(y, x.shape().clone());
  }

  /**
   * Keras' ReLU(max_value, negative_slope, threshold), following its implementation: {@code
   * pos = threshold != 0 ? x * (x > threshold) : relu(x)}, clipped to [0, max_value] when a
   * maximum is set, minus {@code negative_slope * relu(threshold - x)}. Plain forms become one op:
   * Relu, Relu6 (max_value 6), LeakyRelu (slope only).
   */
  private Value relu(Layer l, String scope, Value x) {
    JsonNode c = l.config();
    JsonNode mv = c.get("max_value");
    Double max = mv == null || mv.isNull() ? null : mv.asDouble();
    double slope = c.path("negative_slope").asDouble(0);
    double threshold = c.path("threshold").asDouble(0);
    if (slope != 0 && max == null && threshold == 0) {
      return new Value(add(Nodes.op("LeakyRelu", scope + "/LeakyRelu").input(x.t())
          .type("T", F).attr("alpha", (float) slope).build()), x.shape());
    }
    TensorName pos;
    boolean clip = max != null;
    if (threshold != 0) {
      TensorName gt = add(Nodes.op("Greater", scope + "/Greater").input(x.t())
          .input(scalar(scope + "/threshold", threshold)).type("T", F).build());
      TensorName mask = add(Nodes.op("Cast", scope + "/Cast").input(gt)
          .type("SrcT", DataType.DT_BOOL).type("DstT", F).build());
      pos = binary("Mul", scope + "/above", x.t(), mask);
    } else if (max != null && max == 6.0) {
      pos = unary("Relu6", scope + "/Relu6", x.t());
      clip = false;
    } else {
      pos = unary("Relu", scope + "/Relu", x.t());
    }
    if (clip) {
      if (threshold != 0) {
        pos = binary("Maximum", scope + "/clip_min", pos, scalar(scope + "/zero", 0));
      }
      pos = binary("Minimum", scope + "/Minimum", pos, scalar(scope + "/max_value", max));
    }
    if (slope != 0) {
      TensorName negIn = unary("Neg", scope + "/Neg", x.t());
      if (threshold != 0) {
        negIn = binary("AddV2", scope + "/shift", negIn, scalar(scope + "/threshold",
            threshold));
      }
      TensorName neg = unary("Relu", scope + "/Relu_neg", negIn);
      pos = binary("Sub", scope + "/sub", pos,
          binary("Mul", scope + "/mul", neg, scalar(scope + "/negative_slope", slope)));
    }
    return new Value(pos, x.shape());
  }

  private Value leakyRelu(Layer l, String scope, Value x) {
    JsonNode c = l.config();
    double a = c.has("alpha") ? c.get("alpha").asDouble(0.3)
        : c.path("negative_slope").asDouble(0.3);
    TensorName y = add(Nodes.op("LeakyRelu", scope + "/LeakyRelu").input(x.t()).type("T", F)
        .attr("alpha", (float) a).build());
    return new Value(y, x.shape());
  }

  private Value prelu(Layer l, String scope, String vscope, Value x) {
    Map<String, KerasWeight> w = weightsOf(l, List.of("alpha"));
    KerasWeight a = w.get("alpha");
    long[] s = a.shape();
    if (s.length != x.rank() - 1) {
      throw new ModelFormatException(l.describe() + ": alpha of shape " + Arrays.toString(s)
          + " does not fit an input of shape " + Arrays.toString(x.shape()));
    }
    for (int i = 0; i < s.length; i++) {
      long d = x.shape()[i + 1];
      if (s[i] != 1 && d >= 0 && s[i] != d) {
        throw new ModelFormatException(l.describe() + ": alpha of shape " + Arrays.toString(s)
            + " does not fit an input of shape " + Arrays.toString(x.shape()));
      }
    }
    TensorName alpha = variable(vscope, "alpha", a);
    TensorName pos = unary("Relu", scope + "/Relu", x.t());
    TensorName neg = unary("Relu", scope + "/Relu_neg", unary("Neg", scope + "/Neg", x.t()));
    TensorName y = binary("Sub", scope + "/sub", pos,
        binary("Mul", scope + "/mul", alpha, neg));
    return new Value(y, x.shape());
  }

  private Value softmax(Layer l, String scope, Value x) {
    JsonNode axis = l.config().get("axis");
    int a = axis == null || axis.isNull() ? -1
        : axis.isArray() && axis.size() == 1 ? axis.get(0).asInt() : axis.asInt(Integer.MIN_VALUE);
    if (a != -1 && a != x.rank() - 1) {
      throw new ModelFormatException(l.describe() + ": softmax over axis " + axis
          + " is not supported (last axis only)");
    }
    return new Value(unary("Softmax", scope + "/Softmax", x.t()), x.shape());
  }

  private Value activation(Layer l, String scope, Value x, JsonNode node) {
    String name;
    if (node == null || node.isNull()) {
      name = null;
    } else if (node.isTextual()) {
      name = node.asText();
    } else if (node.isObject() && KerasConfig.text(node.get("class_name")) != null) {
      // {"class_name": "relu", ...} or {"class_name": "function", "config": "relu"}
      name = KerasConfig.text(node.get("config"));
      if (name == null) {
        name = KerasConfig.text(node.get("class_name"));
      }
    } else {
      throw new ModelFormatException(l.describe() + ": cannot read activation "
          + KerasConfig.abbreviate(node));
    }
    if (name == null || name.isEmpty() || name.equals("linear")) {
      return x;
    }
    TensorName y = switch (name.toLowerCase(Locale.ROOT)) {
      case "relu" -> emit(scope, x, StandardActivation.RELU);
      case "relu6" -> unary("Relu6", scope + "/Relu6", x.t());
      case "sigmoid" -> emit(scope, x, StandardActivation.SIGMOID);
      case "tanh" -> emit(scope, x, StandardActivation.TANH);
      case "softmax" -> unary("Softmax", scope + "/Softmax", x.t());
      case "elu" -> emit(scope, x, StandardActivation.ELU);
      case "selu" -> emit(scope, x, StandardActivation.SELU);
      case "softplus" -> emit(scope, x, StandardActivation.SOFTPLUS);
      case "softsign" -> emit(scope, x, StandardActivation.SOFTSIGN);
      case "swish", "silu" -> emit(scope, x, StandardActivation.SWISH);
      case "gelu" -> emit(scope, x, StandardActivation.GELU_EXACT);
      default -> throw new ModelFormatException(l.describe() + ": activation '" + name
          + "' is not supported (linear, relu, relu6, sigmoid, tanh, softmax, elu, selu, "
          + "softplus, softsign, swish/silu, gelu)");
    };
    return new Value(y, x.shape());
  }

  private TensorName emit(String scope, Value x, Activation a) {
    return ActivationEmitter.emit(graph, scope, x.t(), a, F);
  }

  private Value addLayer(Layer l, String scope, List<Value> in) {
    if (in.size() < 2) {
      throw new ModelFormatException(l.describe() + " needs at least two inputs, got "
          + in.size());
    }
    long[] shape = in.get(0).shape().clone();
    for (Value v : in) {
      if (v.rank() != shape.length) {
        throw new ModelFormatException(l.describe() + ": inputs of different ranks "
            + shapes(in));
      }
      for (int i = 1; i < shape.length; i++) {
        long d = v.shape()[i];
        if (shape[i] >= 0 && d >= 0 && shape[i] != d && shape[i] != 1 && d != 1) {
          throw new ModelFormatException(l.describe() + ": inputs of incompatible shapes "
              + shapes(in));
        }
        shape[i] = shape[i] == 1 || shape[i] < 0 ? d : shape[i];
      }
    }
    TensorName y = in.get(0).t();
    for (int i = 1; i < in.size(); i++) {
      y = binary("AddV2", scope + (i == 1 ? "/add" : "/add_" + (i - 1)), y, in.get(i).t());
    }
    return new Value(y, shape);
  }

  private Value concat(Layer l, String scope, List<Value> in) {
    int rank = in.get(0).rank();
    int axis = l.config().path("axis").asInt(-1);
    int a = axis < 0 ? axis + rank : axis;
    if (a < 1 || a >= rank) {
      throw new ModelFormatException(l.describe() + ": axis " + axis + " is not a non-batch "
          + "axis of a rank-" + rank + " input");
    }
    long[] shape = in.get(0).shape().clone();
    shape[a] = 0;
    for (Value v : in) {
      if (v.rank() != rank) {
        throw new ModelFormatException(l.describe() + ": inputs of different ranks "
            + shapes(in));
      }
      for (int i = 1; i < rank; i++) {
        if (i != a && shape[i] >= 0 && v.shape()[i] >= 0 && shape[i] != v.shape()[i]) {
          throw new ModelFormatException(l.describe() + ": inputs of incompatible shapes "
              + shapes(in) + " for concatenation on axis " + axis);
        }
      }
      shape[a] = shape[a] < 0 || v.shape()[a] < 0 ? -1 : shape[a] + v.shape()[a];
    }
    TensorName ax = add(Nodes.constant(scope + "/axis", LayerNodes.int32Scalar(a)));
    Nodes.Builder b = Nodes.op("ConcatV2", scope + "/concat");
    in.forEach(v -> b.input(v.t()));
    TensorName y = add(b.input(ax).type("T", F).type("Tidx", DataType.DT_INT32)
        .attr("N", AttrValue.newBuilder().setI(in.size()).build()).build());
    return new Value(y, shape);
  }

  private Value zeroPad(Layer l, String scope, Value x) {
    requireRank(l, x, 4);
    JsonNode p = l.config().get("padding");
    long[][] pads = new long[2][2];
    if (p == null || p.isNull()) {
      pads = new long[][] {{1, 1}, {1, 1}};
    } else if (p.canConvertToInt()) {
      pads = new long[][] {{p.asInt(), p.asInt()}, {p.asInt(), p.asInt()}};
    } else if (p.isArray() && p.size() == 2 && p.get(0).canConvertToInt()) {
      pads = new long[][] {{p.get(0).asInt(), p.get(0).asInt()},
          {p.get(1).asInt(), p.get(1).asInt()}};
    } else if (p.isArray() && p.size() == 2 && p.get(0).isArray() && p.get(0).size() == 2
        && p.get(1).isArray() && p.get(1).size() == 2) {
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
          pads[i][j] = p.get(i).get(j).asInt();
        }
      }
    } else {
      throw new ModelFormatException(l.describe() + ": cannot read padding " + p);
    }
    TensorProto paddings = LayerNodes.int32Matrix(new long[][] {{0, 0}, pads[0], pads[1], {0, 0}});
    TensorName pc = add(Nodes.constant(scope + "/paddings", paddings));
    TensorName y = add(Nodes.op("Pad", scope + "/Pad").input(x.t()).input(pc).type("T", F)
        .type("Tpaddings", DataType.DT_INT32).build());
    long[] s = x.shape().clone();
    s[1] = s[1] < 0 ? -1 : s[1] + pads[0][0] + pads[0][1];
    s[2] = s[2] < 0 ? -1 : s[2] + pads[1][0] + pads[1][1];
    return new Value(y, s);
  }

  private Value pool(Layer l, String scope, Value x, String op) {
    requireRank(l, x, 4);
    int[] k = pair(l, "pool_size", new int[] {2, 2});
    int[] s = pair(l, "strides", k);
    String pad = padding(l);
    TensorName y = add(LayerNodes.pool(op, scope + "/" + op, x.t(), k, s, pad));
    long[] shape = {x.shape()[0], outDim(x.shape()[1], k[0], s[0], 1, pad),
        outDim(x.shape()[2], k[1], s[1], 1, pad), x.last()};
    return new Value(y, shape);
  }

  private Value globalPool(Layer l, String scope, Value x, String op) {
    requireRank(l, x, 4);
    boolean keep = l.config().path("keepdims").asBoolean(false);
    TensorName axes = add(Nodes.constant(scope + "/reduction_indices",
        LayerNodes.int32Vector(1, 2)));
    TensorName y = add(LayerNodes.reduce(op, scope + "/" + op, x.t(), axes, keep));
    long[] shape = keep ? new long[] {x.shape()[0], 1, 1, x.last()}
        : new long[] {x.shape()[0], x.last()};
    return new Value(y, shape);
  }

  private Value flatten(Layer l, String scope, Value x) {
    long n = 1;
    for (int i = 1; i < x.rank(); i++) {
      if (x.shape()[i] < 0) {
        throw new ModelFormatException(l.describe() + ": cannot flatten an input of shape "
            + Arrays.toString(x.shape()) + " (non-batch dimensions must be known)");
      }
      n *= x.shape()[i];
    }
    long[] shape = {x.shape()[0], n};
    return new Value(reshape(scope, x.t(), new long[] {-1, n}), shape);
  }

  private Value reshapeLayer(Layer l, String scope, Value x) {
    long[] target = dims(l, l.config().get("target_shape"), "target_shape");
    long known = 1;
    int unknown = -1;
    for (int i = 0; i < target.length; i++) {
      if (target[i] < 0) {
        if (unknown >= 0) {
          throw new ModelFormatException(l.describe() + ": target_shape "
              + Arrays.toString(target) + " has two unknown dimensions");
        }
        unknown = i;
      } else {
        known *= target[i];
      }
    }
    long total = 1;
    for (int i = 1; i < x.rank(); i++) {
      total = x.shape()[i] < 0 || total < 0 ? -1 : total * x.shape()[i];
    }
    if (unknown >= 0) {
      if (total < 0 || known == 0 || total % known != 0) {
        throw new ModelFormatException(l.describe() + ": cannot infer the -1 of target_shape "
            + Arrays.toString(target) + " from input shape " + Arrays.toString(x.shape()));
      }
      target[unknown] = total / known;
    } else if (total >= 0 && total != known) {
      throw new ModelFormatException(l.describe() + ": target_shape " + Arrays.toString(target)
          + " does not hold the " + total + " values of input shape "
          + Arrays.toString(x.shape()));
    }
    long[] shape = new long[target.length + 1];
    shape[0] = -1;
    System.arraycopy(target, 0, shape, 1, target.length);
    return new Value(reshape(scope, x.t(), shape), shape);
  }

  // ---------------------------------------------------------------- weights

  /**
   * The layer's weights by role: matched by name (the last path segment without {@code :0}), or
   * by position (Keras' order) when the names are not the roles.
   */
  private Map<String, KerasWeight> weightsOf(Layer l, List<String> roles) {
    List<KerasWeight> ws = weights.getOrDefault(l.name(), List.of());
    if (ws.size() != roles.size()) {
      throw new ModelFormatException(l.describe() + " has " + ws.size() + " stored weight(s) "
          + ws + ", expected " + roles.size() + " " + roles
          + (ws.isEmpty() ? " (no weights for this layer in the file)" : ""));
    }
    Map<String, KerasWeight> out = new LinkedHashMap<>();
    for (KerasWeight w : ws) {
      if (roles.contains(w.shortName())) {
        out.put(w.shortName(), w);
      }
    }
    if (out.size() != roles.size()) {
      out.clear();
      for (int i = 0; i < roles.size(); i++) {
        out.put(roles.get(i), ws.get(i));
      }
    }
    return out;
  }

  /** A VariableV2 {@code scope/role} holding {@code w}, read through an Identity. */
  private TensorName variable(String scope, String role, KerasWeight w) {
    String name = scope + "/" + role;
    TensorName read = reads.get(name);
    if (read != null) {
      return read;
    }
    add(LayerNodes.variable(name, w.shape()));
    variables.put(name, TensorProtos.ofFloats(w.shape(), w.values()));
    read = add(LayerNodes.read(name));
    reads.put(name, read);
    return read;
  }

  private TensorName biasAdd(Layer l, String scope, String vscope, TensorName y, KerasWeight b,
      long out) {
    expectShape(l, b, out);
    return add(LayerNodes.biasAdd(scope + "/BiasAdd", y, variable(vscope, "bias", b)));
  }

  /** Fails naming the layer unless {@code w} has this shape (-1 = any). */
  private static void expectShape(Layer l, KerasWeight w, long... dims) {
    boolean ok = w.shape().length == dims.length;
    for (int i = 0; ok && i < dims.length; i++) {
      ok = dims[i] < 0 || w.shape()[i] == dims[i];
    }
    if (!ok) {
      long[] shown = dims.clone();
      throw new ModelFormatException(l.describe() + ": weight '" + w.name() + "' has shape "
          + Arrays.toString(w.shape()) + ", the layer's config and input need "
          + Arrays.toString(shown).replace("-1", "?"));
    }
  }

  // ---------------------------------------------------------------- config helpers

  private static void requireRank(Layer l, Value x, int rank) {
    if (x.rank() != rank) {
      throw new ModelFormatException(l.describe() + " needs a rank-" + rank + " (NHWC) input, "
          + "got shape " + Arrays.toString(x.shape()));
    }
  }

  private static int[] pair(Layer l, String key, int[] dflt) {
    JsonNode n = l.config().get(key);
    if (n == null || n.isNull()) {
      if (dflt == null) {
        throw new ModelFormatException(l.describe() + " has no " + key);
      }
      return dflt;
    }
    int[] v;
    if (n.canConvertToInt()) {
      v = new int[] {n.asInt(), n.asInt()};
    } else if (n.isArray() && n.size() == 2 && n.get(0).canConvertToInt()
        && n.get(1).canConvertToInt()) {
      v = new int[] {n.get(0).asInt(), n.get(1).asInt()};
    } else if (n.isArray() && n.size() == 1 && n.get(0).canConvertToInt()) {
      v = new int[] {n.get(0).asInt(), n.get(0).asInt()};
    } else {
      throw new ModelFormatException(l.describe() + ": cannot read " + key + " " + n);
    }
    if (v[0] < 1 || v[1] < 1) {
      throw new ModelFormatException(l.describe() + ": " + key + " " + n + " must be positive");
    }
    return v;
  }

  private static String padding(Layer l) {
    String p = KerasConfig.text(l.config().get("padding"));
    if (p == null || p.equalsIgnoreCase("valid")) {
      return "VALID";
    }
    if (p.equalsIgnoreCase("same")) {
      return "SAME";
    }
    throw new ModelFormatException(l.describe() + ": padding '" + p + "' is not supported "
        + "(same, valid)");
  }

  private static long outDim(long in, int k, int s, int d, String pad) {
    if (in < 0) {
      return -1;
    }
    if (pad.equals("SAME")) {
      return (in + s - 1) / s;
    }
    long eff = (long) (k - 1) * d + 1;
    return in < eff ? 0 : (in - eff) / s + 1;
  }

  private static long[] dims(Layer l, JsonNode n, String what) {
    if (n == null || !n.isArray()) {
      throw new ModelFormatException(l.describe() + ": " + what + " " + n + " is not a list");
    }
    long[] d = new long[n.size()];
    for (int i = 0; i < d.length; i++) {
      JsonNode e = n.get(i);
      if (e.isNull()) {
        d[i] = -1;
      } else if (e.canConvertToLong()) {
        d[i] = e.asLong();
        if (d[i] < -1) {
          throw new ModelFormatException(l.describe() + ": " + what + " " + n
              + " has a negative dimension");
        }
      } else {
        throw new ModelFormatException(l.describe() + ": " + what + " " + n
            + " is not a list of integers");
      }
    }
    return d;
  }

  /** {@code shape} as a Reshape target: batch -1, other dimensions known. */
  private static long[] batchless(Layer l, long[] shape) {
    long[] t = shape.clone();
    t[0] = -1;
    for (int i = 1; i < t.length; i++) {
      if (t[i] < 0) {
        throw new ModelFormatException(l.describe() + ": needs known non-batch dimensions, got "
            + Arrays.toString(shape));
      }
    }
    return t;
  }

  private static JsonNode first(JsonNode c, String... keys) {
    for (String k : keys) {
      JsonNode n = c.get(k);
      if (n != null && !n.isNull()) {
        return n;
      }
    }
    return null;
  }

  private static String shapes(List<Value> in) {
    return in.stream().map(v -> Arrays.toString(v.shape())).toList().toString();
  }

  // ---------------------------------------------------------------- nodes

  private TensorName add(NodeDef n) {
    graph.add(n);
    return TensorName.of(n.getName());
  }

  private TensorName unary(String op, String name, TensorName x) {
    return add(Nodes.op(op, graph.uniqueName(name)).input(x).type("T", F).build());
  }

  private TensorName binary(String op, String name, TensorName a, TensorName b) {
    return add(Nodes.op(op, graph.uniqueName(name)).input(a).input(b).type("T", F).build());
  }

  private TensorName scalar(String name, double v) {
    return add(Nodes.floatScalar(graph.uniqueName(name), (float) v));
  }

  private TensorName reshape(String scope, TensorName x, long[] shape) {
    TensorName s = add(Nodes.constant(graph.uniqueName(scope + "/shape"),
        LayerNodes.int32Vector(shape)));
    return add(LayerNodes.reshape(graph.uniqueName(scope + "/Reshape"), x, s));
  }

  /** A scope name no other layer call uses. */
  private String uniqueScope(String base) {
    String s = base;
    for (int i = 1; scopes.contains(s) || graph.contains(s); i++) {
      s = base + "_" + i;
    }
    scopes.add(s);
    return s;
  }

  /** A valid TF node name from a Keras layer name. */
  static String sanitize(String name) {
    StringBuilder b = new StringBuilder();
    for (char ch : name.toCharArray()) {
      b.append(Character.isLetterOrDigit(ch) && ch < 128 || ch == '_' || ch == '.' || ch == '-'
          ? ch : '_');
    }
    if (b.length() == 0 || !(Character.isLetterOrDigit(b.charAt(0)) || b.charAt(0) == '.')) {
      b.insert(0, 'k');
    }
    return b.toString();
  }

  private static TensorProto filled(long n, float v) {
    float[] a = new float[Math.toIntExact(n)];
    Arrays.fill(a, v);
    return TensorProtos.ofFloats(new long[] {n}, a);
  }

  // ---------------------------------------------------------------- finish

  /** The GraphDef: emission order is topological; registry defaults filled in. */
  private GraphDef finish() {
    OpRegistry reg = OpRegistry.get();
    GraphDef.Builder b = GraphDef.newBuilder().setVersions(OpRegistry.runtimeVersions());
    for (NodeDef n : graph.nodes()) {
      b.addNode(reg.withDefaults(n));
    }
    return b.build();
  }

  /** Imports the graph into TensorFlow once: shape inference catches what the checks missed. */
  private static void check(GraphDef def) {
    try (Graph g = new Graph()) {
      GraphImport.into(g, def);
    } catch (RuntimeException e) {
      String m = String.valueOf(e.getMessage());
      int nl = m.indexOf('\n');
      throw new ModelFormatException("TensorFlow rejects the built graph: "
          + (nl > 0 ? m.substring(0, nl) : m), e);
    }
  }
}
