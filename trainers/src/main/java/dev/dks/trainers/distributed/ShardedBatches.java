package dev.dks.trainers.distributed;

import dev.dks.trainers.data.Batch;
import dev.dks.trainers.loop.BatchSource;
import java.util.Arrays;

/**
 * Replica {@code rank}'s share of each global batch: the global batch of step {@code s} is still
 * the pure function {@code global.batchAt(s)} of (seed, step), identical on every replica, and
 * replica {@code r} of {@code n} takes the contiguous rows {@code [r B/n, (r+1) B/n)}. The batch
 * size must be a multiple of {@code n}: with equal shards the mean of the replicas' mean losses
 * (and gradients) is exactly the global batch's mean, so N replicas compute what one process does.
 */
public final class ShardedBatches implements BatchSource {
  private final BatchSource global;
  private final int rank;
  private final int replicas;

  /**
   * @param global the global batches
   * @param rank this replica, 0-based
   * @param replicas the number of replicas
   */
  public ShardedBatches(BatchSource global, int rank, int replicas) {
    if (replicas < 1 || rank < 0 || rank >= replicas) {
      throw new IllegalArgumentException("rank " + rank + " of " + replicas + " replicas");
    }
    this.global = global;
    this.rank = rank;
    this.replicas = replicas;
  }

  /**
   * Refuses a global batch size that does not split evenly (a one-line message for the CLI).
   */
  public static void checkDivisible(int batchSize, int replicas) {
    if (batchSize % replicas != 0) {
      throw new ClusterConfigException("the global batch " + batchSize + " does not split evenly "
          + "over " + replicas + " replicas: use a multiple of " + replicas);
    }
  }

  @Override
  public Batch globalBatchAt(long step) {
    return global.globalBatchAt(step);
  }

  @Override
  public Batch batchAt(long step) {
    Batch b = global.batchAt(step);
    checkDivisible(b.size(), replicas);
    int per = b.size() / replicas;
    int from = rank * per;
    int to = from + per;
    int pixels = b.h() * b.w() * b.c();
    return new Batch(b.step(), b.epoch(), Arrays.copyOfRange(b.indices(), from, to),
        Arrays.copyOfRange(b.images(), from * pixels, to * pixels),
        Arrays.copyOfRange(b.labels(), from, to),
        Arrays.copyOfRange(b.oneHot(), from * b.classes(), to * b.classes()),
        b.h(), b.w(), b.c(), b.classes());
  }
}
