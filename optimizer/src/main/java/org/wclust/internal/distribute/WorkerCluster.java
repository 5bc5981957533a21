package org.wclust.internal.distribute;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.JobDef;

/**
 * The TensorFlow servers of a data-parallel run: one job {@code worker} whose task i listens at the
 * i-th address. Every worker and the chief must be given the same list in the same order, since a
 * task's device name ({@code /job:worker/replica:0/task:i}) is its position in it.
 */
public record WorkerCluster(ImmutableList<String> addresses) {
  /** The job name every task of the cluster belongs to. */
  public static final String JOB = "worker";
  /** How long a worker that does not refuse the connection is waited for before it counts as down. */
  private static final int CONNECT_TIMEOUT_MS = 10_000;
  private static final Pattern TASK = Pattern.compile("/job:" + JOB + "/replica:0/task:(\\d+)");
  /**
   * Lines of TensorFlow's message that say nothing of the error: rules around several errors, and the
   * line "[CODE: ]From /job:...:" of an error relayed from another task (the error follows).
   */
  private static final Pattern FRAMING = Pattern.compile("=*|(?:[A-Z_]+: )?From /job:\\S*:");
  /** The failing node of a replica's input read on its worker (ReplicaInput): that worker read a file. */
  private static final Pattern INPUT_READ = Pattern.compile("\\{\\{node replica_(\\d+)_input/");

  public WorkerCluster {
    checkArgument(!addresses.isEmpty(), "--workers needs at least one HOST:PORT");
    for (String a : addresses) {
      port(a);
    }
    checkArgument(addresses.stream().distinct().count() == addresses.size(),
        "--workers lists an address twice: %s", String.join(",", addresses));
  }

  /** {@code H1:P1,H2:P2}, as {@code --workers} and the worker's {@code --cluster worker=...} take it. */
  public static WorkerCluster parse(String commaSeparated) {
    List<String> list = new ArrayList<>();
    for (String part : commaSeparated.split(",", -1)) {
      list.add(part.trim());
    }
    return new WorkerCluster(ImmutableList.copyOf(list));
  }

  public int size() {
    return addresses.size();
  }

  /** The device prefix of task {@code task}: ops placed there run in that worker's process. */
  public static String device(int task) {
    return "/job:" + JOB + "/replica:0/task:" + task;
  }

  /** The session target: the first worker is the master that the chief's session talks to. */
  public String target() {
    return "grpc://" + addresses.get(0);
  }

  public ClusterDef clusterDef() {
    JobDef.Builder job = JobDef.newBuilder().setName(JOB);
    for (int i = 0; i < addresses.size(); i++) {
      job.putTasks(i, addresses.get(i));
    }
    return ClusterDef.newBuilder().addJob(job).build();
  }

  /** The port of {@code HOST:PORT}; fails naming the address when it is not one. */
  public static int port(String address) {
    int colon = address.lastIndexOf(':');
    checkArgument(colon > 0 && colon < address.length() - 1,
        "worker address '%s' is not HOST:PORT", address);
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("worker address '" + address + "' has no numeric port");
    }
    checkArgument(port > 0 && port < 65536, "worker address '%s' has a port outside 1-65535", address);
    return port;
  }

  static String host(String address) {
    String host = address.substring(0, address.lastIndexOf(':'));
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /**
   * One line naming the first worker that does not accept a connection now (a dead worker process
   * refuses it at once), or null when all do.
   */
  public String firstDown() {
    for (String a : addresses) {
      String why = unreachable(a);
      if (why != null) {
        return "worker " + a + " stopped answering during fine-tuning (" + why + ")";
      }
    }
    return null;
  }

  /**
   * Fails with one line naming the first worker that does not accept a connection. TensorFlow itself
   * would wait for it forever ("CreateSession still waiting for response from worker").
   */
  public void requireReachable() {
    for (String a : addresses) {
      String why = unreachable(a);
      if (why != null) {
        throw new IllegalArgumentException("worker " + a + " does not answer (" + why
            + "); start it with 'wclust worker --listen " + a + " --cluster " + JOB + "="
            + String.join(",", addresses) + " --task " + addresses.indexOf(a) + "'");
      }
    }
  }

  /** Why {@code address} does not accept a TCP connection, or null when it does. */
  private static String unreachable(String address) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host(address), port(address)), CONNECT_TIMEOUT_MS);
      return null;
    } catch (IOException e) {
      return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
  }

  /**
   * One line on a TensorFlow failure during a distributed run, naming the worker at fault: the first
   * one that no longer accepts connections, else the task TensorFlow's message names, else all.
   */
  public String describeFailure(Throwable e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    List<String> lines = message.lines().map(String::strip).filter(l -> !FRAMING.matcher(l).matches()).toList();
    String first = lines.isEmpty() ? message.strip() : lines.get(0);
    for (String a : addresses) {
      String why = unreachable(a);
      if (why != null) {
        return "worker " + a + " stopped answering during fine-tuning (" + why + "); TensorFlow: " + first;
      }
    }
    for (int i = 1; i < lines.size(); i++) {
      // the line before the failing node of a replica's input says which file and why
      Matcher read = INPUT_READ.matcher(lines.get(i));
      if (read.find() && Integer.parseInt(read.group(1)) < addresses.size()) {
        return "worker " + addresses.get(Integer.parseInt(read.group(1))) + " cannot read the training data "
            + "(workers read the data files at the paths the chief lists): " + lines.get(i - 1);
      }
    }
    Matcher m = TASK.matcher(message);
    if (m.find()) {
      int task = Integer.parseInt(m.group(1));
      if (task < addresses.size()) {
        return "worker " + addresses.get(task) + " failed during fine-tuning: " + first;
      }
    }
    return "workers " + String.join(",", addresses) + " failed during fine-tuning: " + first;
  }
}
