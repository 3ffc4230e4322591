package org.tensorflow;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.internal.c_api.global.tensorflow;
import org.tensorflow.proto.ConfigProto;

/**
 * Opens a {@link Session} on a session target such as {@code grpc://localhost:2222} (a TF
 * distributed master), which TF Java 1.1.0's public constructors cannot do: they always create an
 * in-process {@code DirectSession} (the private {@code Session.allocate} takes a target argument
 * but never passes it to the C API).
 *
 * <p>This is the only class of dks-java in package {@code org.tensorflow}. It lives here because
 * the two members it needs, {@code Graph.ref()} (the native graph handle) and the constructor
 * {@code Session(Graph, TF_Session)}, are package-private. A same-package class is checked by the
 * compiler against the TF Java version we build with, where reflection would fail only at run time;
 * it works on the class path (TF Java's jar is neither sealed nor a named module). Everything else
 * is TF's public C API through the JavaCPP bindings: {@code TF_SetTarget}, {@code TF_SetConfig},
 * {@code TF_NewSession}.
 *
 * <p>Sessions opened here have <b>no automatic initialization</b> (the package-private constructor
 * sets {@code autoInit=false}): call {@link Session#initialize()} once after building the graph
 * and before the first {@code run}.
 */
public final class TargetSessions {
  private TargetSessions() {}

  /**
   * A session on {@code target} running {@code graph}, configured by {@code config}.
   *
   * @param graph the graph (stays owned by the caller; close the session first)
   * @param target e.g. {@code grpc://host:port}; the empty string is the in-process runtime
   * @param config session options (device filters, collective group leader, threads, ...)
   * @throws org.tensorflow.exceptions.TensorFlowException when TF refuses the options
   */
  public static Session open(Graph graph, String target, ConfigProto config) {
    try (PointerScope scope = new PointerScope();
        Graph.Reference ref = graph.ref()) {
      TF_Status status = TF_Status.newStatus();
      TF_SessionOptions opts = TF_SessionOptions.newSessionOptions();
      tensorflow.TF_SetTarget(opts, target);
      if (config != null) {
        BytePointer bytes = new BytePointer(config.toByteArray());
        tensorflow.TF_SetConfig(opts, bytes, bytes.capacity(), status);
        status.throwExceptionIfNotOK();
      }
      TF_Session s = TF_Session.newSession(ref.nativeHandle(), opts, status);
      status.throwExceptionIfNotOK();
      return new Session(graph, (TF_Session) s.retainReference());
    }
  }
}
