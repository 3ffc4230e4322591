package dev.dks.trainers.data;

import java.util.SplittableRandom;

/**
 * Seeded synthetic classification data: each class has a centre drawn from a standard normal in
 * input space ({@code h*w*c} values); an example of class {@code k} is its centre plus Gaussian
 * noise of standard deviation {@code noise}. Labels are balanced (example {@code i} of the
 * unshuffled set has label {@code i % classes}) and then shuffled. The centres depend only on
 * {@code seed}, so {@link #generate} with the same seed and different {@code part} values gives
 * train and test sets of the same task; everything is a pure function of the arguments.
 */
public final class SyntheticTask {
  private SyntheticTask() {}

  /**
   * Generates {@code n} examples of shape {@code h x w x c} over {@code classes} classes.
   *
   * @param noise standard deviation of the per-value noise around the class centre (1.0 makes a
   *     task that is hard at small sizes and easy at large ones; 0 gives the centres themselves)
   * @param seed selects the task (the class centres)
   * @param part selects the sample (e.g. 0 for train, 1 for test)
   */
  public static Dataset generate(String name, int n, int h, int w, int c, int classes,
      double noise, long seed, long part) {
    if (n < 0 || classes <= 0) {
      throw new IllegalArgumentException("n must be >= 0 and classes > 0: " + n + ", " + classes);
    }
    int size = h * w * c;
    SplittableRandom centreRng = new SplittableRandom(seed);
    double[] centres = new double[classes * size];
    for (int i = 0; i < centres.length; i++) {
      centres[i] = gaussian(centreRng);
    }
    SplittableRandom rng = new SplittableRandom(BatchIterator.mix(seed, part, 0x5EEDL));
    int[] order = BatchIterator.permutation(n, rng);
    int[] labels = new int[n];
    float[] images = new float[n * size];
    for (int i = 0; i < n; i++) {
      int k = order[i] % classes;
      labels[i] = k;
      for (int j = 0; j < size; j++) {
        images[i * size + j] = (float) (centres[k * size + j] + noise * gaussian(rng));
      }
    }
    return new Dataset(name, images, labels, h, w, c, classes);
  }

  /** A standard normal sample (Box-Muller; one of the pair). */
  static double gaussian(SplittableRandom r) {
    double u1 = 1.0 - r.nextDouble(); // (0, 1]
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
