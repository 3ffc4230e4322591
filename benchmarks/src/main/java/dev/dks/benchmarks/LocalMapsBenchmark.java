package dev.dks.benchmarks;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.maps.GaussianMoments;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.solve.Method;
import java.util.List;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The building blocks every solver iteration pays for: the Gaussian moments of one activation (one
 * quadrature sweep) and one nested-quadrature C map value. JMH settings: {@link
 * PlainChainBenchmark}.
 */
public class LocalMapsBenchmark extends PlainChainBenchmark {
  private Activation tanh;
  /** leaky_relu with its DKS parameters on a 50-layer chain: a moved kink, shift and scale. */
  private Activation shapedLeakyRelu;
  private LocalMaps tanhMaps;
  /** Not a constant, so the JIT cannot fold the argument of C(c). */
  private double c = 0.5;

  @Setup(Level.Trial)
  public void setUp() {
    tanh = Activations.byName("tanh");
    shapedLeakyRelu = solve(Method.DKS, List.of(Activations.byName("leaky_relu")))
        .get("leaky_relu")
        .transformed();
    tanhMaps = LocalMaps.of(tanh);
  }

  @Benchmark
  public GaussianMoments momentsTanh() {
    return GaussianMoments.of(tanh);
  }

  @Benchmark
  public GaussianMoments momentsShapedLeakyRelu() {
    return GaussianMoments.of(shapedLeakyRelu);
  }

  @Benchmark
  public void cMapTanhHalf(Blackhole bh) {
    bh.consume(tanhMaps.c(c));
  }
}
