package org.wclust.internal.data;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The inputs of a dataset for a model with several inputs: one array of examples per model input name,
 * all of the same length (e.g. token ids and an attention mask, each from its own {@code .npz} array or
 * TFRecord feature). Which of them a model takes is decided once the model is known, by {@link
 * Dataset#forInputs}.
 */
public final class NamedInputs {
  private final ImmutableMap<String, Dataset> parts;
  private final String source;
  private final boolean explicit;

  /**
   * @param parts unlabelled datasets of the same size, by model input name
   * @param source where they were read, for messages (e.g. the file)
   * @param explicit whether the user named the inputs ({@code --features}): then each must be an input of
   *     the model; otherwise they are every array of a file, of which the model takes those of its inputs
   */
  NamedInputs(Map<String, Dataset> parts, String source, boolean explicit) {
    checkArgument(!parts.isEmpty(), "no inputs");
    int size = parts.values().iterator().next().size();
    parts.forEach((name, part) -> {
      if (part.size() != size) {
        throw new IllegalArgumentException(source + ": the input '" + name + "' has " + part.size()
            + " examples but '" + parts.keySet().iterator().next() + "' has " + size);
      }
    });
    this.parts = ImmutableMap.copyOf(parts);
    this.source = source;
    this.explicit = explicit;
  }

  /** The model input names, in order. */
  public List<String> names() {
    return parts.keySet().asList();
  }

  /** The examples of one input (unlabelled). */
  public Dataset get(String name) {
    Dataset part = parts.get(name);
    checkArgument(part != null, "no input '%s'; the data has %s", name, names());
    return part;
  }

  int size() {
    return parts.values().iterator().next().size();
  }

  Dataset first() {
    return parts.values().iterator().next();
  }

  NamedInputs slice(int from, int to) {
    Map<String, Dataset> sliced = new LinkedHashMap<>();
    parts.forEach((name, part) -> sliced.put(name, part.slice(from, to)));
    return new NamedInputs(sliced, source, explicit);
  }

  /**
   * The inputs {@code names} of a model, in its order, each seen with the model's example shape
   * (when known: {@code shapes.get(i)}, e.g. [28, 28] as [28, 28, 1]); fails naming an input without
   * data, or, with explicit names, a name that is not an input of the model.
   */
  NamedInputs select(List<String> names, List<Optional<long[]>> shapes) {
    if (explicit) {
      for (String name : parts.keySet()) {
        if (!names.contains(name)) {
          throw new IllegalArgumentException("--features names '" + name + "', which is not an input of the model "
              + "(its inputs: " + String.join(", ", names) + ")");
        }
      }
    }
    Map<String, Dataset> chosen = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      String name = names.get(i);
      Dataset part = parts.get(name);
      if (part == null) {
        throw new IllegalArgumentException(explicit
            ? source + ": --features maps no array or feature to the model input '" + name + "' (it maps "
                + String.join(", ", parts.keySet()) + "); add " + name + ":KEY"
            : source + " has no array for the model input '" + name + "' (it has " + String.join(", ", parts.keySet())
                + "); name an array '" + name + "' or map one with --features " + name + ":KEY");
      }
      Optional<long[]> shape = shapes.get(i).filter(s -> Arrays.stream(s).allMatch(d -> d >= 0))
          .filter(s -> !Arrays.equals(s, part.exampleShape()));
      try {
        chosen.put(name, shape.map(part::withExampleShape).orElse(part));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + ", input '" + name + "': " + e.getMessage(), e);
      }
    }
    return new NamedInputs(chosen, source, explicit);
  }

  /** The per-example shapes, for messages. */
  List<String> shapes() {
    List<String> out = new ArrayList<>();
    parts.forEach((name, part) -> out.add(name + " " + Arrays.toString(part.exampleShape())));
    return out;
  }

  @Override
  public String toString() {
    return String.join(", ", shapes());
  }
}
