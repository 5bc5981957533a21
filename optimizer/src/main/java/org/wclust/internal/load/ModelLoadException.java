package org.wclust.internal.load;

/** A model that cannot be loaded; the message is one line meant for the user. */
public final class ModelLoadException extends Exception {
  public ModelLoadException(String message) {
    super(message);
  }

  public ModelLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
