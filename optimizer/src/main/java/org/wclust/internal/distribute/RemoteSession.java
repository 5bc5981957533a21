package org.wclust.internal.distribute;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_GetCode;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_Message;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewStatus;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetTarget;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.proto.ConfigProto;

/**
 * A TF Java {@link Session} on a remote master ({@code grpc://HOST:PORT}). TF Java has no public
 * constructor with a target, but its C API does ({@code TF_SetTarget}); the native session is wrapped
 * by Session's package-private constructor, reached by reflection (the TF Java jar is on the class
 * path, so nothing is sealed).
 */
public final class RemoteSession {
  /** A step that waits longer than this for a worker fails instead of hanging. */
  private static final long OPERATION_TIMEOUT_MS = 120_000;

  private RemoteSession() {}

  /**
   * A session of {@code graph} run by the master at {@code target}. Its resources (variables) live in
   * a state of their own on each worker, dropped when the session closes, so runs that share workers
   * never see each other's variables.
   */
  public static Session open(Graph graph, String target) {
    return open(graph, target, ConfigProto.getDefaultInstance());
  }

  /** {@link #open(Graph, String)} with the options of {@code base} too (say, graph rewrites turned off). */
  public static Session open(Graph graph, String target, ConfigProto base) {
    ConfigProto config = base.toBuilder().setIsolateSessionState(true)
        .setOperationTimeoutInMs(OPERATION_TIMEOUT_MS).build();
    TF_SessionOptions options = TF_NewSessionOptions();
    TF_Status status = TF_NewStatus();
    try {
      TF_SetTarget(options, target);
      byte[] bytes = config.toByteArray();
      try (BytePointer pointer = new BytePointer(bytes)) {
        TF_SetConfig(options, pointer, bytes.length, status);
      }
      check(status, target);
      TF_Session session;
      try (AutoCloseable ref = graphReference(graph)) {
        session = TF_NewSession(nativeGraph(ref), options, status);
      }
      check(status, target);
      Constructor<Session> wrap = Session.class.getDeclaredConstructor(Graph.class, TF_Session.class);
      wrap.setAccessible(true);
      return wrap.newInstance(graph, session);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("this TensorFlow Java cannot open a session on " + target + ": " + e, e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    } finally {
      TF_DeleteStatus(status);
      TF_DeleteSessionOptions(options);
    }
  }

  private static void check(TF_Status status, String target) {
    if (TF_GetCode(status) != 0) {
      throw new IllegalStateException("cannot open a TensorFlow session on " + target + ": "
          + TF_Message(status).getString());
    }
  }

  /** Graph.ref(): keeps the native graph alive while it is used; must be closed. */
  private static AutoCloseable graphReference(Graph graph) throws ReflectiveOperationException {
    Method ref = Graph.class.getDeclaredMethod("ref");
    ref.setAccessible(true);
    return (AutoCloseable) ref.invoke(graph);
  }

  private static TF_Graph nativeGraph(AutoCloseable reference) throws ReflectiveOperationException {
    Method handle = reference.getClass().getDeclaredMethod("nativeHandle");
    handle.setAccessible(true);
    return (TF_Graph) handle.invoke(reference);
  }
}
