package dev.dks.solver.network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A network's structure as the kernel analysis sees it ({@code dks-math.md} section 3): nonlinear
 * layers, affine layers, series composition, normalized weighted sums (fixed weights with sum of
 * squares 1), concatenations with widths, and the maximum over candidate subnetworks. Evaluating a
 * structure with {@link ScalarSemantics} gives the reference's {@code M(x, r)}, from which {@link
 * NetworkMaps} derives the maximal slope, maximal curvature and maximal C(0) functions.
 *
 * <p>Build with the static factories: {@code Structure.series(Structure.layer(), ...)}.
 */
public sealed interface Structure
    permits Structure.Layer,
        Structure.Affine,
        Structure.Series,
        Structure.NormalizedSum,
        Structure.Concat,
        Structure.Max,
        Dag {

  /** Pushes {@code input} through this structure. */
  <T> T propagate(T input, KernelSemantics<T> semantics);

  /** Largest number of nonlinear layers on one path from input to output. */
  int depth();

  /** A dense/conv layer followed by the (shaped) activation. */
  static Structure layer() {
    return Layer.INSTANCE;
  }

  /** An affine layer with no activation (stem conv, projection, logits, pooling): identity. */
  static Structure affine() {
    return Affine.INSTANCE;
  }

  /** Composition, first element applied first. */
  static Structure series(Structure... parts) {
    return new Series(List.of(parts));
  }

  /** Composition, first element applied first. */
  static Structure series(List<Structure> parts) {
    return new Series(List.copyOf(parts));
  }

  /** {@code n} nonlinear layers in a row. */
  static Structure chain(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("a chain needs n >= 0 layers, got " + n);
    }
    List<Structure> parts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      parts.add(layer());
    }
    return new Series(parts);
  }

  /** {@code sum_i weights[i] * branch_i} with {@code sum_i weights[i]^2 = 1}. */
  static Structure normalizedSum(double[] weights, Structure... branches) {
    return new NormalizedSum(weights.clone(), List.of(branches));
  }

  /** Concatenation of branches along the feature axis, with their widths. */
  static Structure concat(long[] widths, Structure... branches) {
    return new Concat(widths.clone(), List.of(branches));
  }

  /** The maximum over subnetworks, each applied to the same input. */
  static Structure max(Structure... candidates) {
    return new Max(List.of(candidates));
  }

  /** Feeds input to every branch and averages their outputs with the given fractions. */
  private static <T> T averageOfBranches(
      double[] fractions, List<Structure> branches, T input, KernelSemantics<T> semantics) {
    List<T> vs = new ArrayList<>(branches.size());
    for (Structure b : branches) {
      vs.add(b.propagate(input, semantics));
    }
    return semantics.weightedAverage(fractions, vs);
  }

  /** Dense/conv + activation. */
  enum Layer implements Structure {
    INSTANCE;

    @Override
    public <T> T propagate(T input, KernelSemantics<T> semantics) {
      return semantics.layer(input);
    }

    @Override
    public int depth() {
      return 1;
    }

    @Override
    public String toString() {
      return "layer";
    }
  }

  /** Affine layer without activation. */
  enum Affine implements Structure {
    INSTANCE;

    @Override
    public <T> T propagate(T input, KernelSemantics<T> semantics) {
      return input;
    }

    @Override
    public int depth() {
      return 0;
    }

    @Override
    public String toString() {
      return "affine";
    }
  }

  /** Series composition. */
  record Series(List<Structure> parts) implements Structure {
    @Override
    public <T> T propagate(T input, KernelSemantics<T> semantics) {
      T v = input;
      for (Structure p : parts) {
        v = p.propagate(v, semantics);
      }
      return v;
    }

    @Override
    public int depth() {
      int d = 0;
      for (Structure p : parts) {
        d += p.depth();
      }
      return d;
    }
  }

  /** Normalized weighted sum; the kernel of the sum averages the branches' with weights w^2. */
  record NormalizedSum(double[] weights, List<Structure> branches) implements Structure {
    /** Checks sizes, signs and the normalization {@code sum w^2 = 1} (to 1e-9). */
    public NormalizedSum {
      if (weights.length != branches.size() || weights.length == 0) {
        throw new IllegalArgumentException("a normalized sum needs one weight per branch, got "
            + weights.length + " weights for " + branches.size() + " branches");
      }
      double s = 0;
      for (double w : weights) {
        if (!Double.isFinite(w)) {
          throw new IllegalArgumentException("normalized-sum weight " + w + " is not finite");
        }
        s += w * w;
      }
      if (Math.abs(s - 1) > 1e-9) {
        throw new IllegalArgumentException("normalized-sum weights " + Arrays.toString(weights)
            + " have sum of squares " + s + ", not 1: DKS/TAT require sum_i w_i^2 = 1 "
            + "(e.g. sqrt(1-w^2) * residual + w * shortcut)");
      }
    }

    @Override
    public <T> T propagate(T input, KernelSemantics<T> semantics) {
      double[] f = new double[weights.length];
      for (int i = 0; i < weights.length; i++) {
        f[i] = weights[i] * weights[i];
      }
      return averageOfBranches(f, branches, input, semantics);
    }

    @Override
    public int depth() {
      return branches.stream().mapToInt(Structure::depth).max().orElse(0);
    }

    @Override
    public String toString() {
      return "NormalizedSum" + Arrays.toString(weights) + branches;
    }
  }

  /** Concatenation; the kernel averages the branches' with weights n_i / n. */
  record Concat(long[] widths, List<Structure> branches) implements Structure {
    /** Checks sizes and positivity of the widths. */
    public Concat {
      if (widths.length != branches.size() || widths.length == 0) {
        throw new IllegalArgumentException("a concatenation needs one width per branch, got "
            + widths.length + " widths for " + branches.size() + " branches");
      }
      for (long n : widths) {
        if (n <= 0) {
          throw new IllegalArgumentException("concatenation width " + n + " must be positive");
        }
      }
    }

    @Override
    public <T> T propagate(T input, KernelSemantics<T> semantics) {
      long total = 0;
      for (long n : widths) {
        total += n;
      }
      double[] f = new double[widths.length];
      for (int i = 0; i < widths.length; i++) {
        f[i] = (double) widths[i] / total;
      }
      return averageOfBranches(f, branches, input, semantics);
    }

    @Override
    public int depth() {
      return branches.stream().mapToInt(Structure::depth).max().orElse(0);
    }

    @Override
    public String toString() {
      return "Concat" + Arrays.toString(widths) + branches;
    }
  }

  /** Maximum over candidate subnetworks, each fed the same input. */
  record Max(List<Structure> candidates) implements Structure {
    /** Requires at least one candidate. */
    public Max {
      if (candidates.isEmpty()) {
        throw new IllegalArgumentException("a subnetwork maximum needs at least one candidate");
      }
    }

    @Override
    public <T> T propagate(T input, KernelSemantics<T> semantics) {
      List<T> vs = new ArrayList<>(candidates.size());
      for (Structure c : candidates) {
        vs.add(c.propagate(input, semantics));
      }
      return semantics.max(vs);
    }

    @Override
    public int depth() {
      return candidates.stream().mapToInt(Structure::depth).max().orElse(0);
    }
  }
}
