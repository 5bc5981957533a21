package org.wclust.models.bench;

import com.google.common.collect.ImmutableList;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusterPlan;
import org.wclust.internal.cluster.ClusterRewriter;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.cluster.Granularity;
import org.wclust.internal.cluster.InitMethod;
import org.wclust.internal.data.DataSpec;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.DatasetLoader;
import org.wclust.internal.fold.BatchNormFolder;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.load.ModelLoader;
import org.wclust.models.DefaultModel;
import org.wclust.internal.train.FineTuneOptions;
import org.wclust.internal.train.FineTuner;

/**
 * Benchmark driver (not a test): the time of a fine-tuning step of the clustered graph divided by the
 * time of a plain training step of the same model and batch (target: at most 1.25).
 *
 * <p>Both sides run the same machinery, {@link FineTuner#fineTune}: the plain step trains the
 * unclustered model (a {@link ClusteredModel} with no clustered layer: every variable trained with the
 * same loss and optimizer), the clustered step trains the model with every clusterable Conv2D /
 * DepthwiseConv2D / Dense kernel clustered by {@link ClusterRewriter} (centroid gather, straight-through
 * gradients, centroid updates), with the indices re-assigned after every step ({@code --reassign-every
 * 1}, the default) or never.
 *
 * <p>The variants of one batch size train at the same time in lockstep, one thread each: a variant's
 * {@link FineTuner.Listener#onStep} hands the turn to the next variant and waits for its own turn
 * again, so exactly one step runs at any time and the variants' k-th steps run within milliseconds of
 * each other; load from other processes on a shared machine then hits every variant alike. A step is
 * timed from the moment its variant gets the turn to its next {@code onStep} call (loop bookkeeping,
 * batch assembly, the session run and, when due, the re-assignment run). The first {@code --warmup}
 * steps are not timed (graph construction, TensorFlow's first-run optimisations), nor is one extra
 * last step (which may overlap another variant's teardown). This repeats {@code --runs} times with the
 * order of the variants rotated; a cell is the median (and mean) over all timed steps of its runs, and
 * the ratio is of the medians.
 *
 * <pre>
 * scripts/bench-finetune.sh [--model DIR [--data FILE.npz --scale S]] [--batch 32,64,128] [--k 8]
 *     [--granularity tensor,channel] [--steps 200] [--warmup 20] [--runs 3]
 * </pre>
 *
 * <p>Data: the given {@code .npz} (arrays {@code x}, {@code y}), else the 1,000 bundled MNIST digits for
 * the default model, else random inputs with random labels; cycled so that every batch is full.
 */
public final class FineTuneBenchmark {
  static final double TARGET = 1.25;

  private FineTuneBenchmark() {}

  /** What one run trains: the plain model, or a clustering with a re-assignment interval. */
  private record Variant(String label, ClusteredModel target, int reassignEvery) {}

  public static void main(String[] args) throws Exception {
    Path modelDir = null;
    Path dataFile = null;
    double scale = 1;
    int[] batches = {64};
    int k = 8;
    List<String> granularities = List.of("tensor");
    int steps = 200;
    int warmup = 20;
    int runs = 3;
    for (int i = 0; i < args.length; i += 2) {
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option " + args[i] + " needs a value");
      }
      String value = args[i + 1];
      switch (args[i]) {
        case "--model" -> modelDir = Path.of(value);
        case "--data" -> dataFile = Path.of(value);
        case "--scale" -> scale = Double.parseDouble(value);
        case "--batch" -> batches = Arrays.stream(value.split(",")).mapToInt(Integer::parseInt).toArray();
        case "--k" -> k = Integer.parseInt(value);
        case "--granularity" -> granularities = List.of(value.split(","));
        case "--steps" -> steps = Integer.parseInt(value);
        case "--warmup" -> warmup = Integer.parseInt(value);
        case "--runs" -> runs = Integer.parseInt(value);
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (known: --model --data --scale --batch --k --granularity --steps --warmup --runs)");
      }
    }
    if (steps < 1 || warmup < 1 || runs < 1) {
      // The first step is never timed: it starts when the graph is built, not at a turn.
      throw new IllegalArgumentException("--steps, --warmup and --runs must be >= 1");
    }

    String modelName;
    FlatModel model;
    Dataset data;
    Path scratch = null;
    try {
      if (modelDir == null) {
        scratch = Files.createTempDirectory("wclust-bench");
        modelDir = DefaultModel.extractSavedModel(scratch);
        modelName = "default MNIST CNN";
      } else {
        modelName = modelDir.getFileName().toString().equals("model") && modelDir.getParent() != null
            ? modelDir.getParent().getFileName() + "/model" : modelDir.getFileName().toString();
      }
      model = BatchNormFolder.fold(ModelLoader.load(modelDir, ModelLoader.DEFAULT_SIGNATURE)).model();
      if (dataFile != null) {
        data = DatasetLoader.load(dataFile, DataSpec.defaults().withScale(scale));
      } else if (scratch != null) {
        DefaultModel.Digits digits = DefaultModel.testDigits();
        data = Dataset.of(new long[] {28, 28, 1}, digits.images(), digits.labels());
      } else {
        data = null;
      }
    } finally {
      if (scratch != null) {
        deleteRecursively(scratch);
      }
    }
    long[] example = exampleShape(model);
    String dataName = dataFile != null ? dataFile.getFileName() + " (" + data.size() + " examples)"
        : data != null ? "1,000 bundled MNIST digits" : "random inputs";
    if (data == null) {
      data = randomData(example, classes(model), 1024);
    } else if (!Arrays.equals(example, data.exampleShape())) {
      data = data.withExampleShape(example);
    }

    Map<String, Integer> plan = ClusterPlan.of(OptionalInt.of(k), null, null)
        .resolve(WeightDiscovery.discover(model));
    List<Variant> variants = new ArrayList<>();
    // The plain step: the same training machinery with no clustered layer (every variable trained).
    variants.add(new Variant("plain", new ClusteredModel(model, ImmutableList.of()), 0));
    for (String g : granularities) {
      ClusteredModel clustered = ClusterRewriter.cluster(model, plan,
          new ClusterSettings(k, InitMethod.DEFAULT, true, Granularity.parse(g), false, 0));
      variants.add(new Variant(g + "/reassign1", clustered, 1));
      variants.add(new Variant(g + "/reassign0", clustered, 0));
    }
    long clusteredParams = WeightDiscovery.discover(model).stream()
        .filter(w -> plan.containsKey(w.name())).mapToLong(w -> w.params()).sum();

    System.out.printf("Fine-tuning step time: %s (%d clustered kernels, %,d weights, k = %d); data: %s;%n"
        + "Adam, cross-entropy; %d cores; %d runs x %d timed steps per cell (after %d warm-up steps), "
        + "variants in lockstep%n%n", modelName, plan.size(), clusteredParams, k, dataName,
        Runtime.getRuntime().availableProcessors(), runs, steps, warmup);

    // times.get(batch).get(variant label): every timed step of every run, in ms
    Map<Integer, Map<String, List<Double>>> times = new LinkedHashMap<>();
    for (int b : batches) {
      Map<String, List<Double>> perVariant = new LinkedHashMap<>();
      variants.forEach(v -> perVariant.put(v.label(), new ArrayList<>()));
      times.put(b, perVariant);
    }
    for (int run = 0; run < runs; run++) {
      for (int b : batches) {
        Dataset cycled = cycle(data, (warmup + steps + 1) * b);
        List<Variant> order = new ArrayList<>();
        for (int j = 0; j < variants.size(); j++) {
          order.add(variants.get((j + run) % variants.size())); // rotate which variant goes first
        }
        List<List<Double>> ms = lockstep(model, order, cycled, b, warmup, steps);
        for (int j = 0; j < order.size(); j++) {
          times.get(b).get(order.get(j).label()).addAll(ms.get(j));
          System.err.printf("run %d, batch %d, %-20s median %.2f ms/step%n", run + 1, b, order.get(j).label(),
              median(ms.get(j)));
        }
      }
    }

    System.out.println("| model | batch | codebooks | plain ms/step | clustered ms/step (reassign every step) "
        + "| ratio | clustered ms/step (no reassign) | ratio | target |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    for (int b : batches) {
      Map<String, List<Double>> t = times.get(b);
      List<Double> p = t.get("plain");
      for (String g : granularities) {
        List<Double> r1 = t.get(g + "/reassign1");
        List<Double> r0 = t.get(g + "/reassign0");
        System.out.printf("| %s | %d | per %s | %s | %s | **%.2f** | %s | %.2f | <= %.2f |%n", modelName, b, g,
            cell(p), cell(r1), median(r1) / median(p), cell(r0), median(r0) / median(p), TARGET);
      }
    }
    System.out.println();
    System.out.println("ms/step: median (mean) over all timed steps. ratio: clustered median / plain median.");
  }

  private static FineTuneOptions options(int batch, int reassignEvery) {
    FineTuneOptions d = FineTuneOptions.defaults();
    return new FineTuneOptions(1, batch, d.optimizer(), d.learningRate(), d.schedule(), d.loss(), false,
        d.temperature(), d.aggregation(), reassignEvery, null, 0L);
  }

  /**
   * Fine-tunes every variant for one epoch over {@code data} ({@code warmup + steps + 1} steps), one
   * thread each, in lockstep (see the class comment); the timed steps of each variant, in ms.
   */
  private static List<List<Double>> lockstep(FlatModel model, List<Variant> variants, Dataset data, int batch,
      int warmup, int steps) throws InterruptedException {
    int n = variants.size();
    int last = warmup + steps + 1;
    Turns turns = new Turns(n);
    List<List<Double>> times = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    Throwable[] failure = new Throwable[1];
    for (int p = 0; p < n; p++) {
      int position = p;
      Variant v = variants.get(p);
      List<Double> ms = new ArrayList<>();
      times.add(ms);
      long[] resumed = {0};
      FineTuner.Listener listener = (epoch, step, stepsPerEpoch, loss, accuracy) -> {
        long now = System.nanoTime();
        if (step > warmup && step < last) {
          ms.add((now - resumed[0]) / 1e6);
        }
        if (step == 1) {
          turns.arrive(); // every graph is built and has run once
        } else {
          turns.pass(position);
        }
        if (step < last) {
          turns.await(position);
          resumed[0] = System.nanoTime();
        }
      };
      Thread t = new Thread(() -> {
        try {
          FineTuner.fineTune(model, v.target(), data, options(batch, v.reassignEvery()), listener);
        } catch (Throwable e) {
          synchronized (failure) {
            failure[0] = failure[0] == null ? e : failure[0];
          }
          turns.abort();
        }
      }, "bench-" + v.label());
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure[0] != null) {
      throw new IllegalStateException("fine-tuning failed: " + failure[0], failure[0]);
    }
    return times;
  }

  /** Whose step may run: position 0 first once all have arrived, then each in turn. */
  private static final class Turns {
    private final int n;
    private int arrived;
    private int turn;
    private boolean aborted;

    Turns(int n) {
      this.n = n;
    }

    synchronized void arrive() {
      arrived++;
      notifyAll();
    }

    synchronized void pass(int position) {
      turn = (position + 1) % n;
      notifyAll();
    }

    synchronized void await(int position) {
      while (!aborted && (arrived < n || turn != position)) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      if (aborted) {
        throw new IllegalStateException("another variant failed");
      }
    }

    synchronized void abort() {
      aborted = true;
      notifyAll();
    }
  }

  /** {@code n} examples: the data's examples in order, repeated as often as needed. */
  private static Dataset cycle(Dataset data, int n) {
    int size = data.exampleSize();
    float[] inputs = new float[Math.multiplyExact(n, size)];
    int[] labels = new int[n];
    int[] source = data.labels().orElseThrow(() -> new IllegalArgumentException("the data has no labels (y)"));
    for (int i = 0; i < n; i++) {
      int from = i % data.size();
      System.arraycopy(data.example(from), 0, inputs, i * size, size);
      labels[i] = source[from];
    }
    return Dataset.of(data.exampleShape(), inputs, labels);
  }

  private static Dataset randomData(long[] example, int classes, int n) {
    Random random = new Random(0);
    int size = Math.toIntExact(Arrays.stream(example).reduce(1, Math::multiplyExact));
    float[] inputs = new float[n * size];
    for (int i = 0; i < inputs.length; i++) {
      inputs[i] = random.nextFloat();
    }
    int[] labels = new int[n];
    for (int i = 0; i < n; i++) {
      labels[i] = random.nextInt(classes);
    }
    return Dataset.of(example, inputs, labels);
  }

  private static long[] exampleShape(FlatModel model) {
    long[] dims = model.signature().inputs().get(0).dims();
    long[] example = Arrays.copyOfRange(dims, Math.min(1, dims.length), dims.length);
    for (long d : example) {
      if (d < 0) {
        throw new IllegalArgumentException("the model input has unknown dimensions " + Arrays.toString(dims)
            + "; give --data");
      }
    }
    return example;
  }

  private static int classes(FlatModel model) {
    TensorSpec out = model.signature().outputs().get(0);
    long[] dims = out.dims();
    if (dims.length != 2 || dims[1] < 2) {
      throw new IllegalArgumentException("output '" + out.key() + "' is not [batch, classes]; give --data");
    }
    return Math.toIntExact(dims[1]);
  }

  private static String cell(List<Double> ms) {
    return String.format("%.2f (%.2f)", median(ms), ms.stream().mapToDouble(Double::doubleValue).average().orElse(0));
  }

  private static double median(List<Double> values) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
