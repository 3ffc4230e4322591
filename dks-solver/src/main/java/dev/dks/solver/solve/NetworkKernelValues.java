package dev.dks.solver.solve;

/**
 * Network-level kernel quantities of the maximal subnetwork when every nonlinear layer uses one
 * shaped activation: what the targets refer to.
 *
 * @param cSlope1 the network's maximal C'(1) (DKS target zeta; 1 under TAT); with products of
 *     streams, that of the geometric-mean reading of each product (see {@code
 *     KernelSemantics#product}), as is {@code cCurvature1}, while {@code c0} multiplies
 * @param cCurvature1 the network's maximal C''(1) (TAT target tau), +Infinity for leaky ReLU
 * @param c0 the network's maximal C(0) (DKS: 0; TAT leaky ReLU: eta), NaN where it is not
 *     computed (TAT for smooth activations has no C(0) condition)
 */
public record NetworkKernelValues(double cSlope1, double cCurvature1, double c0) {}
