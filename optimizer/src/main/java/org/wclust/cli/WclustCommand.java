package org.wclust.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The top-level {@code wclust} command; the work is done by its subcommands. */
@Command(name = "wclust",
    mixinStandardHelpOptions = true,
    version = "wclust 0.1.0",
    usageHelpAutoWidth = true,
    description = {
        "Weight clustering (k-means weight sharing) for TensorFlow models, on TensorFlow Java.",
        "Reads a SavedModel or a Keras file (.keras, .h5, TensorFlow.js model.json), replaces the weights of its conv/dense layers by k shared values each, "
            + "and writes a constants-only SavedModel that the TFLite converter turns into a small .tflite.",
        "",
        "Exit status: 0 on success, 2 on bad input (one line on stderr), 1 on other failures. "
            + "Set WCLUST_DEBUG=1 for stack traces."},
    subcommands = {InspectCommand.class, ClusterCommand.class, ExportCommand.class, ConvertCommand.class,
        ReportCommand.class, WorkerCommand.class, CommandLine.HelpCommand.class})
public final class WclustCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  /**
   * The command line with wclust's subcommands and one-line error reporting: bad input prints
   * {@code wclust: error: MESSAGE} on stderr and exits with status 2; usage errors exit with 2 too.
   *
   * @param extraSubcommands subcommands contributed by other modules (e.g. {@code demo})
   */
  public static CommandLine commandLine(Object... extraSubcommands) {
    CommandLine cli = new CommandLine(new WclustCommand());
    for (Object sub : extraSubcommands) {
      cli.addSubcommand(sub);
    }
    // Usage errors (unknown option, bad value) are one line too, pointing at --help.
    cli.setParameterExceptionHandler((e, args) -> {
      CommandLine failed = e.getCommandLine();
      failed.getErr().println("wclust: error: " + oneLine(e) + " (see '"
          + failed.getCommandSpec().qualifiedName() + " --help')");
      return 2;
    });
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("wclust: error: " + oneLine(e));
      if (System.getenv("WCLUST_DEBUG") != null) {
        e.printStackTrace(commandLine.getErr());
      }
      return e instanceof RuntimeException && !(e instanceof IllegalArgumentException)
          && !(e instanceof IllegalStateException) ? 1 : 2;
    });
    return cli;
  }

  static String oneLine(Throwable e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
