package dev.dks.rewriter.console;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether the process's standard error was a terminal when first asked (so redrawing progress
 * bars make sense) or a file, pipe or CI log (where they leave one carriage-return redraw per
 * update). Asked once and remembered, because {@link NativeStderrFilter} later turns descriptor 2
 * into a pipe; the filter asks before it does.
 *
 * <p>On Linux the answer comes from the target of {@code /proc/self/fd/2} (a {@code /dev/pts/N}
 * or {@code /dev/tty*} device is a terminal); elsewhere from {@link System#console()}, which is
 * non-null only when standard input and output are terminals.
 */
public final class Terminals {
  private Terminals() {}

  private static Boolean stderrTerminal;

  /** Whether standard error is (was, before any redirection by this process) a terminal. */
  public static synchronized boolean stderrIsTerminal() {
    if (stderrTerminal == null) {
      stderrTerminal = isTerminal(2);
    }
    return stderrTerminal;
  }

  private static boolean isTerminal(int fd) {
    Path link = Path.of("/proc/self/fd/" + fd);
    try {
      return isTerminalDevice(Files.readSymbolicLink(link).toString());
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return System.console() != null;
    }
  }

  /** Whether a descriptor's target path names a terminal device. */
  static boolean isTerminalDevice(String target) {
    return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty")
        || target.equals("/dev/console");
  }
}
