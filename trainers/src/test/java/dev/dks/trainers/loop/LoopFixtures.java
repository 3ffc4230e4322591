package dev.dks.trainers.loop;

import dev.dks.rewriter.builder.Architecture;
import dev.dks.rewriter.builder.ArchitectureSpec;
import dev.dks.rewriter.builder.ModelBuilder;
import dev.dks.rewriter.model.Model;
import dev.dks.trainers.data.Batch;
import dev.dks.trainers.data.BatchIterator;
import dev.dks.trainers.data.Dataset;
import dev.dks.trainers.data.SyntheticTask;
import dev.dks.trainers.graph.TrainingGraph;
import dev.dks.trainers.graph.TrainingSpec;
import dev.dks.trainers.optim.LearningRateSchedule;
import dev.dks.trainers.optim.SgdOptimizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.tensorflow.proto.TensorProto;

/** A small MLP on a synthetic task, shared by the loop tests. */
final class LoopFixtures {
  static final long DATA_SEED = 11;
  static final int BATCH = 16;

  private LoopFixtures() {}

  /** MLP depth 2, width 16, input 1x1x8, 3 classes. */
  static Model model() {
    return ModelBuilder.build(ArchitectureSpec.builder(Architecture.MLP, 2).width(16)
        .input("1x1x8").classes(3).seed(3).build()).model();
  }

  static Dataset train() {
    return SyntheticTask.generate("syn/train", 256, 1, 1, 8, 3, 1.0, 7, 0);
  }

  static Dataset validation() {
    return SyntheticTask.generate("syn/validation", 96, 1, 1, 8, 3, 1.0, 7, 1);
  }

  static BatchIterator batches(long seed) {
    return BatchIterator.builder(train()).batchSize(BATCH).seed(seed).build();
  }

  /** A Nesterov training graph (so optimizer slots matter) with a little L2. */
  static TrainingGraph graph(Model m) {
    return TrainingGraph.build(m,
        TrainingSpec.defaults().withOptimizer(SgdOptimizer.Kind.NESTEROV).withL2(1e-4));
  }

  /** A builder with the shared schedule and momentum. */
  static Trainer.Builder trainer(TrainingGraph g, BatchSource source, long steps) {
    return Trainer.builder(g, source).schedule(LearningRateSchedule.cosineWithWarmup(0.1, 5,
        steps)).momentum(0.9).totalSteps(steps).dataSeed(DATA_SEED);
  }

  /** {@code source} with a NaN in the first input value of the batch of step {@code bad}. */
  static BatchSource poisoned(BatchSource source, long bad) {
    return step -> {
      Batch b = source.batchAt(step);
      if (step != bad) {
        return b;
      }
      float[] images = b.images().clone();
      images[0] = Float.NaN;
      return new Batch(b.step(), b.epoch(), b.indices(), images, b.labels(), b.oneHot(), b.h(),
          b.w(), b.c(), b.classes());
    };
  }

  /** Files in {@code dir} (names). */
  static List<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  static void assertSameBytes(Map<String, TensorProto> expected,
      Map<String, TensorProto> actual) {
    org.junit.jupiter.api.Assertions.assertEquals(expected.keySet(), actual.keySet());
    for (String k : expected.keySet()) {
      org.junit.jupiter.api.Assertions.assertArrayEquals(expected.get(k).toByteArray(),
          actual.get(k).toByteArray(), k);
    }
  }
}
