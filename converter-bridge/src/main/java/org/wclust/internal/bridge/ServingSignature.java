package org.wclust.internal.bridge;

import com.google.common.collect.ImmutableList;
import java.util.Map;
import org.tensorflow.proto.SignatureDef;

/** A named serving signature: ordered inputs and outputs (ordered by key, as TensorFlow sorts them). */
public record ServingSignature(String name, ImmutableList<TensorSpec> inputs,
    ImmutableList<TensorSpec> outputs) {

  public static final String PREDICT_METHOD = "tensorflow/serving/predict";

  public static ServingSignature fromProto(String name, SignatureDef def) {
    return new ServingSignature(name, specs(def.getInputsMap()), specs(def.getOutputsMap()));
  }

  private static ImmutableList<TensorSpec> specs(Map<String, org.tensorflow.proto.TensorInfo> map) {
    return map.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .map(e -> TensorSpec.of(e.getKey(), e.getValue()))
        .collect(ImmutableList.toImmutableList());
  }

  public SignatureDef toProto() {
    SignatureDef.Builder def = SignatureDef.newBuilder().setMethodName(PREDICT_METHOD);
    inputs.forEach(s -> def.putInputs(s.key(), s.toTensorInfo()));
    outputs.forEach(s -> def.putOutputs(s.key(), s.toTensorInfo()));
    return def.build();
  }
}
