package dev.dks.benchmarks;

import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.kfac.KfacOptions;
import dev.dks.trainers.kfac.RegisteredLayer;
import dev.dks.trainers.kfac.Registration;

/**
 * The floats a distributed K-FAC statistics step adds to the packed all-reduce (issue 13): every
 * factor, {@code d_A^2 + d_G^2} per Kronecker block, and each diagonal block's variable (one
 * sampled backward pass). For a model, from the registration of a real K-FAC training graph; for
 * ResNet-50, from its published layout.
 */
final class KfacTraffic {
  private KfacTraffic() {}

  /** Factor floats of {@code model} under the default K-FAC options. */
  static long factorFloats(Model model) {
    try (TrainingGraph tg = TrainingGraph.build(model,
        TrainingSpec.defaults().withKfac(KfacOptions.defaults()))) {
      Registration r = tg.kfac().orElseThrow().registration();
      long total = 0;
      for (RegisteredLayer l : r.layers()) {
        total += (long) l.inputDim() * l.inputDim() + (long) l.outputDim() * l.outputDim();
      }
      for (String v : r.diagonal().keySet()) {
        total += TensorProtos.floats(model.variables().get(v)).length;
      }
      return total;
    }
  }

  /**
   * Factor floats of ResNet-50 (He et al. 2016; Keras/torchvision layout): the 7x7 stem, 16
   * bottlenecks (1x1, 3x3, 1x1, a 1x1 projection in each stage's first) without biases, and the
   * 2048 -> 1000 dense layer with its bias: 54 Kronecker blocks. Batch norm's scales and offsets
   * (diagonal blocks, 53,120 floats) are left out: a DKS/TAT network has none.
   */
  static long resnet50FactorFloats() {
    long total = square(7 * 7 * 3) + square(64);
    long in = 64;
    int[] widths = {64, 128, 256, 512};
    int[] blocks = {3, 4, 6, 3};
    for (int s = 0; s < 4; s++) {
      long w = widths[s];
      for (int b = 0; b < blocks[s]; b++) {
        total += square(in) + square(w) + square(9 * w) + square(w) + square(w) + square(4 * w);
        if (b == 0) {
          total += square(in) + square(4 * w);
        }
        in = 4 * w;
      }
    }
    return total + square(2049) + square(1000);
  }

  private static long square(long d) {
    return d * d;
  }
}
