package dev.dks.savedmodels.keras;

import dev.dks.savedmodels.ModelFormatException;
import io.jhdf.api.Dataset;
import io.jhdf.object.message.DataLayout;

/**
 * Bounds of a Keras HDF5 weight checked before jhdf allocates its values (untrusted models, issue
 * 17): the declared bytes (element count times element size, from the dataset's header) must fit
 * a memory budget (a quarter of the JVM's maximum heap, and a Java array), and a contiguous,
 * unfiltered dataset cannot hold more bytes than the file itself.
 */
final class H5Bounds {
  private H5Bounds() {}

  /** Checks {@code ds} (weight {@code name}) against its file and the heap. */
  static void check(String name, Dataset ds) {
    long fileSize = ds.getFileAsPath() == null ? Long.MAX_VALUE
        : ds.getFileAsPath().toFile().length();
    check(name, ds.getSize(), ds.getSizeInBytes(),
        ds.getDataLayout() == DataLayout.CONTIGUOUS && ds.getFilters().isEmpty(), fileSize,
        Runtime.getRuntime().maxMemory() / 4);
  }

  /**
   * Refuses a weight of {@code elements} elements and {@code bytes} declared bytes when it exceeds
   * {@code budget} bytes or a Java array, or (when {@code stored} raw in the file) the file size.
   */
  static void check(String name, long elements, long bytes, boolean stored, long fileSize,
      long budget) {
    if (elements > Integer.MAX_VALUE - 16 || bytes > budget) {
      throw new ModelFormatException("weight '" + name + "' declares " + elements
          + " elements (" + bytes + " bytes), more than the memory budget of " + budget
          + " bytes: refused before allocating");
    }
    if (stored && bytes > fileSize) {
      throw new ModelFormatException("weight '" + name + "' declares " + bytes + " bytes stored "
          + "in the file, but the file has only " + fileSize + " bytes: refused before reading");
    }
  }
}
