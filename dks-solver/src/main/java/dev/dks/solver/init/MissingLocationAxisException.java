package dev.dks.solver.init;

/**
 * Thrown by {@link PerLocationNormalization#apply(double[], long[])} in
 * {@link HomogeneousMode#AVG_Q} mode when the input has no location axis, i.e. it is only
 * {@code [batch, features]} (with a batch axis) or only {@code [features]} (without one).
 *
 * <p>{@code AVG_Q} averages the squared input over all locations of an example; with a single
 * location that average is a function of the very location being normalized, so the appended
 * coordinate would carry no information. Use {@link HomogeneousMode#ONE} instead, or add a
 * location axis.
 */
public class MissingLocationAxisException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message human-readable description naming the shape and the remedy
     */
    public MissingLocationAxisException(String message) {
        super(message);
    }
}
