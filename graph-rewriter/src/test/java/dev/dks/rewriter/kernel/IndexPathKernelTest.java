package dev.dks.rewriter.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.analysis.IndexPathTest;
import dev.dks.rewriter.analysis.IndexPathTest.Variant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kernel check measures no row for a tensor that only computes gather indices
 * ({@link IndexPathTest#net}: a dense layer + tanh + dense layer whose sum, floored, rotates the
 * channels the gather reads) and does not judge there; the gather itself still reads indices
 * computed from the input, so the rows past it are measured, not predicted, as before, and the
 * rows before it keep the predictions of the same network gathering at constant indices
 * (control: there the rows past the gather are predicted).
 */
class IndexPathKernelTest {
  private static final KernelCheck.Options O =
      new KernelCheck.Options(new double[] {0.0, 0.5}, 8, 7, 0.03, 0.5, 1);

  private static List<String> tensors(KernelReport r) {
    return r.rows().stream().map(KernelMeasurement::tensor).distinct().toList();
  }

  @Test
  void indexArithmeticHasNoRowAndLeavesThePredictionsAlone() {
    KernelReport r = KernelCheck.run(IndexPathTest.net(Variant.FROM_FEATURES), null, O);
    KernelReport constant = KernelCheck.run(IndexPathTest.net(Variant.CONSTANT), null, O);
    assertEquals(tensors(constant), tensors(r), r.toText());
    assertFalse(tensors(r).contains(IndexPathTest.TANH), r.toText());
    // judged at the gathered branch's input, the deepest predictable layer input
    String h = tensors(r).get(1);
    assertEquals(h, r.judgedTensor(), r.toText());
    assertTrue(r.judgedNote() != null && r.judgedNote().contains("'gather' (GatherV2)"),
        r.toText());
    for (int i = 0; i < r.rows().size(); i++) {
      KernelMeasurement m = r.rows().get(i);
      KernelMeasurement c = constant.rows().get(i);
      assertEquals(c.tensor(), m.tensor());
      assertFalse(c.pastJudged(), c.tensor());
      if (m.depth() <= 1) {
        assertFalse(m.pastJudged(), m.tensor());
        // the same structure; the finite-width simulation behind the prediction runs to the
        // judged tensor, which differs between the two checks, so their Monte Carlo noise does
        // (0.0025 apart at width 16)
        assertEquals(c.predictedC(), m.predictedC(), 0.01, m.tensor());
      } else {
        assertTrue(m.pastJudged(), m.tensor());
      }
    }
  }
}
