package dev.dks.rewriter.analysis;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.NodeDef;

/**
 * Finds activations in a graph: single ops (Relu, Relu6, LeakyRelu, Elu, Selu, Softplus, Sigmoid,
 * Tanh, Softsign) and composite forms: swish {@code x * sigmoid(x)}, hard-swish {@code x *
 * relu6(x + 3) / 6} (with the /6 as Mul by 1/6 or RealDiv by 6, on either side or on x first),
 * GELU from Erf {@code 0.5 x (1 + erf(x / sqrt 2))} and from the tanh formula {@code 0.5 x (1 + tanh(sqrt(2/pi)
 * (x + 0.044715 x^3)))}, PReLU {@code relu(x) - alpha * relu(-x)} (TF.js's Prelu as the reader
 * splits it), {@code max(x, 0) + alpha * min(x, 0)} ({@link PreluMaxMin}) or {@code relu(x) +
 * alpha * (x - |x|)} ({@link PreluAbs}, also that tail on a ReLU's output), ReLU6 written as
 * clamps ({@link ClipMatcher}: Minimum(Maximum(x, 0), 6), Relu then Minimum(., 6), ...), operands
 * in any order, bent identity {@code (sqrt(x^2 + 1) - 1) / 2 + x} (as {@code ActivationEmitter}
 * writes it: AddV2(Mul(Add(Sqrt(Add(Square(x), 1)), -1), 0.5), x), operands of the adds and muls
 * in any order). Composite matches take precedence over the single ops they contain (the Sigmoid
 * of a swish is not a separate activation).
 *
 * <p><b>Declared sites</b>: Sin and Cos are activations only where the model says so ({@link
 * #find(GraphView, Map)}: the activation sites of its shaping record, node name to kind), since
 * real models use them in the body for geometry (facemesh-attention's rotated crops).
 */
public final class ActivationMatcher {
  /**
   * Activations that are one op. Erf, Atan and Asinh are what {@code ActivationEmitter} writes for
   * the erf, atan and asinh activations (models built with them were analysed as linear); Sin and
   * Cos are not here, since real models use them in the body for geometry (facemesh-attention's
   * rotated crops), where they are not activations.
   */
  private static final Map<String, String> SINGLE = Map.ofEntries(
      Map.entry("Relu", "relu"), Map.entry("Relu6", "relu6"), Map.entry("LeakyRelu", "leaky_relu"),
      Map.entry("Elu", "elu"), Map.entry("Selu", "selu"), Map.entry("Softplus", "softplus"),
      Map.entry("Sigmoid", "sigmoid"), Map.entry("Tanh", "tanh"), Map.entry("Softsign", "softsign"),
      Map.entry("Erf", "erf"), Map.entry("Atan", "atan"), Map.entry("Asinh", "asinh"));

  /**
   * One-op activations recognized only where declared ({@link #find(GraphView, Map)}), with the
   * kind the declaration must name.
   */
  private static final Map<String, String> DECLARED_ONLY = Map.of("Sin", "sin", "Cos", "cos");

  private final GraphView g;
  private final OpPatterns p;
  private final ClipMatcher clips;
  private final Map<String, String> declared;

  private ActivationMatcher(GraphView g, Map<String, String> declared) {
    this.g = g;
    this.p = new OpPatterns(g);
    this.clips = new ClipMatcher(g, p);
    this.declared = Map.copyOf(declared);
  }

  /** Every activation site of the graph, composites first, in graph order. */
  public static List<ActivationSite> find(GraphView graph) {
    return find(graph, Map.of());
  }

  /**
   * {@link #find(GraphView)}, with Sin and Cos nodes that {@code declared} names (node name to
   * activation kind, e.g. from the model's shaping record) as {@code sin} / {@code cos}
   * activations; a declaration whose node is absent, of another op, or of another kind is
   * ignored.
   */
  public static List<ActivationSite> find(GraphView graph, Map<String, String> declared) {
    return new ActivationMatcher(graph, declared).findAll();
  }

  private List<ActivationSite> findAll() {
    List<ActivationSite> composites = new ArrayList<>();
    Set<String> covered = new HashSet<>();
    for (NodeDef n : g.nodes()) {
      Optional<ActivationSite> m = matchGeluErf(n).or(() -> matchGeluTanh(n))
          .or(() -> matchHardSwish(n)).or(() -> matchSwish(n)).or(() -> matchPrelu(n))
          .or(() -> matchBentid(n)).or(() -> clips.match(n));
      m = m.or(() -> MaximumMatcher.match(g, p, n));
      if (m.isPresent() && m.get().nodes().stream().noneMatch(covered::contains)) {
        composites.add(m.get());
        covered.addAll(m.get().nodes());
      }
    }
    List<ActivationSite> out = new ArrayList<>();
    for (NodeDef n : g.nodes()) {
      String kind = SINGLE.get(n.getOp());
      String only = DECLARED_ONLY.get(n.getOp());
      if (kind == null && only != null && only.equals(declared.get(n.getName()))) {
        kind = only;
      }
      if (kind != null && !covered.contains(n.getName())) {
        double alpha = n.getOp().equals("LeakyRelu")
            ? (n.containsAttr("alpha") ? n.getAttrOrThrow("alpha").getF() : 0.2) : Double.NaN;
        out.add(new ActivationSite(kind, alpha, TensorName.parse(n.getInput(0)), n.getName(),
            List.of(n.getName())));
      }
    }
    out.addAll(composites);
    return out;
  }

  /**
   * PReLU in either of its graph forms: the reader's split of TF.js's Prelu ({@link
   * #matchPreluSub}) or Maximum/Minimum ({@link PreluMaxMin}).
   */
  private Optional<ActivationSite> matchPrelu(NodeDef n) {
    return matchPreluSub(n).or(() -> PreluMaxMin.match(p, n)).or(() -> PreluAbs.match(p, n));
  }

  /**
   * PReLU as the TF.js reader writes it: {@code Sub(Relu(x), Mul(alpha, Relu(Neg(x))))}, the Mul
   * in either order, alpha per channel (a value, not read by the site).
   */
  private Optional<ActivationSite> matchPreluSub(NodeDef sub) {
    if (!sub.getOp().equals("Sub") || sub.getInputCount() < 2) {
      return Optional.empty();
    }
    Optional<NodeDef> pos = p.producer(p.in(sub, 0), "Relu");
    Optional<NodeDef> mul = p.producer(p.in(sub, 1)).filter(p::isMul);
    if (pos.isEmpty() || mul.isEmpty()) {
      return Optional.empty();
    }
    TensorName x = p.in(pos.get(), 0);
    for (int i = 0; i < 2; i++) {
      Optional<NodeDef> negRelu = p.producer(p.in(mul.get(), i), "Relu");
      Optional<NodeDef> neg = negRelu.flatMap(r -> p.producer(p.in(r, 0), "Neg"));
      if (neg.isPresent() && p.in(neg.get(), 0).equals(x)) {
        return Optional.of(new ActivationSite("prelu", Double.NaN, x, sub.getName(),
            List.of(sub.getName(), pos.get().getName(), mul.get().getName(),
                negRelu.get().getName(), neg.get().getName())));
      }
    }
    return Optional.empty();
  }

  /**
   * bent identity: AddV2(Mul(Add(Sqrt(Add(Square(x), 1)), -1), 0.5), x), each add and mul with
   * its operands in either order (Add or AddV2).
   */
  private Optional<ActivationSite> matchBentid(NodeDef top) {
    if (!p.isAdd(top)) {
      return Optional.empty();
    }
    for (int i = 0; i < 2; i++) {
      TensorName x = p.in(top, 1 - i);
      Optional<NodeDef> half = p.producer(p.in(top, i)).filter(p::isMul);
      Optional<TensorName> minus1 = half.flatMap(h -> p.scaledBy(h, 0.5));
      Optional<NodeDef> minus1Node = minus1.flatMap(p::producer).filter(p::isAdd);
      Optional<TensorName> root = minus1Node.flatMap(a -> plusConst(a, -1.0));
      Optional<NodeDef> sqrt = root.flatMap(r -> p.producer(r, "Sqrt"));
      Optional<NodeDef> plus1 = sqrt.flatMap(q -> p.producer(p.in(q, 0))).filter(p::isAdd);
      Optional<TensorName> sq = plus1.flatMap(a -> plusConst(a, 1.0));
      Optional<NodeDef> square = sq.flatMap(t -> p.producer(t, "Square"));
      if (square.isPresent() && p.in(square.get(), 0).equals(x)) {
        return Optional.of(new ActivationSite("bentid", Double.NaN, x, top.getName(),
            List.of(top.getName(), half.get().getName(), minus1Node.get().getName(),
                sqrt.get().getName(), plus1.get().getName(), square.get().getName())));
      }
    }
    return Optional.empty();
  }

  /** If {@code add} computes {@code t + v} (either order), t. */
  private Optional<TensorName> plusConst(NodeDef add, double v) {
    for (int i = 0; i < 2; i++) {
      if (p.isConstValue(p.in(add, i), v)) {
        return Optional.of(p.in(add, 1 - i));
      }
    }
    return Optional.empty();
  }

  /** swish: Mul(x, Sigmoid(x)) in either order. */
  private Optional<ActivationSite> matchSwish(NodeDef mul) {
    if (!p.isMul(mul)) {
      return Optional.empty();
    }
    for (int i = 0; i < 2; i++) {
      TensorName x = p.in(mul, i);
      Optional<NodeDef> sig = p.producer(p.in(mul, 1 - i), "Sigmoid");
      if (sig.isPresent() && p.in(sig.get(), 0).equals(x)) {
        return Optional.of(new ActivationSite("swish", Double.NaN, x, mul.getName(),
            List.of(mul.getName(), sig.get().getName())));
      }
    }
    return Optional.empty();
  }

  /**
   * hard-swish: x * (relu6(x + 3) * (1/6)), (x * relu6(x + 3)) / 6 or (x * (1/6)) * relu6(x + 3),
   * and operand swaps; the constants 1/6 (or 6) and 3 as stored in float16 or better.
   */
  private Optional<ActivationSite> matchHardSwish(NodeDef top) {
    List<String> nodes = new ArrayList<>();
    nodes.add(top.getName());
    // form A: Mul(x, Mul(Relu6(x+3), 1/6)) or Mul(x, RealDiv(Relu6(x+3), 6))
    if (p.isMul(top)) {
      for (int i = 0; i < 2; i++) {
        TensorName x = p.in(top, i);
        Optional<NodeDef> scaled = p.producer(p.in(top, 1 - i));
        if (scaled.isPresent()) {
          Optional<TensorName> r6 = p.scaledBy(scaled.get(), 1.0 / 6, OpPatterns.HALF_PRECISION);
          if (r6.isPresent() && p.isRelu6OfXPlus3(r6.get(), x, nodes)) {
            nodes.add(scaled.get().getName());
            return Optional.of(new ActivationSite("hard_swish", Double.NaN, x, top.getName(),
                nodes));
          }
        }
      }
    }
    // form C: Mul(Mul(x, 1/6), Relu6(x+3)) or Mul(RealDiv(x, 6), Relu6(x+3)): x scaled first, as
    // the TF.js selfie and meet segmenters write it
    if (p.isMul(top)) {
      for (int i = 0; i < 2; i++) {
        Optional<NodeDef> scaled = p.producer(p.in(top, i));
        Optional<TensorName> x =
            scaled.flatMap(s -> p.scaledBy(s, 1.0 / 6, OpPatterns.HALF_PRECISION));
        if (x.isPresent() && p.isRelu6OfXPlus3(p.in(top, 1 - i), x.get(), nodes)) {
          nodes.add(scaled.get().getName());
          return Optional.of(new ActivationSite("hard_swish", Double.NaN, x.get(), top.getName(),
              nodes));
        }
      }
    }
    // form B: Mul(Mul(x, Relu6(x+3)), 1/6) or RealDiv(Mul(x, Relu6(x+3)), 6)
    Optional<TensorName> prod = p.scaledBy(top, 1.0 / 6, OpPatterns.HALF_PRECISION);
    if (prod.isPresent()) {
      Optional<NodeDef> mul = p.producer(prod.get());
      if (mul.isPresent() && p.isMul(mul.get())) {
        for (int i = 0; i < 2; i++) {
          TensorName x = p.in(mul.get(), i);
          if (p.isRelu6OfXPlus3(p.in(mul.get(), 1 - i), x, nodes)) {
            nodes.add(mul.get().getName());
            return Optional.of(new ActivationSite("hard_swish", Double.NaN, x, top.getName(),
                nodes));
          }
        }
      }
    }
    return Optional.empty();
  }

  /** GELU (exact): 0.5 * x * (1 + erf(x * (1/sqrt 2))) in its usual groupings. */
  private Optional<ActivationSite> matchGeluErf(NodeDef top) {
    return matchHalfXTimesOnePlus(top, "Erf", 1 / Math.sqrt(2), "gelu_exact");
  }

  /** GELU (tanh approximation): 0.5 * x * (1 + tanh(c * (x + 0.044715 x^3))). */
  private Optional<ActivationSite> matchGeluTanh(NodeDef top) {
    return matchHalfXTimesOnePlus(top, "Tanh", Double.NaN, "gelu");
  }

  /**
   * Matches {@code 0.5 * x * (1 + f(...x...))} where f is Erf or Tanh, grouped as (0.5 x)(1+f),
   * x (0.5 (1+f)), 0.5 (x (1+f)) or (x (1+f)) 0.5; the argument of f must be computed from x.
   */
  private Optional<ActivationSite> matchHalfXTimesOnePlus(
      NodeDef top, String fOp, double erfScale, String kind) {
    if (!p.isMul(top)) {
      return Optional.empty();
    }
    List<String> nodes = new ArrayList<>();
    nodes.add(top.getName());
    Optional<TensorName[]> parts = p.halfTimesXTimesOnePlus(top, fOp, nodes);
    if (parts.isEmpty()) {
      return Optional.empty();
    }
    TensorName x = parts.get()[0];
    TensorName onePlus = parts.get()[1];
    NodeDef add = p.producer(onePlus).orElseThrow();
    NodeDef fNode = p.onePlusArgument(add, fOp).orElseThrow();
    if (!p.dependsOnWithin(TensorName.parse(fNode.getInput(0)), x, 6)) {
      return Optional.empty();
    }
    nodes.add(add.getName());
    nodes.add(fNode.getName());
    nodes.addAll(p.nodesBetween(TensorName.parse(fNode.getInput(0)), x, 6));
    if (!Double.isNaN(erfScale) && !p.isScaledInput(fNode, x, erfScale)) {
      return Optional.empty();
    }
    return Optional.of(new ActivationSite(kind, Double.NaN, x, top.getName(),
        new ArrayList<>(new java.util.LinkedHashSet<>(nodes))));
  }
}
