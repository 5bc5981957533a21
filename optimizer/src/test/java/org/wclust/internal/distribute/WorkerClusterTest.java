package org.wclust.internal.distribute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Worker addresses: parsing, the cluster TensorFlow gets, reachability and the failure line. */
class WorkerClusterTest {

  @Test
  void parsesAddressesInTaskOrder() {
    WorkerCluster c = WorkerCluster.parse("h1:2222, h2:2223");
    assertEquals(List.of("h1:2222", "h2:2223"), c.addresses());
    assertEquals("grpc://h1:2222", c.target());
    assertEquals("/job:worker/replica:0/task:1", WorkerCluster.device(1));
    assertEquals(Map.of(0, "h1:2222", 1, "h2:2223"), c.clusterDef().getJob(0).getTasksMap());
    assertEquals("worker", c.clusterDef().getJob(0).getName());
  }

  @ParameterizedTest
  @ValueSource(strings = {"h1", "h1:", ":2222", "h1:port", "h1:0", "h1:70000", "h1:1,h1:1", ""})
  void refusesWhatIsNotAListOfDistinctHostPorts(String list) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WorkerCluster.parse(list));
    assertTrue(e.getMessage().contains("'") || e.getMessage().contains("twice"), e.getMessage());
  }

  @Test
  void aPortNobodyListensOnIsNamed() throws IOException {
    int free;
    try (ServerSocket s = new ServerSocket(0)) {
      free = s.getLocalPort();
    }
    try (ServerSocket listening = new ServerSocket(0)) {
      String up = "127.0.0.1:" + listening.getLocalPort();
      String down = "127.0.0.1:" + free;
      WorkerCluster.parse(up).requireReachable();
      WorkerCluster both = WorkerCluster.parse(up + "," + down);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, both::requireReachable);
      assertTrue(e.getMessage().startsWith("worker " + down + " does not answer"), e.getMessage());
      assertTrue(e.getMessage().contains("--task 1"), e.getMessage());
      assertTrue(both.describeFailure(new RuntimeException("Deadline Exceeded"))
          .startsWith("worker " + down + " stopped answering during fine-tuning"));
    }
  }

  @Test
  void whenEveryWorkerAnswersTheFailureNamesTheTaskTensorFlowNames() throws IOException {
    try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
      WorkerCluster c = WorkerCluster.parse("127.0.0.1:" + a.getLocalPort() + ",127.0.0.1:" + b.getLocalPort());
      String line = c.describeFailure(new RuntimeException(
          "OOM when allocating tensor\n\t on /job:worker/replica:0/task:1/device:CPU:0"));
      assertEquals("worker 127.0.0.1:" + b.getLocalPort() + " failed during fine-tuning: OOM when allocating tensor",
          line);
      // an error the master (task 0) relays from a replica's input names that replica's worker and file
      String unread = c.describeFailure(new RuntimeException("From /job:worker/replica:0/task:0:\n"
          + "/data/images/8/03580.png; No such file or directory\n\t [[{{node replica_1_input/ReadFile_22}}]]"));
      assertEquals("worker 127.0.0.1:" + b.getLocalPort() + " cannot read the training data (workers read the "
          + "data files at the paths the chief lists): /data/images/8/03580.png; No such file or directory", unread);
      // several errors, each relayed: the first file a replica could not read
      String several = c.describeFailure(new RuntimeException("\n=====================\n"
          + "NOT_FOUND: From /job:worker/replica:0/task:1:\n/data/images/3/03363.png; No such file or directory\n"
          + "\t [[{{node replica_1_input/ReadFile_6}}]]\nNOT_FOUND: From /job:worker/replica:0/task:0:\n"
          + "/data/images/2/04966.png; No such file or directory\n\t [[{{node replica_0_input/ReadFile_28}}]]\n"
          + "====================="));
      assertEquals("worker 127.0.0.1:" + b.getLocalPort() + " cannot read the training data (workers read the "
          + "data files at the paths the chief lists): /data/images/3/03363.png; No such file or directory", several);
    }
  }

  @Test
  void aWorkerRefusesATakenPortAndAListenPortOtherThanItsTasks() throws IOException {
    try (ServerSocket taken = new ServerSocket(0)) {
      String address = "127.0.0.1:" + taken.getLocalPort();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> WorkerServer.start(WorkerCluster.parse(address), 0, address));
      assertTrue(e.getMessage().startsWith("cannot listen on " + address), e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> WorkerServer.start(WorkerCluster.parse("127.0.0.1:2222"), 0, "127.0.0.1:2223"));
    assertTrue(e.getMessage().contains("different ports"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> WorkerServer.start(WorkerCluster.parse("127.0.0.1:2222"), 1, "127.0.0.1:2222"));
  }
}
