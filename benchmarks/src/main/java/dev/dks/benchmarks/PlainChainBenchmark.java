package dev.dks.benchmarks;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.network.Architectures;
import dev.dks.solver.network.NetworkMaps;
import dev.dks.solver.solve.DksTargets;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import dev.dks.solver.solve.ShapingSolver;
import dev.dks.solver.solve.TatTargets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The JMH settings (inherited by the subclasses: average time in µs, 3 x 1 s warm-up, 5 x 500 ms
 * measured, one fork) and the setup shared by {@link ActivationTableBenchmark} and {@link
 * LocalMapsBenchmark}: the plain chain of {@link BenchmarkActivations#CHAIN_DEPTH} layers and the
 * default DKS and TAT targets.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(1)
public abstract class PlainChainBenchmark {
  /** The plain chain the activations are shaped on. */
  protected final NetworkMaps network = BenchmarkActivations.plainChain();
  protected final DksTargets dks = DksTargets.defaults();
  protected final TatTargets tat = TatTargets.defaults();

  /** Shapes {@code activations} with {@code method} on {@link #network}. */
  protected ShapingSolution solve(Method method, List<Activation> activations) {
    return ShapingSolver.solve(method, activations, network, dks, tat);
  }
}
