package dev.dks.solver.solve;

/**
 * MT19937 with {@code init_genrand} seeding and 53-bit doubles, the generator behind NumPy's legacy
 * {@code np.random.seed(s)} / {@code np.random.uniform}. The solver uses it to draw the same random
 * start points as the reference. Not thread-safe.
 *
 * <p>The 32-bit stream is Hipparchus' {@code MersenneTwister(int)}, which seeds by {@code
 * init_genrand} as NumPy does for an integer seed (its {@code int[]} constructor uses {@code
 * init_by_array}, which NumPy applies to array seeds only). The doubles are made here: Hipparchus'
 * {@code nextDouble} combines the two words' bits differently from NumPy's {@code
 * genrand_res53} (0.696469183459212 instead of NumPy's 0.6964691855978616 for seed 123), which
 * would move every random start point.
 */
public final class MersenneTwister {
  private final org.hipparchus.random.MersenneTwister words;

  /** A generator seeded like {@code init_genrand(seed)} (only the low 32 bits are used). */
  public MersenneTwister(long seed) {
    words = new org.hipparchus.random.MersenneTwister((int) seed);
  }

  /** The next 32-bit output, as an unsigned value in a long. */
  public long nextUnsignedInt() {
    return Integer.toUnsignedLong(words.nextInt());
  }

  /** A double in [0, 1) with 53 random bits ({@code genrand_res53}). */
  public double nextDouble() {
    long a = nextUnsignedInt() >>> 5;
    long b = nextUnsignedInt() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** {@code low + (high - low) * nextDouble()}, as NumPy's legacy {@code uniform}. */
  public double uniform(double low, double high) {
    return low + (high - low) * nextDouble();
  }
}
