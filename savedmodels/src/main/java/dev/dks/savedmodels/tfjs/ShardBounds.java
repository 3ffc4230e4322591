package dev.dks.savedmodels.tfjs;

import dev.dks.savedmodels.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Bounds of a TF.js weights group checked before any shard is read (untrusted models, issue 17):
 * the bytes the manifest's weights declare (element count times stored bytes per element; for
 * string weights the 4-byte length prefixes only, a lower bound) must fit in the shard files'
 * actual sizes on disk, and the shards together must stay under 2 GB (a Java array's limit).
 * Counts that overflow a long count as {@link Long#MAX_VALUE}.
 */
final class ShardBounds {
  private ShardBounds() {}

  /** One weight as declared: its name, element count and stored bytes per element. */
  record Decl(String name, long count, int bytesPerElement) {}

  /** The running sum of the declared sizes, saturating at {@link Long#MAX_VALUE}. */
  private static long add(long sum, Decl d) {
    try {
      return Math.addExact(sum, Math.multiplyExact(d.count, (long) d.bytesPerElement));
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  /**
   * Refuses the group when its weights declare more bytes than its shard files hold, or the shards
   * exceed 2 GB, by the files' sizes alone (nothing read, nothing allocated).
   *
   * @throws ModelFormatException naming {@code model.json}, the group and its shards
   */
  static void check(Path modelJson, String where, List<String> names, List<Path> files,
      List<Decl> decls) {
    long onDisk = 0;
    for (int i = 0; i < files.size(); i++) {
      try {
        onDisk += Files.size(files.get(i));
      } catch (IOException e) {
        throw new ModelFormatException(modelJson + ": cannot read the size of the weight shard '"
            + names.get(i) + "' of " + where + ": " + e, e);
      }
    }
    long declared = 0;
    for (Decl d : decls) {
      declared = add(declared, d);
      if (declared > onDisk) {
        throw new ModelFormatException(modelJson + ": weight '" + d.name + "' of " + where
            + " ends at byte " + (declared == Long.MAX_VALUE ? "2^63 or later"
            : String.valueOf(declared)) + " as declared, but its shards " + names
            + " hold only " + onDisk + " bytes on disk: a shard is truncated or the manifest's "
            + "shape is wrong (refused before reading the shards)");
      }
    }
    if (onDisk > Integer.MAX_VALUE - 16) {
      throw new ModelFormatException(modelJson + ": the shards " + names + " of " + where
          + " hold " + onDisk + " bytes, more than 2 GB");
    }
  }
}
