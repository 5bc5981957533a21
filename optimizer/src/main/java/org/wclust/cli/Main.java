package org.wclust.cli;

/** Entry point of the {@code wclust} command line (without the demo, which lives in wclust-models). */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(WclustCommand.commandLine().execute(args));
  }
}
