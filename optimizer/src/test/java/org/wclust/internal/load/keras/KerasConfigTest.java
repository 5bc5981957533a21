package org.wclust.internal.load.keras;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;
import org.wclust.internal.load.ModelLoadException;

/** Keyword arguments of a Keras 3 call: the defaults Keras records pass, anything else is refused. */
class KerasConfigTest {

  private static final String TENSOR =
      "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 3, 4], \"dtype\": \"float32\","
          + " \"keras_history\": [\"in\", 0, 0]}}";

  /** A functional model whose one MultiHeadAttention layer is called on (in, in) with {@code kwargs}. */
  private static JsonObject attentionModel(String kwargs) {
    String json = "{\"class_name\": \"Functional\", \"config\": {\"name\": \"m\", \"layers\": ["
        + "{\"class_name\": \"InputLayer\", \"name\": \"in\", \"config\": {\"name\": \"in\","
        + " \"batch_shape\": [null, 3, 4]}, \"inbound_nodes\": []},"
        + "{\"class_name\": \"MultiHeadAttention\", \"name\": \"mha\", \"config\": {\"name\": \"mha\"},"
        + " \"inbound_nodes\": [{\"args\": [" + TENSOR + ", " + TENSOR + "], \"kwargs\": " + kwargs + "}]}],"
        + " \"input_layers\": [[\"in\", 0, 0]], \"output_layers\": [[\"mha\", 0, 0]]}}";
    return JsonParser.parseString(json).getAsJsonObject();
  }

  @Test
  void defaultKeywordArgumentsAreAccepted() throws ModelLoadException {
    KerasConfig.Model model = KerasConfig.parse(attentionModel(
        "{\"attention_mask\": null, \"use_causal_mask\": false, \"training\": null}"));
    assertEquals(2, model.layer("mha").calls().get(0).inputs().size());
  }

  @Test
  void causalMaskIsRefusedNotDropped() {
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> KerasConfig.parse(attentionModel("{\"use_causal_mask\": true}")));
    assertTrue(e.getMessage().contains("layer 'mha' is called with use_causal_mask=true"), e.getMessage());
  }

  @Test
  void tensorPassedByKeywordIsRefused() {
    ModelLoadException e = assertThrows(ModelLoadException.class,
        () -> KerasConfig.parse(attentionModel("{\"key\": " + TENSOR + "}")));
    assertTrue(e.getMessage().contains("key=a tensor"), e.getMessage());
  }
}
