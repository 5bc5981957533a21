package org.wclust.api;

import org.tensorflow.Server;
import org.wclust.internal.distribute.WorkerCluster;
import org.wclust.internal.distribute.WorkerServer;

/**
 * A worker of data-parallel fine-tuning: a TensorFlow server that runs the replica of the training
 * graph a chief ({@link FineTuning.Builder#workers}) places on its task. It serves until the process
 * ends (TensorFlow cannot stop a server cleanly).
 *
 * <pre>{@code
 * TrainingWorker.start("0.0.0.0:2222", List.of("host1:2222", "host2:2222"), 0).join();
 * }</pre>
 */
public final class TrainingWorker {
  private final Server server;
  private final String address;

  private TrainingWorker(Server server, String address) {
    this.server = server;
    this.address = address;
  }

  /**
   * Starts task {@code task} of the cluster whose workers listen at {@code cluster} (in task order, the
   * same list the chief gets), listening on the port of {@code listen}.
   *
   * @throws IllegalArgumentException on a malformed address, a task outside the cluster, or a port
   *     that differs from the task's address in the cluster
   */
  public static TrainingWorker start(String listen, java.util.List<String> cluster, int task) {
    WorkerCluster workers = new WorkerCluster(com.google.common.collect.ImmutableList.copyOf(cluster));
    return new TrainingWorker(WorkerServer.start(workers, task, listen), workers.addresses().get(task));
  }

  /** This task's address in the cluster. */
  public String address() {
    return address;
  }

  /** Blocks while the server runs (until the process ends). */
  public void join() {
    server.join();
  }
}
