package dev.dks.trainers.data;

import dev.dks.savedmodels.assets.SharedAssets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Loads data sets by name or path, scaled to [0, 1] (except {@code synthetic}, whose values are
 * Gaussian).
 *
 * <p>Names, resolved in the data cache that {@code scripts/fetch-assets.sh} fills (pass {@link
 * SharedAssets#dataCacheDir()}: {@code $DKS_DATA_CACHE}, {@code -Ddks.data.cache}, the
 * checkout's {@code data-cache/}, then {@code ~/.cache/dks/data-cache}):
 * <ul>
 *   <li>{@code fashion-mnist}: {@code fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz},
 *       28x28x1, 10 classes, 60,000 train + 10,000 test;
 *   <li>{@code mnist}: {@code mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte} (raw),
 *       28x28x1, 10 classes, 60,000 + 10,000;
 *   <li>{@code digits}: {@code digits/digits.csv.gz}, 8x8x1, 10 classes, 1,797 examples and no
 *       separate test part (use {@link Dataset#split});
 *   <li>{@code synthetic[:HxWxC[:classes[:n]]]}: {@link SyntheticTask} with seed 0 and noise 1,
 *       default 28x28x1, 10 classes, n = 10,000 train (the test part has n / 5 examples of the
 *       same task).
 * </ul>
 * A path is either a folder holding an IDX pair ({@code *images-idx3-ubyte[.gz]} and {@code
 * *labels-idx1-ubyte[.gz]}, with {@code train-}/{@code t10k-} prefixes when there are two
 * pairs) or an image folder with one subfolder per class ({@link ImageFolder}), read as RGB
 * resized to 32x32x3 (a folder with {@code train/} and {@code test/} subfolders gives both
 * parts); {@link #loadImageFolder} reads other sizes or grey.
 */
public final class DataSets {
  /** The parts of a data set. */
  public enum Part {
    /** The training part. */
    TRAIN,
    /** The test part ({@code t10k} for the IDX sets). */
    TEST
  }

  private DataSets() {}

  /** The training part of {@code nameOrPath}; see {@link #load(String, Path, Part)}. */
  public static Dataset load(String nameOrPath, Path cacheDir) {
    return load(nameOrPath, cacheDir, Part.TRAIN);
  }

  /**
   * Loads {@code part} of the named data set from {@code cacheDir}, or of the data set at the
   * path {@code nameOrPath}.
   *
   * @throws DataNotFoundException when the files are missing (for the names: run {@code
   *     scripts/fetch-assets.sh}), or a part does not exist
   * @throws DataFormatException when a file is malformed
   */
  public static Dataset load(String nameOrPath, Path cacheDir, Part part) {
    String key = nameOrPath.toLowerCase(Locale.ROOT);
    switch (key) {
      case "fashion-mnist":
      case "mnist": {
        String ext = key.equals("mnist") ? "" : ".gz";
        Path dir = cacheDir.resolve(key);
        String prefix = part == Part.TRAIN ? "train" : "t10k";
        Path images = dir.resolve(prefix + "-images-idx3-ubyte" + ext);
        Path labels = dir.resolve(prefix + "-labels-idx1-ubyte" + ext);
        requireCached(images, key);
        requireCached(labels, key);
        return IdxReader.read(images, labels, key + "/" + prefix, 10).scaledTo01(255f);
      }
      case "digits": {
        if (part != Part.TRAIN) {
          throw new DataNotFoundException("digits has no test part: split the training part "
              + "with Dataset.split");
        }
        Path f = cacheDir.resolve("digits").resolve("digits.csv.gz");
        requireCached(f, key);
        return DigitsCsv.read(f).scaledTo01(DigitsCsv.MAX_VALUE);
      }
      default:
        break;
    }
    if (key.equals("synthetic") || key.startsWith("synthetic:")) {
      return synthetic(key, part);
    }
    Path p = Path.of(nameOrPath);
    if (!Files.isDirectory(p)) {
      throw new DataNotFoundException("'" + nameOrPath + "' is neither a data set name "
          + "(fashion-mnist, mnist, digits, synthetic) nor a folder");
    }
    Path[] pair = idxPair(p, part);
    if (pair != null) {
      String name = p.getFileName() + "/" + part.name().toLowerCase(Locale.ROOT);
      return IdxReader.read(pair[0], pair[1], name, 1).scaledTo01(255f);
    }
    if (part != Part.TRAIN) {
      Path sub = p.resolve("test");
      if (Files.isDirectory(sub)) {
        return loadImageFolder(sub, 32, 32, 3);
      }
      throw new DataNotFoundException(p + " has no test part (no test/ subfolder)");
    }
    Path train = p.resolve("train");
    if (Files.isDirectory(train) && Files.isDirectory(p.resolve("test"))) {
      return loadImageFolder(train, 32, 32, 3);
    }
    return loadImageFolder(p, 32, 32, 3);
  }

  /** An image folder ({@link ImageFolder}) resized to {@code h x w x c}, scaled to [0, 1]. */
  public static Dataset loadImageFolder(Path root, int h, int w, int c) {
    return ImageFolder.read(root, h, w, c).scaledTo01(255f);
  }

  private static Dataset synthetic(String key, Part part) {
    String[] f = key.split(":");
    int h = 28;
    int w = 28;
    int c = 1;
    int classes = 10;
    int n = 10_000;
    try {
      if (f.length > 1) {
        String[] d = f[1].split("x");
        if (d.length != 3) {
          throw new IllegalArgumentException("shape '" + f[1] + "' is not HxWxC");
        }
        h = Integer.parseInt(d[0]);
        w = Integer.parseInt(d[1]);
        c = Integer.parseInt(d[2]);
      }
      if (f.length > 2) {
        classes = Integer.parseInt(f[2]);
      }
      if (f.length > 3) {
        n = Integer.parseInt(f[3]);
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad synthetic spec '" + key
          + "': expected synthetic[:HxWxC[:classes[:n]]]", e);
    }
    return part == Part.TRAIN
        ? SyntheticTask.generate("synthetic/train", n, h, w, c, classes, 1.0, 0, 0)
        : SyntheticTask.generate("synthetic/test", Math.max(1, n / 5), h, w, c, classes, 1.0, 0,
            1);
  }

  /** The images and labels files of {@code part} in {@code dir}, or null if it has no IDX file. */
  private static Path[] idxPair(Path dir, Part part) {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<Path> images = files.stream().filter(x -> name(x).contains("images-idx3-ubyte")).toList();
    List<Path> labels = files.stream().filter(x -> name(x).contains("labels-idx1-ubyte")).toList();
    if (images.isEmpty() && labels.isEmpty()) {
      return null;
    }
    if (images.size() == 1 && labels.size() == 1) {
      if (part == Part.TEST) {
        throw new DataNotFoundException(dir + " holds one IDX pair only (no test part)");
      }
      return new Path[] {images.get(0), labels.get(0)};
    }
    String prefix = part == Part.TRAIN ? "train" : "t10k";
    Path im = images.stream().filter(x -> name(x).startsWith(prefix)).findFirst().orElse(null);
    Path lb = labels.stream().filter(x -> name(x).startsWith(prefix)).findFirst().orElse(null);
    if (im == null || lb == null) {
      throw new DataNotFoundException(dir + ": no " + prefix + "-images-idx3-ubyte[.gz] and "
          + prefix + "-labels-idx1-ubyte[.gz] pair");
    }
    return new Path[] {im, lb};
  }

  private static String name(Path p) {
    return p.getFileName().toString();
  }

  private static void requireCached(Path file, String name) {
    if (!Files.isRegularFile(file)) {
      Path cache = file.getParent() == null ? null : file.getParent().getParent();
      boolean found = cache != null && cache.toAbsolutePath().normalize().equals(
          SharedAssets.dataCacheDir().toAbsolutePath().normalize());
      throw new DataNotFoundException(file + " is missing: the " + name + " data set is not in "
          + (found ? "the " + SharedAssets.dataCacheHint() : "the data cache " + cache
              + " given. Fetch it with scripts/fetch-assets.sh from a dks checkout, which fills "
              + "the checkout's data-cache/ (see SharedAssets.dataCacheDir for where dks looks)"));
    }
  }
}
