package org.wclust.internal.calibrate;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusteredLayer;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.fold.BatchNormFolder;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;

/**
 * Bias correction without data (Nagel et al., "Data-Free Quantization", 2019, §4.2): clustering a
 * kernel by ΔW moves its output's mean by ΔW·E[x], and where the layer's input comes from folded
 * BatchNorm (through ReLU/ReLU6, residual additions, padding) E[x] per channel follows from the
 * BatchNorm's beta and gamma ({@link ExpectedInputs}). Each folded bias takes {@code −ΔW·E[x]}, summed
 * over the kernel's taps, each tap counted for the share of output positions where it reads real input
 * rather than padding (the image sizes come from one run on an all-zero input). Changes the folded
 * biases only; layers whose input has no data-free expectation (the first one, which reads the image)
 * stay as they are.
 */
public final class DataFreeBiasCorrection {
  private DataFreeBiasCorrection() {}

  /**
   * @param folded the model before clustering, BatchNorm folded, as {@code clustered} was made from
   * @param folds the folds made ({@link BatchNormFolder.Result#folds()})
   */
  public static BiasCorrection.Result correct(FlatModel folded, ClusteredModel clustered,
      List<BatchNormFolder.Fold> folds) {
    Map<String, NodeDef> nodes = new HashMap<>();
    folded.graph().getNodeList().forEach(n -> nodes.put(n.getName(), n));
    Map<String, ClusteredLayer> layerByKernel = new HashMap<>();
    clustered.layers().forEach(l -> layerByKernel.put(l.weight().name(), l));
    ExpectedInputs expected = new ExpectedInputs(folded.graph(), folds);

    List<Layer> layers = new ArrayList<>();
    for (BatchNormFolder.Fold fold : folds) {
      ClusteredLayer layer = layerByKernel.get(fold.kernel());
      NodeDef biasAdd = fold.output() == null ? null : nodes.get(TensorRef.parse(fold.output()).node());
      NodeDef conv = biasAdd == null ? null : nodes.get(TensorRef.parse(biasAdd.getInput(0)).node());
      if (layer == null || conv == null || !clustered.model().variables().containsKey(fold.biasVariable())) {
        continue;
      }
      String input = conv.getInput(0);
      NodeDef inputNode = nodes.get(TensorRef.parse(input).node());
      Optional<ExpectedInputs.Moments> moments = expected.of(input);
      if (moments.isPresent()) {
        layers.add(new Layer(fold, layer, conv, inputNode, moments.get().mean()));
      }
    }
    Map<String, long[]> shapes = convInputShapes(folded, layers);

    Map<BatchNormFolder.Fold, float[]> biases = new LinkedHashMap<>();
    for (Layer l : layers) {
      float[] original = folded.variables().get(l.layer().weight().handleNode()).value().toFloats();
      float[] now = l.layer().clustering().reconstruct();
      double[] shift = outputShift(l, original, now, shapes.get(l.conv().getName()), nodes);
      if (shift == null) {
        continue;
      }
      float[] b = clustered.model().variables().get(l.fold().biasVariable()).value().toFloats();
      for (int c = 0; c < b.length; c++) {
        b[c] = (float) (b[c] - shift[c]);
      }
      biases.put(l.fold(), b);
    }
    return BiasCorrection.withBiases(clustered, biases);
  }

  private record Layer(BatchNormFolder.Fold fold, ClusteredLayer layer, NodeDef conv, NodeDef inputNode,
      double[] inputMean) {}

  /**
   * ΔW·E[x] per output channel; null when the layer's layout is not one handled here (an NCHW or
   * transposed product, a channel count that does not match).
   */
  static double[] outputShift(Layer l, float[] original, float[] clustered, long[] inputShape,
      Map<String, NodeDef> nodes) {
    long[] shape = l.layer().weight().shape();
    double[] mean = l.inputMean();
    String op = l.conv().getOp();
    int outputs = l.layer().weight().channels().count();
    double[] shift = new double[outputs];
    if (op.equals("MatMul")) {
      if (shape.length != 2 || shape[0] != mean.length || attrFlag(l.conv(), "transpose_a")
          || attrFlag(l.conv(), "transpose_b")) {
        return null;
      }
      for (int i = 0; i < original.length; i++) {
        shift[(int) (i % shape[1])] += (clustered[i] - original[i]) * mean[(int) (i / shape[1])];
      }
      return shift;
    }
    boolean depthwise = op.equals("DepthwiseConv2dNative");
    if (!(depthwise || op.equals("Conv2D")) || shape.length != 4 || shape[2] != mean.length || inputShape == null
        || inputShape.length != 4 || (l.conv().containsAttr("data_format")
        && !l.conv().getAttrOrThrow("data_format").getS().toStringUtf8().equals("NHWC"))) {
      return null;
    }
    double[][] share = tapShares(l, inputShape, nodes);
    if (share == null) {
      return null;
    }
    long perTap = shape[2] * shape[3];
    for (int i = 0; i < original.length; i++) {
      int tap = (int) (i / perTap);
      double tapShare = share[0][tap / (int) shape[1]] * share[1][tap % (int) shape[1]];
      int in = (int) ((i / shape[3]) % shape[2]);
      int out = depthwise ? (int) (i % perTap) : (int) (i % shape[3]);
      shift[out] += (clustered[i] - original[i]) * mean[in] * tapShare;
    }
    return shift;
  }

  /**
   * Per spatial axis (height, width) and kernel offset, the share of output positions at which that
   * offset reads a real input position rather than padding (explicit Pad before the conv or SAME).
   */
  private static double[][] tapShares(Layer l, long[] inputShape, Map<String, NodeDef> nodes) {
    long[] shape = l.layer().weight().shape();
    int[] strides = ints(l.conv(), "strides", 1);
    int[] dilations = ints(l.conv(), "dilations", 1);
    String padding = l.conv().getAttrOrThrow("padding").getS().toStringUtf8();
    if (!padding.equals("SAME") && !padding.equals("VALID")) {
      return null;
    }
    long[][] explicit = {{0, 0}, {0, 0}};
    if (l.inputNode() != null && l.inputNode().getOp().equals("Pad")) {
      NodeDef pads = nodes.get(TensorRef.parse(l.inputNode().getInput(1)).node());
      if (pads == null || !pads.getOp().equals("Const")) {
        return null;
      }
      int[] p = HostTensor.fromProto(pads.getAttrOrThrow("value").getTensor()).toInts();
      if (p.length != 8) {
        return null;
      }
      explicit = new long[][] {{p[2], p[3]}, {p[4], p[5]}};
    }
    double[][] share = new double[2][];
    for (int axis = 0; axis < 2; axis++) {
      share[axis] = axisShares(inputShape[axis + 1], (int) shape[axis], strides[axis + 1], dilations[axis + 1],
          padding.equals("SAME"), explicit[axis][0], explicit[axis][1]);
    }
    return share;
  }

  /**
   * Along one axis of {@code size} positions (the conv's input, of which the first {@code padBefore} and
   * the last {@code padAfter} are explicit zero padding), for each kernel offset the share of output
   * positions at which it reads a real position (TensorFlow's SAME / VALID output sizes and SAME padding).
   */
  static double[] axisShares(long size, int kernel, int stride, int dilation, boolean same, long padBefore,
      long padAfter) {
    long span = (long) (kernel - 1) * dilation + 1;
    long outputs = same ? (size + stride - 1) / stride : (size - span) / stride + 1;
    long before = same ? Math.max((outputs - 1) * stride + span - size, 0) / 2 : 0;
    double[] share = new double[kernel];
    for (int k = 0; k < kernel; k++) {
      int inside = 0;
      for (long o = 0; o < outputs; o++) {
        long at = o * stride - before + (long) k * dilation;
        inside += at >= padBefore && at < size - padAfter ? 1 : 0;
      }
      share[k] = outputs > 0 ? (double) inside / outputs : 0;
    }
    return share;
  }

  /** The shapes of the convs' inputs, from one run of the folded model on an all-zero input. */
  private static Map<String, long[]> convInputShapes(FlatModel folded, List<Layer> layers) {
    Map<String, String> inputOf = new LinkedHashMap<>();
    for (Layer l : layers) {
      if (!l.conv().getOp().equals("MatMul")) {
        inputOf.put(l.conv().getName(), TensorRef.parse(l.conv().getInput(0)).withIndex());
      }
    }
    Map<String, long[]> shapes = new HashMap<>();
    if (inputOf.isEmpty() || folded.signature().inputs().size() != 1) {
      return shapes;
    }
    TensorSpec input = folded.signature().inputs().get(0);
    if (input.dtype() != DataType.DT_FLOAT || input.shape() == null || input.shape().getUnknownRank()) {
      return shapes;
    }
    long[] dims = input.shape().getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize)
        .map(d -> d < 0 ? 1 : d).toArray();
    long size = 1;
    for (long d : dims) {
      size *= d;
    }
    HostTensor zeros = HostTensor.ofFloats(dims, new float[Math.toIntExact(size)]);
    try (ModelSession session = new ModelSession(folded)) {
      Map<String, HostTensor> got = session.run(Map.of(input.key(), zeros), List.copyOf(inputOf.values()));
      inputOf.forEach((conv, tensor) -> shapes.put(conv, got.get(tensor).shape()));
    }
    return shapes;
  }

  private static boolean attrFlag(NodeDef node, String name) {
    return node.containsAttr(name) && node.getAttrOrThrow(name).getB();
  }

  private static int[] ints(NodeDef node, String name, int fallback) {
    if (!node.containsAttr(name) || node.getAttrOrThrow(name).getList().getICount() != 4) {
      return new int[] {fallback, fallback, fallback, fallback};
    }
    return node.getAttrOrThrow(name).getList().getIList().stream().mapToInt(Long::intValue).toArray();
  }
}
