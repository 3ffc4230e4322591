package dev.dks.rewriter.console;

import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UnsupportedEncodingException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps TensorFlow's C++ log lines ({@link TfLogLine}) off the process's stderr.
 *
 * <p>Why a file-descriptor filter: TF 2.18 logs through TSL, which reads {@code
 * TF_CPP_MIN_LOG_LEVEL} once, at its first line, which it writes while the natives load (so a
 * level cannot be set from inside the JVM in time), and through a private copy of Abseil
 * logging inside {@code libtensorflow_cc.so.2}, which no environment variable or exported symbol
 * controls (measured: {@code TF_CPP_MIN_LOG_LEVEL=3} still prints the MLIR INFO line and the
 * Abseil preamble). Both write straight to file descriptor 2.
 *
 * <p>What {@link #quiet()} does, once per process and before or after the natives load: file
 * descriptor 2 becomes the write end of a pipe; Java's {@link System#err} is re-pointed at a
 * duplicate of the original stderr (so Java output is written synchronously, as before); a daemon
 * thread reads the pipe and forwards every line that is not part of a TF log message (for example the
 * JVM's own warnings, the output of child processes that inherit stderr, and TF's fatal {@code F}
 * lines) to the original stderr. {@link #verbose()} passes everything again. At JVM exit the
 * original descriptor 2 is restored and the pipe drained.
 *
 * <p>It needs the JDK's descriptor primitives ({@code sun.nio.ch.InheritedChannel}, {@code
 * sun.nio.ch.IOUtil}): run with {@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED} (the {@code
 * dks} jar's manifest carries {@code Add-Opens: java.base/sun.nio.ch}). Without it, or off Unix,
 * {@link #quiet()} changes nothing and returns false; {@link #unavailableReason()} says why.
 */
public final class NativeStderrFilter {
  private NativeStderrFilter() {}

  private static final int STDERR = 2;
  private static final String SYNC_PREFIX = "\u0001dks-native-stderr-sync ";

  private static boolean installed;
  private static String unavailable;
  private static volatile boolean dropping;
  private static final Object SINK_LOCK = new Object();
  private static OutputStream sink;
  private static final AtomicLong SYNC_SENT = new AtomicLong();
  private static long syncSeen;

  /**
   * Drops TF C++ log lines from descriptor 2 from now on (installing the filter on first use);
   * returns whether the filter is active. Safe to call repeatedly and from any thread.
   */
  public static synchronized boolean quiet() {
    if (!installed && unavailable == null) {
      install();
    }
    dropping = installed;
    return installed;
  }

  /** Lets every line through again (the filter, if installed, stays and forwards everything). */
  public static synchronized void verbose() {
    dropping = false;
  }

  /** Whether TF log lines are being dropped now. */
  public static boolean isQuiet() {
    return dropping;
  }

  /** Why the filter could not be installed, or null if it was not tried or it is installed. */
  public static synchronized String unavailableReason() {
    return unavailable;
  }

  /**
   * Sends the forwarded lines to {@code next} instead (tests capture them this way); returns the
   * previous destination. Only meaningful while the filter is installed.
   */
  public static OutputStream setSink(OutputStream next) {
    synchronized (SINK_LOCK) {
      OutputStream previous = sink;
      sink = next;
      return previous;
    }
  }

  /**
   * Waits (at most {@code timeoutMillis}) until everything written to descriptor 2 before this
   * call has been filtered and forwarded; returns false on timeout or when not installed.
   */
  public static boolean sync(long timeoutMillis) throws InterruptedException {
    if (!installed) {
      return false;
    }
    long id = SYNC_SENT.incrementAndGet();
    try {
      // a write to descriptor 2 itself, so it queues behind every native line written before
      FileOutputStream fd2 = new FileOutputStream(FileDescriptor.err);
      fd2.write((SYNC_PREFIX + id + "\n").getBytes(StandardCharsets.UTF_8));
      fd2.flush();
    } catch (IOException e) {
      return false;
    }
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    synchronized (SINK_LOCK) {
      while (syncSeen < id) {
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
          return false;
        }
        SINK_LOCK.wait(left);
      }
    }
    return true;
  }

  private static void install() {
    try {
      Class<?> inherited = Class.forName("sun.nio.ch.InheritedChannel");
      Class<?> ioUtil = Class.forName("sun.nio.ch.IOUtil");
      Method dup = access(inherited, "dup", int.class);
      Method dup2 = access(inherited, "dup2", int.class, int.class);
      Method close = access(inherited, "close0", int.class);
      Method makePipe = access(ioUtil, "makePipe", boolean.class);
      Method newFd = access(ioUtil, "newFD", int.class);

      Terminals.stderrIsTerminal(); // remember what descriptor 2 was before it becomes a pipe
      System.err.flush();
      int saved = (int) dup.invoke(null, STDERR);
      long pipe = (long) makePipe.invoke(null, true);
      int readFd = (int) (pipe >>> 32);
      int writeFd = (int) pipe;
      dup2.invoke(null, writeFd, STDERR);
      close.invoke(null, writeFd);

      FileDescriptor original = (FileDescriptor) newFd.invoke(null, saved);
      sink = new FileOutputStream(original);
      System.setErr(new PrintStream(new FileOutputStream(original), true, stderrCharset()));
      InputStream in = new FileInputStream((FileDescriptor) newFd.invoke(null, readFd));
      Thread reader = new Thread(() -> pump(in), "dks-native-stderr");
      reader.setDaemon(true);
      reader.start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          dup2.invoke(null, saved, STDERR); // closes the pipe's write end: the reader sees EOF
          reader.join(500);
        } catch (ReflectiveOperationException | InterruptedException e) {
          // exiting anyway
        }
      }, "dks-native-stderr-restore"));
      installed = true;
    } catch (InvocationTargetException e) {
      unavailable = "descriptor call failed: " + e.getCause();
    } catch (ReflectiveOperationException | RuntimeException | UnsupportedEncodingException e) {
      unavailable = "JDK descriptor primitives unavailable (" + e
          + "); run java with --add-opens java.base/sun.nio.ch=ALL-UNNAMED";
    }
  }

  private static Method access(Class<?> owner, String name, Class<?>... params)
      throws NoSuchMethodException {
    Method m = owner.getDeclaredMethod(name, params);
    m.setAccessible(true);
    return m;
  }

  private static String stderrCharset() {
    String enc = System.getProperty("sun.stderr.encoding");
    if (enc != null && Charset.isSupported(enc)) {
      return enc;
    }
    return Charset.defaultCharset().name();
  }

  /** Reads the pipe until EOF, forwarding lines that are not TF log messages. */
  private static void pump(InputStream in) {
    byte[] buf = new byte[16384];
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    boolean continuing = false;
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        for (int i = 0; i < n; i++) {
          line.write(buf[i]);
          if (buf[i] == '\n') {
            continuing = handle(line.toByteArray(), continuing);
            line.reset();
          }
        }
        if (line.size() == 0) {
          // a multi-line message arrives in one write; the next read starts a new message
          continuing = false;
        }
      }
      if (line.size() > 0) {
        handle(line.toByteArray(), continuing);
      }
    } catch (IOException e) {
      // the pipe is gone: nothing more to forward
    }
  }

  /** Forwards or drops one line; returns whether the lines that follow continue a dropped message. */
  private static boolean handle(byte[] bytes, boolean continuing) {
    String text = new String(bytes, StandardCharsets.UTF_8);
    if (text.startsWith(SYNC_PREFIX)) {
      long id = Long.parseLong(text.substring(SYNC_PREFIX.length()).trim());
      synchronized (SINK_LOCK) {
        syncSeen = Math.max(syncSeen, id);
        SINK_LOCK.notifyAll();
      }
      return false;
    }
    char severity = TfLogLine.severity(text);
    boolean drop;
    if (severity != 0) {
      drop = dropping && severity != 'F';
    } else {
      drop = dropping && continuing && TfLogLine.isContinuation(text);
    }
    if (!drop) {
      synchronized (SINK_LOCK) {
        try {
          sink.write(bytes);
          sink.flush();
        } catch (IOException e) {
          // the original stderr is closed: nothing to do
        }
      }
    }
    return drop;
  }
}
