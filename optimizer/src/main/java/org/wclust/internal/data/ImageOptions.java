package org.wclust.internal.data;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.common.collect.ImmutableList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How encoded images (class folders, TFRecords of encoded images) become model inputs.
 *
 * @param height the height to resize to, or 0: the model input's (else the first image's)
 * @param width the width to resize to, or 0 (as height)
 * @param resize the resize method
 * @param scale every pixel (0..255) is multiplied by it, e.g. 1/255
 * @param mean subtracted after scaling: one value, or one per channel; empty for none
 * @param std divided by after subtracting the mean: one value, or one per channel; empty for none
 * @param classNames the class folders in label order; empty: all sub-folders in sorted order
 * @param strict whether a file that is not a readable image (or an empty class folder) is an error
 *     rather than skipped with a count
 */
public record ImageOptions(int height, int width, Resize resize, double scale, float[] mean, float[] std,
    ImmutableList<String> classNames, boolean strict) {

  /** How images are resized to the model's input size. */
  public enum Resize {
    /** {@code ResizeBilinear} with half-pixel centres, as {@code tf.image.resize} and Keras. */
    BILINEAR,
    /** {@code ResizeArea}: averages the source pixels each output pixel covers (good for shrinking). */
    AREA;

    public static Resize parse(String name) {
      return switch (name.toLowerCase(Locale.ROOT)) {
        case "bilinear" -> BILINEAR;
        case "area" -> AREA;
        default -> throw new IllegalArgumentException(
            "unknown resize method '" + name + "'; expected bilinear or area");
      };
    }
  }

  private static final ImageOptions DEFAULTS =
      new ImageOptions(0, 0, Resize.BILINEAR, 1.0, new float[0], new float[0], ImmutableList.of(), false);

  public ImageOptions {
    checkArgument(height >= 0 && width >= 0 && (height == 0) == (width == 0),
        "bad image size %sx%s: give both height and width, each >= 1", height, width);
    checkArgument(Double.isFinite(scale), "the input scale must be a finite number, got %s", scale);
    mean = mean.clone();
    std = std.clone();
    for (float s : std) {
      checkArgument(s != 0 && Float.isFinite(s), "--std values must be finite and non-zero, got %s",
          Arrays.toString(std));
    }
  }

  /** Size from the model, bilinear, no scaling or normalization, all class folders, lenient. */
  public static ImageOptions defaults() {
    return DEFAULTS;
  }

  /** Parses {@code H,W} (e.g. {@code 224,224}). */
  public ImageOptions withSize(String hw) {
    int[] v = parseInts(hw, "--image-size", "H,W such as 224,224");
    checkArgument(v.length == 2 && v[0] > 0 && v[1] > 0, "bad --image-size '%s': expected H,W such as 224,224", hw);
    return new ImageOptions(v[0], v[1], resize, scale, mean, std, classNames, strict);
  }

  public ImageOptions withResize(Resize r) {
    return new ImageOptions(height, width, r, scale, mean, std, classNames, strict);
  }

  public ImageOptions withScale(double s) {
    return new ImageOptions(height, width, resize, s, mean, std, classNames, strict);
  }

  /** Per-channel (or one) mean and std, each written {@code V[,V...]}; null leaves it unset. */
  public ImageOptions withNormalization(String meanValues, String stdValues) {
    return new ImageOptions(height, width, resize, scale,
        meanValues == null ? mean : parseFloats(meanValues, "--mean"),
        stdValues == null ? std : parseFloats(stdValues, "--std"), classNames, strict);
  }

  /** The class folders, in label order, written {@code NAME[,NAME...]}. */
  public ImageOptions withClassNames(List<String> names) {
    checkArgument(names.stream().noneMatch(String::isEmpty), "--class-names has an empty name");
    checkArgument(names.stream().distinct().count() == names.size(), "--class-names names a class twice: %s", names);
    return new ImageOptions(height, width, resize, scale, mean, std, ImmutableList.copyOf(names), strict);
  }

  public ImageOptions withStrict(boolean s) {
    return new ImageOptions(height, width, resize, scale, mean, std, classNames, s);
  }

  /** The values of {@code mean} or {@code std} for c channels: one value repeated, or one per channel. */
  float[] channelValues(float[] values, int c) {
    if (values.length == c) {
      return values.clone();
    }
    checkArgument(values.length == 1, "--mean/--std give %s values but the images have %s channels",
        values.length, c);
    float[] out = new float[c];
    Arrays.fill(out, values[0]);
    return out;
  }

  @Override
  public float[] mean() {
    return mean.clone();
  }

  @Override
  public float[] std() {
    return std.clone();
  }

  private static int[] parseInts(String text, String option, String expected) {
    try {
      return Arrays.stream(text.split(",", -1)).map(String::strip).mapToInt(Integer::parseInt).toArray();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad " + option + " '" + text + "': expected " + expected);
    }
  }

  private static float[] parseFloats(String text, String option) {
    String[] parts = text.split(",", -1);
    float[] out = new float[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        out[i] = Float.parseFloat(parts[i].strip());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "bad " + option + " '" + text + "': expected numbers such as 0.485,0.456,0.406");
      }
      checkArgument(Float.isFinite(out[i]), "bad %s '%s': values must be finite", option, text);
    }
    return out;
  }
}
