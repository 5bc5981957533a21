package org.wclust.internal.bridge;

import com.google.common.collect.ImmutableSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SavedModel;

/**
 * Writes a converter-ready SavedModel: one meta graph tagged {@code serve} whose graph holds its weights
 * as constants only. The TFLite converter cannot initialise variables of TF Java exports (DESIGN.md),
 * so a graph that still has a variable op is refused here rather than failing later in conversion.
 */
public final class SavedModelWriter {
  public static final String SERVE_TAG = "serve";
  private static final ImmutableSet<String> VARIABLE_OPS =
      ImmutableSet.of("VarHandleOp", "VariableV2", "Variable", "ReadVariableOp", "AssignVariableOp");

  private SavedModelWriter() {}

  /** Writes {@code saved_model.pb} and an empty {@code variables/} directory into {@code dir}. */
  public static void write(Path dir, GraphDef constantGraph, ServingSignature signature)
      throws IOException {
    for (NodeDef node : constantGraph.getNodeList()) {
      if (VARIABLE_OPS.contains(node.getOp())) {
        throw new IllegalArgumentException(
            "graph is not frozen: node " + node.getName() + " is a " + node.getOp());
      }
    }
    MetaGraphDef meta = MetaGraphDef.newBuilder()
        .setMetaInfoDef(MetaGraphDef.MetaInfoDef.newBuilder()
            .addTags(SERVE_TAG)
            .setTensorflowVersion("2.18.0")
            .setTensorflowGitVersion("wclust"))
        .setGraphDef(constantGraph)
        .putSignatureDef(signature.name(), signature.toProto())
        .build();
    SavedModel model = SavedModel.newBuilder().setSavedModelSchemaVersion(1).addMetaGraphs(meta).build();
    Files.createDirectories(dir.resolve("variables"));
    // Deterministic map order (signatures, attributes): the same model gives the same bytes. Streamed
    // to the file: a byte array of the whole model would hold every weight twice more.
    try (java.io.OutputStream file = new java.io.BufferedOutputStream(
        Files.newOutputStream(dir.resolve("saved_model.pb")), 1 << 16)) {
      com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(file, 1 << 16);
      out.useDeterministicSerialization();
      model.writeTo(out);
      out.flush();
    }
  }
}
