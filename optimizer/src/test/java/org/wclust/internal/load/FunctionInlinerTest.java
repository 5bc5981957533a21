package org.wclust.internal.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;
import org.wclust.internal.bridge.HostTensor;

/**
 * Hand-built GraphDefs shaped like TF2 exports: the graph calls a FunctionDef through
 * (Stateful)PartitionedCall; function bodies refer to arguments by bare name and to node outputs as
 * {@code node:output_arg:index}.
 */
class FunctionInlinerTest {
  private static final Set<String> CALL_OPS = Set.of("StatefulPartitionedCall", "PartitionedCall");
  private static final AttrValue FLOAT = AttrValue.newBuilder().setType(DataType.DT_FLOAT).build();

  private static AttrValue types(DataType... ts) {
    return AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder().addAllType(List.of(ts))).build();
  }

  private static AttrValue i(long v) {
    return AttrValue.newBuilder().setI(v).build();
  }

  private static OpDef.ArgDef arg(String name, DataType type) {
    return OpDef.ArgDef.newBuilder().setName(name).setType(type).build();
  }

  private static NodeDef node(String name, String op, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(List.of(inputs)).putAttr("T", FLOAT).build();
  }

  private static NodeDef call(String name, String op, String function, List<DataType> tout, String... inputs) {
    return NodeDef.newBuilder().setName(name).setOp(op).addAllInput(List.of(inputs))
        .putAttr("Tin", types(DataType.DT_FLOAT))
        .putAttr("Tout", types(tout.toArray(new DataType[0])))
        .putAttr("f", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(function)).build())
        .build();
  }

  private static NodeDef floatConst(String name, float v) {
    return NodeDef.newBuilder().setName(name).setOp("Const").putAttr("dtype", FLOAT)
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProto.newBuilder()
            .setDtype(DataType.DT_FLOAT).setTensorShape(TensorShapeProto.getDefaultInstance()).addFloatVal(v)).build())
        .build();
  }

  private static NodeDef placeholder(String name) {
    return NodeDef.newBuilder().setName(name).setOp("Placeholder").putAttr("dtype", FLOAT).build();
  }

  /** Runs a flat graph: feeds x, fetches the given tensors. */
  private static List<HostTensor> run(GraphDef flat, HostTensor x, List<String> fetches) {
    try (Graph g = new Graph(); Session s = new Session(g); Tensor feed = x.toTensor()) {
      g.importGraphDef(flat);
      Session.Runner runner = s.runner().feed("x", feed);
      fetches.forEach(runner::fetch);
      try (Result r = runner.run()) {
        return java.util.stream.IntStream.range(0, fetches.size()).mapToObj(k -> HostTensor.copyOf(r.get(k))).toList();
      }
    }
  }

  private static void assertNoCalls(GraphDef flat) {
    flat.getNodeList().forEach(n -> assertFalse(CALL_OPS.contains(n.getOp()), "call left: " + n.getName()));
  }

  @Test
  void nestedCallsAreInlinedAndComputeTheSameFunction() {
    // g(b) = -b;  f(a) = a * 3 + g(a)  =>  f(x) = 2x
    FunctionDef g = FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName("g").addInputArg(arg("b", DataType.DT_FLOAT))
            .addOutputArg(arg("r", DataType.DT_FLOAT)))
        .addNodeDef(node("neg", "Neg", "b"))
        .putRet("r", "neg:y:0")
        .build();
    FunctionDef f = FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName("f").addInputArg(arg("a", DataType.DT_FLOAT))
            .addOutputArg(arg("out", DataType.DT_FLOAT)))
        .addNodeDef(floatConst("three", 3f))
        .addNodeDef(node("mul", "Mul", "a", "three:output:0"))
        .addNodeDef(call("inner", "PartitionedCall", "g", List.of(DataType.DT_FLOAT), "a"))
        .addNodeDef(node("sum", "AddV2", "mul:z:0", "inner:output:0", "^three"))
        .putRet("out", "sum:z:0")
        .build();
    GraphDef graph = GraphDef.newBuilder()
        .addNode(placeholder("x"))
        .addNode(placeholder("unused"))
        .addNode(call("call", "StatefulPartitionedCall", "f", List.of(DataType.DT_FLOAT), "x", "^unused"))
        .setLibrary(FunctionDefLibrary.newBuilder().addFunction(f).addFunction(g))
        .build();

    FunctionInliner.Result result = FunctionInliner.inline(graph, List.of("call:0"));

    assertNoCalls(result.graph());
    assertEquals(0, result.graph().getLibrary().getFunctionCount());
    Set<String> names = org.wclust.internal.bridge.GraphDefs.byName(result.graph()).keySet();
    assertTrue(names.contains("call/inner/neg"), "nested body under both call names: " + names);
    assertFalse(names.contains("unused"), "only nodes the outputs depend on: " + names);
    HostTensor y = run(result.graph(), HostTensor.ofFloats(new long[] {3}, new float[] {1f, -2f, 0.5f}),
        result.outputs()).get(0);
    assertArrayEquals(new float[] {2f, -4f, 1f}, y.toFloats());
  }

  @Test
  void multiOutputReferencesAreTranslatedToGraphIndices() {
    // h(a) for a of shape [3,2]: Unpack(num=3) rows; Unique over the flattened input.
    //   ret row2 = unpack:output:2 (flat index 2), row0 = unpack:output:0, idx = uniq:idx:0 (flat index 1).
    NodeDef flatten = NodeDef.newBuilder().setName("flatten").setOp("Reshape").addInput("a").addInput("minus_one:output:0")
        .putAttr("T", FLOAT).putAttr("Tshape", AttrValue.newBuilder().setType(DataType.DT_INT32).build()).build();
    NodeDef minusOne = NodeDef.newBuilder().setName("minus_one").setOp("Const")
        .putAttr("dtype", AttrValue.newBuilder().setType(DataType.DT_INT32).build())
        .putAttr("value", AttrValue.newBuilder().setTensor(TensorProto.newBuilder().setDtype(DataType.DT_INT32)
            .setTensorShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(1)))
            .addIntVal(-1)).build())
        .build();
    FunctionDef h = FunctionDef.newBuilder()
        .setSignature(OpDef.newBuilder().setName("h").addInputArg(arg("a", DataType.DT_FLOAT))
            .addOutputArg(arg("row2", DataType.DT_FLOAT))
            .addOutputArg(arg("row0", DataType.DT_FLOAT))
            .addOutputArg(arg("idx", DataType.DT_INT32)))
        .addNodeDef(node("unpack", "Unpack", "a").toBuilder().putAttr("num", i(3)).putAttr("axis", i(0)).build())
        .addNodeDef(minusOne)
        .addNodeDef(flatten)
        .addNodeDef(node("uniq", "Unique", "flatten:output:0").toBuilder()
            .putAttr("out_idx", AttrValue.newBuilder().setType(DataType.DT_INT32).build()).build())
        .putRet("row2", "unpack:output:2")
        .putRet("row0", "unpack:output:0")
        .putRet("idx", "uniq:idx:0")
        .build();
    GraphDef graph = GraphDef.newBuilder()
        .addNode(placeholder("x"))
        .addNode(call("call", "PartitionedCall", "h",
            List.of(DataType.DT_FLOAT, DataType.DT_FLOAT, DataType.DT_INT32), "x"))
        .setLibrary(FunctionDefLibrary.newBuilder().addFunction(h))
        .build();

    FunctionInliner.Result result = FunctionInliner.inline(graph, List.of("call:1", "call:0", "call:2"));

    assertNoCalls(result.graph());
    assertEquals(List.of("call/unpack", "call/unpack:2", "call/uniq:1"), result.outputs());
    List<HostTensor> out = run(result.graph(),
        HostTensor.ofFloats(new long[] {3, 2}, new float[] {5, 7, 7, 5, 9, 5}), result.outputs());
    assertArrayEquals(new float[] {5, 7}, out.get(0).toFloats());
    assertArrayEquals(new float[] {9, 5}, out.get(1).toFloats());
    // Unique of [5,7,7,5,9,5]: y = [5,7,9], idx = [0,1,1,0,2,0]
    assertArrayEquals(new int[] {0, 1, 1, 0, 2, 0}, out.get(2).toInts());
  }

  @Test
  void missingFunctionIsReported() {
    GraphDef graph = GraphDef.newBuilder()
        .addNode(placeholder("x"))
        .addNode(call("call", "StatefulPartitionedCall", "nowhere", List.of(DataType.DT_FLOAT), "x"))
        .build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> FunctionInliner.inline(graph, List.of("call:0")));
    assertTrue(e.getMessage().contains("nowhere"), e.getMessage());
  }
}
