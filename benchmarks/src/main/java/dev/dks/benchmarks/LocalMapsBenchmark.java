package dev.dks.benchmarks;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
import dev.dks.solver.maps.GaussianMoments;
import dev.dks.solver.maps.LocalMaps;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The building blocks every solver iteration pays for: the Gaussian moments of one activation (one
 * quadrature sweep) and one nested-quadrature C map value.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(1)
public class LocalMapsBenchmark {
  private Activation tanh;
  /** leaky_relu with its DKS parameters on a 50-layer chain: a moved kink, shift and scale. */
  private Activation shapedLeakyRelu;
  private LocalMaps tanhMaps;
  /** Not a constant, so the JIT cannot fold the argument of C(c). */
  private double c = 0.5;

  @Setup(Level.Trial)
  public void setUp() {
    tanh = Activations.byName("tanh");
    shapedLeakyRelu = ShapingSolver.solve(Method.DKS, List.of(Activations.byName("leaky_relu")),
            NetworkMaps.of(Architectures.plainChain(BenchmarkActivations.CHAIN_DEPTH)),
            DksTargets.defaults(), TatTargets.defaults())
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
