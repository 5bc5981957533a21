package org.wclust.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.wclust.api.Progress;

/**
 * Shows progress: on a terminal, each stage as it starts and a progress bar per fine-tuning epoch with
 * the running loss and accuracy; otherwise (logs, CI) one line per epoch on {@code out}.
 */
final class TrainingProgress implements Progress, AutoCloseable {
  private final PrintWriter out;
  private final boolean interactive;
  private ProgressBar bar;
  private final Throughput throughput = new Throughput();

  TrainingProgress(PrintWriter out, boolean interactive) {
    this.out = out;
    this.interactive = interactive;
  }

  @Override
  public void trainingExamples(int examples) {
    throughput.add(examples);
  }

  @Override
  public void stage(String description) {
    if (interactive) {
      out.println(description + " ...");
      out.flush();
    }
  }

  @Override
  public void trainingStep(int epoch, int step, int stepsPerEpoch, double loss, double accuracy) {
    String figures = (Double.isNaN(accuracy)
        ? String.format("loss %.4f", loss)
        : String.format("loss %.4f, accuracy %.2f%%", loss, 100 * accuracy))
        + String.format(", %.0f examples/s", throughput.perSecond());
    if (interactive) {
      if (bar == null) {
        // On stdout, as the other progress lines: stderr is kept for the one-line error.
        bar = new ProgressBarBuilder().setTaskName("epoch " + epoch).setInitialMax(stepsPerEpoch)
            .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.out, 110))
            .setUpdateIntervalMillis(250).build();
      }
      bar.stepTo(step);
      bar.setExtraMessage(figures);
      if (step == stepsPerEpoch) {
        bar.close();
        bar = null;
      }
    } else if (step == stepsPerEpoch) {
      out.printf("epoch %d: %d steps, %s%n", epoch, stepsPerEpoch, figures);
      out.flush();
    } else if (throughput.reportDue()) {
      // Long epochs (streamed data) also report along the way.
      out.printf("epoch %d: step %d/%d, %s%n", epoch, step, stepsPerEpoch, figures);
      out.flush();
    }
  }

  /** Examples per second since the first step; and whether a progress line is due (every 10 s). */
  private static final class Throughput {
    private static final long REPORT_NANOS = 10_000_000_000L;
    private long start = -1;
    private long lastReport;
    private long examples;

    void add(int n) {
      long now = System.nanoTime();
      if (start < 0) { // the clock starts after the first step, which includes graph warm-up
        start = now;
        lastReport = now;
        return;
      }
      examples += n;
    }

    double perSecond() {
      double seconds = (System.nanoTime() - start) / 1e9;
      return seconds > 0 ? examples / seconds : 0;
    }

    boolean reportDue() {
      long now = System.nanoTime();
      if (now - lastReport < REPORT_NANOS) {
        return false;
      }
      lastReport = now;
      return true;
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
