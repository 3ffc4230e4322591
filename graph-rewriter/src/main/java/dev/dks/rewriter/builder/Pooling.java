package dev.dks.rewriter.builder;

import java.util.Arrays;
import java.util.Locale;

/**
 * Down-sampling in a plain CNN: none (the default), or every {@code every} conv layers either a
 * stride-2 conv, a 2x2/2 average pool or a 2x2/2 max pool (SAME padding). Pooling layers are
 * linear or not modelled, so they do not enter the kernel structure (dks-math.md section 10); DKS
 * theory prefers average pooling or strided convs to max pooling.
 *
 * @param kind the kind of down-sampling
 * @param every down-sample after every this many conv layers (conv layers {@code every-1},
 *     {@code 2*every-1}, ... counted from 0; never after the last one), &gt;= 1
 */
public record Pooling(Kind kind, int every) {
  /** No down-sampling. */
  public static final Pooling NONE = new Pooling(Kind.NONE, 1);

  /** How a plain CNN down-samples. */
  public enum Kind {
    /** Constant spatial size. */
    NONE("none"),
    /** The conv layer itself has stride 2. */
    STRIDED_CONV("stride"),
    /** An AvgPool 2x2 stride 2 after the activation. */
    AVG_POOL("avg"),
    /** A MaxPool 2x2 stride 2 after the activation. */
    MAX_POOL("max");

    private final String cliName;

    Kind(String cliName) {
      this.cliName = cliName;
    }

    /** The command-line spelling: none, stride, avg or max. */
    public String cliName() {
      return cliName;
    }

    /** Parses none, stride, avg or max (case-insensitive). */
    public static Kind parse(String s) {
      String n = s.trim().toLowerCase(Locale.ROOT);
      for (Kind k : values()) {
        if (k.cliName.equals(n)) {
          return k;
        }
      }
      throw new IllegalArgumentException("unknown pooling '" + s + "': use one of "
          + Arrays.stream(values()).map(Kind::cliName).toList());
    }
  }

  /** Checks the arguments. */
  public Pooling {
    if (kind == null) {
      throw new IllegalArgumentException("pooling kind must not be null");
    }
    if (every < 1) {
      throw new IllegalArgumentException("pooling interval must be >= 1 layer, got " + every);
    }
  }

  /** Down-sampling of this kind every {@code every} layers. */
  public static Pooling every(Kind kind, int every) {
    return new Pooling(kind, every);
  }

  /** True when conv layer {@code i} (0-based) of {@code depth} is followed by down-sampling. */
  public boolean after(int i, int depth) {
    return kind != Kind.NONE && (i + 1) % every == 0 && i < depth - 1;
  }
}
