package dev.dks.cli;

import dev.dks.savedmodels.UntrustedOps;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * The {@code --allow-ops} option (a picocli mixin) of the commands that write or run a model's
 * graph: by default none of the ops of {@link dev.dks.rewriter.safety.OpPolicy} (file I/O,
 * checkpoint writers, print, summaries, readers, file datasets, debug dumps) may sit on the
 * serving path, the init or the restore of a model (the saver's own restore excepted); the user
 * names the ops of a model he trusts.
 */
final class UntrustedFlags {
  @Option(names = "--allow-ops", paramLabel = "OP,...", split = ",",
      description = "Ops with effects outside the tensors (e.g. ReadFile, WriteFile, PrintV2) to "
          + "accept in this model (default: none; see 'dks scan').")
  List<String> allowOps = new ArrayList<>();

  /** The allowed op types. */
  Set<String> allowed() {
    return new LinkedHashSet<>(allowOps);
  }

  /** The op types {@code flags} allows (null: none). */
  static Set<String> allowed(UntrustedFlags flags) {
    return flags == null ? Set.of() : flags.allowed();
  }

  /** Refuses a SavedModel at {@code path} holding a policy op not allowed (before loading it). */
  static void requireSafeSavedModel(Path path, UntrustedFlags flags) {
    UntrustedOps.requireSafeSavedModel(path, allowed(flags));
  }
}
