package dev.dks.trainers.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Seeded, resumable batching over a {@link Dataset}.
 *
 * <p>Global steps count from 0. Step {@code s} belongs to epoch {@code e = s / batchesPerEpoch()}
 * and is batch {@code s % batchesPerEpoch()} of that epoch. The order of epoch {@code e} is a
 * permutation of all indices that is a pure function of {@code (seed, e)} (Fisher-Yates with a
 * {@link SplittableRandom} seeded from both), and the augmentation of step {@code s} is a pure
 * function of {@code (seed, s)}; so {@link #batchAt(long)} depends on nothing but its argument,
 * and training resumed at step {@code k} sees exactly the batches an uninterrupted run would.
 *
 * <p>With {@code dropLast} the last, incomplete batch of an epoch is dropped (its examples are
 * skipped in that epoch); otherwise it is returned smaller. Targets are one-hot with optional
 * label smoothing {@code eps}: {@code (1 - eps)} on the label plus {@code eps / classes} on every
 * class, so rows sum to 1. Augmentation (for natural images, off for digits): random crop with
 * zero padding {@code p} (the image is padded by {@code p} zeros on every side and an {@code h x
 * w} window at a uniform offset in {@code 0..2p} is cut out) and random horizontal flip with
 * probability 1/2. Instances are immutable and thread-safe.
 */
public final class BatchIterator {
  private final Dataset data;
  private final int batchSize;
  private final long seed;
  private final boolean shuffle;
  private final boolean dropLast;
  private final float labelSmoothing;
  private final int cropPadding;
  private final boolean horizontalFlip;
  private final long batchesPerEpoch;
  /** The last epoch's order, cached (an immutable holder, replaced whole). */
  private volatile EpochOrder cached;

  private record EpochOrder(long epoch, int[] order) {}

  private BatchIterator(Builder b) {
    this.data = b.data;
    this.batchSize = b.batchSize;
    this.seed = b.seed;
    this.shuffle = b.shuffle;
    this.dropLast = b.dropLast;
    this.labelSmoothing = b.labelSmoothing;
    this.cropPadding = b.cropPadding;
    this.horizontalFlip = b.horizontalFlip;
    int n = data.size();
    this.batchesPerEpoch = dropLast ? n / batchSize : (n + batchSize - 1) / batchSize;
    if (batchesPerEpoch == 0) {
      throw new IllegalArgumentException(data.name() + ": " + n + " examples give no batch of "
          + batchSize + (dropLast ? " with drop-last" : ""));
    }
  }

  /** A builder over {@code data}; defaults: batch 32, seed 0, shuffled, no drop-last, no
   * smoothing, no augmentation. */
  public static Builder builder(Dataset data) {
    return new Builder(data);
  }

  /** Options of a {@link BatchIterator}. */
  public static final class Builder {
    private final Dataset data;
    private int batchSize = 32;
    private long seed;
    private boolean shuffle = true;
    private boolean dropLast;
    private float labelSmoothing;
    private int cropPadding;
    private boolean horizontalFlip;

    private Builder(Dataset data) {
      this.data = data;
    }

    /** Examples per batch (positive). */
    public Builder batchSize(int v) {
      if (v <= 0) {
        throw new IllegalArgumentException("batch size must be positive: " + v);
      }
      batchSize = v;
      return this;
    }

    /** The seed of the shuffling and the augmentation. */
    public Builder seed(long v) {
      seed = v;
      return this;
    }

    /** Shuffle every epoch (default) or keep the data set order. */
    public Builder shuffle(boolean v) {
      shuffle = v;
      return this;
    }

    /** Drop the last incomplete batch of each epoch. */
    public Builder dropLast(boolean v) {
      dropLast = v;
      return this;
    }

    /** Label smoothing {@code eps} in {@code [0, 1]}. */
    public Builder labelSmoothing(float v) {
      if (!(v >= 0 && v <= 1)) {
        throw new IllegalArgumentException("label smoothing must be in [0, 1]: " + v);
      }
      labelSmoothing = v;
      return this;
    }

    /** Random crop with this zero padding (0 = off). */
    public Builder cropPadding(int v) {
      if (v < 0) {
        throw new IllegalArgumentException("crop padding must be >= 0: " + v);
      }
      cropPadding = v;
      return this;
    }

    /** Random horizontal flip (not for digits or text-like images). */
    public Builder horizontalFlip(boolean v) {
      horizontalFlip = v;
      return this;
    }

    /** The iterator. */
    public BatchIterator build() {
      return new BatchIterator(this);
    }
  }

  /** The data set. */
  public Dataset data() {
    return data;
  }

  /** Examples per (full) batch. */
  public int batchSize() {
    return batchSize;
  }

  /** Batches per epoch (the last one may be smaller unless drop-last). */
  public long batchesPerEpoch() {
    return batchesPerEpoch;
  }

  /** The epoch of global step {@code step}. */
  public long epochOf(long step) {
    return step / batchesPerEpoch;
  }

  /**
   * The order of the examples in epoch {@code epoch}: a permutation of {@code 0..n-1}, a pure
   * function of {@code (seed, epoch)} (the identity when not shuffling). A fresh array.
   */
  public int[] epochOrder(long epoch) {
    return order(epoch).clone();
  }

  private int[] order(long epoch) {
    EpochOrder c = cached;
    if (c != null && c.epoch == epoch) {
      return c.order;
    }
    int[] o = shuffle ? permutation(data.size(), new SplittableRandom(mix(seed, epoch, 0xE90CL)))
        : identity(data.size());
    cached = new EpochOrder(epoch, o);
    return o;
  }

  /** The batch of global step {@code step} (0-based); a pure function of the step. */
  public Batch batchAt(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0: " + step);
    }
    long epoch = step / batchesPerEpoch;
    int within = (int) (step % batchesPerEpoch);
    int[] order = order(epoch);
    int from = within * batchSize;
    int to = Math.min(from + batchSize, data.size());
    int m = to - from;
    int[] idx = new int[m];
    System.arraycopy(order, from, idx, 0, m);
    int h = data.h();
    int w = data.w();
    int c = data.c();
    int size = data.imageSize();
    int k = data.classes();
    float[] images = new float[m * size];
    int[] labels = new int[m];
    float[] oneHot = new float[m * k];
    boolean augment = cropPadding > 0 || horizontalFlip;
    SplittableRandom rng = augment ? new SplittableRandom(mix(seed, step, 0xA06L)) : null;
    float off = labelSmoothing / k;
    float on = 1f - labelSmoothing + off;
    float[] src = data.images();
    for (int b = 0; b < m; b++) {
      int i = idx[b];
      labels[b] = data.labels()[i];
      for (int j = 0; j < k; j++) {
        oneHot[b * k + j] = off;
      }
      oneHot[b * k + labels[b]] = on;
      if (!augment) {
        System.arraycopy(src, i * size, images, b * size, size);
        continue;
      }
      int dy = cropPadding > 0 ? rng.nextInt(2 * cropPadding + 1) - cropPadding : 0;
      int dx = cropPadding > 0 ? rng.nextInt(2 * cropPadding + 1) - cropPadding : 0;
      boolean flip = horizontalFlip && rng.nextBoolean();
      int base = i * size;
      int dst = b * size;
      for (int y = 0; y < h; y++) {
        int sy = y + dy;
        if (sy < 0 || sy >= h) {
          continue; // zero padding (the array starts zeroed)
        }
        for (int x = 0; x < w; x++) {
          int sx = (flip ? w - 1 - x : x) + dx;
          if (sx < 0 || sx >= w) {
            continue;
          }
          System.arraycopy(src, base + (sy * w + sx) * c, images, dst + (y * w + x) * c, c);
        }
      }
    }
    return new Batch(step, epoch, idx, images, labels, oneHot, h, w, c, k);
  }

  /** An endless iterator over the batches from global step {@code fromStep} on. */
  public Iterator<Batch> iterator(long fromStep) {
    return new Iterator<>() {
      private long next = fromStep;

      @Override
      public boolean hasNext() {
        return next >= 0; // until the step counter overflows
      }

      @Override
      public Batch next() {
        if (next < 0) {
          throw new NoSuchElementException();
        }
        return batchAt(next++);
      }
    };
  }

  /** A uniformly random permutation of {@code 0..n-1} (Fisher-Yates) drawn from {@code rng}. */
  public static int[] permutation(int n, SplittableRandom rng) {
    int[] p = identity(n);
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  private static int[] identity(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    return p;
  }

  /** Mixes a seed, a counter and a purpose into one well-spread 64-bit seed. */
  static long mix(long seed, long counter, long purpose) {
    return mix64(mix64(seed ^ mix64(purpose)) + 0x9E3779B97F4A7C15L * (counter + 1));
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }
}
