package org.wclust.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.wclust.api.TrainingWorker;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code wclust worker}: a TensorFlow server that takes part in data-parallel fine-tuning. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    description = {"Serve as a worker of data-parallel fine-tuning ('wclust cluster ... --data ... --workers').",
        "Starts a TensorFlow server (TensorFlow's distributed runtime, gRPC) for task --task of the cluster "
            + "--cluster, prints one line when it listens, and runs until it is killed. The chief places one "
            + "replica of the clustered training graph on every worker, which reads its share of every batch "
            + "at the chief's paths (so it needs the data at the same path) or, for data only the chief reads, "
            + "is sent it with every step. The variables, the averaged update and the re-assignment live on "
            + "task 0.",
        "",
        "Example (a worker on each of two machines, then the chief):",
        "  wclust worker --listen h1:2222 --cluster worker=h1:2222,h2:2222 --task 0",
        "  wclust worker --listen h2:2222 --cluster worker=h1:2222,h2:2222 --task 1",
        "  wclust cluster model/ -o out/ -k 8 --data train.npz --workers h1:2222,h2:2222"})
public final class WorkerCommand implements Callable<Integer> {
  private static final String JOB_PREFIX = "worker=";

  @Spec
  CommandSpec spec;

  @Option(names = "--listen", required = true, paramLabel = "HOST:PORT",
      description = "where to listen; the port must be this task's port in --cluster")
  String listen;

  @Option(names = "--cluster", required = true, paramLabel = "worker=H1:P1,H2:P2",
      description = "every worker's address in task order; the same list as the chief's --workers")
  String cluster;

  @Option(names = "--task", required = true, paramLabel = "I",
      description = "this worker's position in --cluster, from 0")
  int task;

  @Override
  public Integer call() {
    if (!cluster.startsWith(JOB_PREFIX)) {
      throw new IllegalArgumentException("--cluster must be worker=HOST:PORT,..., got '" + cluster + "'");
    }
    List<String> addresses = List.of(cluster.substring(JOB_PREFIX.length()).split(",", -1));
    TrainingWorker worker = TrainingWorker.start(listen, addresses, task);
    PrintWriter out = spec.commandLine().getOut();
    out.printf("wclust worker: task %d of %d listening on %s%n", task, addresses.size(), listen);
    out.flush();
    worker.join();
    return 0;
  }
}
