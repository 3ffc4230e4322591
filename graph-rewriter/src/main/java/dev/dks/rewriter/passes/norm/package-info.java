/**
 * Normalization: {@link dev.dks.rewriter.passes.norm.NormalizationMatcher} lists the batch and
 * layer normalizations of a graph (fused ops in inference and training form, the written-out
 * forms, Keras' reshaped fused LayerNorm) as {@link
 * dev.dks.rewriter.passes.norm.NormalizationMatch}es without changing it, and {@link
 * dev.dks.rewriter.passes.norm.StripNormalizationPass} ("strip-norm") removes them (REMOVE) or
 * folds inference-form ones into the preceding layer's kernel and bias (FOLD).
 *
 * <p>Matching is separate from rewriting; every check of a rewrite runs before its first edit,
 * and whatever is not understood is left alone with a note naming the node.
 */
package dev.dks.rewriter.passes.norm;
