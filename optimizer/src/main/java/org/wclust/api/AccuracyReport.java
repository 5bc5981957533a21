package org.wclust.api;

/**
 * Top-1 accuracy of the model before clustering, right after clustering, and after fine-tuning (the
 * exported constants-only model), on {@code dataset}; {@code fineTuned} is NaN without fine-tuning.
 */
public record AccuracyReport(String dataset, int examples, double original, double clustered,
    double fineTuned) {}
