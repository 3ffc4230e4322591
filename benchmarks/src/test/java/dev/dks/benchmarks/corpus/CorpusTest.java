package dev.dks.benchmarks.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.savedmodels.assets.SharedAssets;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.opentest4j.TestAbortedException;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorProto;

/**
 * The 30-model rewrite corpus of issue 18 ({@link CorpusModels}, fetched by {@code
 * scripts/fetch-assets.sh --corpus}; skipped when missing, failed then under {@code DKS_REQUIRE_SHARED}):
 * every model converts (the SavedModel's outputs equal the read graph's), and the models that
 * rewrite today under each method still rewrite (every output keeps its dtype and shape and is
 * finite). The rest are printed with their refusals; the passing sets below only grow.
 */
@Tag("slow")
class CorpusTest {
  /**
   * Models the default rewrite (TAT, leaky_relu, eta 0.9 under the auto rule: faceboxes, gear and
   * gender reach less and get their largest C(0)) takes today. rvm is refused under both methods
   * (its body holds a tf.cond on the input downsample_ratio: docs/constructs.md).
   */
  static final Set<String> TAT_PASSING = Set.of(
      "age", "blazeface-back", "blazeface-front", "blazepose-detector", "blazepose-full",
      "blazepose-heavy", "blazepose-lite", "efficientpose", "faceboxes",
      "facemesh-attention-pinto", "facemesh-attention", "facemesh-detection-full",
      "facemesh-detection-short", "faceres-deep", "gear", "gender-ssrnet-imdb", "gender",
      "handdetect", "handlandmark-full",
      "handlandmark-sparse", "handskeleton", "meet", "mobileface", "mobilefacenet",
      "movenet-multipose", "movenet-thunder", "nanodet", "posenet", "selfie");

  /** Models {@code --method DKS --activation softplus} takes today. */
  static final Set<String> DKS_PASSING = Set.of(
      "age", "blazeface-back", "blazeface-front", "blazepose-detector", "blazepose-full",
      "blazepose-heavy", "blazepose-lite", "efficientpose", "faceboxes",
      "facemesh-attention-pinto", "facemesh-attention",
      "facemesh-detection-full", "facemesh-detection-short", "faceres-deep", "gear",
      "gender-ssrnet-imdb", "gender", "handdetect", "handlandmark-full", "handlandmark-sparse",
      "handskeleton", "meet", "mobileface", "mobilefacenet", "movenet-multipose",
      "movenet-thunder", "nanodet", "posenet", "selfie");

  /** The typed refusal each remaining model gets, under both methods (start of the message). */
  static final Map<String, String> REFUSALS = Map.of("rvm", "the body holds a tf.cond");

  /**
   * The models whose rewrites {@code dks verify} checks to a verdict (exit 0 or 1, with JSON)
   * under both methods today; the goal is every model. The ten with a batch dimension fixed at 1
   * (an input of batch 1, or reshapes to a fixed {@code [1, ...]}: blazeface-front,
   * movenet-thunder, handskeleton, handdetect, blazeface-back, selfie, meet, movenet-multipose,
   * handlandmark-sparse, facemesh-attention-pinto) reach one since verify feeds such a graph one
   * example at a time (JSON {@code fed_one_at_a_time}); handskeleton also needed its {@code
   * ^input_1} control inputs dropped from the check's copy. faceboxes's heads read its
   * image-padding sizes (rank 0 and 1) before the features; the check now measures a feature
   * tensor of rank 2 or more ({@code KernelCheck.measuredEnd}). nanodet measured a start c of NaN
   * and the prediction threw; the predictions are now NaN and the verdict a failure. The four
   * blazepose/facemesh-attention models joined after session 14's CI run reported their verdicts:
   * the set now holds all 29 rewritable models. It only grows; a model in it that exits 2 fails
   * the test.
   */
  static final Set<String> VERIFY_CHECKS = Set.of(
      "age", "blazepose-lite", "efficientpose", "facemesh-detection-full",
      "facemesh-detection-short", "faceres-deep", "gear", "gender", "gender-ssrnet-imdb",
      "handlandmark-full", "mobileface", "mobilefacenet", "posenet",
      "blazeface-front", "movenet-thunder", "handskeleton", "handdetect", "blazeface-back",
      "selfie", "meet", "movenet-multipose", "handlandmark-sparse", "facemesh-attention-pinto",
      "faceboxes", "nanodet", "blazepose-detector", "blazepose-full", "blazepose-heavy",
      "facemesh-attention");

  /**
   * Per method, the rewrites whose {@code dks verify} (with {@link CorpusVerify#FLAGS}: 8 pairs,
   * one draw, so noisier than the defaults) passes today, reliably: a model in a set that exits 1
   * fails the test with verify's reason. The check is deterministic (dks-init seed 0, verify's
   * input seed 1234, one draw: the model's own weights; session 20 reproduced the CI numbers to
   * all digits with the CLI), so a model joins only when it also passes with the input seeds 1235
   * and 1236 (CLI, 3bfa764): then a change that moves its errors by the sampling noise of 8 pairs
   * does not fail CI. Joined in session 20, with the largest c and q errors over the three seeds:
   * TAT faceboxes (0.017, 0.352), facemesh-detection-short (0.024, 0.312), gear (0.026, 0.153);
   * DKS softplus handskeleton (0.026, 0.118). Passing at seed 1234 but not at the others, so left
   * out (the test prints them as passing): TAT blazepose-detector (seed 1235: q error 0.504 at
   * depthwise_conv2d_23 against 0.5), DKS softplus nanodet (seed 1236: c error 0.036 at
   * transpose_104 against 0.03; 0.0298 at 1234) and mobileface (seed 1235: c error 0.094 at its
   * 2048-wide flatten, input c 0; see session 14's note: with one draw its q and c there are that
   * noisy, while verify's defaults pass it). The other models exit 1 with these flags; see
   * docs/corpus.md for verify's defaults.
   */
  static final Map<String, Set<String>> VERIFY_PASSING = Map.of(
      "TAT", Set.of("faceboxes", "facemesh-detection-short", "gear"),
      "DKS softplus", Set.of("handskeleton"));

  /**
   * Models whose DKS softplus shaping {@code dks rewrite} refuses to write because the predicted q
   * overflows float32 (RewriteOutput.refuseQOverflow): selfie's gates need a local Q'(1) softplus
   * cannot reach (predicted q 1.3e61 at multiply_5). The refusal is the designed verdict; any
   * other model refused so, or selfie refused for another reason, still fails the test.
   */
  private static final Set<String> Q_OVERFLOW_REFUSED = Set.of("selfie");

  @Test
  @Timeout(value = 40, unit = TimeUnit.MINUTES)
  void everyModelConvertsAndNoRewriteRegresses() throws IOException {
    Path dir = SharedAssets.dataCacheOrSkip(CorpusModels.FOLDER, TestAbortedException::new);
    List<CorpusResult> results = CorpusHarness.runAll(dir, CorpusModels.NAMES, true);
    assertEquals(CorpusModels.NAMES.size(), results.size());
    List<String> convertFailures = new ArrayList<>();
    Map<String, Set<String>> expected = Map.of("TAT", TAT_PASSING, "DKS softplus", DKS_PASSING);
    List<String> regressions = new ArrayList<>();
    List<String> notVerified = new ArrayList<>();
    System.out.println("corpus: " + CorpusReport.counts(results));
    for (CorpusResult r : results) {
      if (!r.convert().ok()) {
        convertFailures.add(r.name() + ": " + r.convert().error());
      }
      r.rewrites().forEach((method, w) -> {
        CorpusResult.Verify v = w.verify();
        if (w.ok()) {
          // every rewrite that passes runs dks verify to a verdict: exit 0 or 1, with its JSON
          System.out.printf(java.util.Locale.ROOT, "  verify %-12s %-26s exit %d  c error "
              + "%.4f  q error %.4f  (%.1f s)%s%n", method, r.name(), v.exit(), v.maxCError(),
              v.maxQError(), v.ms() / 1e3, v.reason() == null ? "" : "  " + v.reason());
          boolean overflowRefused = method.equals("DKS softplus")
              && Q_OVERFLOW_REFUSED.contains(r.name()) && String.valueOf(v.reason())
                  .startsWith("writing the rewrite failed: the predicted q overflows");
          if (v.exit() != 0 && v.exit() != 1) {
            if (VERIFY_CHECKS.contains(r.name()) && !overflowRefused) {
              notVerified.add(method + " " + r.name() + ": exit " + v.exit() + ": "
                  + v.reason());
            }
          } else if (!VERIFY_CHECKS.contains(r.name())) {
            System.out.println("  " + method + " " + r.name() + ": verify now reaches a "
                + "verdict; add it to VERIFY_CHECKS");
          }
          if (v.exit() != 0 && v.exit() != 1) {
            // reported above or a known gap (VERIFY_CHECKS)
          } else if (v.exit() == 1 && VERIFY_PASSING.get(method).contains(r.name())) {
            regressions.add(method + " " + r.name() + ": verify fails: " + v.reason());
          } else if (v.exit() == 0 && !VERIFY_PASSING.get(method).contains(r.name())) {
            System.out.println("  " + method + " " + r.name() + ": verify passes; add it to "
                + "the verify passing set if it also passes with --seed 1235 and 1236");
          }
        }
        if (!w.ok()) {
          System.out.println("  " + method + " " + r.name() + ": " + w.error());
          if (expected.get(method).contains(r.name())) {
            regressions.add(method + " " + r.name() + ": " + w.error());
          } else if (REFUSALS.containsKey(r.name())
              && !String.valueOf(w.error()).startsWith(REFUSALS.get(r.name()))) {
            regressions.add(method + " " + r.name() + " is no longer refused as '"
                + REFUSALS.get(r.name()) + "...': " + w.error());
          }
        } else if (!expected.get(method).contains(r.name())) {
          System.out.println("  " + method + " " + r.name() + ": now rewrites; add it to the "
              + "passing set");
        }
      });
    }
    double verifySeconds = results.stream().flatMap(r -> r.rewrites().values().stream())
        .filter(w -> w.verify() != null).mapToDouble(w -> w.verify().ms() / 1e3).sum();
    System.out.printf(java.util.Locale.ROOT, "corpus: dks verify %s took %.0f s (wall) of the "
        + "run%n", CorpusVerify.FLAGS, verifySeconds);
    assertTrue(convertFailures.isEmpty(), "convert failed: " + convertFailures);
    assertTrue(regressions.isEmpty(), "rewrites that passed before fail: " + regressions);
    assertTrue(notVerified.isEmpty(), "dks verify could not check: " + notVerified);
    Set<String> names = new TreeSet<>(CorpusModels.NAMES);
    assertTrue(names.containsAll(TAT_PASSING) && names.containsAll(DKS_PASSING)
        && VERIFY_PASSING.values().stream().allMatch(names::containsAll),
        "a passing set names a model outside the corpus");
  }

  /** The comparison the convert check relies on tells a small difference from none. */
  @Test
  void theConvertComparisonSeesASmallDifference() {
    TensorProto a = TensorProtos.ofFloats(new long[] {3}, new float[] {1f, -2f, 40f});
    TensorProto same = TensorProtos.ofFloats(new long[] {3}, new float[] {1f, -2f, 40f});
    TensorProto off = TensorProtos.ofFloats(new long[] {3}, new float[] {1f, -2.01f, 40f});
    assertEquals(0, Feeds.relativeDifference(same, a));
    // |2.01 - 2| / max(1, 40)
    assertEquals(0.01 / 40, Feeds.relativeDifference(off, a), 1e-7);
    assertTrue(Feeds.relativeDifference(off, a) > CorpusRunner.CONVERT_TOLERANCE);
    TensorProto reshaped = TensorProtos.ofFloats(new long[] {1, 3}, new float[] {1f, -2f, 40f});
    assertEquals(Double.POSITIVE_INFINITY, Feeds.relativeDifference(reshaped, a));
    ByteBuffer nan = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    nan.putFloat(1f).putFloat(Float.NaN).putFloat(40f).flip();
    TensorProto withNan = a.toBuilder().setTensorContent(ByteString.copyFrom(nan)).build();
    assertEquals(Double.POSITIVE_INFINITY, Feeds.relativeDifference(withNan, a));
    assertEquals(0, Feeds.relativeDifference(withNan, withNan));
    assertTrue(!Feeds.finite(withNan) && Feeds.finite(a));
    assertEquals(DataType.DT_FLOAT, a.getDtype());
  }
}
