package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.IndexPathTest;
import dev.dks.rewriter.analysis.IndexPathTest.Variant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kernel check measures no row for a tensor that only computes gather indices
 * ({@link IndexPathTest#net}: a dense layer + tanh + dense layer whose sum, floored, rotates the
 * channels the gather reads), and predicts for the gathered features what it predicts when the
 * gather's indices are constant; control: when the tanh is also gathered, it is one more layer on the checked path.
 */
class IndexPathKernelTest {
  private static final KernelCheck.Options O =
      new KernelCheck.Options(new double[] {0.0, 0.5}, 16, 7, 0.03, 0.5, 1);

  private static List<String> tensors(KernelReport r) {
    return r.rows().stream().map(KernelMeasurement::tensor).distinct().toList();
  }

  @Test
  void indexArithmeticHasNoRowAndLeavesThePredictionsAlone() {
    KernelReport r = KernelCheck.run(IndexPathTest.net(Variant.FROM_FEATURES), null, O);
    KernelReport constant = KernelCheck.run(IndexPathTest.net(Variant.CONSTANT), null, O);
    assertEquals(tensors(constant), tensors(r), r.toText());
    assertTrue(!tensors(r).contains(IndexPathTest.TANH), r.toText());
    for (int i = 0; i < r.rows().size(); i++) {
      assertEquals(constant.rows().get(i).predictedC(), r.rows().get(i).predictedC(), 1e-12,
          r.rows().get(i).tensor());
    }
  }

  @Test
  void aGatheredTanhIsALayerOfTheCheck() {
    KernelReport r = KernelCheck.run(IndexPathTest.net(Variant.PARAMS_ON_INDEX_PATH), null, O);
    KernelReport constant = KernelCheck.run(IndexPathTest.net(Variant.CONSTANT), null, O);
    assertEquals(maxDepth(constant) + 1, maxDepth(r), r.toText());
  }

  private static int maxDepth(KernelReport r) {
    return r.rows().stream().mapToInt(KernelMeasurement::depth).max().orElse(-1);
  }
}
