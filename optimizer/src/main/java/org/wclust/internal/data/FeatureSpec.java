package org.wclust.internal.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.common.collect.ImmutableMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which {@code tf.train.Example} features of a TFRecord file (or arrays of an {@code .npz}) play which
 * dataset role, written {@code x:image,y:label}: role {@code x} (inputs) reads feature {@code image},
 * role {@code y} (labels) reads feature {@code label}. The {@code y} part may be left out for
 * unlabelled data.
 *
 * <p>A model with several inputs names each of them instead of {@code x}: {@code
 * tokens:ids,mask:attention,y:label} feeds the model input {@code tokens} from feature (or array)
 * {@code ids} and the input {@code mask} from {@code attention}; those are the {@link #namedInputs()}.
 *
 * @param inputKey the feature holding the inputs (with named inputs: the first one's)
 * @param labelKey the feature holding the class label, if any
 * @param namedInputs model input name to feature key, in the order given; empty for role {@code x}
 */
public record FeatureSpec(String inputKey, Optional<String> labelKey, ImmutableMap<String, String> namedInputs) {
  private static final String SYNTAX = "expected ROLE:FEATURE pairs such as x:image,y:label (roles: x or "
      + "image = inputs, y or label = labels, or one model input name per input)";

  public FeatureSpec {
    checkNotNull(inputKey, "inputKey");
    checkNotNull(labelKey, "labelKey");
    checkNotNull(namedInputs, "namedInputs");
    checkArgument(!inputKey.isEmpty(), "the input feature key is empty");
    checkArgument(labelKey.map(k -> !k.isEmpty()).orElse(true), "the label feature key is empty");
  }

  public FeatureSpec(String inputKey, Optional<String> labelKey) {
    this(inputKey, labelKey, ImmutableMap.of());
  }

  public static FeatureSpec of(String inputKey, String labelKey) {
    return new FeatureSpec(inputKey, Optional.of(labelKey));
  }

  /** Whether each model input has a feature of its own ({@code name:KEY} pairs instead of {@code x:KEY}). */
  public boolean hasNamedInputs() {
    return !namedInputs.isEmpty();
  }

  /**
   * Parses {@code x:KEY[,y:KEY]} (order free, blanks around items ignored), or {@code NAME:KEY,...[,y:KEY]}
   * with one pair per model input: any role other than x, image, y and label is an input name, and
   * then every input role is one (x and image included).
   */
  public static FeatureSpec parse(String spec) {
    checkNotNull(spec, "spec");
    String y = null;
    Map<String, String> inputs = new LinkedHashMap<>();
    for (String item : spec.split(",", -1)) {
      int colon = item.indexOf(':');
      String role = colon < 0 ? "" : item.substring(0, colon).strip();
      String key = colon < 0 ? "" : item.substring(colon + 1).strip();
      checkArgument(!key.isEmpty() && !role.isEmpty(), "bad feature spec '%s': %s", spec, SYNTAX);
      if (canonicalRole(role).equals("y")) {
        checkArgument(y == null, "bad feature spec '%s': role y given twice", spec);
        y = key;
      } else {
        checkArgument(inputs.put(role, key) == null, "bad feature spec '%s': role %s given twice", spec, role);
      }
    }
    checkArgument(!inputs.isEmpty(), "bad feature spec '%s': no x (inputs) feature; %s", spec, SYNTAX);
    boolean named = inputs.keySet().stream().anyMatch(role -> !canonicalRole(role).equals("x"));
    if (!named) {
      checkArgument(inputs.size() == 1, "bad feature spec '%s': role x given twice", spec);
      return new FeatureSpec(inputs.values().iterator().next(), Optional.ofNullable(y));
    }
    return new FeatureSpec(inputs.values().iterator().next(), Optional.ofNullable(y), ImmutableMap.copyOf(inputs));
  }

  /** {@code image} is another name of role x, {@code label} of role y. */
  private static String canonicalRole(String role) {
    return switch (role) {
      case "image" -> "x";
      case "label" -> "y";
      default -> role;
    };
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    if (namedInputs.isEmpty()) {
      out.append("x:").append(inputKey);
    } else {
      namedInputs.forEach((name, key) -> out.append(out.length() == 0 ? "" : ",").append(name).append(':').append(key));
    }
    return out + labelKey.map(k -> ",y:" + k).orElse("");
  }
}
