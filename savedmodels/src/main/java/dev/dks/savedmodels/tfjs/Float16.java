package dev.dks.savedmodels.tfjs;

/**
 * IEEE 754 half precision (binary16) to float32, exact for every value: normal numbers,
 * subnormals ({@code m * 2^-24}), signed zeros, infinities and NaN (Java 17 has no {@code
 * Float.float16ToFloat}).
 */
public final class Float16 {
  private Float16() {}

  /** The float32 value of the half float whose 16 bits are the low bits of {@code h}. */
  public static float toFloat(int h) {
    int sign = (h >>> 15) & 1;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    float v;
    if (exp == 0) {
      v = mant * 0x1p-24f;
    } else if (exp == 31) {
      v = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
    } else {
      v = Float.intBitsToFloat(((exp - 15 + 127) << 23) | (mant << 13));
    }
    return sign == 1 ? -v : v;
  }
}
