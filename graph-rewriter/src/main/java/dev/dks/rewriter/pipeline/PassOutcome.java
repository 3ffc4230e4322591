package dev.dks.rewriter.pipeline;

import java.util.List;

/**
 * What one pass did.
 *
 * @param pass the pass name
 * @param changes number of matches rewritten (0: the pass found nothing to do)
 * @param notes human-readable lines: what changed, what was left alone and why
 */
public record PassOutcome(String pass, int changes, List<String> notes) {
  /** Copies the notes. */
  public PassOutcome {
    notes = List.copyOf(notes);
  }

  /** A pass that changed nothing. */
  public static PassOutcome unchanged(String pass, String why) {
    return new PassOutcome(pass, 0, List.of(why));
  }
}
