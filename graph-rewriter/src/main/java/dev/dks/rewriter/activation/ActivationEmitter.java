package dev.dks.rewriter.activation;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.LeakyRelu;
import dev.dks.solver.activation.ShapingParams;
import dev.dks.solver.activation.StandardActivation;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * Emits an activation, raw or shaped as {@code gamma * (phi(alpha * x + beta) + delta)}, into a
 * graph as standard TensorFlow ops only (so that TF Serving's standard build runs it): Mul, AddV2,
 * Relu, LeakyRelu, Elu, Selu, Softplus, Sigmoid, Tanh, Erf, Atan, Asinh, Softsign, Sqrt, Square,
 * Sin, Cos, Maximum and float scalar Consts. Identity operations (scale 1, shift 0) emit nothing.
 * Node names are {@code scope/...}, made unique in the graph.
 *
 * <p>Formulas follow the solver's NumPy definitions exactly: swish = x sigmoid(x), gelu = tanh
 * approximation {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}, gelu_exact = {@code 0.5
 * x (1 + erf(x / sqrt 2))}, bentid = {@code (sqrt(x^2 + 1) - 1)/2 + x}.
 */
public final class ActivationEmitter {
  private final GraphView graph;
  private final String scope;
  private final DataType dtype;

  private ActivationEmitter(GraphView graph, String scope, DataType dtype) {
    this.graph = graph;
    this.scope = scope;
    this.dtype = dtype;
  }

  /**
   * Emits {@code base} shaped by {@code params} applied to {@code input}; returns the output.
   *
   * @param scope name prefix of the new nodes, e.g. {@code "block3/act"}
   * @param dtype the element type (DT_FLOAT or DT_DOUBLE)
   */
  public static TensorName emit(GraphView graph, String scope, TensorName input, Activation base,
      ShapingParams params, DataType dtype) {
    ActivationEmitter e = new ActivationEmitter(graph, scope, dtype);
    TensorName x = input;
    if (params.inputScale() != 1.0) {
      x = e.mulConst(x, params.inputScale(), "input_scale");
    }
    if (params.inputShift() != 0.0) {
      x = e.addConst(x, params.inputShift(), "input_shift");
    }
    Activation phi = base;
    if (params.negativeSlope().isPresent()) {
      phi = new LeakyRelu(params.negativeSlope().getAsDouble());
    }
    x = e.phi(x, phi);
    if (params.outputShift() != 0.0) {
      x = e.addConst(x, params.outputShift(), "output_shift");
    }
    if (params.outputScale() != 1.0) {
      x = e.mulConst(x, params.outputScale(), "output_scale");
    }
    return x;
  }

  /** Emits the raw activation. */
  public static TensorName emit(GraphView graph, String scope, TensorName input, Activation base,
      DataType dtype) {
    return emit(graph, scope, input, base, ShapingParams.IDENTITY, dtype);
  }

  private TensorName phi(TensorName x, Activation a) {
    if (a instanceof LeakyRelu l) {
      if (l.negativeSlope() == 1.0) {
        return x;
      }
      if (l.negativeSlope() == 0.0) {
        return unary("Relu", x, "relu");
      }
      return add(Nodes.op("LeakyRelu", name("leaky_relu")).input(x).type("T", dtype)
          .attr("alpha", (float) l.negativeSlope()).build());
    }
    if (!(a instanceof StandardActivation s)) {
      throw new UnsupportedActivationOpException(a.id());
    }
    return switch (s) {
      case TANH -> unary("Tanh", x, "tanh");
      case SIGMOID -> unary("Sigmoid", x, "sigmoid");
      case SOFTPLUS -> unary("Softplus", x, "softplus");
      case ERF -> unary("Erf", x, "erf");
      case ELU -> unary("Elu", x, "elu");
      case SELU -> unary("Selu", x, "selu");
      case RELU -> unary("Relu", x, "relu");
      case ATAN -> unary("Atan", x, "atan");
      case ASINH -> unary("Asinh", x, "asinh");
      case SOFTSIGN -> unary("Softsign", x, "softsign");
      case SQUARE -> unary("Square", x, "square");
      case SIN -> unary("Sin", x, "sin");
      case COS -> unary("Cos", x, "cos");
      case SWISH -> binary("Mul", x, unary("Sigmoid", x, "swish_sigmoid"), "swish");
      case GELU -> gelu(x);
      case GELU_EXACT -> geluExact(x);
      case BENTID -> bentid(x);
    };
  }

  private TensorName gelu(TensorName x) {
    TensorName cube = binary("Mul", unary("Square", x, "gelu_sq"), x, "gelu_cube");
    TensorName inner = binary("AddV2", x, mulConst(cube, 0.044715, "gelu_k"), "gelu_inner");
    TensorName t = unary("Tanh", mulConst(inner, Math.sqrt(2 / Math.PI), "gelu_c"), "gelu_tanh");
    TensorName onePlus = addConst(t, 1.0, "gelu_one");
    return mulConst(binary("Mul", x, onePlus, "gelu_prod"), 0.5, "gelu");
  }

  private TensorName geluExact(TensorName x) {
    TensorName e = unary("Erf", mulConst(x, 1 / Math.sqrt(2), "gelu_exact_scale"),
        "gelu_exact_erf");
    TensorName onePlus = addConst(e, 1.0, "gelu_exact_one");
    return mulConst(binary("Mul", x, onePlus, "gelu_exact_prod"), 0.5, "gelu_exact");
  }

  private TensorName bentid(TensorName x) {
    TensorName root = unary("Sqrt", addConst(unary("Square", x, "bentid_sq"), 1.0,
        "bentid_plus1"), "bentid_sqrt");
    TensorName half = mulConst(addConst(root, -1.0, "bentid_minus1"), 0.5, "bentid_half");
    return binary("AddV2", half, x, "bentid");
  }

  private TensorName unary(String op, TensorName x, String name) {
    return add(Nodes.op(op, name(name)).input(x).type("T", dtype).build());
  }

  private TensorName binary(String op, TensorName a, TensorName b, String name) {
    return add(Nodes.op(op, name(name)).input(a).input(b).type("T", dtype).build());
  }

  private TensorName mulConst(TensorName x, double v, String name) {
    return binary("Mul", x, constant(v, name + "/value"), name);
  }

  private TensorName addConst(TensorName x, double v, String name) {
    return binary("AddV2", x, constant(v, name + "/value"), name);
  }

  private TensorName constant(double v, String name) {
    return add(ScalarConstants.of(name(name), v, dtype));
  }

  private String name(String local) {
    return graph.uniqueName(scope + "/" + local);
  }

  private TensorName add(NodeDef n) {
    graph.add(n);
    return TensorName.of(n.getName());
  }
}
