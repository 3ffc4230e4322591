package dev.dks.benchmarks;

import dev.dks.solver.activation.Activation;
import dev.dks.solver.activation.Activations;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One DKS or TAT solve of one activation, after warm-up: the latency a user waits for when a model
 * is built. Networks: a plain chain of 50 layers, and a ResNet-101 v2 for the TAT leaky ReLU
 * (TReLU) solve, whose bisection propagates through the whole ResNet structure.
 *
 * <p>Each method has its own parameter set so that no combination that the solver refuses is
 * benchmarked: DKS shapes relu (partially) and leaky_relu on top of the smooth activations, TAT
 * shapes leaky_relu but refuses relu.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 500, timeUnit = TimeUnit.MILLISECONDS)
@Fork(1)
public class SolverBenchmark {

  /** Shared by the states: the activation, network and targets of one solve. */
  abstract static class Problem {
    List<Activation> activations;
    NetworkMaps network;
    final DksTargets dks = DksTargets.defaults();
    final TatTargets tat = TatTargets.defaults();

    void init(String name, NetworkMaps net, Method method) {
      activations = List.of(Activations.byName(name));
      network = net;
      // Fail in setup, with the solver's message, rather than in the measured loop.
      solve(method);
    }

    ShapingSolution solve(Method method) {
      return ShapingSolver.solve(method, activations, network, dks, tat);
    }
  }

  /** DKS on a plain chain of 50 layers: the smooth activations plus leaky_relu and relu. */
  @State(Scope.Benchmark)
  public static class DksChain extends Problem {
    @Param({
      "tanh", "sigmoid", "softplus", "erf", "elu", "swish", "gelu", "gelu_exact", "atan", "asinh",
      "softsign", "bentid", "sin", "cos", "leaky_relu", "relu"
    })
    public String activation;

    @Setup(Level.Trial)
    public void setUp() {
      init(activation, BenchmarkActivations.plainChain(),
          Method.DKS);
    }
  }

  /** TAT on a plain chain of 50 layers: the smooth activations plus leaky_relu (TReLU). */
  @State(Scope.Benchmark)
  public static class TatChain extends Problem {
    @Param({
      "tanh", "sigmoid", "softplus", "erf", "elu", "swish", "gelu", "gelu_exact", "atan", "asinh",
      "softsign", "bentid", "sin", "cos", "leaky_relu"
    })
    public String activation;

    @Setup(Level.Trial)
    public void setUp() {
      init(activation, BenchmarkActivations.plainChain(),
          Method.TAT);
    }
  }

  /** TAT leaky ReLU on a ResNet-101 v2 (w = shortcut weight; 0 removes the skips). */
  @State(Scope.Benchmark)
  public static class TatResnet extends Problem {
    @Param({"0.0"})
    public double shortcutWeight;

    @Setup(Level.Trial)
    public void setUp() {
      init("leaky_relu", NetworkMaps.of(Architectures.resnet(101, shortcutWeight, true)),
          Method.TAT);
    }
  }

  @Benchmark
  public ShapingSolution dks(DksChain p) {
    return p.solve(Method.DKS);
  }

  @Benchmark
  public ShapingSolution tat(TatChain p) {
    return p.solve(Method.TAT);
  }

  @Benchmark
  public ShapingSolution tatLeakyReluResnet101V2(TatResnet p) {
    return p.solve(Method.TAT);
  }
}
