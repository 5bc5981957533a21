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

  TrainingProgress(PrintWriter out, boolean interactive) {
    this.out = out;
    this.interactive = interactive;
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
    String figures = Double.isNaN(accuracy)
        ? String.format("loss %.4f", loss)
        : String.format("loss %.4f, accuracy %.2f%%", loss, 100 * accuracy);
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
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
