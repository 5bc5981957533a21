package org.wclust.internal.distribute;

/**
 * A worker failed or went away during a distributed run: not bad input (the CLI exits with 1), and
 * nothing is written.
 */
public final class WorkerFailure extends RuntimeException {
  public WorkerFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
