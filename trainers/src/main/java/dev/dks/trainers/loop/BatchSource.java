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

  /** The batches of {@code iterator}. */
  static BatchSource of(BatchIterator iterator) {
    return iterator::batchAt;
  }
}
