package org.wclust.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Every command that reads a model says, in its --help, which formats MODEL may be. */
class ModelFormatsHelpTest {
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"inspect", "export", "cluster"})
  void helpNamesEveryModelFormat(String command) {
    StringWriter out = new StringWriter();
    CommandLine cli = WclustCommand.commandLine();
    cli.setOut(new PrintWriter(out, true));
    assertEquals(0, cli.execute(command, "--help"));
    String help = out.toString().replaceAll("\\s+", " ");
    for (String format : new String[] {"SavedModel directory", ".keras", ".h5", "model.json"}) {
      assertTrue(help.contains(format), command + " --help does not mention " + format + ":\n" + out);
    }
  }
}
