package dev.dks.rewriter.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.testing.DenseNets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

/**
 * The pipeline runs a deferrable verifier (the TensorFlow import) once for the passes between two
 * structure analyses, before the analysis, and after the last pass; the other verifiers after every
 * pass that changed the graph.
 */
class DeferredChecksTest {
  /** Records the stages it was called at. */
  private static final class Recorder implements GraphVerifier {
    final boolean deferrable;
    final List<String> stages = new ArrayList<>();

    Recorder(boolean deferrable) {
      this.deferrable = deferrable;
    }

    @Override
    public void verify(RewriteContext context, String stage) {
      stages.add(stage);
    }

    @Override
    public boolean deferrable() {
      return deferrable;
    }
  }

  private static RewritePass pass(String name, Consumer<RewriteContext> body) {
    return new RewritePass() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public String description() {
        return name;
      }

      @Override
      public PassOutcome run(RewriteContext context) {
        body.accept(context);
        return PassOutcome.unchanged(name, "test");
      }
    };
  }

  private static int constants;

  /** A pass body that adds an unused constant (a change of the graph). */
  private static void edit(RewriteContext ctx) {
    ctx.graph().add(Nodes.constant("c" + constants++, TensorProtos.ofFloats(new long[] {1},
        new float[] {1f})));
  }

  private static Model network() {
    DenseNets n = new DenseNets();
    return n.model(n.act("relu", n.dense(n.act("relu", n.dense(TensorName.of("input"))))));
  }

  @Test
  void theDeferrableCheckRunsBeforeEachAnalysisOfAChangedGraphAndAtTheEnd() {
    Recorder now = new Recorder(false);
    Recorder later = new Recorder(true);
    Pipeline.builder().verifier(now).verifier(later)
        .add(pass("a", DeferredChecksTest::edit))
        .add(pass("b", DeferredChecksTest::edit))
        .add(pass("analyze", Analyses::of))
        .add(pass("nothing", ctx -> { }))
        .add(pass("analyze-again", Analyses::of))
        .add(pass("c", DeferredChecksTest::edit))
        .add(pass("edit-then-analyze", ctx -> {
          edit(ctx);
          Analyses.of(ctx);
        }))
        .add(pass("d", DeferredChecksTest::edit))
        .build().run(network());
    assertEquals(List.of("before the first pass", "after pass 'a'", "after pass 'b'",
        "after pass 'c'", "after pass 'edit-then-analyze'", "after pass 'd'"), now.stages);
    // once for a and b (before the first analysis); the unchanged graph needs none; a pass's own
    // half-done edits are never checked (the check deferred after c does not run inside
    // edit-then-analyze): c, edit-then-analyze and d are checked at the end
    assertEquals(List.of("before the first pass", "after passes 'a', 'b'",
        "after passes 'c', 'edit-then-analyze', 'd'"), later.stages);
  }

  @Test
  void aGraphTensorFlowRejectsIsReportedForThePassThatMadeItBeforeTheNextAnalysis() {
    Model m = network();
    List<String> reached = new ArrayList<>();
    Pipeline p = Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false))
        // structurally fine, but a MatMul of float tensors typed int32: TensorFlow rejects it
        .add(pass("breaker", ctx -> {
          NodeDef mm = ctx.graph().get("dense1/MatMul");
          ctx.graph().put(mm.toBuilder().putAttr("T", AttrValue.newBuilder()
              .setType(DataType.DT_INT32).build()).build());
        }))
        .add(pass("analyze", ctx -> {
          Analyses.of(ctx);
          reached.add("after the analysis");
        }))
        .build();
    GraphVerificationException e = assertThrows(GraphVerificationException.class,
        () -> p.run(m));
    assertTrue(e.getMessage().startsWith("after pass 'breaker': TensorFlow rejects the graph"),
        e.getMessage());
    assertTrue(reached.isEmpty(), reached.toString());
    // control: without the breaking edit the same pipeline runs through
    Pipeline.builder().verifier(new StructuralVerifier()).verifier(new TensorFlowVerifier(false))
        .add(pass("analyze", ctx -> {
          Analyses.of(ctx);
          reached.add("after the analysis");
        })).build().run(m);
    assertEquals(List.of("after the analysis"), reached);
  }

  @Test
  void aGraphTensorFlowRejectsAfterTheLastAnalysisFailsAtTheEnd() {
    Pipeline p = Pipeline.builder().verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false))
        .add(pass("breaker", ctx -> {
          NodeDef mm = ctx.graph().get("dense2/MatMul");
          ctx.graph().put(mm.toBuilder().putAttr("T", AttrValue.newBuilder()
              .setType(DataType.DT_INT32).build()).build());
        }))
        .add(pass("tidy", DeferredChecksTest::edit))
        .build();
    GraphVerificationException e = assertThrows(GraphVerificationException.class,
        () -> p.run(network()));
    assertTrue(e.getMessage().startsWith("after passes 'breaker', 'tidy': TensorFlow rejects"),
        e.getMessage());
  }
}
