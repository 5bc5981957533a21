package org.wclust.internal.load.keras.layers;

import com.google.common.collect.ImmutableSortedMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;

/**
 * The Keras layer classes wclust builds, by class name. Each entry has a parity test against real
 * Keras output (integration-tests {@code KerasParityTest}); a class not listed is an error naming the
 * layer and its class.
 */
public final class LayerRegistry {
  private static final ImmutableSortedMap<String, LayerBuilder> BUILDERS;

  static {
    Map<String, LayerBuilder> map = new HashMap<>();
    Core.register(map);
    Activations.register(map);
    ConvLayers.register(map);
    Normalization.register(map);
    Pooling.register(map);
    Merge.register(map);
    ShapeLayers.register(map);
    Attention.register(map);
    Recurrent.register(map);
    BUILDERS = ImmutableSortedMap.copyOf(map);
  }

  private LayerRegistry() {}

  public static Optional<LayerBuilder> get(String className) {
    return Optional.ofNullable(BUILDERS.get(className));
  }

  public static boolean isSupported(String className) {
    return className.equals("InputLayer") || BUILDERS.containsKey(className);
  }

  /** Every supported layer class (InputLayer and nested Sequential/functional models besides). */
  public static SortedSet<String> supported() {
    return BUILDERS.keySet();
  }
}
