package org.wclust.models;

import java.util.Map;
import org.wclust.bridge.HostTensor;
import org.wclust.graph.FlatModel;
import org.wclust.graph.ModelSession;

/** Top-1 accuracy of a classifier (first input: images, first output: scores) on labelled digits. */
public final class Accuracy {
  private Accuracy() {}

  public static double of(FlatModel model, DefaultModel.Digits digits) {
    HostTensor input = HostTensor.ofFloats(new long[] {digits.count(), 28, 28, 1}, digits.images());
    String inputKey = model.signature().inputs().get(0).key();
    String outputKey = model.signature().outputs().get(0).key();
    float[] scores;
    try (ModelSession session = new ModelSession(model)) {
      scores = session.run(Map.of(inputKey, input)).get(outputKey).toFloats();
    }
    int classes = scores.length / digits.count();
    int correct = 0;
    for (int i = 0; i < digits.count(); i++) {
      int best = 0;
      for (int c = 1; c < classes; c++) {
        if (scores[i * classes + c] > scores[i * classes + best]) {
          best = c;
        }
      }
      if (best == digits.labels()[i]) {
        correct++;
      }
    }
    return correct / (double) digits.count();
  }
}
