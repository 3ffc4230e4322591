package dev.dks.solver.solve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * MT19937 against published outputs: NumPy's legacy generator (np.random.seed / random_sample /
 * uniform) and the reference C code / C++11 std::mt19937 (default seed 5489).
 */
class MersenneTwisterTest {
  @Test
  void numpySeed123RandomSample() {
    // np.random.seed(123); np.random.random_sample(3)
    MersenneTwister mt = new MersenneTwister(123);
    assertEquals(0.6964691855978616, mt.nextDouble(), 0.0);
    assertEquals(0.28613933495037946, mt.nextDouble(), 0.0);
    assertEquals(0.2268514535642031, mt.nextDouble(), 0.0);
  }

  @Test
  void numpySeed123Uniform() {
    // np.random.seed(123); [(np.random.uniform(0, 2), np.random.uniform(-3, 3)) for _ in range(3)]
    MersenneTwister mt = new MersenneTwister(123);
    assertEquals(1.3929383711957233, mt.uniform(0, 2), 0.0);
    assertEquals(-1.2831639902977232, mt.uniform(-3, 3), 0.0);
    assertEquals(0.4537029071284062, mt.uniform(0, 2), 0.0);
    assertEquals(0.3078886144973474, mt.uniform(-3, 3), 0.0);
    assertEquals(1.4389379395711261, mt.uniform(0, 2), 0.0);
    assertEquals(-0.46136123925323425, mt.uniform(-3, 3), 0.0);
  }

  @Test
  void initGenrand5489() {
    // mt19937ar.c / std::mt19937 default seed: first outputs
    MersenneTwister mt = new MersenneTwister(5489);
    long[] expected = {3499211612L, 581869302L, 3890346734L, 3586334585L, 545404204L};
    for (long e : expected) {
      assertEquals(e, mt.nextUnsignedInt());
    }
  }

  @Test
  void tenThousandthOutputIsTheCpp11Constant() {
    // C++11 [rand.predef]: the 10000th consecutive invocation of a default-constructed
    // std::mt19937 produces 4123659995
    MersenneTwister mt = new MersenneTwister(5489);
    long v = 0;
    for (int i = 0; i < 10000; i++) {
      v = mt.nextUnsignedInt();
    }
    assertEquals(4123659995L, v);
  }

  @Test
  void onlyTheLow32BitsOfTheSeedCount() {
    MersenneTwister a = new MersenneTwister(123);
    MersenneTwister b = new MersenneTwister(123 + (1L << 32));
    for (int i = 0; i < 5; i++) {
      assertEquals(a.nextUnsignedInt(), b.nextUnsignedInt());
    }
  }

  @Test
  void doublesAreInUnitInterval() {
    MersenneTwister mt = new MersenneTwister(7);
    for (int i = 0; i < 100_000; i++) {
      double d = mt.nextDouble();
      org.junit.jupiter.api.Assertions.assertTrue(d >= 0 && d < 1);
    }
  }
}
