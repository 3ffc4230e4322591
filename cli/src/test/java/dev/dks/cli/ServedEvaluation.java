package dev.dks.cli;

import dev.dks.trainers.data.Dataset;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * A trained model's accuracy and loss recomputed outside the trainers: its exported serving
 * SavedModel loaded by TF's {@link SavedModelBundle} ({@code serving_default}, input {@code
 * input}, output {@code logits}, as the model builder names them), argmax and softmax
 * cross-entropy in Java in double precision.
 */
final class ServedEvaluation {
  private ServedEvaluation() {}

  /** {accuracy, mean softmax cross-entropy} of the SavedModel at {@code dir} on {@code d}. */
  static double[] accuracyAndLoss(Path dir, Dataset d) {
    int correct = 0;
    double loss = 0;
    int size = d.imageSize();
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), "serve")) {
      for (int from = 0; from < d.size(); from += 500) {
        int n = Math.min(500, d.size() - from);
        float[] x = Arrays.copyOfRange(d.images(), from * size, (from + n) * size);
        try (TFloat32 in = TFloat32.tensorOf(Shape.of(n, d.h(), d.w(), d.c()),
                DataBuffers.of(x, true, false));
            Result r = b.function("serving_default").call(Map.of("input", in))) {
          TFloat32 y = (TFloat32) r.get("logits").orElseThrow();
          float[] logits = new float[(int) y.shape().size()];
          y.copyTo(DataBuffers.of(logits, false, false));
          int k = logits.length / n;
          for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < k; c++) {
              if (logits[i * k + c] > logits[i * k + best]) {
                best = c;
              }
            }
            correct += best == d.labels()[from + i] ? 1 : 0;
            double z = 0;
            for (int c = 0; c < k; c++) {
              z += Math.exp(logits[i * k + c] - logits[i * k + best]);
            }
            loss += Math.log(z) - (logits[i * k + d.labels()[from + i]] - logits[i * k + best]);
          }
        }
      }
    }
    return new double[] {correct / (double) d.size(), loss / d.size()};
  }
}
