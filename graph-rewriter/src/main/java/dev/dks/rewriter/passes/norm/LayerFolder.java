package dev.dks.rewriter.passes.norm;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.passes.norm.NormalizationMatch.AffineStep;
import dev.dks.rewriter.pipeline.RewriteContext;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * Folds an inference-form normalization {@code y = a * x + b} (per channel) into the layer that
 * produces x: {@code Conv2D}, {@code DepthwiseConv2dNative} or {@code MatMul}, optionally followed
 * by its bias ({@code BiasAdd}, or {@code Add} / {@code AddV2} of a constant vector). The kernel is
 * scaled per output channel ({@code W' = W * a}) and the bias becomes {@code a * bias + b}; when
 * the layer has no bias a {@code BiasAdd} with a new bias (a {@code VariableV2} when the kernel is
 * one, else a {@code Const}) is added. As in ONNX Runtime's conv_bn_fusion, every check runs before
 * the first edit, and any dtype, shape or sharing it does not understand is a {@link Bail}.
 */
final class LayerFolder {
  private static final Set<String> LAYERS = Set.of("Conv2D", "DepthwiseConv2dNative", "MatMul");

  private final RewriteContext ctx;
  private final GraphView g;

  LayerFolder(RewriteContext ctx) {
    this.ctx = ctx;
    this.g = ctx.graph();
  }

  /** The tensor the normalization's consumers read after folding, and what was done. */
  record Folded(TensorName replacement, String description) {}

  Folded fold(NormalizationMatch m, TensorName x) throws Bail {
    Set<String> covered = new HashSet<>(m.nodes());
    if (x.index() != 0) {
      throw new Bail("its input '" + x + "' is not an output 0 of a layer");
    }
    NodeDef xNode = g.get(x.node());
    for (String c : g.consumers(x.node())) {
      if (!covered.contains(c)) {
        throw new Bail("its input '" + x + "' is also read by '" + c + "' (" + g.get(c).getOp()
            + "), which folding would change");
      }
    }
    // layer and optional bias
    NodeDef layer = xNode;
    NodeDef biasNode = null;
    TensorName biasInput = null;
    if (Set.of("BiasAdd", "Add", "AddV2").contains(xNode.getOp())) {
      List<TensorName> ins = GraphEdits.dataInputs(xNode);
      int b = -1;
      if (xNode.getOp().equals("BiasAdd")) {
        b = 1;
      } else if (ins.size() == 2) {
        boolean c0 = ValueSource.resolve(g, ins.get(0)) != null;
        boolean c1 = ValueSource.resolve(g, ins.get(1)) != null;
        b = c0 == c1 ? -1 : c0 ? 0 : 1;
      }
      if (b < 0 || ins.size() != 2) {
        throw new Bail("it follows " + xNode.getOp() + " '" + xNode.getName() + "', not a "
            + "layer's bias add");
      }
      TensorName layerOut = ins.get(1 - b);
      biasNode = xNode;
      biasInput = ins.get(b);
      layer = g.find(layerOut.node()).orElseThrow(() -> new Bail("no node '" + layerOut + "'"));
      if (layerOut.index() != 0 || !g.consumers(layer.getName()).equals(List.of(x.node()))) {
        throw new Bail("the output of " + layer.getOp() + " '" + layer.getName() + "' is also "
            + "read elsewhere than its bias add");
      }
      checkFloat(biasNode);
    }
    if (!LAYERS.contains(layer.getOp())) {
      throw new Bail("it follows " + layer.getOp() + " '" + layer.getName() + "', not a "
          + "Conv2D, DepthwiseConv2dNative or MatMul to fold into");
    }
    checkFloat(layer);
    String layerFormat = layer.getOp().equals("MatMul") ? "NHWC" : str(layer, "data_format",
        "NHWC");
    if (m.form() == NormalizationMatch.Form.FUSED_OP && !m.dataFormat().equals(layerFormat)) {
      throw new Bail("its data_format " + m.dataFormat() + " differs from " + layer.getOp() + " '"
          + layer.getName() + "' (" + layerFormat + ")");
    }
    int axisFromEnd = layerFormat.equals("NCHW") ? 2 : 0;
    if (!layerFormat.equals("NHWC") && !layerFormat.equals("NCHW")) {
      throw new Bail("data_format " + layerFormat + " is not understood");
    }

    // kernel
    List<TensorName> lIns = GraphEdits.dataInputs(layer);
    ValueSource kSrc = ValueSource.resolve(g, lIns.get(1));
    if (kSrc == null) {
      throw new Bail("the kernel '" + lIns.get(1) + "' of " + layer.getOp() + " '"
          + layer.getName() + "' is not a Const or a variable");
    }
    if (kSrc.kind() == ValueSource.Kind.RESOURCE) {
      throw new Bail("the kernel of '" + layer.getName() + "' is the resource variable '"
          + kSrc.node() + "'; convert resource variables to VariableV2 first");
    }
    if (!kSrc.exclusiveTo(g, layer.getName())) {
      throw new Bail("the kernel '" + kSrc.node() + "' of '" + layer.getName() + "' is shared "
          + "with other ops");
    }
    TensorProto kProto = kSrc.value(g, ctx.variables());
    if (kProto == null) {
      throw new Bail("no value is known for the kernel '" + kSrc.node() + "'");
    }
    FloatTensor k = FloatTensor.of(kProto);
    if (k == null) {
      throw new Bail("the kernel '" + kSrc.node() + "' is " + kProto.getDtype() + ", not float32");
    }
    Channels ch = channels(layer, k);

    // the normalization as a per-channel affine map
    double[][] ab = coefficients(m, ch.count(), axisFromEnd,
        layer.getOp().equals("MatMul") ? 2 : 4);
    double[] a = ab[0];
    double[] b = ab[1];

    // bias
    ValueSource bSrc = null;
    FloatTensor bias = null;
    if (biasNode != null) {
      bSrc = ValueSource.resolve(g, biasInput);
      if (bSrc == null || bSrc.kind() == ValueSource.Kind.RESOURCE
          || !bSrc.exclusiveTo(g, biasNode.getName())) {
        throw new Bail("the bias '" + biasInput + "' of '" + layer.getName() + "' is not a Const "
            + "or VariableV2 used only there");
      }
      TensorProto bp = bSrc.value(g, ctx.variables());
      bias = bp == null ? null : FloatTensor.of(bp);
      if (bias == null || bias.size() != ch.count()
          || bias.perChannel(ch.count(), axisFromEnd) == null) {
        throw new Bail("the bias '" + biasInput + "' is not a float32 vector of "
            + ch.count() + " channels");
      }
    }

    // every check passed: edit
    float[] w = new float[k.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (k.values[i] * a[ch.of(i)]);
    }
    write(kSrc, TensorProtos.ofFloats(k.shape, w));
    String what;
    TensorName replacement;
    if (bias != null) {
      double[] old = bias.perChannel(ch.count(), axisFromEnd);
      float[] nb = new float[old.length];
      for (int c = 0; c < nb.length; c++) {
        nb[c] = (float) (a[c] * old[c] + b[c]);
      }
      write(bSrc, TensorProtos.ofFloats(bias.shape, nb));
      replacement = x;
      what = "bias '" + bSrc.node() + "' updated";
    } else {
      float[] nb = new float[ch.count()];
      for (int c = 0; c < nb.length; c++) {
        nb[c] = (float) b[c];
      }
      TensorProto bp = TensorProtos.ofFloats(new long[] {ch.count()}, nb);
      String biasName = g.uniqueName(layer.getName() + "/bn_folded_bias");
      NodeDef biasVar;
      if (kSrc.kind() == ValueSource.Kind.VARIABLE) {
        biasVar = Nodes.op("VariableV2", biasName).type("dtype", DataType.DT_FLOAT)
            .attr("shape", AttrValue.newBuilder().setShape(TensorProtos.shapeProto(
                new long[] {ch.count()})).build())
            .attr("container", "").attr("shared_name", "").device(layer.getDevice()).build();
        ctx.variables().put(biasName, bp);
      } else {
        biasVar = Nodes.constant(biasName, bp).toBuilder().setDevice(layer.getDevice()).build();
      }
      g.add(biasVar);
      String addName = g.uniqueName(layer.getName() + "/bn_folded_bias_add");
      g.add(Nodes.op("BiasAdd", addName).input(x).input(biasName)
          .type("T", DataType.DT_FLOAT).attr("data_format", layerFormat)
          .device(layer.getDevice()).build());
      replacement = TensorName.of(addName);
      what = "new bias " + biasVar.getOp() + " '" + biasName + "' added by BiasAdd '" + addName
          + "'";
    }
    return new Folded(replacement, "folded into " + layer.getOp() + " '" + layer.getName()
        + "' (kernel " + kindName(kSrc) + " '" + kSrc.node() + "' scaled per output channel; "
        + what + ")");
  }

  /** Output channels of a layer's kernel, and the channel of each kernel element. */
  private record Channels(int count, int inner, boolean transposed) {
    int of(int flatIndex) {
      return transposed ? flatIndex / inner : flatIndex % count;
    }
  }

  private static Channels channels(NodeDef layer, FloatTensor k) throws Bail {
    long[] s = k.shape;
    switch (layer.getOp()) {
      case "Conv2D" -> {
        requireRank(layer, s, 4);
        return new Channels(Math.toIntExact(s[3]), 1, false);
      }
      case "DepthwiseConv2dNative" -> {
        requireRank(layer, s, 4);
        return new Channels(Math.toIntExact(s[2] * s[3]), 1, false);
      }
      default -> {
        requireRank(layer, s, 2);
        if (bool(layer, "transpose_b")) {
          return new Channels(Math.toIntExact(s[0]), Math.toIntExact(s[1]), true);
        }
        return new Channels(Math.toIntExact(s[1]), 1, false);
      }
    }
  }

  /** {a, b} per channel, from the fused op's parameters or the written-out chain. */
  private double[][] coefficients(NormalizationMatch m, int c, int axisFromEnd, int rank)
      throws Bail {
    ParamEvaluator ev = new ParamEvaluator(g, ctx.variables());
    double[] a = new double[c];
    double[] b = new double[c];
    if (m.form() == NormalizationMatch.Form.FUSED_OP) {
      double[] gamma = vector(ev, m, "gamma", c);
      double[] beta = vector(ev, m, "beta", c);
      double[] mean = vector(ev, m, "mean", c);
      double[] var = vector(ev, m, "variance", c);
      for (int i = 0; i < c; i++) {
        a[i] = gamma[i] / Math.sqrt(var[i] + m.epsilon());
        b[i] = beta[i] - mean[i] * a[i];
      }
      return new double[][] {a, b};
    }
    FloatTensor fa = FloatTensor.scalar(1);
    FloatTensor fb = FloatTensor.scalar(0);
    for (AffineStep s : m.steps()) {
      FloatTensor k = ev.eval(s.coefficient());
      switch (s.op()) {
        case "Mul" -> {
          fa = FloatTensor.zip(fa, k, (p, q) -> p * q);
          fb = FloatTensor.zip(fb, k, (p, q) -> p * q);
        }
        case "RealDiv" -> {
          if (s.coefficientFirst()) {
            throw new Bail("RealDiv '" + s.node() + "' is not affine in its input");
          }
          fa = FloatTensor.zip(fa, k, (p, q) -> p / q);
          fb = FloatTensor.zip(fb, k, (p, q) -> p / q);
        }
        case "Add", "AddV2" -> fb = FloatTensor.zip(fb, k, Double::sum);
        case "Sub" -> {
          if (s.coefficientFirst()) {
            fa = fa.map(p -> -p);
            fb = FloatTensor.zip(k, fb, (p, q) -> p - q);
          } else {
            fb = FloatTensor.zip(fb, k, (p, q) -> p - q);
          }
        }
        default -> throw new Bail("step " + s.op() + " '" + s.node() + "' is not understood");
      }
      if (fa == null || fb == null) {
        throw new Bail("the coefficient of '" + s.node() + "' does not broadcast");
      }
    }
    if (fa.shape.length > rank || fb.shape.length > rank) {
      throw new Bail("its coefficients have rank " + Math.max(fa.shape.length, fb.shape.length)
          + ", more than the layer output's " + rank);
    }
    double[] pa = fa.perChannel(c, axisFromEnd);
    double[] pb = fb.perChannel(c, axisFromEnd);
    if (pa == null || pb == null) {
      throw new Bail("its coefficients (" + fa + ", " + fb + ") are not per output channel of "
          + c + " channels");
    }
    return new double[][] {pa, pb};
  }

  private static double[] vector(ParamEvaluator ev, NormalizationMatch m, String role, int c)
      throws Bail {
    TensorName t = m.parameters().get(role);
    if (t == null) {
      throw new Bail("its " + role + " is not known");
    }
    FloatTensor f = ev.eval(t);
    if (f.shape.length != 1 || f.size() != c) {
      throw new Bail("its " + role + " '" + t + "' has shape " + java.util.Arrays.toString(
          f.shape) + ", expected [" + c + "]");
    }
    return f.values;
  }

  private void write(ValueSource src, TensorProto value) {
    if (src.kind() == ValueSource.Kind.VARIABLE) {
      ctx.variables().put(src.node(), value);
    } else {
      NodeDef n = g.get(src.node());
      g.put(n.toBuilder().putAttr("value", AttrValue.newBuilder().setTensor(value).build())
          .build());
    }
  }

  private static String kindName(ValueSource s) {
    return s.kind() == ValueSource.Kind.VARIABLE ? "variable" : "Const";
  }

  private static void requireRank(NodeDef layer, long[] s, int rank) throws Bail {
    if (s.length != rank) {
      throw new Bail("the kernel of " + layer.getOp() + " '" + layer.getName() + "' has rank "
          + s.length + ", expected " + rank);
    }
  }

  private static void checkFloat(NodeDef n) throws Bail {
    if (n.containsAttr("T") && n.getAttrOrThrow("T").getType() != DataType.DT_FLOAT) {
      throw new Bail(n.getOp() + " '" + n.getName() + "' has T=" + n.getAttrOrThrow("T")
          .getType() + "; folding handles float32 only");
    }
  }

  private static boolean bool(NodeDef n, String attr) {
    return n.containsAttr(attr) && n.getAttrOrThrow(attr).getB();
  }

  private static String str(NodeDef n, String attr, String dflt) {
    return n.containsAttr(attr) ? n.getAttrOrThrow(attr).getS().toStringUtf8() : dflt;
  }
}
