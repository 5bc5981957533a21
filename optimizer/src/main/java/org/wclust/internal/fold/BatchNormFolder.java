package org.wclust.internal.fold;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.wclust.internal.bridge.GraphDefs;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.graph.ModelVariable;
import org.wclust.internal.graph.OutputChannels;
import org.wclust.internal.graph.WeightDiscovery;
import org.wclust.internal.graph.WeightTensor;

/**
 * Folds inference-mode BatchNormalization into the conv / depthwise / dense / transposed conv before
 * it: {@code bn(conv(x, W) + b) = conv(x, W·s) + (b·s + t)} with the per-channel scale
 * {@code s = gamma / sqrt(var + eps)} and shift {@code t = beta - mean·s}. Clustering the folded kernel
 * is what keeps k values after TFLite conversion: the converter folds BN itself, and a clustered
 * kernel multiplied by a different scale per channel would end with up to k × channels values.
 *
 * <p>Recognised: the decomposed arithmetic Keras 3 exports ({@code Mul(conv, s)} then
 * {@code AddV2(·, t)} where s and t are computed from variables and constants only) and
 * FusedBatchNorm(V3) with {@code is_training=false} (tf.keras 2.x graphs). A BN is folded only when
 * nothing but the BN arithmetic stands between the conv and the BN output (an activation in between
 * blocks it) and the conv's kernel and intermediate outputs have no other consumer.
 */
public final class BatchNormFolder {
  private static final ImmutableSet<String> CONV_OPS =
      ImmutableSet.of("Conv2D", "DepthwiseConv2dNative", "MatMul", "Conv2DBackpropInput");
  private static final ImmutableSet<String> FUSED_BN = ImmutableSet.of("FusedBatchNorm", "FusedBatchNormV3");
  private static final ImmutableSet<String> ADD_OPS = ImmutableSet.of("AddV2", "Add");

  private BatchNormFolder() {}

  /**
   * A folded BatchNorm: the kernel it was folded into, its output, and the per-output-channel factor
   * {@code s} the kernel was multiplied by (its spread is what {@link FoldedCodebooks} looks at), the
   * VarHandleOp of the folded bias and the tensor that replaces the BatchNorm's output (conv + bias).
   * {@code outputMean} (beta) and {@code outputStd} (|gamma|) are the mean and standard deviation the
   * BatchNorm gives its output on data like its moving statistics' (null where the graph does not show
   * them): what data-free bias correction expects the next layer's input to be.
   */
  public record Fold(String kernel, String batchNormOutput, float[] scale, String biasVariable, String output,
      float[] outputMean, float[] outputStd) {
    public Fold(String kernel, String batchNormOutput) {
      this(kernel, batchNormOutput, null, null, null, null, null);
    }
  }

  /** The folded model and what was folded. */
  public record Result(FlatModel model, ImmutableList<Fold> folds) {}

  /** A match: the conv, its optional bias, and the tensors giving scale and shift. */
  private record Match(NodeDef conv, NodeDef biasAdd, WeightTensor kernel, String biasHandle,
      String bnOutput, String scaleTensor, String shiftTensor, NodeDef fused, Statistics statistics) {}

  /**
   * Where the decomposed arithmetic ({@code tf.nn.batch_normalization}: {@code s = rsqrt(var + eps) · gamma},
   * {@code t = beta − mean · s}) shows the BatchNorm's moving mean and gamma: {@code gamma} null means
   * gamma = 1 (scale=False).
   */
  private record Statistics(String mean, String gamma) {}

  public static Result fold(FlatModel model) {
    Index index = new Index(model.graph());
    Map<String, WeightTensor> kernelsByRead = new HashMap<>();
    Map<String, List<NodeDef>> readsByHandle = WeightDiscovery.reads(model);
    for (WeightTensor w : WeightDiscovery.discoverForClustering(model)) {
      if (w.clusterable()) {
        for (NodeDef read : readsByHandle.get(w.handleNode())) {
          kernelsByRead.put(read.getName(), w);
        }
      }
    }
    List<Match> matches = new ArrayList<>();
    for (NodeDef conv : model.graph().getNodeList()) {
      if (CONV_OPS.contains(conv.getOp())) {
        match(model, index, conv, kernelsByRead, readsByHandle).ifPresent(matches::add);
      }
    }
    if (matches.isEmpty()) {
      return new Result(model, ImmutableList.of());
    }

    // Scale and shift are constant subgraphs (variables and constants): evaluate them once.
    List<String> tensors = new ArrayList<>();
    for (Match m : matches) {
      if (m.fused() != null) {
        for (int i = 1; i <= 4; i++) {
          tensors.add(TensorRef.parse(m.fused().getInput(i)).withIndex());
        }
      } else {
        tensors.add(TensorRef.parse(m.scaleTensor()).withIndex());
        tensors.add(TensorRef.parse(m.shiftTensor()).withIndex());
        if (m.statistics() != null) {
          tensors.add(TensorRef.parse(m.statistics().mean()).withIndex());
          if (m.statistics().gamma() != null) {
            tensors.add(TensorRef.parse(m.statistics().gamma()).withIndex());
          }
        }
      }
    }
    Map<String, HostTensor> values = ModelSession.evaluate(model, tensors);

    Map<String, ModelVariable> variables = new LinkedHashMap<>(model.variables());
    GraphDef.Builder graph = model.graph().toBuilder();
    Map<String, String> rewire = new HashMap<>();
    ImmutableList.Builder<Fold> folds = ImmutableList.builder();
    for (Match m : matches) {
      int channels = m.kernel().channels().count();
      float[] scale;
      float[] shift;
      float[] beta = null;
      float[] gamma = null;
      if (m.fused() != null) {
        float[][] p = new float[4][];
        for (int i = 1; i <= 4; i++) {
          p[i - 1] = values.get(TensorRef.parse(m.fused().getInput(i)).withIndex()).toFloats();
        }
        float eps = m.fused().getAttrOrThrow("epsilon").getF();
        scale = new float[channels];
        shift = new float[channels];
        for (int c = 0; c < channels; c++) {
          scale[c] = (float) (p[0][c] / Math.sqrt(p[3][c] + (double) eps));
          shift[c] = p[1][c] - p[2][c] * scale[c];
        }
        gamma = p[0];
        beta = p[1];
      } else {
        scale = perChannel(values.get(TensorRef.parse(m.scaleTensor()).withIndex()), channels);
        shift = perChannel(values.get(TensorRef.parse(m.shiftTensor()).withIndex()), channels);
        if (m.statistics() != null && scale != null && shift != null) {
          float[] mean = perChannel(values.get(TensorRef.parse(m.statistics().mean()).withIndex()), channels);
          gamma = m.statistics().gamma() == null ? ones(channels)
              : perChannel(values.get(TensorRef.parse(m.statistics().gamma()).withIndex()), channels);
          if (mean != null) {
            beta = new float[channels];
            for (int c = 0; c < channels; c++) {
              beta[c] = mean[c] * scale[c] + shift[c]; // = beta, whatever the variables are called
            }
          }
        }
      }
      float[] std = null;
      if (beta != null && gamma != null) {
        std = new float[channels];
        for (int c = 0; c < channels; c++) {
          std[c] = Math.abs(gamma[c]);
        }
      } else {
        beta = null;
      }
      if (scale == null || shift == null) {
        continue; // not per-channel after all (e.g. a broadcast over another axis): leave it
      }
      // Kernel: every element scaled by its output channel's factor.
      ModelVariable kernel = variables.get(m.kernel().handleNode());
      float[] w = kernel.value().toFloats();
      OutputChannels layout = m.kernel().channels();
      for (int i = 0; i < w.length; i++) {
        w[i] *= scale[layout.channelOf(i)];
      }
      variables.put(kernel.handleNode(), kernel.withValue(HostTensor.ofFloats(kernel.value().shape(), w)));

      // Bias: the old bias scaled plus the shift, in a bias variable of its own.
      float[] bias = new float[channels];
      if (m.biasHandle() != null) {
        float[] old = variables.get(m.biasHandle()).value().toFloats();
        for (int c = 0; c < channels; c++) {
          bias[c] = old[c] * scale[c];
        }
      }
      for (int c = 0; c < channels; c++) {
        bias[c] += shift[c];
      }
      String layer = m.kernel().name().contains("/")
          ? m.kernel().name().substring(0, m.kernel().name().lastIndexOf('/'))
          : m.kernel().name();
      String base = "wclust_folded/" + m.conv().getName();
      String handle = base + "/bias";
      String read = base + "/read_bias";
      String biasAdd = base + "/bias_add";
      AttrValue floatType = AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();
      graph.addNode(NodeDef.newBuilder().setName(handle).setOp("VarHandleOp")
          .putAttr("dtype", floatType)
          .putAttr("shape", AttrValue.newBuilder().setShape(org.tensorflow.proto.TensorShapeProto.newBuilder()
              .addDim(org.tensorflow.proto.TensorShapeProto.Dim.newBuilder().setSize(channels))).build())
          .putAttr("shared_name", AttrValue.newBuilder()
              .setS(com.google.protobuf.ByteString.copyFromUtf8(handle)).build()));
      graph.addNode(NodeDef.newBuilder().setName(read).setOp("ReadVariableOp").addInput(handle)
          .putAttr("dtype", floatType));
      graph.addNode(NodeDef.newBuilder().setName(biasAdd).setOp("BiasAdd")
          .addInput(m.conv().getName()).addInput(read)
          .putAttr("T", floatType));
      variables.put(handle, new ModelVariable(handle, layer + "/folded_bias",
          HostTensor.ofFloats(new long[] {channels}, bias)));
      rewire.put(TensorRef.parse(m.bnOutput()).toString(), biasAdd);
      folds.add(new Fold(m.kernel().name(), m.bnOutput(), scale, handle, biasAdd + ":0", beta, std));
    }
    GraphDef rewired = GraphDefs.rewireInputs(graph.build(), rewire);
    // Signature outputs may be the BN output itself.
    List<TensorSpec> outputs = new ArrayList<>();
    for (TensorSpec spec : model.signature().outputs()) {
      String to = rewire.get(TensorRef.parse(spec.tensorName()).toString());
      outputs.add(to == null ? spec : spec.withTensorName(TensorRef.parse(to).withIndex()));
    }
    var signature = new org.wclust.internal.bridge.ServingSignature(model.signature().name(),
        model.signature().inputs(), ImmutableList.copyOf(outputs));
    GraphDef pruned = GraphDefs.prune(rewired, outputs.stream().map(TensorSpec::tensorName).toList());
    Set<String> kept = new HashSet<>();
    pruned.getNodeList().forEach(n -> kept.add(n.getName()));
    variables.keySet().removeIf(h -> !kept.contains(h));
    return new Result(FlatModel.of(pruned, signature, variables), folds.build());
  }

  /** A channel vector from a scale/shift value of shape [C] or [1, ..., 1, C]; null otherwise. */
  private static float[] perChannel(HostTensor value, int channels) {
    long[] shape = value.shape();
    long size = value.size();
    if (size != channels) {
      return null;
    }
    for (int i = 0; i < shape.length - 1; i++) {
      if (shape[i] != 1) {
        return null;
      }
    }
    return value.toFloats();
  }

  private static Optional<Match> match(FlatModel model, Index index, NodeDef conv,
      Map<String, WeightTensor> kernelsByRead, Map<String, List<NodeDef>> readsByHandle) {
    NodeDef kernelRead = index.node(TensorRef.parse(conv.getInput(1)).node());
    WeightTensor kernel = kernelRead == null ? null : kernelsByRead.get(kernelRead.getName());
    if (kernel == null || index.consumerCount(kernelRead.getName()) != 1
        || readsByHandle.get(kernel.handleNode()).size() != 1) {
      return Optional.empty();
    }
    if (conv.getOp().equals("MatMul") && conv.getAttrMap().containsKey("transpose_b")
        && conv.getAttrOrThrow("transpose_b").getB()) {
      return Optional.empty(); // channels would not be on the last axis of the output
    }
    NodeDef head = conv;
    NodeDef biasAdd = null;
    String biasHandle = null;
    NodeDef next = index.singleConsumer(conv.getName());
    if (next != null && next.getOp().equals("BiasAdd")
        && TensorRef.parse(next.getInput(0)).node().equals(conv.getName())) {
      biasHandle = variableBehind(index, next.getInput(1));
      if (biasHandle == null) {
        return Optional.empty();
      }
      biasAdd = next;
      head = next;
      next = index.singleConsumer(next.getName());
    }
    if (next == null) {
      return Optional.empty();
    }
    if (FUSED_BN.contains(next.getOp())) {
      boolean training = next.getAttrMap().containsKey("is_training") && next.getAttrOrThrow("is_training").getB();
      if (training || !TensorRef.parse(next.getInput(0)).node().equals(head.getName())) {
        return Optional.empty();
      }
      for (int i = 1; i <= 4; i++) {
        if (!index.isConstant(TensorRef.parse(next.getInput(i)).node())) {
          return Optional.empty();
        }
      }
      return Optional.of(new Match(conv, biasAdd, kernel, biasHandle, next.getName(), null, null, next, null));
    }
    if (!next.getOp().equals("Mul")) {
      return Optional.empty();
    }
    NodeDef mul = next;
    String scale = otherInput(mul, head.getName());
    if (scale == null || !index.isConstant(TensorRef.parse(scale).node())) {
      return Optional.empty();
    }
    NodeDef add = index.singleConsumer(mul.getName());
    if (add == null || !ADD_OPS.contains(add.getOp())) {
      return Optional.empty();
    }
    String shift = otherInput(add, mul.getName());
    if (shift == null || !index.isConstant(TensorRef.parse(shift).node())) {
      return Optional.empty();
    }
    return Optional.of(new Match(conv, biasAdd, kernel, biasHandle, add.getName(), scale, shift, null,
        statistics(index, scale, shift)));
  }

  /**
   * The moving mean and gamma behind {@code tf.nn.batch_normalization}'s arithmetic, when the graph has
   * its form: {@code shift = Sub(beta, Mul(mean, scale))} and {@code scale = Mul(Rsqrt(..), gamma)} or
   * {@code Rsqrt(..)}; null otherwise.
   */
  private static Statistics statistics(Index index, String scale, String shift) {
    NodeDef sub = index.node(TensorRef.parse(shift).node());
    if (sub == null || !sub.getOp().equals("Sub")) {
      return null;
    }
    NodeDef times = index.node(TensorRef.parse(sub.getInput(1)).node());
    String scaleRef = TensorRef.parse(scale).toString();
    String mean = times == null || !times.getOp().equals("Mul") ? null : otherInput(times, scaleRef);
    NodeDef scaleNode = index.node(TensorRef.parse(scale).node());
    if (mean == null || scaleNode == null) {
      return null;
    }
    if (scaleNode.getOp().equals("Rsqrt")) {
      return new Statistics(mean, null);
    }
    if (!scaleNode.getOp().equals("Mul")) {
      return null;
    }
    for (int i = 0; i < 2; i++) {
      NodeDef in = index.node(TensorRef.parse(scaleNode.getInput(i)).node());
      if (in != null && in.getOp().equals("Rsqrt")) {
        return new Statistics(mean, scaleNode.getInput(1 - i));
      }
    }
    return null;
  }

  private static float[] ones(int n) {
    float[] one = new float[n];
    java.util.Arrays.fill(one, 1f);
    return one;
  }

  /** The input of a binary node that is not {@code node}'s output 0; null if neither or both are. */
  private static String otherInput(NodeDef binary, String node) {
    boolean first = TensorRef.parse(binary.getInput(0)).toString().equals(node);
    boolean second = TensorRef.parse(binary.getInput(1)).toString().equals(node);
    if (first == second) {
      return null;
    }
    return first ? binary.getInput(1) : binary.getInput(0);
  }

  /** The VarHandleOp a tensor reads (through Identity/ReadVariableOp/Reshape/Squeeze), or null. */
  private static String variableBehind(Index index, String tensor) {
    NodeDef node = index.node(TensorRef.parse(tensor).node());
    while (node != null && Set.of("Identity", "ReadVariableOp", "Reshape", "Squeeze").contains(node.getOp())) {
      if (node.getOp().equals("ReadVariableOp")) {
        NodeDef handle = index.node(TensorRef.parse(node.getInput(0)).node());
        return handle != null && handle.getOp().equals("VarHandleOp") ? handle.getName() : null;
      }
      node = index.node(TensorRef.parse(node.getInput(0)).node());
    }
    return null;
  }

  /** Node lookup, consumer counts and constant-ness of a graph. */
  private static final class Index {
    private final Map<String, NodeDef> nodes = new HashMap<>();
    private final Map<String, List<NodeDef>> consumers = new HashMap<>();
    private final Map<String, Boolean> constant = new HashMap<>();

    Index(GraphDef graph) {
      for (NodeDef n : graph.getNodeList()) {
        nodes.put(n.getName(), n);
        for (String in : n.getInputList()) {
          TensorRef ref = TensorRef.parse(in);
          if (!ref.control()) {
            consumers.computeIfAbsent(ref.node(), k -> new ArrayList<>()).add(n);
          }
        }
      }
    }

    NodeDef node(String name) {
      return nodes.get(name);
    }

    int consumerCount(String name) {
      return consumers.getOrDefault(name, List.of()).size();
    }

    NodeDef singleConsumer(String name) {
      List<NodeDef> list = consumers.getOrDefault(name, List.of());
      return list.size() == 1 ? list.get(0) : null;
    }

    /** True when the node depends on no placeholder: only variables and constants. */
    boolean isConstant(String name) {
      Boolean known = constant.get(name);
      if (known != null) {
        return known;
      }
      NodeDef n = nodes.get(name);
      boolean result;
      if (n == null || n.getOp().equals("Placeholder") || n.getOp().startsWith("Random")) {
        result = false;
      } else {
        constant.put(name, false); // cycle guard
        result = true;
        for (String in : n.getInputList()) {
          TensorRef ref = TensorRef.parse(in);
          if (!ref.control() && !isConstant(ref.node())) {
            result = false;
            break;
          }
        }
      }
      constant.put(name, result);
      return result;
    }
  }
}
