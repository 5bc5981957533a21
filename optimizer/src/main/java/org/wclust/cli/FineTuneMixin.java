package org.wclust.cli;

import java.io.IOException;
import java.nio.file.Path;
import org.wclust.api.Datasets;
import org.wclust.api.Examples;
import org.wclust.api.FineTuning;
import picocli.CommandLine.Option;

/** The fine-tuning and evaluation options of {@code wclust cluster}. */
final class FineTuneMixin {
  @Option(names = "--data", paramLabel = "FILE|DIR",
      description = {"fine-tune the clustered model on FILE before exporting it: .npz (arrays x and, unless "
          + "--distill, y: integer labels), .npy (inputs only) or .tfrecord of tf.train.Example (see "
          + "--features). Inputs may be float32 or integer (then see --scale).",
          "DIR: one sub-folder per class of JPEG/PNG/BMP/GIF images (Keras image_dataset_from_directory "
              + "layout; labels = sorted folder names, or --class-names), images directly in DIR for "
              + "unlabelled data (--distill, --calibration), or TFRecord shards. TFRecords whose input "
              + "feature holds encoded images are decoded too. Images are streamed: read and decoded by "
              + "TensorFlow batch by batch, resized to the model's input size (see --image-size)."})
  Path data;

  @Option(names = "--val", paramLabel = "FILE",
      description = "labelled data (same formats) on which the original, the clustered and the fine-tuned "
          + "model are evaluated; the accuracies go into wclust-report.json under 'accuracy'. Without it the "
          + "training data is used when it has labels. Works without --data too (no fine-tuning).")
  Path validation;

  @Option(names = "--scale", paramLabel = "S", defaultValue = "1",
      description = "multiply every input value by S, e.g. 0.00392156862745098 (1/255) for uint8 images "
          + "fed to a model trained on [0, 1] (default: ${DEFAULT-VALUE})")
  double scale;

  @Option(names = "--features", paramLabel = "x:KEY[,y:KEY]",
      description = {"TFRecord feature names of the inputs and labels (default: x:x,y:y; image:KEY,label:KEY "
          + "is the same); inputs as float_list, int64_list, raw uint8 bytes_list or one encoded image, "
          + "labels as int64_list.",
          "A model with several inputs: one NAME:KEY per model input (e.g. pixels:image,ids:tokens,y:label), "
              + "each input fed from its own TFRecord feature or .npz array (default for an .npz without x: "
              + "the arrays named after the model's inputs)."})
  String features;

  @Option(names = "--image-size", paramLabel = "H,W",
      description = "image data: the size to resize to when the model's input size is unknown (default: the "
          + "model's input size, else the first image's)")
  String imageSize;

  @Option(names = "--resize", paramLabel = "METHOD", defaultValue = "bilinear",
      description = "image data: bilinear (as tf.image.resize) or area (default: ${DEFAULT-VALUE})")
  String resize;

  @Option(names = "--mean", paramLabel = "V[,V...]",
      description = "image data: subtracted after --scale, one value or one per channel")
  String mean;

  @Option(names = "--std", paramLabel = "V[,V...]",
      description = "image data: divided by after --mean, one value or one per channel")
  String std;

  @Option(names = "--class-names", paramLabel = "NAME[,NAME...]", split = ",",
      description = "image folders: the class folders in label order (default: sorted)")
  java.util.List<String> classNames;

  @Option(names = "--strict",
      description = "image folders: a file that is not a readable image, or an empty class folder, is an "
          + "error (default: skipped with a count on stderr)")
  boolean strict;

  @Option(names = "--shuffle-buffer", paramLabel = "N", defaultValue = "0",
      description = "shuffle the training examples through a buffer of N, as tf.data's shuffle(N): files are "
          + "then read nearly in order; 0 shuffles all examples each epoch (default: ${DEFAULT-VALUE})")
  int shuffleBuffer;

  @Option(names = "--epochs", paramLabel = "N", defaultValue = "1",
      description = "passes over the training data (default: ${DEFAULT-VALUE})")
  int epochs;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "64",
      description = "examples per step (default: ${DEFAULT-VALUE})")
  int batchSize;

  @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "adam",
      description = "adam or sgd (with --momentum) (default: ${DEFAULT-VALUE})")
  String optimizer;

  @Option(names = "--learning-rate", paramLabel = "LR",
      description = "initial learning rate (default: 1e-4 for adam, 1e-3 for sgd)")
  Float learningRate;

  @Option(names = "--momentum", paramLabel = "M", defaultValue = "0.9",
      description = "sgd momentum (default: ${DEFAULT-VALUE})")
  float momentum;

  @Option(names = "--lr-decay", paramLabel = "KIND", defaultValue = "none",
      description = "learning-rate decay: none, cosine (to 0 at the end) or exponential (by --decay-rate "
          + "per epoch) (default: ${DEFAULT-VALUE})")
  String decay;

  @Option(names = "--decay-rate", paramLabel = "R", defaultValue = "0.5",
      description = "with --lr-decay exponential: factor per epoch (default: ${DEFAULT-VALUE})")
  double decayRate;

  @Option(names = "--gradient-aggregation", paramLabel = "HOW", defaultValue = "sum",
      description = "a centroid's gradient is the sum or the mean of its members' gradients "
          + "(default: ${DEFAULT-VALUE}, as tfmot)")
  String aggregation;

  @Option(names = "--reassign-every", paramLabel = "N", defaultValue = "1",
      description = "re-assign each weight to its nearest centroid (from the straight-through-trained "
          + "original weights) every N steps; 0 keeps the first assignment (default: ${DEFAULT-VALUE})")
  int reassignEvery;

  @Option(names = "--loss", paramLabel = "KIND", defaultValue = "auto",
      description = {"the training loss (default: ${DEFAULT-VALUE}):",
          "  auto, crossentropy  cross-entropy against integer labels y, on the logits before a final "
              + "softmax or on log-probabilities when the output holds probabilities",
          "  mse                 mean squared error against float targets y of shape [N, ...] (regression); "
              + "with --distill, against the original model's outputs",
          "--val is then scored by accuracy or by mean squared error."})
  String loss;

  @Option(names = "--distill",
      description = "no labels needed: the original model is the teacher and the loss is the KL divergence "
          + "between its outputs and the clustered model's (inputs only, e.g. unlabelled images)")
  boolean distill;

  @Option(names = "--temperature", paramLabel = "T", defaultValue = "1",
      description = "with --distill: softmax temperature of teacher and student (default: ${DEFAULT-VALUE})")
  float temperature;

  @Option(names = "--output-key", paramLabel = "KEY",
      description = "the signature output to train and evaluate (default: the first)")
  String outputKey;

  @Option(names = "--workers", paramLabel = "H1:P1,H2:P2", split = ",",
      description = "fine-tune data-parallel on these workers ('wclust worker', same list and order as their "
          + "--cluster): one replica of the training graph per worker, every batch split across them, the "
          + "gradients averaged into one update; variables, update and re-assignment on the first worker. "
          + "Each worker reads its own slice of every batch from the same path as here (image folders, "
          + "uncompressed TFRecords and .npz/.npy files); the rest (compressed .npz, GZIP TFRecords, "
          + "int8/int16/uint32/bool arrays, several inputs, non-float32 model inputs) is read here and sent "
          + "to the workers with every step.")
  java.util.List<String> workers;

  boolean fineTunes() {
    return data != null;
  }

  FineTuning options(long seed) {
    FineTuning.Builder b = FineTuning.builder().epochs(epochs).batchSize(batchSize).optimizer(optimizer)
        .momentum(momentum).learningRateDecay(decay).decayRate(decayRate).gradientAggregation(aggregation)
        .reassignEvery(reassignEvery).loss(loss).distill(distill).temperature(temperature).outputKey(outputKey)
        .seed(seed);
    if (learningRate != null) {
      b.learningRate(learningRate);
    }
    if (workers != null) {
      b.workers(workers);
    }
    return b.build();
  }

  Examples trainingData() throws IOException {
    return (distill ? inputsOnly() : reader()).read(data);
  }

  Examples validationData() throws IOException {
    return validation == null ? null : reader().read(validation);
  }

  /** Inputs, optional labels, or with --loss mse required regression targets. */
  private Datasets.Reader reader() {
    Datasets.Reader reader = Datasets.reader().scale(scale).resize(resize).normalize(mean, std).strict(strict)
        .shuffleBuffer(shuffleBuffer).warnings(line -> System.err.println("wclust: warning: " + line));
    reader = imageSize == null ? reader : reader.imageSize(imageSize);
    reader = classNames == null ? reader : reader.classNames(classNames);
    reader = features == null ? reader : reader.features(features);
    return loss.equalsIgnoreCase("mse") ? reader.regressionTargets() : reader;
  }

  /** The inputs of {@code file} (labels ignored), read as --data is. */
  Examples inputsOnly(Path file) throws IOException {
    return inputsOnly().read(file);
  }

  /** Inputs only: distillation needs no labels, even if the file has them. */
  private Datasets.Reader inputsOnly() {
    return reader().inputsOnly();
  }
}
