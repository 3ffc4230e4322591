package dev.dks.savedmodels.keras;

import java.util.Arrays;

/**
 * One trained weight of a Keras layer as stored in the file: its stored name (e.g. {@code
 * conv2d/kernel:0} in HDF5, {@code conv2d/kernel} in a TF.js manifest), shape and float32 values
 * in row-major order.
 *
 * @param name the stored name
 * @param shape the shape
 * @param values the values, row-major
 */
record KerasWeight(String name, long[] shape, float[] values) {

  /** The role of the weight in its layer: the last path segment without {@code :0}. */
  String shortName() {
    String n = name;
    int colon = n.lastIndexOf(':');
    if (colon > 0 && n.substring(colon + 1).chars().allMatch(Character::isDigit)) {
      n = n.substring(0, colon);
    }
    int slash = n.lastIndexOf('/');
    return slash >= 0 ? n.substring(slash + 1) : n;
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape);
  }
}
