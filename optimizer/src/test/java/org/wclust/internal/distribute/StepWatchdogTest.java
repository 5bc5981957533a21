package org.wclust.internal.distribute;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A session run that hangs while a worker is gone is abandoned with one line naming the worker; its
 * resources are released only once the run ends. Runs that end normally give their value.
 */
class StepWatchdogTest {
  @Test
  void aRunThatOutlivesAWorkerIsAbandonedAndReleasedWhenItEnds() throws Exception {
    ServerSocket worker = new ServerSocket(0);
    String address = "127.0.0.1:" + worker.getLocalPort();
    CountDownLatch hang = new CountDownLatch(1);
    CountDownLatch released = new CountDownLatch(1);
    AtomicBoolean valueClosed = new AtomicBoolean();
    try (StepWatchdog watchdog = new StepWatchdog(WorkerCluster.parse(address))) {
      AutoCloseable quick = watchdog.run(() -> () -> { }, () -> { });
      assertTrue(quick != null);
      assertFalse(watchdog.abandoned());

      worker.close(); // the worker process is gone: connections are refused
      WorkerFailure e = assertThrows(WorkerFailure.class, () -> watchdog.run(() -> {
        try {
          hang.await(); // a step TensorFlow would wait in until its operation timeout
        } catch (InterruptedException ignored) {
          Thread.currentThread().interrupt();
        }
        return () -> valueClosed.set(true);
      }, released::countDown));
      assertTrue(e.getMessage().startsWith("worker " + address + " stopped answering during fine-tuning ("),
          e.getMessage());
      assertEquals(1, e.getMessage().lines().count());
      assertTrue(watchdog.abandoned());
      assertEquals(1, released.getCount(), "released while the run still uses its inputs");
      assertThrows(IllegalStateException.class, () -> watchdog.run(() -> () -> { }, () -> { }));

      hang.countDown(); // the run ends (TensorFlow's timeout): its inputs and value are released
      assertTrue(released.await(30, TimeUnit.SECONDS));
      assertTrue(valueClosed.get());
    } finally {
      hang.countDown();
      worker.close();
    }
  }

  @Test
  void aRunsOwnErrorPassesThrough() throws IOException {
    try (ServerSocket worker = new ServerSocket(0);
        StepWatchdog watchdog = new StepWatchdog(WorkerCluster.parse("127.0.0.1:" + worker.getLocalPort()))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> watchdog.run(() -> { throw new IllegalArgumentException("bad feed"); }, () -> { }));
      assertEquals("bad feed", e.getMessage());
      assertFalse(watchdog.abandoned());
    }
  }
}
