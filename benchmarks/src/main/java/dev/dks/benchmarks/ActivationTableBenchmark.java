package dev.dks.benchmarks;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.solve.Method;
import dev.dks.solver.solve.ShapingSolution;
import java.util.List;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;

/**
 * The whole table of smooth activations ({@link BenchmarkActivations#SMOOTH}) shaped in one solver
 * call on a plain chain of 50 layers: one bisection for the network target, then one root solve
 * per activation. JMH settings: {@link PlainChainBenchmark}.
 */
public class ActivationTableBenchmark extends PlainChainBenchmark {
  private List<Activation> table;

  @Setup(Level.Trial)
  public void setUp() {
    table = BenchmarkActivations.smooth();
  }

  @Benchmark
  public ShapingSolution dksTable() {
    return solve(Method.DKS, table);
  }

  @Benchmark
  public ShapingSolution tatTable() {
    return solve(Method.TAT, table);
  }
}
