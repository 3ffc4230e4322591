package dev.dks.solver.init;

import java.util.Locale;

/**
 * Which homogeneous coordinate {@link PerLocationNormalization} appends to the feature axis
 * before normalizing. Normalizing each location to mean square 1 destroys its scale; the extra
 * coordinate keeps some of that information.
 */
public enum HomogeneousMode {

    /** Append the constant {@code 1} (times {@code homogScale}) at every location. Default. */
    ONE("one"),

    /**
     * Append {@code sqrt(mean of x^2 over all non-batch axes)} of the example (times
     * {@code homogScale}), the same value at every location of that example. Needs at least one
     * location axis.
     */
    AVG_Q("avg_q"),

    /** Append nothing; each location is just rescaled to mean square 1. */
    OFF("off");

    private final String referenceName;

    HomogeneousMode(String referenceName) {
        this.referenceName = referenceName;
    }

    /** @return the string used by the reference implementation ({@code "one"}, ...) */
    public String referenceName() {
        return referenceName;
    }

    /**
     * Parses a reference-implementation name ({@code "one"}, {@code "avg_q"}, {@code "off"}),
     * case-insensitively; the enum constant names are accepted too.
     *
     * @param name the mode name
     * @return the mode
     * @throws IllegalArgumentException for an unknown name
     */
    public static HomogeneousMode fromName(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (HomogeneousMode m : values()) {
            if (m.referenceName.equals(n)) {
                return m;
            }
        }
        throw new IllegalArgumentException(
                "unknown homogeneous mode '" + name + "'; expected one of one, avg_q, off");
    }
}
