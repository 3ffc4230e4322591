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

/**
 * The whole table of smooth activations ({@link BenchmarkActivations#SMOOTH}) shaped in one solver
 * call on a plain chain of 50 layers: one bisection for the network target, then one root solve
 * per activation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(1)
public class ActivationTableBenchmark {
  private List<Activation> table;
  private NetworkMaps network;
  private final DksTargets dks = DksTargets.defaults();
  private final TatTargets tat = TatTargets.defaults();

  @Setup(Level.Trial)
  public void setUp() {
    table = BenchmarkActivations.smooth();
    network = NetworkMaps.of(Architectures.plainChain(BenchmarkActivations.CHAIN_DEPTH));
  }

  @Benchmark
  public ShapingSolution dksTable() {
    return ShapingSolver.solve(Method.DKS, table, network, dks, tat);
  }

  @Benchmark
  public ShapingSolution tatTable() {
    return ShapingSolver.solve(Method.TAT, table, network, dks, tat);
  }
}
