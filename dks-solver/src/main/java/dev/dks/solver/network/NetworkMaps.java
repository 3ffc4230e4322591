package dev.dks.solver.network;

import dev.dks.solver.solve.MissingNetworkMapException;
import java.util.Optional;
import java.util.function.DoubleUnaryOperator;
import java.util.function.IntFunction;

/**
 * The network-level functions the DKS/TAT solves invert, derived from one {@link Structure} (the
 * reference's {@code M(x, r)}) or supplied directly:
 *
 * <ul>
 *   <li>maximal slope {@code mu(x) = M(1, y -> x*y)}: the network's C'(1) when every local C'(1) is
 *       x (DKS);
 *   <li>maximal curvature {@code kappa(x) = M(0, y -> x+y)}: the network's C''(1) when every local
 *       C'(1) = 1 and C''(1) = x (TAT, smooth activations);
 *   <li>maximal C(0) {@code M(0, C_local)}: the network's C(0) for a given local C map (TAT, leaky
 *       ReLU).
 * </ul>
 *
 * <p>Products of streams ({@link Dag.Kind#PRODUCT}, {@link KernelSemantics#product}): mu and kappa
 * read a product as the geometric mean of its factors' C maps, the part the activations shape (a
 * product's C map is that mean squared, and the squaring's C'(1) = 2 is out of any activation's
 * reach); at TAT's local C'(1) = 1 that mean's C''(1) is the mean of the factors', so both are the
 * reference's functions with a product averaging its factors' values. The maximal C(0) multiplies
 * them (C values, which the targets can reach).
 */
public final class NetworkMaps {
  private final Structure structure;
  private final DoubleUnaryOperator maxSlope;
  private final DoubleUnaryOperator maxCurvature;

  private NetworkMaps(
      Structure structure, DoubleUnaryOperator maxSlope, DoubleUnaryOperator maxCurvature) {
    this.structure = structure;
    this.maxSlope = maxSlope;
    this.maxCurvature = maxCurvature;
  }

  /** All three functions derived from a structure. */
  public static NetworkMaps of(Structure structure) {
    return new NetworkMaps(
        structure,
        x -> structure.propagate(1.0, ScalarSemantics.forDerivatives(y -> x * y)),
        x -> structure.propagate(0.0, ScalarSemantics.forDerivatives(y -> x + y)));
  }

  /**
   * User-supplied functions (either may be null); without a structure the maximal C(0) function,
   * and hence TAT for leaky ReLU, is unavailable.
   */
  public static NetworkMaps ofFunctions(
      DoubleUnaryOperator maxSlope, DoubleUnaryOperator maxCurvature) {
    return new NetworkMaps(null, maxSlope, maxCurvature);
  }

  /** The structure, if these maps came from one. */
  public Optional<Structure> structure() {
    return Optional.ofNullable(structure);
  }

  /** mu(x). */
  public double maxSlope(double x) {
    if (maxSlope == null) {
      throw new MissingNetworkMapException(
          "DKS needs the maximal slope function: describe the network with a Structure "
              + "or supply maxSlope");
    }
    return maxSlope.applyAsDouble(x);
  }

  /** kappa(x). */
  public double maxCurvature(double x) {
    if (maxCurvature == null) {
      throw new MissingNetworkMapException(
          "TAT needs the maximal curvature function: describe the network with a Structure "
              + "or supply maxCurvature");
    }
    return maxCurvature.applyAsDouble(x);
  }

  /**
   * The largest Q'(1) of the network at any of its nodes when every layer's Q'(1) is {@code
   * layerSlope} ({@link QSlopeSemantics}: products add their factors' slopes); 1 at least (the
   * input's), and {@code layerSlope} raised to the depth's power at most for a structure without
   * products. Without a structure: NaN.
   */
  public double maxQSlope(double layerSlope) {
    if (structure == null) {
      return Double.NaN;
    }
    return structure.propagate(QSlopeSemantics.start(), new QSlopeSemantics(layerSlope))[1];
  }

  /** {@code M(0, localCMap)}: the largest network C(0) when every layer has that C map. */
  public double maxC0(DoubleUnaryOperator localCMap) {
    return requireStructure("the maximal C(0) function (TAT with leaky_relu)")
        .propagate(0.0, new ScalarSemantics(localCMap));
  }

  /**
   * {@code M(0, ...)} with depthwise chains ({@link Dag.Node#chain}) mapped by their own maps: the
   * network's C(0) as the kernel check predicts it.
   *
   * @param localCMap the C map of one layer
   * @param chainCMap the C map of a chain of n layers
   */
  public double maxC0(DoubleUnaryOperator localCMap, IntFunction<DoubleUnaryOperator> chainCMap) {
    return requireStructure("the maximal C(0) function (TAT with leaky_relu)")
        .propagate(0.0, new ScalarSemantics(localCMap, chainCMap));
  }

  /**
   * {@code M(x, r)} for any r, a product of streams multiplying its factors' values (so with
   * products, {@code propagate(1, y -> x y)} is not {@link #maxSlope}, which reads a product as
   * its factors' geometric mean).
   */
  public double propagate(double x, DoubleUnaryOperator r) {
    return requireStructure("M(x, r)").propagate(x, new ScalarSemantics(r));
  }

  /** {@code M(x, r)} with depthwise chains of n layers mapped by {@code chains.apply(n)}. */
  public double propagate(double x, DoubleUnaryOperator r,
      IntFunction<DoubleUnaryOperator> chains) {
    return requireStructure("M(x, r)").propagate(x, new ScalarSemantics(r, chains));
  }

  /**
   * True when the structure has depthwise chains ({@link Dag.Node#chain}): layers whose
   * pre-activation is not Gaussian, so that the network's maps are not compositions of the
   * layers' maps and the solvers take the chains' own maps.
   */
  public boolean hasChains() {
    return longestChain() >= 2;
  }

  /** True when the structure multiplies streams ({@link Dag.Kind#PRODUCT}). */
  public boolean hasProducts() {
    return structure != null && hasProducts(structure);
  }

  private static boolean hasProducts(Structure s) {
    if (s instanceof Dag d) {
      return d.hasProducts();
    }
    return parts(s).stream().anyMatch(NetworkMaps::hasProducts);
  }

  private static java.util.List<Structure> parts(Structure s) {
    return s instanceof Structure.Max m ? m.candidates()
        : s instanceof Structure.Series sr ? sr.parts()
        : s instanceof Structure.NormalizedSum n ? n.branches()
        : s instanceof Structure.Concat c ? c.branches() : java.util.List.of();
  }

  /** The most layers in one chain of the structure ({@link Dag.Node#chain}), 0 without chains. */
  public int longestChain() {
    return structure == null ? 0 : longestChain(structure);
  }

  private static int longestChain(Structure s) {
    if (s instanceof Dag d) {
      return d.nodes().stream().mapToInt(n -> n.chain().length).max().orElse(0);
    }
    return parts(s).stream().mapToInt(NetworkMaps::longestChain).max().orElse(0);
  }

  private Structure requireStructure(String what) {
    if (structure == null) {
      throw new MissingNetworkMapException(
          what + " needs the network structure (a Structure, the reference's subnet_max_func); "
              + "maxSlope/maxCurvature functions alone are not enough: use NetworkMaps.of(structure)");
    }
    return structure;
  }
}
