package org.wclust.internal.distribute;

import static com.google.common.base.Preconditions.checkArgument;

import java.io.IOException;
import java.net.ServerSocket;
import org.tensorflow.Server;
import org.tensorflow.proto.ServerDef;

/**
 * A TensorFlow server ({@code org.tensorflow.Server}) that runs the graph pieces a chief places on
 * its task. It serves until its process ends: TensorFlow cannot stop a server cleanly.
 */
public final class WorkerServer {
  private WorkerServer() {}

  /**
   * Starts task {@code task} of {@code cluster}, listening on the port of {@code listen} (the cluster's
   * address of this task is how the others reach it; {@code listen} may differ in its host, e.g.
   * 0.0.0.0 behind a name).
   */
  public static Server start(WorkerCluster cluster, int task, String listen) {
    checkArgument(task >= 0 && task < cluster.size(), "--task %s is not a task of the cluster (0 to %s)",
        task, cluster.size() - 1);
    int port = WorkerCluster.port(listen);
    checkArgument(port == WorkerCluster.port(cluster.addresses().get(task)),
        "--listen %s and task %s's address in --cluster (%s) have different ports", listen, task,
        cluster.addresses().get(task));
    requireFree(listen, port);
    ServerDef def = ServerDef.newBuilder().setCluster(cluster.clusterDef()).setJobName(WorkerCluster.JOB)
        .setTaskIndex(task).setProtocol("grpc").setPort(port).build();
    Server server = new Server(def);
    server.start();
    return server;
  }

  /**
   * Fails with one line when the port is taken (gRPC, which listens on every interface, would log a
   * page of JSON and say only "Could not start gRPC server").
   */
  private static void requireFree(String listen, int port) {
    try (ServerSocket probe = new ServerSocket(port)) {
      probe.close();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot listen on " + listen + ": " + e.getMessage());
    }
  }
}
