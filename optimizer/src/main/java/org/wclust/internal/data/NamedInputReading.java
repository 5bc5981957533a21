package org.wclust.internal.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the inputs of a model with several inputs, one array per input, into {@link NamedInputs}: from
 * the {@code .npz} arrays or TFRecord features that {@code --features NAME:KEY,...} names, or, without
 * {@code --features}, from every array of an {@code .npz} that has no {@code x} array (the model then
 * takes the arrays named after its inputs). Labels and regression targets are read as for one input.
 */
final class NamedInputReading {
  private NamedInputReading() {}

  /** The named inputs of the spec, if it names them ({@code --features NAME:KEY,...}). */
  private static Optional<FeatureSpec> named(DataSpec spec) {
    return spec.features().filter(FeatureSpec::hasNamedInputs);
  }

  /**
   * Whether {@code npz} is read as named inputs: they were named, or the default input array {@code x}
   * is missing and the archive has other arrays than the labels.
   */
  static boolean appliesTo(NpzReader npz, DataSpec spec) {
    if (named(spec).isPresent()) {
      return true;
    }
    return spec.features().isEmpty() && spec.inputsNamedByDefault() && !npz.contains(spec.inputName())
        && !candidates(npz, spec).isEmpty();
  }

  /** Whether TFRecords are read as named inputs. */
  static boolean appliesTo(DataSpec spec) {
    return named(spec).isPresent();
  }

  /** Every array but the labels (also the default label array y when labels are ignored, as for --distill). */
  private static List<String> candidates(NpzReader npz, DataSpec spec) {
    String defaultLabels = DataSpec.defaults().labelName().orElseThrow();
    return npz.names().stream()
        .filter(n -> !n.equals(spec.labelName().orElse(null)) && !n.equals(defaultLabels)).toList();
  }

  /** The label array or feature: --features' y, else the spec's; none when labels are ignored. */
  private static String labelKey(DataSpec spec) {
    if (spec.labelName().isEmpty()) {
      return null;
    }
    return named(spec).map(f -> f.labelKey().orElse(null)).orElse(spec.labelName().get());
  }

  private static boolean labelsRequired(DataSpec spec) {
    return named(spec).isPresent() ? labelKey(spec) != null : spec.labelsRequired();
  }

  /** The inputs (values scaled, no shape expected: each input is shaped when the model is known). */
  private static DataSpec partSpec(DataSpec spec) {
    return DataSpec.defaults().withoutLabels().withScale(spec.scale());
  }

  static Dataset loadNpz(NpzReader npz, Path file, DataSpec spec) throws IOException {
    Map<String, String> keys = new LinkedHashMap<>();
    named(spec).ifPresentOrElse(f -> keys.putAll(f.namedInputs()),
        () -> candidates(npz, spec).forEach(name -> keys.put(name, name)));
    String present = npz.names().isEmpty() ? "none" : String.join(", ", npz.names());
    boolean explicit = named(spec).isPresent();
    String labelKey = labelKey(spec);
    NpyArray y = labelKey != null && npz.contains(labelKey) ? npz.read(labelKey) : null; // read once
    long examples = y == null ? -1 : leading(y);
    Map<String, Dataset> parts = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : keys.entrySet()) {
      if (!npz.contains(e.getValue())) {
        throw new IllegalArgumentException(file + " has no array '" + e.getValue() + "' for the model input '"
            + e.getKey() + "'; arrays present: " + present);
      }
      if (explicit) {
        parts.put(e.getKey(), DatasetLoader.fromArray(npz.read(e.getValue()), null, partSpec(spec)));
        continue;
      }
      // Every array is a candidate: one that cannot be inputs (not numeric, another example count, such as
      // x_test beside x_train) is left out, and named in the error if the model asks for it.
      try {
        Dataset part = DatasetLoader.fromArray(npz.read(e.getValue()), null, partSpec(spec));
        if (examples < 0 || part.size() == examples) {
          examples = part.size();
          parts.put(e.getKey(), part);
        }
      } catch (IllegalArgumentException notInputs) {
        // not usable as inputs
      }
    }
    if (parts.isEmpty()) {
      throw new IllegalArgumentException(file + " has no input array '" + spec.inputName()
          + "' (nor arrays named after the model's inputs); arrays present: " + present);
    }
    NamedInputs inputs = new NamedInputs(parts, file.toString(), explicit);
    if (y == null) {
      if (labelKey != null && labelsRequired(spec)) {
        throw new IllegalArgumentException(file + " has no " + (spec.regression() ? "target" : "label") + " array '"
            + labelKey + "'; arrays present: " + present);
      }
      return Dataset.withNamedInputs(inputs, null, null, null);
    }
    long[] shape = y.shape();
    if (shape.length == 0 || shape[0] != inputs.size()) {
      throw new IllegalArgumentException(file + ": the inputs have " + inputs.size() + " examples but '" + labelKey
          + "' has shape " + Arrays.toString(shape));
    }
    if (spec.regression()) {
      return Dataset.withNamedInputs(inputs, null, Arrays.copyOfRange(shape, 1, shape.length), y.toFloats());
    }
    return Dataset.withNamedInputs(inputs, DatasetLoader.labels(y), null, null);
  }

  /** The first dimension of an array (its example count), or -1 for a 0-d array. */
  private static long leading(NpyArray a) {
    return a.shape().length == 0 ? -1 : a.shape()[0];
  }

  /** One input per named feature of every {@code tf.train.Example} (read as for one input), labels as usual. */
  static Dataset loadTfRecord(Path file, DataSpec spec) throws IOException {
    FeatureSpec features = named(spec).orElseThrow();
    List<String> names = List.copyOf(features.namedInputs().keySet());
    // one pass over the file for all inputs
    List<TfExampleDecoder.Decoded> decoded = TfExampleDecoder.decode(file,
        List.copyOf(features.namedInputs().values()), labelKey(spec), labelsRequired(spec), -1);
    Map<String, Dataset> parts = new LinkedHashMap<>();
    for (int j = 0; j < names.size(); j++) {
      TfExampleDecoder.Decoded d = decoded.get(j);
      DatasetLoader.scale(d.inputs(), spec.scale());
      parts.put(names.get(j), Dataset.wrap(d.size(), new long[] {d.exampleSize()}, d.inputs(), null));
    }
    return Dataset.withNamedInputs(new NamedInputs(parts, file.toString(), true), decoded.get(0).labels(), null,
        null);
  }
}
