package org.wclust.internal.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** The weight registry and static reshapes on hand-built NodeDefs. */
class WeightConsumersTest {
  private static NodeDef intConst(String name, int... values) {
    TensorProto.Builder t = TensorProto.newBuilder().setDtype(DataType.DT_INT32)
        .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(values.length)));
    for (int v : values) {
      t.addIntVal(v);
    }
    return NodeDef.newBuilder().setName(name).setOp("Const").putAttr("value", AttrValue.newBuilder().setTensor(t).build())
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_INT32).build()).build();
  }

  private static NodeDef einsum(String equation) {
    return NodeDef.newBuilder().setName("e").setOp("Einsum").addInput("x").addInput("w")
        .putAttr("equation", AttrValue.newBuilder().setS(ByteString.copyFromUtf8(equation)).build()).build();
  }

  @Test
  void einsumChannelsAreTheOperandDimensionsKeptInTheOutput() {
    // "btd,de->bte": the kernel's e (last dim) is the output feature.
    assertEquals(Optional.of(new OutputChannels(32, 1)),
        WeightConsumers.channels(einsum("btd,de->bte"), 1, new long[] {16, 32}, 512, Map.of()));
    // "abc,cde->abde": d and e, contiguous trailing block of [c, d, e] = [4, 3, 5].
    assertEquals(Optional.of(new OutputChannels(15, 1)),
        WeightConsumers.channels(einsum("abc,cde->abde"), 1, new long[] {4, 3, 5}, 60, Map.of()));
    // "abc,dc->abd": d is the first dim of [d, c] = [6, 7], stride 7.
    assertEquals(Optional.of(new OutputChannels(6, 7)),
        WeightConsumers.channels(einsum("abc,dc->abd"), 1, new long[] {6, 7}, 42, Map.of()));
    // "ab,cad->bcd": the first operand [a, b] keeps b, its last dim.
    assertEquals(Optional.of(new OutputChannels(3, 1)),
        WeightConsumers.channels(einsum("ab,cad->bcd"), 0, new long[] {2, 3}, 6, Map.of()));
    // Kept dims not contiguous ([d, c, e] keeps d and e): one channel.
    assertEquals(Optional.of(OutputChannels.single(60)),
        WeightConsumers.channels(einsum("xc,dce->xde"), 1, new long[] {4, 3, 5}, 60, Map.of()));
  }

  @Test
  void gatherParamsOnAxisZeroAreAWeightWithOneChannelPerRow() {
    NodeDef gather = NodeDef.newBuilder().setName("g").setOp("GatherV2").addInput("table").addInput("ids")
        .addInput("axis").build();
    Map<String, NodeDef> axis0 = Map.of("axis", intConst("axis", 0));
    assertEquals(Optional.of(new OutputChannels(1000, 64)),
        WeightConsumers.channels(gather, 0, new long[] {1000, 64}, 64000, axis0));
    assertFalse(WeightConsumers.isWeightInput(gather, 1, axis0), "indices are never a weight");
    assertFalse(WeightConsumers.isWeightInput(gather, 0, Map.of("axis", intConst("axis", 1))), "axis 1");
    assertFalse(WeightConsumers.isWeightInput(gather, 0, Map.of()), "axis not a constant");
  }

  @Test
  void transposedConvFilterHasOutputChannelsSecondToLast() {
    NodeDef conv = NodeDef.newBuilder().setName("c").setOp("Conv3DBackpropInputV2").addInput("s").addInput("w")
        .addInput("x").build();
    assertEquals(Optional.of(new OutputChannels(8, 4)),
        WeightConsumers.channels(conv, 1, new long[] {3, 3, 3, 8, 4}, 864, Map.of()));
    assertTrue(WeightConsumers.channels(conv, 2, new long[] {3, 3, 3, 8, 4}, 864, Map.of()).isEmpty());
  }

  @Test
  void reshapesKeepTrackOfTheShape() {
    Map<String, NodeDef> nodes = Map.of("shape", intConst("shape", 64, -1), "axis", intConst("axis", 0));
    NodeDef reshape = NodeDef.newBuilder().setName("r").setOp("Reshape").addInput("w").addInput("shape").build();
    assertArrayEquals(new long[] {64, 64}, StaticShapes.reshaped(reshape, new long[] {64, 4, 16}, nodes));
    NodeDef expand = NodeDef.newBuilder().setName("x").setOp("ExpandDims").addInput("w").addInput("axis").build();
    assertArrayEquals(new long[] {1, 3, 8, 16}, StaticShapes.reshaped(expand, new long[] {3, 8, 16}, nodes));
    NodeDef squeeze = NodeDef.newBuilder().setName("s").setOp("Squeeze").build();
    assertArrayEquals(new long[] {3, 16}, StaticShapes.reshaped(squeeze, new long[] {1, 3, 1, 16}, nodes));
    NodeDef unknown = NodeDef.newBuilder().setName("r2").setOp("Reshape").addInput("w").addInput("dynamic").build();
    assertNull(StaticShapes.reshaped(unknown, new long[] {4, 4}, nodes));
  }
}
