package dev.dks.rewriter.passes.norm;

/** What a normalization normalizes over. */
public enum NormKind {
  /** Per channel, over the batch (and spatial) axes: BatchNorm, fused or written out. */
  BATCH_NORM,
  /** Per example, over the last axis (or the trailing axes): LayerNorm. */
  LAYER_NORM,
  /** Moments over other axes (instance or group norm and the like), written out. */
  OTHER
}
