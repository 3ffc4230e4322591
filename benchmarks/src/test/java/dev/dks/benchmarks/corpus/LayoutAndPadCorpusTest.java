package dev.dks.benchmarks.corpus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.kernel.KernelEntry;
import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.ModelReaders;
import dev.dks.savedmodels.assets.SharedAssets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/**
 * The two corpus models of issue 12's remaining verify failures, rewritten with the defaults
 * (seconds each; their {@code dks verify} runs take minutes and are in the session's report):
 * faceboxes' per-location normalization after its {@code 2x - 1}, past the pad to a multiple of
 * 128, where the check feeds; nanodet's over its NCHW input's channel axis, with the check's
 * pairs on that axis. Skipped with the reason when the data cache lacks the corpus.
 */
class LayoutAndPadCorpusTest {
  private static Model rewrite(String name) {
    Path dir = SharedAssets.dataCacheOrSkip(CorpusModels.FOLDER, TestAbortedException::new);
    Path json = CorpusModels.modelJson(dir, name);
    if (!json.toFile().isFile()) {
      throw new TestAbortedException("the data cache has no " + json);
    }
    return DksRewrite.pipeline(RewriteOptions.defaults()).build()
        .run(ModelReaders.read(json)).model();
  }

  @Test
  void faceboxesIsNormalizedAndFedAfterItsPaddedPreprocessing() {
    Model r = rewrite("faceboxes");
    GraphView g = GraphView.of(r.graph());
    assertTrue(g.contains("standardize_input/sub/pln/normalized"));
    assertTrue(!g.contains("mul/pln/normalized"), "before: after x/255, in front of 2x - 1");
    KernelEntry e = KernelEntry.of(r);
    assertEquals("standardize_input/sub", e.node());
    assertTrue(e.note().contains("after the pad"), e.note());
  }

  @Test
  void nanodetIsNormalizedAndFedOnItsChannelAxis() {
    Model r = rewrite("nanodet");
    GraphView g = GraphView.of(r.graph());
    String axis = g.get("input_1/pln/mean_square").getInput(1);
    assertEquals(1, g.get(TensorName.parse(axis).node()).getAttrOrThrow("value").getTensor()
        .getIntVal(0), "the mean over the channel axis of [1, 3, 416, 416]");
    assertArrayEquals(new long[] {1, 416, 416, 3}, KernelEntry.of(r).shape());
  }
}
