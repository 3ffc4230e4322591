package dev.dks.rewriter.pipeline;

import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.io.AtomicFiles;
import dev.dks.rewriter.model.Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs named passes in order over a model, with every verifier run before the first pass and
 * after each pass that changed the graph (as XLA's pass pipeline does), except that a {@link
 * GraphVerifier#deferrable() deferrable} one (the TensorFlow import) runs once for the passes
 * between two structure analyses: before the next analysis of a changed graph ({@link
 * Analyses#of}, which then reads that import's shapes) and after the last pass, naming the passes
 * it covers ("after passes 'a', 'b'"). Final verifiers run once, after the last pass. Passes can be
 * skipped and the graph dumped after any pass by name (a binary GraphDef {@code NN-name.pb}
 * written atomically into the dump folder).
 */
public final class Pipeline {
  private final List<RewritePass> passes;
  private final List<GraphVerifier> verifiers;
  private final List<GraphVerifier> finalVerifiers;
  private final Set<String> skipped;
  private final Set<String> dumped;
  private final Path dumpDir;

  private Pipeline(Builder b) {
    this.passes = List.copyOf(b.passes);
    this.verifiers = List.copyOf(b.verifiers);
    this.finalVerifiers = List.copyOf(b.finalVerifiers);
    this.skipped = Set.copyOf(b.skipped);
    this.dumped = Set.copyOf(b.dumped);
    this.dumpDir = b.dumpDir;
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /** The passes, in order. */
  public List<RewritePass> passes() {
    return passes;
  }

  /**
   * The result of a run: the rewritten model, each pass's outcome (skipped ones included), and
   * the facts the passes left (e.g. the shaping solution).
   */
  public record Result(Model model, List<PassOutcome> outcomes, RewriteContext context) {
    /** A fact a pass stored, e.g. {@code fact(ShapingSolution.class)}. */
    public <T> java.util.Optional<T> fact(Class<T> type) {
      return context.fact(type);
    }
  }

  /** Runs the pipeline on {@code model}. */
  public Result run(Model model) {
    RewriteContext ctx = new RewriteContext(GraphView.of(model.graph()), model.variables(),
        model.inputNodes(), model.outputNodes());
    verify(ctx, "before the first pass", false);
    verify(ctx, "before the first pass", true);
    long verified = ctx.graph().modificationCount();
    List<String> unchecked = new ArrayList<>();
    List<PassOutcome> outcomes = new ArrayList<>();
    int index = 0;
    for (RewritePass p : passes) {
      index++;
      if (skipped.contains(p.name())) {
        outcomes.add(PassOutcome.unchanged(p.name(), "skipped on request"));
        continue;
      }
      PassOutcome o = p.run(ctx);
      outcomes.add(o);
      if (ctx.graph().modificationCount() != verified) {
        // an unchanged graph needs no new check (e.g. a pass that only set variable values)
        verify(ctx, "after pass '" + p.name() + "'", false);
        unchecked.add(p.name());
        String stage = unchecked.size() == 1 ? "after pass '" + unchecked.get(0) + "'"
            : "after passes '" + String.join("', '", unchecked) + "'";
        ctx.deferChecks(() -> {
          unchecked.clear();
          verify(ctx, stage, true);
        });
        verified = ctx.graph().modificationCount();
      }
      if (dumped.contains(p.name()) || dumped.contains("all")) {
        dump(ctx, index, p.name());
      }
    }
    ctx.runDeferredChecks(false);
    for (GraphVerifier v : finalVerifiers) {
      v.verify(ctx, "after the last pass");
    }
    Map<String, org.tensorflow.proto.TensorProto> vars = new LinkedHashMap<>(ctx.variables());
    return new Result(model.with(ctx.graph().toGraphDef(), vars), outcomes, ctx);
  }

  /** Runs the deferrable verifiers, or the others. */
  private void verify(RewriteContext ctx, String stage, boolean deferrable) {
    for (GraphVerifier v : verifiers) {
      if (v.deferrable() == deferrable) {
        v.verify(ctx, stage);
      }
    }
  }

  private void dump(RewriteContext ctx, int index, String name) {
    if (dumpDir == null) {
      return;
    }
    try {
      AtomicFiles.write(dumpDir.resolve(String.format("%02d-%s.pb", index, name)),
          ctx.graph().toGraphDef().toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot dump the graph after pass '" + name + "' into "
          + dumpDir, e);
    }
  }

  /** Builds a pipeline. */
  public static final class Builder {
    private final List<RewritePass> passes = new ArrayList<>();
    private final List<GraphVerifier> verifiers = new ArrayList<>();
    private final List<GraphVerifier> finalVerifiers = new ArrayList<>();
    private final Set<String> skipped = new HashSet<>();
    private final Set<String> dumped = new HashSet<>();
    private Path dumpDir;

    /** Appends a pass; names must be unique. */
    public Builder add(RewritePass pass) {
      for (RewritePass p : passes) {
        if (p.name().equals(pass.name())) {
          throw new IllegalArgumentException("two passes are named '" + pass.name() + "'");
        }
      }
      passes.add(pass);
      return this;
    }

    /**
     * Adds a verifier run before the first pass and after every pass that changed the graph (a
     * {@link GraphVerifier#deferrable() deferrable} one: before the next structure analysis and
     * after the last pass).
     */
    public Builder verifier(GraphVerifier v) {
      verifiers.add(v);
      return this;
    }

    /**
     * Adds a verifier run once, after the last pass (for invariants that hold only for the
     * finished graph, e.g. gradients: TF has none for FusedBatchNorm v1/v2 or fused ops, which
     * the passes remove).
     */
    public Builder finalVerifier(GraphVerifier v) {
      finalVerifiers.add(v);
      return this;
    }

    /** Skips the passes with these names. */
    public Builder skip(String... names) {
      skipped.addAll(List.of(names));
      return this;
    }

    /** Dumps the graph after these passes ({@code "all"} for every pass) into {@code dir}. */
    public Builder dump(Path dir, String... names) {
      this.dumpDir = dir;
      dumped.addAll(List.of(names));
      return this;
    }

    /** The pipeline; fails when a skipped or dumped name is not a pass. */
    public Pipeline build() {
      Set<String> names = new HashSet<>();
      passes.forEach(p -> names.add(p.name()));
      for (String s : skipped) {
        if (!names.contains(s)) {
          throw new IllegalArgumentException("cannot skip '" + s + "': no such pass; passes are "
              + passes.stream().map(RewritePass::name).toList());
        }
      }
      for (String s : dumped) {
        if (!s.equals("all") && !names.contains(s)) {
          throw new IllegalArgumentException("cannot dump after '" + s + "': no such pass");
        }
      }
      return new Pipeline(this);
    }
  }
}
