package org.wclust.internal.cluster;

import com.google.common.collect.ImmutableMap;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.wclust.internal.graph.WeightTensor;

/**
 * Which weights to cluster and into how many clusters: {@code --clusters K} for every clusterable
 * weight (optionally only those whose name matches {@code --layers REGEX}), and/or a JSON config
 * mapping weight-name regexes to a number of clusters ({@code {"conv2d.*": 16, "dense/kernel": 8}}).
 * The config wins over {@code --clusters} where both apply. Every regex must match a clusterable
 * weight, so a typo is an error instead of a silently unclustered model.
 */
public final class ClusterPlan {
  private final OptionalInt clusters;
  private final Pattern layers;
  private final ImmutableMap<String, Integer> config;

  private ClusterPlan(OptionalInt clusters, Pattern layers, Map<String, Integer> config) {
    this.clusters = clusters;
    this.layers = layers;
    this.config = ImmutableMap.copyOf(config);
  }

  /**
   * @param clusters k for every selected weight, or empty to cluster only what the config names
   * @param layersRegex a regex searched in weight names, or null for all
   * @param configFile a JSON object {regex: k}, or null
   */
  public static ClusterPlan of(OptionalInt clusters, String layersRegex, Path configFile) {
    Pattern layers = checkedLayers(clusters, layersRegex);
    Map<String, Integer> config = configFile == null ? Map.of() : readConfig(configFile);
    return of(clusters, layers, config);
  }

  private static Pattern checkedLayers(OptionalInt clusters, String layersRegex) {
    if (clusters.isPresent()) {
      checkK(clusters.getAsInt(), "--clusters");
    }
    if (layersRegex == null) {
      return null;
    }
    try {
      return Pattern.compile(layersRegex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("--layers is not a valid regex: " + e.getDescription());
    }
  }

  /**
   * As {@link #of(OptionalInt, String, Path)} with the config given as a map {regex: k} (checked as a
   * config file's entries are).
   */
  public static ClusterPlan ofMap(OptionalInt clusters, String layersRegex, Map<String, Integer> config) {
    Pattern layers = checkedLayers(clusters, layersRegex);
    Map<String, Integer> checked = new LinkedHashMap<>();
    config.forEach((regex, k) -> {
      checkK(k, "config entry '" + regex + "'");
      try {
        Pattern.compile(regex);
      } catch (PatternSyntaxException ex) {
        throw new IllegalArgumentException("config entry '" + regex + "' is not a valid regex");
      }
      checked.put(regex, k);
    });
    return of(clusters, layers, checked);
  }

  private static ClusterPlan of(OptionalInt clusters, Pattern layers, Map<String, Integer> config) {
    if (clusters.isEmpty() && config.isEmpty()) {
      throw new IllegalArgumentException("give --clusters K or a --config file");
    }
    return new ClusterPlan(clusters, layers, config);
  }

  /** The number of clusters per weight name, for the clusterable weights this plan selects. */
  public Map<String, Integer> resolve(List<WeightTensor> weights) {
    Map<String, Integer> plan = new LinkedHashMap<>();
    List<WeightTensor> clusterable = weights.stream().filter(WeightTensor::clusterable).toList();
    if (clusters.isPresent()) {
      for (WeightTensor w : clusterable) {
        if (layers == null || layers.matcher(w.name()).find()) {
          plan.put(w.name(), clusters.getAsInt());
        }
      }
      if (layers != null && plan.isEmpty()) {
        throw new IllegalArgumentException("--layers '" + layers.pattern()
            + "' matches no clusterable layer; clusterable: " + names(clusterable));
      }
    }
    config.forEach((regex, k) -> {
      Pattern p = Pattern.compile(regex);
      boolean matched = false;
      for (WeightTensor w : clusterable) {
        if (p.matcher(w.name()).find()) {
          plan.put(w.name(), k);
          matched = true;
        }
      }
      if (!matched) {
        throw new IllegalArgumentException("config entry '" + regex
            + "' matches no clusterable layer; clusterable: " + names(clusterable));
      }
    });
    if (plan.isEmpty()) {
      throw new IllegalArgumentException("the model has no clusterable weights");
    }
    return plan;
  }

  private static String names(List<WeightTensor> weights) {
    return weights.isEmpty() ? "(none)" : String.join(", ", weights.stream().map(WeightTensor::name).toList());
  }

  private static void checkK(int k, String what) {
    if (k < 2) {
      throw new IllegalArgumentException(what + " must be at least 2, got " + k);
    }
  }

  private static Map<String, Integer> readConfig(Path file) {
    JsonObject root;
    try {
      JsonElement parsed = JsonParser.parseString(Files.readString(file));
      if (!parsed.isJsonObject()) {
        throw new IllegalArgumentException("config " + file + " must be a JSON object {\"regex\": k}");
      }
      root = parsed.getAsJsonObject();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read config " + file + ": " + e.getMessage());
    } catch (JsonParseException e) {
      throw new IllegalArgumentException("config " + file + " is not valid JSON: " + e.getMessage());
    }
    Map<String, Integer> config = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : root.entrySet()) {
      JsonElement v = e.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isNumber()) {
        throw new IllegalArgumentException("config entry '" + e.getKey() + "' must be a number of clusters");
      }
      int k;
      try {
        k = v.getAsJsonPrimitive().getAsBigDecimal().intValueExact();
      } catch (ArithmeticException ex) {
        throw new IllegalArgumentException("config entry '" + e.getKey()
            + "' must be a whole number of clusters, got " + v);
      }
      checkK(k, "config entry '" + e.getKey() + "'");
      try {
        Pattern.compile(e.getKey());
      } catch (PatternSyntaxException ex) {
        throw new IllegalArgumentException("config entry '" + e.getKey() + "' is not a valid regex");
      }
      config.put(e.getKey(), k);
    }
    return config;
  }
}
