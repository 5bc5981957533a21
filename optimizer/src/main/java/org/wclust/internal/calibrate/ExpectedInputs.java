package org.wclust.internal.calibrate;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.fold.BatchNormFolder;

/**
 * The expected value of every channel of a tensor, without data (Nagel et al., "Data-Free
 * Quantization", 2019, §4.2): a folded BatchNorm's output is taken as normal with mean beta and
 * standard deviation |gamma| per channel (what its moving statistics say of the training data), and
 * the expectation is carried through what MobileNet-style networks put between two layers: ReLU and
 * ReLU6 (the mean of a clipped normal), residual additions (means add; variances add, the branches
 * taken as independent), zero padding and identities (the mean of the real positions; the padded
 * zeros are accounted for by the layer, see {@link DataFreeBiasCorrection}) and a spatial mean (global
 * average pooling). Anything else has no data-free expectation here.
 */
final class ExpectedInputs {
  /** Per-channel mean, and variance where the tensor is still normal (null after a nonlinearity). */
  record Moments(double[] mean, double[] variance) {}

  private final Map<String, NodeDef> nodes = new HashMap<>();
  private final Map<String, BatchNormFolder.Fold> foldByOutput = new HashMap<>();
  private final Map<String, Optional<Moments>> known = new HashMap<>();

  ExpectedInputs(GraphDef graph, List<BatchNormFolder.Fold> folds) {
    graph.getNodeList().forEach(n -> nodes.put(n.getName(), n));
    for (BatchNormFolder.Fold f : folds) {
      if (f.output() != null && f.outputMean() != null) {
        foldByOutput.put(TensorRef.parse(f.output()).toString(), f);
      }
    }
  }

  /** The moments of {@code tensor}'s channels, or empty where the graph gives no data-free expectation. */
  Optional<Moments> of(String tensor) {
    String key = TensorRef.parse(tensor).toString();
    Optional<Moments> got = known.get(key);
    if (got == null) {
      known.put(key, Optional.empty()); // cycle guard
      got = compute(key);
      known.put(key, got);
    }
    return got;
  }

  private Optional<Moments> compute(String tensor) {
    BatchNormFolder.Fold fold = foldByOutput.get(tensor);
    if (fold != null) {
      double[] mean = new double[fold.outputMean().length];
      double[] variance = new double[mean.length];
      for (int c = 0; c < mean.length; c++) {
        mean[c] = fold.outputMean()[c];
        variance[c] = (double) fold.outputStd()[c] * fold.outputStd()[c];
      }
      return Optional.of(new Moments(mean, variance));
    }
    TensorRef ref = TensorRef.parse(tensor);
    NodeDef node = nodes.get(ref.node());
    if (node == null || ref.index() != 0) {
      return Optional.empty();
    }
    switch (node.getOp()) {
      case "Identity", "Pad", "PadV2" -> {
        return of(node.getInput(0));
      }
      case "Relu" -> {
        return of(node.getInput(0)).flatMap(m -> clipped(m, 0, Double.POSITIVE_INFINITY));
      }
      case "Relu6" -> {
        return of(node.getInput(0)).flatMap(m -> clipped(m, 0, 6));
      }
      case "AddV2", "Add" -> {
        Optional<Moments> a = of(node.getInput(0));
        Optional<Moments> b = of(node.getInput(1));
        if (a.isEmpty() || b.isEmpty() || a.get().mean().length != b.get().mean().length) {
          return Optional.empty();
        }
        double[] mean = new double[a.get().mean().length];
        double[] variance = a.get().variance() == null || b.get().variance() == null ? null : new double[mean.length];
        for (int c = 0; c < mean.length; c++) {
          mean[c] = a.get().mean()[c] + b.get().mean()[c];
          if (variance != null) {
            variance[c] = a.get().variance()[c] + b.get().variance()[c];
          }
        }
        return Optional.of(new Moments(mean, variance));
      }
      case "Mean" -> {
        return spatialAxes(node.getInput(1)) ? of(node.getInput(0)).map(m -> new Moments(m.mean(), null))
            : Optional.empty();
      }
      default -> {
        return Optional.empty();
      }
    }
  }

  /** True when {@code axes} is a constant that names only axes 1 and 2 (height and width of NHWC). */
  private boolean spatialAxes(String axes) {
    NodeDef node = nodes.get(TensorRef.parse(axes).node());
    if (node == null || !node.getOp().equals("Const")) {
      return false;
    }
    HostTensor value;
    try {
      value = HostTensor.fromProto(node.getAttrOrThrow("value").getTensor());
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (value.isFloat() || value.size() == 0) {
      return false;
    }
    for (int axis : value.toInts()) {
      if (axis != 1 && axis != 2) {
        return false;
      }
    }
    return true;
  }

  /** The mean of each channel clipped to [low, high], where the channel is normal; empty otherwise. */
  private static Optional<Moments> clipped(Moments m, double low, double high) {
    if (m.variance() == null) {
      return Optional.empty();
    }
    double[] mean = new double[m.mean().length];
    for (int c = 0; c < mean.length; c++) {
      mean[c] = clippedNormalMean(m.mean()[c], Math.sqrt(m.variance()[c]), low, high);
    }
    return Optional.of(new Moments(mean, null));
  }

  /** E[min(max(Y, low), high)] for Y normal with mean {@code mu} and standard deviation {@code sigma}. */
  static double clippedNormalMean(double mu, double sigma, double low, double high) {
    if (!(sigma > 0)) {
      return Math.min(Math.max(mu, low), high);
    }
    // clip(Y) = low + relu(Y - low) - relu(Y - high), and E[relu(Y - a)] = sigma φ(z) + (mu - a) Φ(z), z = (mu - a) / sigma.
    return low + expectedExcess(mu - low, sigma) - (Double.isInfinite(high) ? 0 : expectedExcess(mu - high, sigma));
  }

  private static double expectedExcess(double d, double sigma) {
    double z = d / sigma;
    double density = Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
    return sigma * density + d * normalCdf(z);
  }

  /** Φ(z) through erfc (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7). */
  static double normalCdf(double z) {
    return 0.5 * erfc(-z / Math.sqrt(2));
  }

  private static double erfc(double x) {
    double z = Math.abs(x);
    double t = 1 / (1 + 0.5 * z);
    double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
        + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
        + t * (-0.82215223 + t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }
}
