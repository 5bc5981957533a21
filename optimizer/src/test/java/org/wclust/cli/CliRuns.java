package org.wclust.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;

/** Runs the wclust command line in-process, as the tests of the commands do. */
final class CliRuns {
  private CliRuns() {}

  /** Runs {@code args} with standard output discarded and asserts exit code 0 (stderr as the message). */
  static void succeed(List<String> args) {
    CommandLine cli = WclustCommand.commandLine();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(new StringWriter(), true));
    cli.setErr(new PrintWriter(err, true));
    assertEquals(0, cli.execute(args.toArray(new String[0])), err.toString());
  }
}
