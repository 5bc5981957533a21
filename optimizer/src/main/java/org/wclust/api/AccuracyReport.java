package org.wclust.api;

/**
 * How well the model does before clustering, right after clustering, and after fine-tuning (the
 * exported constants-only model), on {@code dataset}: top-1 {@code accuracy} for classifiers, or the
 * {@code mean_squared_error} of regression models ({@code metric}); {@code fineTuned} is NaN without
 * fine-tuning.
 */
public record AccuracyReport(String metric, String dataset, int examples, double original, double clustered,
    double fineTuned) {
  public static final String ACCURACY = "accuracy";
  public static final String MEAN_SQUARED_ERROR = "mean_squared_error";
}
