package org.wclust.internal.distribute;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Runs the session runs of distributed training on a thread of its own and, while one lasts longer
 * than usual, checks every second that each worker still accepts connections. A dead worker process
 * refuses them at once, so its death is noticed within seconds, including task 0's: the chief's
 * session talks to task 0's master, whose gRPC call TensorFlow keeps retrying until the operation
 * timeout (two minutes). The run is then abandoned (left to fail at that timeout on its thread) and
 * the session must not be used or closed any more ({@link #abandoned()}), and the training fails with
 * one line ({@link WorkerFailure}).
 */
public final class StepWatchdog implements AutoCloseable {
  /** A run that ends within this needs no check; steps take milliseconds to a few seconds. */
  private static final long QUIET_MS = 2_000;
  private static final long CHECK_EVERY_MS = 1_000;

  private final WorkerCluster cluster;
  private final ExecutorService runs = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "wclust-distributed-step");
    t.setDaemon(true); // an abandoned run must not keep the JVM alive
    return t;
  });
  private volatile boolean abandoned;

  public StepWatchdog(WorkerCluster cluster) {
    this.cluster = cluster;
  }

  /**
   * The value of {@code run}, run on the watchdog's thread. When a worker stops answering while it
   * waits, throws a {@link WorkerFailure} naming it and leaves the run going: {@code release} (e.g. closing the
   * tensors it was fed) then runs once the run ends, and {@code run}'s value is closed unread.
   */
  public <T extends AutoCloseable> T run(Supplier<T> run, Runnable release) {
    if (abandoned) {
      throw new IllegalStateException("a previous run was abandoned");
    }
    Future<T> future = runs.submit(() -> {
      T value = run.get();
      if (abandoned) {
        value.close();
        return null;
      }
      return value;
    });
    long waited = 0;
    while (true) {
      long wait = waited < QUIET_MS ? QUIET_MS : CHECK_EVERY_MS;
      try {
        return future.get(wait, TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof RuntimeException cause) {
          throw cause; // e.g. TensorFlow's error, for the caller to describe
        }
        throw new IllegalStateException(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while a distributed step ran", e);
      } catch (TimeoutException e) {
        waited += wait;
        String down = cluster.firstDown();
        if (down != null) {
          abandoned = true;
          runs.submit(release); // after the abandoned run, on the same thread
          throw new WorkerFailure(down, e);
        }
      }
    }
  }

  /** Whether a run was abandoned: its session is still inside TensorFlow and must be left alone. */
  public boolean abandoned() {
    return abandoned;
  }

  @Override
  public void close() {
    runs.shutdown();
  }
}
