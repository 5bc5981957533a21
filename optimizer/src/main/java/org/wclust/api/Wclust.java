package org.wclust.api;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.wclust.internal.bridge.AtomicOutputDirectory;
import org.wclust.internal.bridge.PythonTensorFlow;
import org.wclust.internal.bridge.TfliteExport;
import org.wclust.internal.bridge.ZipSize;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.load.ModelLoadException;
import org.wclust.internal.load.ModelLoader;
import org.wclust.internal.load.SavedModelLoader;
import org.wclust.internal.train.Evaluation;
import org.wclust.internal.train.FineTuner;

/**
 * Clustering in one call: load a model (SavedModel directory, Keras {@code .keras} / {@code .h5},
 * TensorFlow.js {@code model.json}), cluster its weights, optionally fine-tune and evaluate, strip the
 * clustering into constants and write a TFLite-ready SavedModel with its {@value #REPORT_FILE} (or, for an
 * output ending in {@code .keras}, the same Keras model with clustered weights). For the step-by-step
 * workflow (train the clustered graph yourself) see {@link ClusterableModel}.
 *
 * <pre>{@code
 * ClusterSummary s = Wclust.cluster(Path.of("model"), Path.of("model_k16"),
 *     ClusterConfig.builder().clusters(16).build());
 * System.out.println(s.maxDistinctValues() + " distinct values at most, report in " + s.reportFile());
 * }</pre>
 */
public final class Wclust {
  /** The report written into every SavedModel output. */
  public static final String REPORT_FILE = "wclust-report.json";
  /** The report's {@code size.tflite} when the .tflite sizes were not asked for. */
  public static final String SIZE_SKIPPED = "not measured (--no-size)";

  /** The signature that is loaded, clustered and converted unless another is named. */
  public static final String DEFAULT_SIGNATURE = ModelLoader.DEFAULT_SIGNATURE;
  /** How to install the Python TensorFlow that {@code .tflite} conversion needs. */
  public static final String PYTHON_INSTALL_HINT = PythonTensorFlow.INSTALL_HINT;
  /** How to install the Python package {@code tflite-micro} that {@link TfliteOutput.Builder#compress} needs. */
  public static final String TFLM_INSTALL_HINT = PythonTensorFlow.TFLM_INSTALL_HINT;

  private Wclust() {}

  /** Whether {@code dir} is a directory with a {@code saved_model.pb}. */
  public static boolean isSavedModel(Path dir) {
    return SavedModelLoader.looksLikeSavedModel(dir);
  }

  /** Whether a Python with TensorFlow (for the TFLite converter) was found; see {@link #PYTHON_INSTALL_HINT}. */
  public static boolean pythonTensorFlowFound() {
    return PythonTensorFlow.find().isPresent();
  }

  /**
   * Whether the Python TensorFlow found also has {@code tflite-micro} (TFLM lookup-table compression,
   * {@link TfliteOutput.Builder#compress}); see {@link #TFLM_INSTALL_HINT}.
   *
   * <pre>{@code
   * boolean lut = Wclust.pythonTensorFlowFound() && Wclust.tfliteMicroFound();
   * }</pre>
   */
  public static boolean tfliteMicroFound() {
    return PythonTensorFlow.find().map(python -> python.hasModule("tflite_micro")).orElse(false);
  }

  /**
   * The zipped size of a file, or of every file under a directory such as a SavedModel: the bytes of a
   * zip archive (deflate, default level) holding it, the size metric of tfmot's published results.
   * Nothing is written; no Python is needed.
   *
   * <pre>{@code
   * long zipped = Wclust.zippedBytes(Path.of("model_k16"));
   * }</pre>
   */
  public static long zippedBytes(Path fileOrDirectory) throws IOException {
    return ZipSize.of(fileOrDirectory);
  }

  /**
   * The top-1 accuracy of a classifier on labelled {@code examples}: the fraction whose arg-max of the
   * model's first output (signature {@value #DEFAULT_SIGNATURE}, fed through its first input) equals the
   * label. {@code model} is a SavedModel directory, {@code .keras} / {@code .h5} file or TensorFlow.js
   * {@code model.json}; it is run in TensorFlow Java, batch by batch, as the accuracy of
   * {@link ClusterSummary#accuracy()}.
   *
   * <pre>{@code
   * double top1 = Wclust.accuracy(Path.of("model_k16"), Datasets.npz(Path.of("test.npz")));
   * }</pre>
   *
   * @throws IOException when the model cannot be read (the message names it)
   * @throws IllegalArgumentException when the examples have no labels
   */
  public static double accuracy(Path model, Examples examples) throws IOException {
    try {
      FlatModel loaded = ModelLoader.load(model, DEFAULT_SIGNATURE);
      return Evaluation.accuracy(loaded, ClusterPipeline.fitToInput(examples.dataset(), loaded), null);
    } catch (ModelLoadException e) {
      throw unreadable(e);
    }
  }

  /**
   * Converts a SavedModel (signature {@code signature}) with Python TensorFlow's TFLite converter into
   * {@code output}'s file, quantized and compressed for TFLM as {@code output} says; with compression
   * {@code input} may also be a {@code .tflite} file (its quantization is kept). The file and its JSON
   * report appear complete or not at all; {@code input} is never modified. The conversion runs in a
   * Python process that this JVM's calls share (TensorFlow is imported once) and that exits after a
   * minute without calls, or with the JVM.
   *
   * <pre>{@code
   * TfliteConversion c = Wclust.convert(Path.of("model_k16"), Wclust.DEFAULT_SIGNATURE,
   *     TfliteOutput.convertTo(Path.of("model.tflite")).compress(true).build());
   * }</pre>
   */
  public static TfliteConversion convert(Path input, String signature, TfliteOutput output) throws IOException {
    boolean tfliteInput = Files.isRegularFile(input) && input.toString().endsWith(".tflite");
    PythonTensorFlow python = PythonTensorFlow.require();
    try (TfliteExport export = tfliteInput ? TfliteExport.fromTflite(python, input, output.target())
        : TfliteExport.fromSavedModel(python, input, signature, output.target())) {
      export.commit();
      return new TfliteConversion(output.file(), ClusterSummary.TfliteBytes.of(export.size()),
          Optional.ofNullable(export.compression()).map(TflmCompression::of));
    }
  }

  /**
   * Clusters {@code input} into {@code output}: a SavedModel directory that appears complete (with
   * {@value #REPORT_FILE}) or not at all, or a {@code .keras} file; an existing {@code output} is refused
   * before any work.
   *
   * @throws IOException when the input cannot be read (the message names it) or the output not written
   * @throws IllegalArgumentException when the configuration does not fit the model
   */
  public static ClusterSummary cluster(Path input, Path output, ClusterConfig config) throws IOException {
    return cluster(input, output, config, Progress.NONE);
  }

  /** As {@link #cluster(Path, Path, ClusterConfig)}, reporting each stage and fine-tuning step to {@code progress}. */
  public static ClusterSummary cluster(Path input, Path output, ClusterConfig config, Progress progress)
      throws IOException {
    if (ClusterToKeras.isKerasOutput(output)) {
      return ClusterToKeras.cluster(input, output, config, listener(progress));
    }
    try (AtomicOutputDirectory out = AtomicOutputDirectory.create(output)) {
      ClusterPipeline pipeline = loaded(input, config, progress);
      return ClusterSummary.of(pipeline.run(out, output, config.measureTfliteSize(),
          config.tflite() == null ? null : config.tflite().target()));
    } catch (ModelLoadException e) {
      throw unreadable(e);
    }
  }

  /**
   * The pipeline of the model loaded from {@code input}. Its own method, so that no caller's local still
   * holds the loaded model once the pipeline has folded BatchNorm into a new one: the loaded weights
   * (100 MB on ResNet50) can then be collected.
   */
  private static ClusterPipeline loaded(Path input, ClusterConfig config, Progress progress)
      throws ModelLoadException {
    long started = System.nanoTime();
    StageClock clock = new StageClock();
    progress.stage("loading " + input);
    FlatModel model = ModelLoader.load(input, config.options().signature());
    clock.lap("load");
    return new ClusterPipeline(input, model, config.options(), progress::stage, listener(progress), clock, started);
  }

  /** A model that cannot be read or rewritten, as the API's checked exception (same message). */
  static IOException unreadable(ModelLoadException e) {
    return new IOException(e.getMessage(), e);
  }

  static FineTuner.Listener listener(Progress progress) {
    return new FineTuner.Listener() {
      @Override
      public void onStep(int epoch, int step, int stepsPerEpoch, double loss, double accuracy) {
        progress.trainingStep(epoch, step, stepsPerEpoch, loss, accuracy);
      }

      @Override
      public void onExamples(int examples) {
        progress.trainingExamples(examples);
      }
    };
  }
}
