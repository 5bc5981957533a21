package org.wclust.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code wclust demo} at k = 2: fine-tuning on the training slice recovers most of the accuracy. */
class DemoCommandTest {
  @Test
  void fineTuningHelpsAtTwoClusters(@TempDir Path tmp) {
    String[] tuned = row(run("demo", "--clusters", "2", "--keep", tmp.resolve("tuned").toString()), "2");
    String[] plain = row(run("demo", "--clusters", "2", "--no-fine-tune", "--keep", tmp.resolve("plain").toString()),
        "2");
    // K, ACC BEFORE, ACC AFTER, ACC TUNED, DISTINCT, zipped size (a number and a unit), TFLM bytes
    assertEquals(plain[2], tuned[2], "accuracy after clustering, with and without fine-tuning");
    assertEquals("-", plain[3]);
    double after = percent(tuned[2]);
    double fineTuned = percent(tuned[3]);
    assertTrue(fineTuned >= after + 20 && fineTuned >= 85, "k = 2: " + after + " % -> " + fineTuned + " %");
    assertEquals("2", tuned[4]);
  }

  /** The TFLM column: at k = 2 the lookup-table .tflite is under a fifth of the unclustered one. */
  @Test
  void tflmBytesShrinkWithClustering(@TempDir Path tmp) {
    String output = run("demo", "--clusters", "2", "--no-fine-tune", "--keep", tmp.toString());
    long original = Long.parseLong(last(row(output, "-")));
    long clustered = Long.parseLong(last(row(output, "2")));
    assertTrue(clustered * 5 < original, "TFLM bytes: original " + original + ", k = 2 " + clustered);
  }

  private static String last(String[] row) {
    return row[row.length - 1];
  }

  @Test
  void zeroEpochsIsABadInput(@TempDir Path tmp) {
    CommandLine cli = WclustMain.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(new StringWriter()));
    assertEquals(2, cli.execute("demo", "--epochs", "0", "--keep", tmp.toString()));
    assertTrue(err.toString().startsWith("wclust: error: epochs must be at least 1"), err.toString());
  }

  private static String run(String... args) {
    CommandLine cli = WclustMain.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    assertEquals(0, cli.execute(args), err.toString());
    return out.toString();
  }

  /** The table row of {@code k} ("-" for the original model), split at spaces (a size is "5810 B"). */
  private static String[] row(String output, String k) {
    return output.lines().map(String::trim).filter(l -> l.startsWith(k + " ")).findFirst()
        .map(l -> l.split("\\s+")).orElseThrow(() -> new AssertionError("no row for k = " + k + ":\n" + output));
  }

  private static double percent(String cell) {
    assertTrue(cell.endsWith("%"), cell);
    return Double.parseDouble(cell.substring(0, cell.length() - 1));
  }
}
