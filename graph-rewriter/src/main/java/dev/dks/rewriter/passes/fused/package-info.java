/**
 * The "split-fused" pass: {@link dev.dks.rewriter.passes.fused.FusedOpMatcher} finds the fused
 * contractions grappler and oneDNN produce ({@code _FusedConv2D}, {@code _FusedMatMul}, {@code
 * _FusedDepthwiseConv2dNative}) and {@link dev.dks.rewriter.passes.fused.SplitFusedOpsPass}
 * replaces each by standard ops, the last of which keeps the fused node's name.
 */
package dev.dks.rewriter.passes.fused;
