package org.wclust.internal.load;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_Buffer;
import org.tensorflow.internal.c_api.global.tensorflow;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.proto.OpList;

/**
 * The OpDefs registered in the TensorFlow runtime. Function bodies name outputs by argument
 * ({@code conv:output:0}); translating them to graph indices ({@code conv:0}) needs each op's output
 * argument list, which only the registry knows.
 */
public final class OpRegistry {
  private static volatile OpRegistry instance;
  private final Map<String, OpDef> ops;

  private OpRegistry(Map<String, OpDef> ops) {
    this.ops = ops;
  }

  public static OpRegistry get() {
    OpRegistry r = instance;
    if (r == null) {
      synchronized (OpRegistry.class) {
        if (instance == null) {
          instance = load();
        }
        r = instance;
      }
    }
    return r;
  }

  /**
   * Starts loading the registry (and with it TensorFlow's native runtime, seconds of work) on another
   * thread, so that it overlaps with reading a model's files; {@link #get} then waits for it. A failure
   * there is left for {@link #get} to meet again and report.
   */
  public static void prefetch() {
    if (instance == null) {
      Thread loader = new Thread(() -> {
        try {
          get();
        } catch (RuntimeException | LinkageError e) {
          // get() on the caller's thread tries again and reports it
        }
      }, "wclust-tensorflow-loader");
      loader.setDaemon(true);
      loader.start();
    }
  }

  private static OpRegistry load() {
    TensorFlow.version(); // loads the native library
    TF_Buffer buffer = tensorflow.TF_GetAllOpList();
    try {
      OpList list = OpList.parseFrom(buffer.copyData());
      Map<String, OpDef> ops = new HashMap<>();
      list.getOpList().forEach(op -> ops.put(op.getName(), op));
      return new OpRegistry(ops);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot read TensorFlow's op list", e);
    } finally {
      buffer.delete();
    }
  }

  public OpDef opDef(String op) {
    OpDef def = ops.get(op);
    if (def == null) {
      throw new IllegalArgumentException("op " + op + " is not registered in this TensorFlow runtime");
    }
    return def;
  }

  /**
   * The flat output index of {@code outputArg}'s element {@code i} in {@code node}: the sizes of the
   * preceding output arguments (lists sized by a number or type-list attribute) plus {@code i}.
   */
  public int flatOutputIndex(NodeDef node, String outputArg, int i) {
    int offset = 0;
    for (OpDef.ArgDef arg : opDef(node.getOp()).getOutputArgList()) {
      if (arg.getName().equals(outputArg)) {
        return offset + i;
      }
      offset += argSize(node, arg);
    }
    throw new IllegalArgumentException(
        "op " + node.getOp() + " (node " + node.getName() + ") has no output " + outputArg);
  }

  private static int argSize(NodeDef node, OpDef.ArgDef arg) {
    if (!arg.getNumberAttr().isEmpty()) {
      return (int) node.getAttrOrThrow(arg.getNumberAttr()).getI();
    }
    if (!arg.getTypeListAttr().isEmpty()) {
      return node.getAttrOrThrow(arg.getTypeListAttr()).getList().getTypeCount();
    }
    return 1;
  }
}
