package dev.dks.rewriter.builder;

import java.util.Arrays;
import java.util.Locale;

/** The network families the builder emits. */
public enum Architecture {
  /** Flatten, then dense + activation layers, then dense logits. Default width 256. */
  MLP("mlp", 256),
  /**
   * 3x3 conv (+ BN) + activation layers at constant width, optional down-sampling, global average
   * pooling, dense logits. Default width 64.
   */
  PLAIN_CNN("plain-cnn", 64),
  /**
   * ResNet v1/v2 of depth 18, 34, 50, 101, 152 or 200 (He et al. 2016). Width = base width of the
   * stem and the first group (default 64; groups double it, bottleneck outputs are 4x).
   */
  RESNET("resnet", 64);

  private final String cliName;
  private final int defaultWidth;

  Architecture(String cliName, int defaultWidth) {
    this.cliName = cliName;
    this.defaultWidth = defaultWidth;
  }

  /** The command-line spelling: {@code mlp}, {@code plain-cnn} or {@code resnet}. */
  public String cliName() {
    return cliName;
  }

  /** The width used when the spec names none (256 for MLP, 64 for conv nets). */
  public int defaultWidth() {
    return defaultWidth;
  }

  /**
   * Parses {@code mlp}, {@code plain-cnn} or {@code resnet} (case-insensitive; {@code _} may
   * replace {@code -}).
   *
   * @throws IllegalArgumentException for any other name
   */
  public static Architecture parse(String s) {
    String n = s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    for (Architecture a : values()) {
      if (a.cliName.equals(n)) {
        return a;
      }
    }
    throw new IllegalArgumentException("unknown architecture '" + s + "': use one of "
        + Arrays.stream(values()).map(Architecture::cliName).toList());
  }
}
