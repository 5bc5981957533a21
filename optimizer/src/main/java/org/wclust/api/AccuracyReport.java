package org.wclust.api;

/**
 * How well the model does before clustering, right after clustering, and after fine-tuning (the
 * exported constants-only model), on {@code dataset}: top-1 {@code accuracy} for classifiers, or the
 * {@code mean_squared_error} of regression models ({@code metric}); {@code fineTuned} is NaN without
 * fine-tuning.
 *
 * <pre>{@code
 * summary.accuracy().ifPresent(a -> System.out.printf("%s: %.4f -> %.4f%n", a.metric(), a.original(), a.clustered()));
 * }</pre>
 */
public record AccuracyReport(String metric, String dataset, int examples, double original, double clustered,
    double fineTuned) {
  /** {@link #metric()} of classifiers: top-1 accuracy against integer labels. */
  public static final String ACCURACY = "accuracy";
  /** {@link #metric()} of regression models: mean squared error against float targets. */
  public static final String MEAN_SQUARED_ERROR = "mean_squared_error";
}
