package dev.dks.benchmarks;

import dev.dks.rewriter.DksRewrite;
import dev.dks.rewriter.RewriteOptions;
import dev.dks.rewriter.pipeline.GraphVerifier;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;

/**
 * Timing decorators for rewrite passes and graph verifiers, and the two instrumented copies of the
 * standard {@link DksRewrite} pipeline that {@link RewriteScalingHarness} runs:
 *
 * <ul>
 *   <li>{@link #full}: DksRewrite's own passes and verifiers (taken from the built pipeline, so the
 *       copy follows DksRewrite when passes are added), each wrapped in a timer;
 *   <li>{@link #structuralOnly}: the same passes with only a {@link StructuralVerifier} between
 *       them and no final verifier, i.e. the rewrite without TensorFlow's checks.
 * </ul>
 *
 * The wrappers delegate {@code name()}, so the pipeline's skip and dump options work unchanged.
 */
final class RewriteTiming {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private RewriteTiming() {}

  /**
   * CPU time of the calling thread in nanoseconds (TensorFlow's import and shape inference run on
   * it too); unlike wall time it does not count other processes nor GC pauses.
   */
  static long cpuNanos() {
    return THREADS.getCurrentThreadCpuTime();
  }

  /** The pass running now on this thread, for verifiers that a pass's analysis runs. */
  private static final ThreadLocal<TimedPass> ACTIVE = new ThreadLocal<>();

  /**
   * A pass that adds the wall and CPU time of each run to {@link #nanos} and {@link #cpu}, less the
   * time of the deferred verifiers that ran inside it (the pipeline runs its TensorFlow check
   * before the structure analysis a pass asks for): those count for the verifier only.
   */
  static final class TimedPass implements RewritePass {
    final RewritePass inner;
    long nanos;
    long cpu;
    int changes;
    /** Wall and CPU time of verifiers that ran inside this pass (not in nanos and cpu). */
    long nestedNanos;
    long nestedCpu;

    TimedPass(RewritePass inner) {
      this.inner = inner;
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public String description() {
      return inner.description();
    }

    @Override
    public PassOutcome run(RewriteContext context) {
      long c0 = cpuNanos();
      long t0 = System.nanoTime();
      long n0 = nestedNanos;
      long nc0 = nestedCpu;
      ACTIVE.set(this);
      try {
        PassOutcome o = inner.run(context);
        changes = o.changes();
        return o;
      } finally {
        ACTIVE.remove();
        nanos += System.nanoTime() - t0 - (nestedNanos - n0);
        cpu += cpuNanos() - c0 - (nestedCpu - nc0);
      }
    }
  }

  /** A verifier that adds the wall and CPU time of each call and counts the calls. */
  static final class TimedVerifier implements GraphVerifier {
    final GraphVerifier inner;
    final String label;
    long nanos;
    long cpu;
    int calls;

    TimedVerifier(GraphVerifier inner, String label) {
      this.inner = inner;
      this.label = label;
    }

    @Override
    public boolean deferrable() {
      return inner.deferrable();
    }

    @Override
    public void verify(RewriteContext context, String stage) {
      long c0 = cpuNanos();
      long t0 = System.nanoTime();
      try {
        inner.verify(context, stage);
      } finally {
        long dn = System.nanoTime() - t0;
        long dc = cpuNanos() - c0;
        nanos += dn;
        cpu += dc;
        calls++;
        TimedPass p = ACTIVE.get();
        if (p != null) {
          p.nestedNanos += dn;
          p.nestedCpu += dc;
        }
      }
    }
  }

  /** One instrumented pipeline with its timers (fresh per run). */
  record Instrumented(Pipeline pipeline, List<TimedPass> passes, List<TimedVerifier> verifiers) {}

  /** Where DksRewrite's verifiers came from: its pipeline (reflection) or a mirrored list. */
  static String verifierSource = "";

  /** DksRewrite's pipeline for {@code o}, every pass and verifier timed. */
  static Instrumented full(RewriteOptions o) {
    Pipeline base = DksRewrite.pipeline(o).build();
    List<GraphVerifier> between;
    List<GraphVerifier> last;
    try {
      between = verifiers(base, "verifiers");
      last = verifiers(base, "finalVerifiers");
      verifierSource = "DksRewrite's own verifiers";
    } catch (ReflectiveOperationException | RuntimeException e) {
      // Pipeline's fields changed: mirror what DksRewrite documents instead.
      between = List.of(new StructuralVerifier(), new TensorFlowVerifier(false));
      last = List.of(new TensorFlowVerifier(true));
      verifierSource = "mirrored verifiers (cannot read Pipeline's: " + e + ")";
    }
    Pipeline.Builder b = Pipeline.builder();
    List<TimedVerifier> vs = new ArrayList<>();
    for (GraphVerifier v : between) {
      TimedVerifier t = new TimedVerifier(v, "verify " + label(v));
      vs.add(t);
      b.verifier(t);
    }
    for (GraphVerifier v : last) {
      TimedVerifier t = new TimedVerifier(v, "final " + label(v));
      vs.add(t);
      b.finalVerifier(t);
    }
    List<TimedPass> ps = timedPasses(base, b);
    return new Instrumented(b.build(), ps, vs);
  }

  /** DksRewrite's passes with only the structural verifier between them. */
  static Instrumented structuralOnly(RewriteOptions o) {
    Pipeline base = DksRewrite.pipeline(o).build();
    TimedVerifier v = new TimedVerifier(new StructuralVerifier(), "verify StructuralVerifier");
    Pipeline.Builder b = Pipeline.builder().verifier(v);
    List<TimedPass> ps = timedPasses(base, b);
    return new Instrumented(b.build(), ps, List.of(v));
  }

  private static List<TimedPass> timedPasses(Pipeline base, Pipeline.Builder b) {
    List<TimedPass> ps = new ArrayList<>();
    for (RewritePass p : base.passes()) {
      TimedPass t = new TimedPass(p);
      ps.add(t);
      b.add(t);
    }
    return ps;
  }

  private static String label(GraphVerifier v) {
    String s = v.getClass().getSimpleName();
    if (v instanceof TensorFlowVerifier) {
      try {
        Field f = TensorFlowVerifier.class.getDeclaredField("checkGradients");
        f.setAccessible(true);
        if (f.getBoolean(v)) {
          s += "+gradients";
        }
      } catch (ReflectiveOperationException | RuntimeException ignored) {
        // label without the flag
      }
    }
    return s;
  }

  @SuppressWarnings("unchecked")
  private static List<GraphVerifier> verifiers(Pipeline p, String field)
      throws ReflectiveOperationException {
    Field f = Pipeline.class.getDeclaredField(field);
    f.setAccessible(true);
    return List.copyOf((List<GraphVerifier>) f.get(p));
  }
}
