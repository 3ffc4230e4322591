package dev.dks.rewriter;

import dev.dks.rewriter.passes.defaults.FillDefaultAttrsPass;
import dev.dks.rewriter.passes.dks.ActivationPolicy;
import dev.dks.rewriter.passes.dks.BodyCheckPass;
import dev.dks.rewriter.passes.dks.DksInitPass;
import dev.dks.rewriter.passes.dks.GatherBoundsPass;
import dev.dks.rewriter.passes.dks.InputNormalizationPass;
import dev.dks.rewriter.passes.dks.MaxPoolPolicyPass;
import dev.dks.rewriter.passes.dks.ShapeActivationsPass;
import dev.dks.rewriter.passes.dks.SkipConnectionPass;
import dev.dks.rewriter.passes.freeze.ConstantsToVariablesPass;
import dev.dks.rewriter.passes.fused.SplitFusedOpsPass;
import dev.dks.rewriter.passes.inline.InlineFunctionsPass;
import dev.dks.rewriter.passes.inline.ResourceVariablesPass;
import dev.dks.rewriter.passes.norm.BatchNormCondPass;
import dev.dks.rewriter.passes.norm.FrozenAffinePass;
import dev.dks.rewriter.passes.norm.StripNormalizationPass;
import dev.dks.rewriter.pipeline.Pipeline;
import dev.dks.rewriter.pipeline.StructuralVerifier;
import dev.dks.rewriter.pipeline.TensorFlowVerifier;

/**
 * The standard DKS/TAT rewrite as one verified pipeline: fill-defaults, inline-functions,
 * resource-to-ref-vars, split-fused, bn-cond (a batch norm behind a training tf.cond becomes its
 * inference branch), body-check (refuses a tf.cond in the body), constants-to-variables,
 * strip-norm (remove), skips, max-pool, gather-bounds, shape-activations, pln (per-location input
 * normalization, optional), dks-init.
 * Verification: the structural verifier (registered ops, existing nodes and output indices,
 * outputs present) runs on the input graph and after every pass that changed the graph; the
 * TensorFlow verifier (TensorFlow imports the graph: valid ops, attributes, dtypes and edges, shape
 * inference, and fully known shapes of nodes that kept their op unchanged) runs on the input graph,
 * before each structure analysis of a changed graph (body-check, skips, shape-activations,
 * dks-init: their shapes come from its import) and after the last pass, so each of its runs covers
 * the passes since the one before, and names them; after the last pass the gradient check proves
 * the rewritten model trainable (not before: TF has no gradient for FusedBatchNorm v1/v2 and fused
 * ops, which the passes remove).
 */
public final class DksRewrite {
  private DksRewrite() {}

  /** A builder holding the standard passes and verifiers, to skip or dump passes before build. */
  public static Pipeline.Builder pipeline(RewriteOptions o) {
    ActivationPolicy policy = ActivationPolicy.defaults(o.method());
    if (o.activation() != null) {
      policy = policy.all(o.activation());
    }
    Pipeline.Builder b = Pipeline.builder()
        .verifier(new StructuralVerifier())
        .verifier(new TensorFlowVerifier(false))
        .finalVerifier(new TensorFlowVerifier(true))
        .add(new FillDefaultAttrsPass())
        .add(new InlineFunctionsPass())
        .add(new ResourceVariablesPass())
        .add(new SplitFusedOpsPass())
        .add(new BatchNormCondPass())
        .add(new BodyCheckPass())
        .add(new ConstantsToVariablesPass())
        .add(new StripNormalizationPass(StripNormalizationPass.Mode.REMOVE))
        .add(new FrozenAffinePass())
        .add(new SkipConnectionPass(o.shortcutWeight()))
        .add(new MaxPoolPolicyPass(o.keepMaxPool()))
        .add(new GatherBoundsPass())
        .add(new ShapeActivationsPass(o.method(), policy, o.dks(), o.tat()));
    if (o.inputNormalization() != null) {
      b.add(new InputNormalizationPass(o.inputNormalization(), 1.0));
    }
    return b.add(new DksInitPass(o.seed()));
  }
}
