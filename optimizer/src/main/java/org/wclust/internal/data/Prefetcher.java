package org.wclust.internal.data;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.IntFunction;

/**
 * Prepares items {@code 0 .. count-1} (e.g. decoded batches) on a background thread, at most
 * {@code depth} ahead of the consumer, so that reading and decoding overlap with training while memory
 * stays bounded. An exception while preparing an item is rethrown by {@link #next()} for that item.
 * Closing stops the thread.
 */
public final class Prefetcher<T> implements AutoCloseable {
  private final BlockingQueue<Object> queue;
  private final Thread thread;
  private int taken;
  private final int count;

  private record Failure(RuntimeException error) {}

  public Prefetcher(int count, int depth, IntFunction<T> make) {
    this.count = count;
    this.queue = new ArrayBlockingQueue<>(Math.max(1, depth));
    this.thread = new Thread(() -> produce(make), "wclust-prefetch");
    thread.setDaemon(true);
    thread.start();
  }

  private void produce(IntFunction<T> make) {
    try {
      for (int i = 0; i < count; i++) {
        Object item;
        try {
          item = make.apply(i);
        } catch (RuntimeException e) {
          queue.put(new Failure(e));
          return;
        }
        queue.put(item);
      }
    } catch (InterruptedException e) {
      // closed early
    }
  }

  /** The next item, in order; blocks until it is ready. */
  @SuppressWarnings("unchecked")
  public T next() {
    if (taken >= count) {
      throw new IllegalStateException("all " + count + " items were taken");
    }
    Object item;
    try {
      item = queue.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the next batch", e);
    }
    if (item instanceof Failure f) {
      throw f.error();
    }
    taken++;
    return (T) item;
  }

  @Override
  public void close() {
    thread.interrupt();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
