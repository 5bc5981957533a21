package org.wclust.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import org.wclust.bridge.AtomicOutputDirectory;
import org.wclust.bridge.HostTensor;
import org.wclust.bridge.PythonTensorFlow;
import org.wclust.bridge.SavedModelWriter;
import org.wclust.bridge.TensorRef;
import org.wclust.bridge.TfliteExport;
import org.wclust.calibrate.BiasCorrection;
import org.wclust.calibrate.Calibration;
import org.wclust.calibrate.OutputAgreement;
import org.wclust.cluster.BudgetTrim;
import org.wclust.cluster.ClusterRewriter;
import org.wclust.cluster.ClusterSettings;
import org.wclust.cluster.InitMethod;
import org.wclust.cluster.LayerHints;
import org.wclust.cluster.LayerAllocation;
import org.wclust.cluster.RateControl;
import org.wclust.cluster.ZippedSizePredictor;
import org.wclust.cluster.ClusteredLayer;
import org.wclust.cluster.ClusteredModel;
import org.wclust.data.Dataset;
import org.wclust.fold.BatchNormFolder;
import org.wclust.fold.FoldedCodebooks;
import org.wclust.graph.FlatModel;
import org.wclust.graph.WeightDiscovery;
import org.wclust.graph.WeightTensor;
import org.wclust.load.ModelLoadException;
import org.wclust.load.ModelLoader;
import org.wclust.report.ClusterReport;
import org.wclust.report.SizeReport;
import org.wclust.report.TfliteSizes;
import org.wclust.strip.ClusterStripper;
import org.wclust.train.Evaluation;
import org.wclust.train.FineTuner;

/**
 * The Java API of the whole job: load a model, cluster its weights, optionally fine-tune the
 * clustered model and evaluate it, strip the clustering into constants and export a TFLite-ready
 * SavedModel with its report. The CLI is a thin layer over this.
 */
public final class Wclust {
  public static final String REPORT_FILE = "wclust-report.json";
  /** The report's {@code size.tflite} when the .tflite sizes were not asked for. */
  public static final String SIZE_SKIPPED = "not measured (--no-size)";
  static final String KERAS_TRAINING_MODE =
      "Keras training mode (BatchNorm batch statistics and moving averages, active dropout)";
  static final String KERAS_TRAINING_MODE_FOLDED =
      "Keras training mode with BatchNorm folded (frozen statistics, active dropout)";

  private Wclust() {}

  /**
   * Clusters {@code input} into the SavedModel directory {@code output}, which appears complete
   * (with {@value #REPORT_FILE}) or not at all; an existing {@code output} is refused before any work.
   */
  public static ClusterResult clusterToSavedModel(Path input, Path output, ClusterOptions options)
      throws ModelLoadException, IOException {
    return clusterToSavedModel(input, output, options, stage -> {});
  }

  /** As {@link #clusterToSavedModel(Path, Path, ClusterOptions)}, reporting each stage as it starts. */
  public static ClusterResult clusterToSavedModel(Path input, Path output, ClusterOptions options,
      Consumer<String> progress) throws ModelLoadException, IOException {
    return clusterToSavedModel(input, output, options, false, progress);
  }

  /**
   * As {@link #clusterToSavedModel(Path, Path, ClusterOptions, Consumer)}; with {@code measureTflite}
   * the report's {@code size} section also gets the .tflite and zipped .tflite sizes of the original
   * and the clustered model (converted into a temporary directory with Python TensorFlow's TFLite
   * converter, which takes seconds). The packed and Huffman sizes of the clustered weights are always
   * reported.
   */
  public static ClusterResult clusterToSavedModel(Path input, Path output, ClusterOptions options,
      boolean measureTflite, Consumer<String> progress) throws ModelLoadException, IOException {
    return clusterToSavedModel(input, output, options, measureTflite, progress, FineTuner.Listener.NONE);
  }

  /**
   * As {@link #clusterToSavedModel(Path, Path, ClusterOptions, boolean, Consumer)}, with fine-tuning
   * progress reported to {@code listener} after every step.
   */
  public static ClusterResult clusterToSavedModel(Path input, Path output, ClusterOptions options,
      boolean measureTflite, Consumer<String> progress, FineTuner.Listener listener)
      throws ModelLoadException, IOException {
    return clusterToSavedModel(input, output, options, measureTflite, progress, listener, null);
  }

  /**
   * As {@link #clusterToSavedModel(Path, Path, ClusterOptions, boolean, Consumer, FineTuner.Listener)},
   * and, unless {@code tflite} is null, converts the clustered model to {@code tflite.file()} (LUT-compressed
   * for TensorFlow Lite Micro and verified there when it asks): written only together with OUT, its
   * sizes in the report's {@code size.tflite_output}. Quantizing to int8 should go with
   * {@link ClusterOptions#int8Aware()}, so that quantization keeps the clusters.
   */
  public static ClusterResult clusterToSavedModel(Path input, Path output, ClusterOptions options,
      boolean measureTflite, Consumer<String> progress, FineTuner.Listener listener, TfliteExport.Target tflite)
      throws ModelLoadException, IOException {
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(output);
        TfliteOutput tfliteOut = new TfliteOutput()) {
      long t0 = System.nanoTime();
      StageClock clock = new StageClock();
      progress.accept("loading " + input);
      FlatModel model = ModelLoader.load(input, options.signature());
      clock.lap("load");
      List<String> folded = new ArrayList<>();
      List<BatchNormFolder.Fold> folds = List.of();
      if (options.foldBatchNorm()) {
        BatchNormFolder.Result fold = BatchNormFolder.fold(model);
        model = fold.model();
        folds = fold.folds();
        fold.folds().forEach(f -> folded.add(f.kernel()));
        clock.lap("fold_batch_norm");
      }
      long t1 = System.nanoTime();
      List<WeightTensor> discovered = WeightDiscovery.discoverForClustering(model);
      Map<String, Integer> plan = options.plan().resolve(discovered);
      List<WeightTensor> planned = planned(discovered, plan);
      clock.lap("discover");
      JsonObject extraReport = new JsonObject();
      LayerHints hints = LayerHints.NONE;
      if (!folds.isEmpty() && options.bnSafeSpread() < Double.POSITIVE_INFINITY) {
        progress.accept("choosing BatchNorm-safe codebooks for " + folds.size() + " folded kernels");
        FoldedCodebooks.Result choice = FoldedCodebooks.choose(model, folds, discovered, plan, options.settings(),
            options.bnSafeSpread());
        hints = choice.hints();
        JsonArray choices = new JsonArray();
        choice.choices().forEach(c -> choices.add(c.toJson()));
        extraReport.add("batch_norm_codebooks", choices);
      }
      Dataset calibration = fitToInput(options.calibration(), model);
      Map<String, float[]> fisher = null;
      if (calibration != null) {
        progress.accept("measuring weight importance on " + calibration.size() + " calibration examples");
        fisher = Calibration.fisher(model, planned, calibration, outputKey(options));
        hints = new LayerHints(Calibration.weights(fisher), hints.granularity());
      }
      RateControl.Found rate = null;
      ZippedSizePredictor sizePredictor = null;
      ClusterSettings settings = options.settings();
      // The planned weights and their values, read once for every search of a size budget.
      RateInputs rateInputs = options.rateTarget() == null ? null : RateInputs.of(model, planned);
      if (options.rateTarget() != null && options.rateTarget().perLayer()) {
        progress.accept("choosing k per layer for " + options.rateTarget());
        long fixed = fixedBytes(model, rateInputs, options.rateTarget());
        int maxK = plan.values().stream().mapToInt(Integer::intValue).max().orElse(2);
        LayerAllocation.Result allocation = LayerAllocation.allocate(rateInputs.targets(), rateInputs.values(), maxK,
            settings, options.rateTarget(), fixed);
        rate = RateControl.Found.allocated(options.rateTarget(), allocation, fixed);
        plan = allocation.clusters();
        // The allocation measured every layer at minimum squared error; cluster as it measured.
        settings = new ClusterSettings(2, InitMethod.OPTIMAL, false, settings.granularity(),
            settings.preserveSparsity(), settings.seed());
      } else if (options.rateTarget() != null) {
        progress.accept("searching the multiplier for " + options.rateTarget());
        sizePredictor = sizePredictor(model, rateInputs, options.rateTarget());
        rate = RateControl.search(rateInputs.targets(), rateInputs.values(), plan, settings, options.rateTarget(),
            sizePredictor);
        settings = settings.withRateWeight(rate.rateWeight());
      }
      if (rate != null) {
        clock.lap("rate_control");
      }
      progress.accept("clustering " + plan.size() + " weight tensors");
      ClusteredModel clustered = ClusterRewriter.cluster(model, plan, settings, options.int8Aware(), hints);
      long t2 = System.nanoTime();
      clock.lap("cluster");
      if (options.correctBias() && calibration != null) {
        progress.accept("correcting the folded biases on " + calibration.size() + " calibration examples");
        BiasCorrection.Result corrected = BiasCorrection.correct(model, clustered, folds, calibration);
        clustered = corrected.model();
        extraReport.add("bias_correction", corrected.layers());
        clock.lap("bias_correction");
      }

      Dataset train = fitToInput(options.trainData(), model);
      Dataset validation = fitToInput(options.validationData(), model);
      // Validation inputs without labels still give the output agreement below.
      Dataset evaluation = validation != null && (validation.hasLabels() || validation.hasTargets()) ? validation
          : train != null && (train.hasLabels() || train.hasTargets()) ? train : null;
      String outputKey = options.fineTune() == null ? null : options.fineTune().outputKey();
      double original = Double.NaN;
      double beforeTuning = Double.NaN;
      if (evaluation != null) {
        progress.accept("evaluating the original and the clustered model on " + evaluation.size() + " examples");
        original = score(model, evaluation, outputKey);
        beforeTuning = score(clustered.model(), evaluation, outputKey);
      }
      FineTuner.Result tuned = null;
      if (train != null) {
        Tuned t = fineTune(input, options, model, clustered, train, progress, listener);
        if (rate != null && rate.allocation() == null) {
          // Fine-tuning moves weights across cluster borders, which changes the rate (measured: the
          // zipped size of the Fashion-MNIST CNN at k = 8 fell by 5-14 %). When it missed the budget,
          // search again aiming off by what it moved, and fine-tune that clustering instead.
          RateControl.Kind kind = rate.target().kind();
          ZippedSizePredictor size = sizePredictor;
          double reached = RateControl.measure(t.clustered().layers(), kind, size);
          double ratio = reached / rate.target().value();
          if (Math.abs(ratio - 1) > RateControl.RETUNE_TOLERANCE) {
            RateControl.Target aimed = new RateControl.Target(rate.target().kind(), rate.target().value() / ratio);
            progress.accept("fine-tuning reached " + Math.round(reached) + ", " + rate.target() + " asked; aiming at "
                + aimed + " and fine-tuning again");
            RateControl.Found again = RateControl.search(rateInputs.targets(), rateInputs.values(), plan,
                options.settings(), aimed, size);
            clustered = ClusterRewriter.cluster(model, plan, options.settings().withRateWeight(again.rateWeight()),
                options.int8Aware(), hints);
            if (evaluation != null) {
              beforeTuning = score(clustered.model(), evaluation, outputKey);
            }
            t = fineTune(input, options, model, clustered, train, progress, listener);
            rate = again.aimedFor(rate.target(), reached);
          }
          // Over budget (at once, or after aiming off): move border weights to cheaper neighbouring
          // centroids of the fine-tuned codebooks until the model is within it (BudgetTrim).
          BudgetTrim.Result trimmed = BudgetTrim.trim(t.clustered(), rateInputs.values(),
              layers -> RateControl.measure(layers, kind, size), rate.target().value());
          if (trimmed.multiplier() > 0) {
            progress.accept(String.format("fine-tuning left the model over %s; trimmed to %.6g (multiplier %.4g)",
                rate.target(), trimmed.reached(), trimmed.multiplier()));
            t = new Tuned(t.result(), trimmed.model());
          }
        }
        tuned = t.result();
        clustered = t.clustered();
      }
      long t3 = System.nanoTime();
      if (evaluation != null || train != null) {
        clock.lap("evaluate_and_fine_tune");
      }

      progress.accept("stripping and exporting to " + output);
      List<String> weightTensors = clustered.layers().stream().map(ClusteredLayer::weightTensor).toList();
      ClusterStripper.Frozen frozen = ClusterStripper.strip(clustered.model(), weightTensors);
      clock.lap("strip");
      try {
        SavedModelWriter.write(out.path(), frozen.graph(), clustered.model().signature());
      } catch (IOException e) {
        throw out.writeFailed(e);
      }
      clock.lap("write");
      AccuracyReport accuracy = null;
      if (evaluation != null) {
        double fineTuned = Double.NaN;
        if (tuned != null) {
          progress.accept("evaluating the fine-tuned model");
          fineTuned = score(FlatModel.of(frozen.graph(), clustered.model().signature(), Map.of()),
              evaluation, outputKey);
        }
        String name = evaluation == validation ? "validation data" : "training data";
        accuracy = new AccuracyReport(evaluation.hasTargets() ? AccuracyReport.MEAN_SQUARED_ERROR
            : AccuracyReport.ACCURACY, name, evaluation.size(), original, beforeTuning, fineTuned);
      }
      FlatModel exportedModel = FlatModel.of(frozen.graph(), clustered.model().signature(), Map.of());
      if (validation != null && !validation.hasTargets()) {
        progress.accept("comparing the clustered model's outputs with the original's on the validation data");
        JsonObject agreement = OutputAgreement.compare(model, exportedModel, validation, outputKey(options)).toJson();
        agreement.addProperty("data", "validation data");
        extraReport.add("output_agreement", agreement);
      }
      if (calibration != null) {
        progress.accept("comparing the clustered model's outputs with the original's on the calibration data");
        JsonObject c = new JsonObject();
        c.addProperty("examples", calibration.size());
        c.addProperty("importance", "diagonal Fisher: mean squared gradient of the cross-entropy against the "
            + "original model's top-1 class, per example");
        c.add("output_agreement", OutputAgreement.compare(model, exportedModel, calibration, outputKey(options)).toJson());
        c.add("layers", Calibration.layerSensitivity(fisher, model, clustered.layers()));
        extraReport.add("calibration", c);
      }
      long t4 = System.nanoTime();
      if (evaluation != null) {
        clock.lap("evaluate");
      }
      List<LayerReport> layers = new ArrayList<>();
      for (ClusteredLayer layer : clustered.layers()) {
        HostTensor exported = frozen.values().get(TensorRef.parse(layer.weightTensor()).toString());
        layers.add(LayerReport.of(layer, WeightDiscovery.distinct(exported.toFloats())));
      }
      SizeReport size = SizeReport.weightsOnly(clustered.layers(), SIZE_SKIPPED);
      if (measureTflite) {
        progress.accept("measuring .tflite sizes of the original and the clustered model");
        size = TfliteSizes.measure(size, model, out.path(), clustered.model().signature().name());
      }
      long t5 = System.nanoTime();
      clock.lap("layer_report_and_size");
      ClusterResult result = new ClusterResult(output, layers, folded, seconds(t1 - t0),
          seconds(t2 - t1), seconds(t4 - t3), size, seconds(t5 - t4), accuracy, tuned, rate, clock.seconds());
      JsonObject tfliteReport = null;
      if (tflite != null) {
        progress.accept("converting to " + tflite.file() + (tflite.compression() == null ? ""
            : " and compressing it for TFLM"));
        tfliteOut.export = TfliteExport.fromSavedModel(PythonTensorFlow.require(), out.path(),
            clustered.model().signature().name(), tflite);
        tfliteReport = tfliteOut.export.report();
        tfliteReport.addProperty("file", tflite.file().toString());
      }
      try {
        ClusterReport.write(out.path().resolve(REPORT_FILE), input, result, tfliteReport, extraReport);
      } catch (IOException e) {
        throw out.writeFailed(e);
      }
      out.commit();
      if (tfliteOut.export != null) {
        tfliteOut.export.commit();
      }
      return result;
    }
  }

  /** The .tflite of {@code --tflite}, staged until OUT is committed; deleted if it never is. */
  private static final class TfliteOutput implements AutoCloseable {
    TfliteExport export;

    @Override
    public void close() {
      if (export != null) {
        export.close();
      }
    }
  }

  /** A fine-tuning run and the clustered model with its trained values. */
  private record Tuned(FineTuner.Result result, ClusteredModel clustered) {}

  private static Tuned fineTune(Path input, ClusterOptions options, FlatModel model, ClusteredModel clustered,
      Dataset train, Consumer<String> progress, FineTuner.Listener listener) throws ModelLoadException, IOException {
    progress.accept("fine-tuning on " + train.size() + " examples");
    if (KerasTraining.applies(input)) {
      // A Keras input trains on its training-mode graph: dropout active and, unless folded,
      // BatchNorm with batch statistics and moving-average updates.
      ClusteredModel twin = KerasTraining.twin(input, options, clustered);
      FineTuner.Result tuned = FineTuner.fineTune(model, twin, train, options.fineTune(), listener,
          new FineTuner.TrainingMode(options.foldBatchNorm() ? KERAS_TRAINING_MODE_FOLDED : KERAS_TRAINING_MODE));
      return new Tuned(tuned, clustered.withTrainedValues(KerasTraining.trainedInference(clustered, tuned.model()),
          model, options.int8Aware()));
    }
    FineTuner.Result tuned = FineTuner.fineTune(model, clustered, train, options.fineTune(), listener);
    return new Tuned(tuned, clustered.withTrainedValues(tuned.model(), model, options.int8Aware()));
  }

  /** The weights of {@code discovered} that {@code plan} clusters, in discovery order. */
  private static List<WeightTensor> planned(List<WeightTensor> discovered, Map<String, Integer> plan) {
    return discovered.stream().filter(w -> plan.containsKey(w.name())).toList();
  }

  /** The weights a plan clusters, in discovery order, with their original values. */
  private record RateInputs(List<WeightTensor> targets, List<float[]> values) {
    static RateInputs of(FlatModel model, List<WeightTensor> targets) {
      return new RateInputs(targets,
          targets.stream().map(w -> model.variables().get(w.handleNode()).value().toFloats()).toList());
    }
  }

  /**
   * For a zipped-size budget, the predictor of the model's zipped .tflite from its clustered weights
   * (the original model converted once); null for other budgets.
   */
  private static ZippedSizePredictor sizePredictor(FlatModel model, RateInputs inputs, RateControl.Target target)
      throws IOException {
    if (target.kind() != RateControl.Kind.ZIPPED_BYTES) {
      return null;
    }
    TfliteSizes.Converted original = TfliteSizes.originalTflite(model);
    return ZippedSizePredictor.of(original.tflite(), original.size().zippedBytes(),
        inputs.targets().stream().map(WeightTensor::shape).toList(), inputs.values());
  }

  /**
   * For a per-layer zipped-size budget, what the model adds besides its clustered weights, measured
   * once: the original model's zipped .tflite less its target weights deflated; 0 for other budgets.
   */
  private static long fixedBytes(FlatModel model, RateInputs inputs, RateControl.Target target) throws IOException {
    if (target.kind() != RateControl.Kind.ZIPPED_BYTES) {
      return 0;
    }
    long fixed = TfliteSizes.original(model).zippedBytes();
    for (float[] v : inputs.values()) {
      fixed -= RateControl.deflatedBytes(v);
    }
    return fixed;
  }

  private static String outputKey(ClusterOptions options) {
    return options.fineTune() == null ? null : options.fineTune().outputKey();
  }

  /** Top-1 accuracy against labels, or the mean squared error against regression targets. */
  private static double score(FlatModel model, Dataset data, String outputKey) {
    return data.hasTargets() ? Evaluation.meanSquaredError(model, data, outputKey)
        : Evaluation.accuracy(model, data, outputKey);
  }

  /** The data seen with the model input's example shape (e.g. [28, 28] as [28, 28, 1]); null stays null. */
  static Dataset fitToInput(Dataset data, FlatModel model) {
    if (data == null || model.signature().inputs().size() != 1) {
      return data;
    }
    return model.signature().inputs().get(0).exampleDims()
        .filter(example -> !java.util.Arrays.equals(example, data.exampleShape()))
        .map(data::withExampleShape)
        .orElse(data); // unknown dimensions: feed the data as it is
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }
}
