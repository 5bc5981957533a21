package org.wclust.api;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.wclust.internal.report.SizeReport;
import org.wclust.internal.train.FineTuneOptions;
import org.wclust.internal.train.FineTuner;

/**
 * Writes {@code wclust-report.json}: per clustered layer figures, the {@code size} section (see
 * {@link SizeReport}), the {@code accuracy} before clustering, after clustering and after
 * fine-tuning, the {@code fine_tuning} run, and the timings of each stage.
 */
final class ClusterReport {
  private ClusterReport() {}

  private static JsonObject fineTuning(FineTuner.Result r) {
    FineTuneOptions o = r.options();
    JsonObject t = new JsonObject();
    t.addProperty("objective", r.objective());
    t.addProperty("graph", r.graph());
    t.addProperty("epochs", o.epochs());
    t.addProperty("steps", r.steps());
    t.addProperty("batch_size", o.batchSize());
    t.addProperty("optimizer", o.optimizer().toString());
    t.addProperty("learning_rate", o.learningRate());
    t.addProperty("learning_rate_decay", o.schedule().toString());
    t.addProperty("gradient_aggregation", o.aggregation().name().toLowerCase(java.util.Locale.ROOT));
    t.addProperty("reassign_every", o.reassignEvery());
    t.addProperty("seed", o.seed());
    t.addProperty("final_loss", r.finalLoss());
    if (!Double.isNaN(r.finalAccuracy())) {
      t.addProperty(o.distill() ? "final_teacher_agreement" : "final_training_accuracy", r.finalAccuracy());
    }
    if (o.distill() && o.loss() != FineTuneOptions.LossKind.MSE) {
      t.addProperty("temperature", o.temperature());
    }
    JsonArray trained = new JsonArray();
    r.trainableVariables().forEach(trained::add);
    t.add("trained_variables", trained);
    return t;
  }

  static void write(Path file, Path input, ClusterResult result) throws IOException {
    write(file, input, result, null);
  }

  /**
   * As {@link #write(Path, Path, ClusterResult)}, with {@code tfliteOutput} (the report of the
   * {@code --tflite} file: its sizes and TFLM compression) as {@code size.tflite_output} unless null.
   */
  static void write(Path file, Path input, ClusterResult result, JsonObject tfliteOutput)
      throws IOException {
    write(file, input, result, tfliteOutput, new JsonObject());
  }

  /**
   * As {@link #write(Path, Path, ClusterResult, JsonObject)}, with the members of {@code extra}
   * (BatchNorm-safe codebook choices, calibration results) added at the top level.
   */
  static void write(Path file, Path input, ClusterResult result, JsonObject tfliteOutput, JsonObject extra)
      throws IOException {
    JsonObject root = new JsonObject();
    root.addProperty("input", input.toString());
    extra.entrySet().forEach(e -> root.add(e.getKey(), e.getValue()));
    JsonArray layers = new JsonArray();
    for (int i = 0; i < result.layers().size(); i++) {
      LayerReport l = result.layers().get(i);
      JsonObject o = new JsonObject();
      o.addProperty("name", l.name());
      o.addProperty("op", l.op());
      JsonArray shape = new JsonArray();
      for (long d : l.shape()) {
        shape.add(d);
      }
      o.add("shape", shape);
      o.addProperty("params", l.params());
      o.addProperty("clusters", l.clusters());
      o.addProperty("init", l.init());
      o.addProperty("granularity", l.granularity());
      o.addProperty("codebooks", l.codebooks());
      o.addProperty("distinct_values", l.distinctValues());
      o.addProperty("max_distinct_per_codebook", l.maxDistinctPerCodebook());
      o.addProperty("sse", l.sse());
      if (!Double.isNaN(l.rateWeight())) {
        o.addProperty("rate_weight", l.rateWeight());
      }
      o.addProperty("index_entropy_bits", l.indexBits());
      o.addProperty("packed_bits", l.packedBits());
      o.addProperty("float32_bits", 32 * l.params());
      if (result.size() != null && result.size().layers().size() == result.layers().size()) {
        o.addProperty("huffman_bits", result.size().layers().get(i).huffmanBits());
      }
      if (l.keptOriginalValues()) {
        o.addProperty("note", "fewer distinct values than clusters: original values kept");
      }
      if (l.emptyClusters() > 0) {
        o.addProperty("empty_clusters", l.emptyClusters());
      }
      layers.add(o);
    }
    root.add("layers", layers);
    JsonArray folded = new JsonArray();
    result.foldedBatchNorm().forEach(folded::add);
    root.add("batch_norm_folded_into", folded);
    if (result.size() != null) {
      JsonObject size = result.size().toJson();
      if (tfliteOutput != null) {
        size.add("tflite_output", tfliteOutput);
      }
      root.add("size", size);
    }
    if (result.rateControl() != null) {
      JsonObject rate = result.rateControl().toJson();
      if (result.size() != null && result.size().hasTflite()) {
        rate.addProperty("reached_zipped_bytes", result.size().clustered().zippedBytes());
      }
      rate.addProperty("reached_bits_per_weight", result.layers().stream().mapToDouble(LayerReport::indexBits).sum()
          / result.layers().stream().mapToLong(LayerReport::params).sum());
      root.add("rate_control", rate);
    }
    if (result.accuracy() != null) {
      AccuracyReport a = result.accuracy();
      JsonObject accuracy = new JsonObject();
      accuracy.addProperty("dataset", a.dataset());
      accuracy.addProperty("examples", a.examples());
      accuracy.addProperty("original", a.original());
      accuracy.addProperty("clustered", a.clustered());
      if (!Double.isNaN(a.fineTuned())) {
        accuracy.addProperty("fine_tuned", a.fineTuned());
      }
      root.add(a.metric(), accuracy);
    }
    if (result.fineTuning() != null) {
      root.add("fine_tuning", fineTuning(result.fineTuning()));
    }
    JsonObject timings = new JsonObject();
    timings.addProperty("load_s", result.loadSeconds());
    timings.addProperty("cluster_s", result.clusterSeconds());
    timings.addProperty("export_s", result.exportSeconds());
    if (result.fineTuning() != null) {
      timings.addProperty("fine_tune_s", result.fineTuning().seconds());
    }
    if (result.size() != null) {
      timings.addProperty("size_s", result.sizeSeconds());
    }
    if (!result.stageSeconds().isEmpty()) {
      JsonObject stages = new JsonObject();
      result.stageSeconds().forEach(stages::addProperty);
      timings.add("stages", stages);
    }
    root.add("timings", timings);
    Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(root) + "\n");
  }
}
