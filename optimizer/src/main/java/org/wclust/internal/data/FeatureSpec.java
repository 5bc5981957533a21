package org.wclust.internal.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Optional;

/**
 * Which {@code tf.train.Example} features of a TFRecord file play which dataset role, written
 * {@code x:image,y:label}: role {@code x} (inputs) reads feature {@code image}, role {@code y}
 * (labels) reads feature {@code label}. The {@code y} part may be left out for unlabelled data.
 *
 * @param inputKey the feature holding the inputs
 * @param labelKey the feature holding the class label, if any
 */
public record FeatureSpec(String inputKey, Optional<String> labelKey) {
  private static final String SYNTAX =
      "expected ROLE:FEATURE pairs such as x:image,y:label (roles: x or image = inputs, y or label = labels)";

  public FeatureSpec {
    checkNotNull(inputKey, "inputKey");
    checkNotNull(labelKey, "labelKey");
    checkArgument(!inputKey.isEmpty(), "the input feature key is empty");
    checkArgument(labelKey.map(k -> !k.isEmpty()).orElse(true), "the label feature key is empty");
  }

  public static FeatureSpec of(String inputKey, String labelKey) {
    return new FeatureSpec(inputKey, Optional.of(labelKey));
  }

  /** Parses {@code x:KEY[,y:KEY]} (order free, blanks around items ignored). */
  public static FeatureSpec parse(String spec) {
    checkNotNull(spec, "spec");
    String x = null;
    String y = null;
    for (String item : spec.split(",", -1)) {
      int colon = item.indexOf(':');
      String role = colon < 0 ? "" : canonicalRole(item.substring(0, colon).strip());
      String key = colon < 0 ? "" : item.substring(colon + 1).strip();
      checkArgument(!key.isEmpty() && (role.equals("x") || role.equals("y")),
          "bad feature spec '%s': %s", spec, SYNTAX);
      checkArgument((role.equals("x") ? x : y) == null,
          "bad feature spec '%s': role %s given twice", spec, role);
      if (role.equals("x")) {
        x = key;
      } else {
        y = key;
      }
    }
    checkArgument(x != null, "bad feature spec '%s': no x (inputs) feature; %s", spec, SYNTAX);
    return new FeatureSpec(x, Optional.ofNullable(y));
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
    return "x:" + inputKey + labelKey.map(k -> ",y:" + k).orElse("");
  }
}
