package dev.dks.solver.solve;

/**
 * MT19937 (Matsumoto and Nishimura 1998) with {@code init_genrand} seeding and 53-bit doubles, the
 * generator behind NumPy's legacy {@code np.random.seed(s)} / {@code np.random.uniform}. The
 * solver uses it to draw the same random start points as the reference. Not thread-safe.
 */
public final class MersenneTwister {
  private static final int N = 624;
  private static final int M = 397;
  private static final int MATRIX_A = 0x9908b0df;
  private static final int UPPER_MASK = 0x80000000;
  private static final int LOWER_MASK = 0x7fffffff;

  private final int[] mt = new int[N];
  private int index;

  /** A generator seeded like {@code init_genrand(seed)} (only the low 32 bits are used). */
  public MersenneTwister(long seed) {
    mt[0] = (int) seed;
    for (int i = 1; i < N; i++) {
      int prev = mt[i - 1];
      mt[i] = 1812433253 * (prev ^ (prev >>> 30)) + i;
    }
    index = N;
  }

  /** The next 32-bit output, as an unsigned value in a long. */
  public long nextUnsignedInt() {
    if (index >= N) {
      twist();
    }
    int y = mt[index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y & 0xffffffffL;
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

  private void twist() {
    for (int i = 0; i < N; i++) {
      int y = (mt[i] & UPPER_MASK) | (mt[(i + 1) % N] & LOWER_MASK);
      int v = mt[(i + M) % N] ^ (y >>> 1);
      if ((y & 1) != 0) {
        v ^= MATRIX_A;
      }
      mt[i] = v;
    }
    index = 0;
  }
}
