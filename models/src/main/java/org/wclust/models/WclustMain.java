package org.wclust.models;

import org.wclust.cli.WclustCommand;
import picocli.CommandLine;

/** Entry point of the {@code ./wclust} launcher: the wclust CLI plus the {@code demo} subcommand. */
public final class WclustMain {
  private WclustMain() {}

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The wclust command line with {@code demo}. */
  public static CommandLine commandLine() {
    return WclustCommand.commandLine(new DemoCommand());
  }
}
