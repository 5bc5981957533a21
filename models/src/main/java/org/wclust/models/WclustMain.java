package org.wclust.models;

import org.wclust.cli.WclustCommand;

/** Entry point of the {@code ./wclust} launcher: the wclust CLI plus the {@code demo} subcommand. */
public final class WclustMain {
  private WclustMain() {}

  public static void main(String[] args) {
    System.exit(WclustCommand.commandLine(new DemoCommand()).execute(args));
  }
}
