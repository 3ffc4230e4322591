package dev.dks.trainers.loop;

import dev.dks.trainers.data.Batch;
import dev.dks.trainers.data.BatchIterator;

/**
 * The training batches as a pure function of the global step, as {@link BatchIterator#batchAt}
 * is. The trainer relies on the purity: resume asks for {@code batchAt(k)} and gets exactly the
 * batch an uninterrupted run used at step {@code k}. Tests wrap a source to inject faults.
 */
@FunctionalInterface
public interface BatchSource {

  /** The batch of global step {@code step} (0-based). */
  Batch batchAt(long step);

  /**
   * The whole batch of step {@code step} when this source is one replica's share of it
   * (distributed training), else {@link #batchAt}: checkpoints fingerprint this one, so every
   * replica recognises the chief's checkpoint.
   */
  default Batch globalBatchAt(long step) {
    return batchAt(step);
  }

  /** The batches of {@code iterator}. */
  static BatchSource of(BatchIterator iterator) {
    return iterator::batchAt;
  }
}
