package org.wclust.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.Callable;
import org.wclust.api.AccuracyReport;
import org.wclust.api.ClusterConfig;
import org.wclust.api.ClusterSummary;
import org.wclust.api.LayerReport;
import org.wclust.api.TfliteOutput;
import org.wclust.api.Wclust;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code wclust cluster}: clusters a model's weights and exports a TFLite-ready SavedModel. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
    usageHelpAutoWidth = true,
    description = {"Cluster the weights of a model, optionally fine-tune it, and export a TFLite-ready SavedModel.",
        "Clusters the conv/dense weights of MODEL (by default entropy-constrained 1-D clustering at the "
            + "rate-distortion knee, per tensor; deterministic for a seed), with --data fine-tunes the clustered model in TensorFlow "
            + "(straight-through gradients to the original weights, summed gradients to the centroids, "
            + "weights re-assigned to their nearest centroid every step), and writes OUT: a SavedModel "
            + "holding constants only, with the serving signature of MODEL (same input/output names, "
            + "dtypes and shapes), ready for the TFLite converter, plus OUT/wclust-report.json (per "
            + "layer: clusters, distinct values, SSE; sizes; accuracy before/after clustering and after "
            + "fine-tuning; timings). OUT must not exist; it appears only once complete. A weight with "
            + "no more distinct values than K keeps its values.",
        "",
        "Examples:",
        "  wclust cluster model/ -o model-k16/ --clusters 16",
        "  wclust cluster model/ -o out/ --clusters 8 --layers 'dense'",
        "  wclust cluster model/ -o out/ --config clusters.json   # {\"conv2d.*\": 32, \"dense/kernel\": 8}",
        "  wclust cluster model/ -o out/ -k 8 --data train.npz --val test.npz --scale 0.00392156862745098",
        "  wclust cluster model/ -o out/ -k 8 --data images.npz --distill --epochs 2",
        "  wclust cluster model/ -o out/ -k 16 --tflite model.tflite --compress   # TFLM lookup tables"})
public final class ClusterCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Parameters(paramLabel = "MODEL",
      description = "a SavedModel directory, a .keras or .h5 file, or a TensorFlow.js model.json")
  Path model;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "OUT",
      description = "output SavedModel directory (must not exist)")
  Path output;

  @Option(names = {"-k", "--clusters"}, paramLabel = "K",
      description = "number of clusters for every selected layer (at least 2)")
  Integer clusters;

  @Option(names = "--layers", paramLabel = "REGEX",
      description = "cluster only weights whose name (e.g. conv2d_1/kernel) contains a match of REGEX")
  String layers;

  @Option(names = "--config", paramLabel = "FILE.json",
      description = "JSON object mapping weight-name regexes to a number of clusters; wins over --clusters")
  Path config;

  @Option(names = "--init", paramLabel = "METHOD", defaultValue = "knee", // the API's default
      description = {"how centroids are chosen (default: ${DEFAULT-VALUE}):",
          "  knee      entropy-constrained clustering at the rate-distortion knee: more squared "
              + "error than optimal on the largest tensors, much lower index entropy, so the model zips "
              + "smaller (also after fine-tuning); weights at their nearest centroid",
          "  optimal   globally optimal 1-D k-means (minimum SSE), by dynamic programming over the "
              + "sorted values; exact, so no refinement follows",
          "  kmeans++  k-means++ seeding (random, spread out)",
          "  linear    evenly spaced between min and max",
          "  density   at evenly spaced quantiles of the weights",
          "  random    uniform in [min, max]",
          "All but knee and optimal are followed by Lloyd iterations to convergence unless --no-refine "
              + "(tfmot runs none)."})
  String init;

  @Option(names = "--rate-weight", paramLabel = "W", defaultValue = "16", // RateDistortion.KNEE_WEIGHT
      description = "with --init knee: what one bit of index entropy per weight is worth, in multiples of "
          + "the optimal mean squared error at K, for a tensor of 200,000 weights or the largest one; a smaller "
          + "tensor gets W x its share; below 8 clusters W is scaled by (K/8)^2, above 16 by K/16 (default: ${DEFAULT-VALUE}; "
          + "larger = smaller and less exact, 0 = optimal)")
  double rateWeight;

  @Option(names = "--target-bits", paramLabel = "B",
      description = "size budget: search the knee clustering's multiplier (--rate-weight) so that the indices "
          + "take B entropy-coded bits per clustered weight on average (each index within its codebook); the "
          + "report's rate_control gives the multiplier found and the bits reached")
  Double targetBits;

  @Option(names = "--target-size", paramLabel = "BYTES",
      description = "size budget: search the multiplier so that the zipped .tflite of OUT takes at most BYTES "
          + "(predicted from the original model's .tflite with the clustered values written over its weights, "
          + "deflated whole; needs Python TensorFlow; a fine-tuned model over it is trimmed back within it); "
          + "rate_control in the report gives the multiplier and the size reached")
  Long targetSize;

  @Option(names = "--budget",
      description = "with --target-bits or --target-size: meet the budget by choosing each layer's clustering (k a "
          + "power of two up to --clusters K; minimum squared error or the knee at 1 or 4 times its default "
          + "weight; the layer whose step crosses the budget gets the knee scale that fills it) so that the "
          + "summed error is least: with --calibration the loss increase the Fisher predicts, else the squared "
          + "error relative to each layer's weight energy; the report gives the choice per layer")
  boolean budget;

  @Option(names = "--no-refine", description = "skip the Lloyd iterations after initialisation")
  boolean noRefine;

  @Option(names = "--granularity", paramLabel = "G", defaultValue = "tensor",
      description = {"codebooks per weight (default: ${DEFAULT-VALUE}): 'tensor' (one), 'channel' (one "
          + "per output channel, for Conv2D, DepthwiseConv2D, Conv2DTranspose and Dense), or "
          + "'group:N' (one per N consecutive output channels)"})
  String granularity;

  @Option(names = "--preserve-sparsity",
      description = "weights that are exactly zero stay zero: one centroid is pinned at 0, the others cluster the non-zero weights")
  boolean preserveSparsity;

  @Option(names = "--size-aware",
      description = "entropy-constrained clustering: minimise squared error + W x index entropy, so cluster "
          + "populations become uneven and the model codes (and zips) smaller at the same k; clusters "
          + "that stop paying for themselves are dropped")
  boolean sizeAware;

  @Option(names = "--size-weight", paramLabel = "W", defaultValue = "0.01",
      description = "with --size-aware: weight of one bit of index entropy against the squared error, "
          + "relative to each codebook's variance (default: ${DEFAULT-VALUE}; larger = smaller, less exact)")
  double sizeWeight;

  @Option(names = "--int8-aware",
      description = "snap centroids onto each output channel's symmetric int8 grid (scale = max|w|/127, "
          + "as the TFLite converter quantizes weights), so 'wclust convert --quantize int8|dynamic' "
          + "keeps the clustered values exactly; each channel keeps at most K values")
  boolean int8Aware;

  @Option(names = "--no-fold-bn",
      description = "do not fold BatchNormalization into the preceding conv/dense before clustering "
          + "(the TFLite converter then folds it into the clustered kernel, multiplying each output "
          + "channel by its own factor, so a conv keeps up to k x channels values)")
  boolean noFoldBatchNorm;

  @Option(names = "--plain-fold",
      description = "cluster every folded kernel as it is, one unweighted codebook per tensor with the knee's "
          + "rate weight as given (as before BatchNorm-safe codebooks and the per-channel codebooks of small "
          + "folded kernels; low-factor channels can collapse), depthwise kernels too (less accurate)")
  boolean plainFold;

  @Option(names = "--bn-safe-spread", paramLabel = "S", defaultValue = "10",
      description = "a folded kernel whose BatchNorm factors spread at least S times (largest / smallest |factor|, "
          + "default ${DEFAULT-VALUE}) gets BatchNorm-safe codebooks: its error weighted by 1/factor^2, in one "
          + "codebook, a few codebooks over channels grouped by factor, or one per channel, the fewest whose "
          + "error stays within 1.5x that of clustering without folding (the report's batch_norm_codebooks "
          + "says which and why); below S it is clustered as it is, in one codebook while that one's error is at "
          + "most 1.65x that of clustering it unfolded (what --no-fold-bn gives), else in the fewest codebooks over "
          + "channels grouped by factor whose error is no larger")
  double bnSafeSpread;

  @Option(names = "--depthwise-per-channel",
      description = "give folded depthwise kernels one codebook per channel (each channel's 3x3 filter alone "
          + "makes its output: on BatchNorm-heavy networks such as MobileNetV2 this keeps most of the "
          + "accuracy lost at small k, but the depthwise weights then barely compress, so the file grows; "
          + "the .tflite keeps at most K values per depthwise channel instead of per tensor)")
  boolean depthwisePerChannel;

  @Option(names = "--calibration", paramLabel = "FILE",
      description = "inputs (a few hundred; labels ignored; the readers, --scale and --features of --data) on "
          + "which each weight's importance is measured once (diagonal Fisher against the model's own top-1 "
          + "class) and every squared error of the clustering weighted by it; the report's calibration "
          + "section compares the clustered model's outputs with the original's on them (top-1 agreement, "
          + "relative change, KL) and gives each layer's predicted loss increase; with folded BatchNorm it "
          + "also corrects the folded biases on them (see --correct-bias; --no-correct-bias turns that off)")
  Path calibration;

  @Option(names = "--correct-bias",
      description = "after clustering, correct each folded bias (BatchNorm folded into a conv) so that every "
          + "output channel's mean stays the original model's (bias correction; changes those biases, not the "
          + "clusters): with --calibration layer by layer from the input on, measured on the calibration inputs "
          + "(report: bias_correction); without it from the BatchNorm statistics, data-free (report: "
          + "bias_correction_data_free); on by default with --calibration")
  boolean correctBias;

  @Option(names = "--no-correct-bias",
      description = "with --calibration, leave the folded biases as folding made them (no bias correction)")
  boolean noCorrectBias;

  @Option(names = "--no-squeeze",
      description = "after fine-tuning, leave dead units as they are; by default the weights of each unit that no "
          + "gradient of 1024 training examples reaches (e.g. a ReLU unit that never fires) go onto one centroid, "
          + "kept only where the outputs on those examples stay the same: a smaller file (report: squeeze). Only "
          + "with --data, one model input, a float output of 2+ classes and no size budget")
  boolean noSqueeze;

  @Option(names = "--no-size",
      description = "skip the .tflite size measurement of wclust-report.json (two TFLite conversions "
          + "with Python TensorFlow); the packed and Huffman sizes are still reported")
  boolean noSize;

  @Mixin
  FineTuneMixin fineTune;

  @Mixin
  TfliteOutputOptions tflite;

  @Option(names = "--seed", defaultValue = "0",
      description = "seed of the random initialisations and of the fine-tuning shuffle (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--signature", defaultValue = "serving_default",
      description = "serving signature of MODEL (default: ${DEFAULT-VALUE})")
  String signature;

  /** The configuration of every option, built and checked by the API. */
  private ClusterConfig config() throws java.io.IOException {
    ClusterConfig.Builder b = ClusterConfig.builder().layers(layers).init(init).refine(!noRefine)
        .rateWeight(rateWeight).granularity(granularity).preserveSparsity(preserveSparsity).seed(seed)
        .foldBatchNorm(!noFoldBatchNorm).bnSafeSpread(bnSafeSpread).plainFold(plainFold).int8Aware(int8Aware)
        .budgetPerLayer(budget).signature(signature).measureTfliteSize(!noSize)
        .depthwisePerChannel(depthwisePerChannel).squeeze(!noSqueeze);
    if (correctBias && noCorrectBias) {
      throw new IllegalArgumentException("give --correct-bias or --no-correct-bias, not both");
    }
    if (correctBias || noCorrectBias) {
      b.correctBias(correctBias);
    }
    if (clusters != null) {
      b.clusters(clusters);
    }
    if (config != null) {
      b.perLayer(config);
    }
    if (sizeAware) {
      b.sizeAware(sizeWeight);
    }
    if (targetBits != null) {
      b.targetBits(targetBits);
    }
    if (targetSize != null) {
      b.targetSize(targetSize);
    }
    b.tflite(tflite.output(fineTune.data, fineTune.scale));
    if (calibration != null) {
      b.calibration(fineTune.inputsOnly(calibration));
    }
    if (fineTune.fineTunes()) {
      b.fineTune(fineTune.trainingData(), fineTune.options(seed));
    } else if (fineTune.workers != null) {
      throw new IllegalArgumentException("--workers distributes fine-tuning: give --data too");
    }
    if (fineTune.validation != null) {
      b.validation(fineTune.validationData());
    }
    return b.build();
  }

  @Override
  public Integer call() throws Exception {
    CommandChecks.inputExistsOutputDoesNot(model, output);
    PrintWriter out = spec.commandLine().getOut();
    ClusterConfig options = config();
    // Progress goes to stdout, and only on a terminal: stderr stays for the one-line error.
    boolean interactive = System.console() != null;
    ClusterSummary result;
    try (TrainingProgress training = new TrainingProgress(out, interactive)) {
      result = Wclust.cluster(model, output, options, training);
    }
    if (result.sizes() == null) {
      // -o OUT.keras: the same Keras model with its clustered (and fine-tuned) weights
      for (LayerReport l : result.layers()) {
        out.printf("%-40s %-22s %8d clusters %9d distinct%n", l.name(), l.op(), l.clusters(), l.distinctValues());
      }
      out.printf("wrote %s%n", output);
      out.flush();
      return 0;
    }
    out.printf("%-40s %-22s %-18s %8s %9s %9s %12s%n", "LAYER", "OP", "SHAPE", "CLUSTERS", "CODEBOOKS",
        "DISTINCT", "SSE");
    for (LayerReport l : result.layers()) {
      out.printf("%-40s %-22s %-18s %8d %9d %9d %12.6g%n", l.name(), l.op(), Arrays.toString(l.shape()),
          l.clusters(), l.codebooks(), l.distinctValues(), l.sse());
    }
    if (result.accuracy().isPresent()) {
      AccuracyReport a = result.accuracy().get();
      if (a.metric().equals(AccuracyReport.ACCURACY)) {
        out.printf("accuracy on %d examples of the %s: original %.2f%%, clustered %.2f%%%s%n", a.examples(),
            a.dataset(), 100 * a.original(), 100 * a.clustered(),
            Double.isNaN(a.fineTuned()) ? "" : String.format(", fine-tuned %.2f%%", 100 * a.fineTuned()));
      } else {
        out.printf("mean squared error on %d examples of the %s: original %.6g, clustered %.6g%s%n", a.examples(),
            a.dataset(), a.original(), a.clustered(),
            Double.isNaN(a.fineTuned()) ? "" : String.format(", fine-tuned %.6g", a.fineTuned()));
      }
    }
    if (result.sizeBudget().isPresent()) {
      ClusterSummary.SizeBudget r = result.sizeBudget().get();
      String chosen = !r.clustersPerLayer().isEmpty()
          ? "k per layer " + r.clustersPerLayer() + ", knee scale per layer " + r.kneeScalePerLayer()
          : String.format("multiplier %.4g", r.multiplier());
      out.printf("size budget %s: %s, %s %.6g%s%n", r.target(), chosen,
          r.bitsPerWeight() ? "bits per weight" : "predicted zipped bytes",
          r.predicted(), r.met() ? "" : " (budget not reached)");
      result.sizes().clusteredTflite().ifPresent(t -> out.printf("zipped .tflite reached: %d bytes%n", t.zippedBytes()));
    }
    Map<String, Double> stages = result.stageSeconds();
    out.printf("wrote %s (load %.2fs, cluster %.2fs, %sexport %.2fs)%n", output,
        stages.getOrDefault("load", 0.0) + stages.getOrDefault("fold_batch_norm", 0.0),
        stages.getOrDefault("discover", 0.0) + stages.getOrDefault("rate_control", 0.0)
            + stages.getOrDefault("cluster", 0.0),
        result.fineTuning().map(f -> String.format("fine-tune %.1fs, ", f.seconds())).orElse(""),
        stages.getOrDefault("strip", 0.0) + stages.getOrDefault("write", 0.0) + stages.getOrDefault("evaluate", 0.0));
    TfliteOutput tfliteTarget = options.tflite();
    if (tfliteTarget != null) {
      ClusterSummary.TfliteBytes written = tfliteTarget.measure();
      out.printf("wrote %s: %d bytes, %d bytes zipped%n", tfliteTarget.file(), written.bytes(),
          written.zippedBytes());
      JsonObject report = JsonParser.parseString(
          java.nio.file.Files.readString(tfliteTarget.reportFile())).getAsJsonObject();
      if (report.has("compression")) {
        JsonObject compression = report.getAsJsonObject("compression");
        out.printf("TFLM lookup tables: %d weight tensors compressed, %d -> %d bytes; see %s%n",
            compression.get("compressed_tensors").getAsInt(), compression.get("uncompressed_tflite_bytes").getAsLong(),
            compression.get("compressed_tflite_bytes").getAsLong(), tfliteTarget.reportFile());
      }
    }
    out.flush();
    return 0;
  }
}
