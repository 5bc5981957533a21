package org.wclust.internal.data;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import java.util.Arrays;
import java.util.Optional;

/**
 * What to take from a data file and how to shape it. Immutable; start from {@link #defaults()} and
 * use the {@code with*} methods.
 *
 * <ul>
 *   <li>inputs: the {@code .npz} array (default {@code x}); a {@code .npy} file is the inputs itself.
 *   <li>labels: the {@code .npz} array (default {@code y}). The default is optional: a file without
 *       it gives an unlabelled dataset. A name given with {@link #withLabels(String)} is required.
 *   <li>TFRecord features: by default the feature keys are the input and label names; {@link
 *       #withFeatures(String)} maps roles to other keys, e.g. {@code x:image,y:label}. Labels are then
 *       required exactly when the spec names {@code y}.
 *   <li>scale: every input value is multiplied by it (e.g. 1/255 for uint8 images); default 1.
 *   <li>example shape: the shape the model expects per example (without the batch dimension), e.g.
 *       {@code [28, 28, 1]}. A file whose per-example shape differs but holds as many values (e.g.
 *       {@code [28, 28]}) is reshaped; any other difference fails. A negative dimension is unknown:
 *       such a shape only accepts files of the same rank that agree on the known dimensions.
 * </ul>
 */
public final class DataSpec {
  private static final DataSpec DEFAULTS = new DataSpec("x", "y", false, 1.0, null, null);

  private final String inputName;
  private final String labelName;
  private final boolean labelsRequired;
  private final double scale;
  private final FeatureSpec features;
  private final long[] exampleShape;
  private final boolean regression;
  // How the data is read; set only on a fresh copy before it is returned (see copyReading), so the
  // spec stays immutable to its users.
  private ImageOptions images = ImageOptions.defaults();
  private int shuffleBuffer;

  private DataSpec(String inputName, String labelName, boolean labelsRequired, double scale,
      FeatureSpec features, long[] exampleShape) {
    this(inputName, labelName, labelsRequired, scale, features, exampleShape, false);
  }

  private DataSpec(String inputName, String labelName, boolean labelsRequired, double scale,
      FeatureSpec features, long[] exampleShape, boolean regression) {
    this.regression = regression;
    this.inputName = inputName;
    this.labelName = labelName;
    this.labelsRequired = labelsRequired;
    this.scale = scale;
    this.features = features;
    this.exampleShape = exampleShape;
  }

  private DataSpec copyReading(DataSpec from) {
    this.images = from.images;
    this.shuffleBuffer = from.shuffleBuffer;
    return this;
  }

  /** Inputs {@code x}, optional labels {@code y}, scale 1, no expected shape. */
  public static DataSpec defaults() {
    return DEFAULTS;
  }

  public DataSpec withInputs(String name) {
    checkArgument(name != null && !name.isEmpty(), "the input array name is empty");
    return new DataSpec(name, labelName, labelsRequired, scale, features, exampleShape).copyReading(this);
  }

  /** Labels from this array, which must then be present. */
  public DataSpec withLabels(String name) {
    checkArgument(name != null && !name.isEmpty(), "the label array name is empty");
    return new DataSpec(inputName, name, true, scale, features, exampleShape).copyReading(this);
  }

  /** No labels, even if the file holds them. */
  public DataSpec withoutLabels() {
    return new DataSpec(inputName, null, false, scale, features, exampleShape).copyReading(this);
  }

  /**
   * The label array holds float regression targets of any per-example shape (read from {@code .npz}
   * files), not class indices; it is then required.
   */
  public DataSpec withRegressionTargets() {
    checkArgument(labelName != null, "regression targets need a label array name");
    return new DataSpec(inputName, labelName, true, scale, features, exampleShape, true).copyReading(this);
  }

  public boolean regression() {
    return regression;
  }

  public DataSpec withScale(double scale) {
    checkArgument(Double.isFinite(scale), "the input scale must be a finite number, got %s", scale);
    return new DataSpec(inputName, labelName, labelsRequired, scale, features, exampleShape).copyReading(this);
  }

  /** TFRecord feature keys, as {@code x:KEY[,y:KEY]}; see {@link FeatureSpec#parse(String)}. */
  public DataSpec withFeatures(String spec) {
    return withFeatures(FeatureSpec.parse(spec));
  }

  public DataSpec withFeatures(FeatureSpec spec) {
    return new DataSpec(inputName, labelName, labelsRequired, scale, checkNotNull(spec, "spec"), exampleShape)
        .copyReading(this);
  }

  /** The per-example shape the model expects (no batch dimension; negative = unknown). */
  public DataSpec withExampleShape(long... shape) {
    checkNotNull(shape, "shape");
    return new DataSpec(inputName, labelName, labelsRequired, scale, features, shape.clone()).copyReading(this);
  }

  /** How encoded images (class folders, TFRecords of images) are decoded, resized and normalized. */
  public DataSpec withImages(ImageOptions options) {
    DataSpec copy = new DataSpec(inputName, labelName, labelsRequired, scale, features, exampleShape, regression)
        .copyReading(this);
    copy.images = checkNotNull(options, "options");
    return copy;
  }

  public ImageOptions images() {
    return images;
  }

  /**
   * Examples are shuffled through a buffer of n (as {@code tf.data}'s {@code shuffle(n)}: each batch
   * draws from the next n examples in file order, so files are read nearly in order); 0 (default)
   * shuffles all examples at once.
   */
  public DataSpec withShuffleBuffer(int n) {
    checkArgument(n >= 0, "--shuffle-buffer must be >= 0, got %s", n);
    DataSpec copy = new DataSpec(inputName, labelName, labelsRequired, scale, features, exampleShape, regression)
        .copyReading(this);
    copy.shuffleBuffer = n;
    return copy;
  }

  public int shuffleBuffer() {
    return shuffleBuffer;
  }

  /** Whether the input array is the default one ({@code x}), not one the user chose. */
  public boolean inputsNamedByDefault() {
    return inputName.equals(DEFAULTS.inputName);
  }

  public String inputName() {
    return inputName;
  }

  /** The label array, or empty after {@link #withoutLabels()}. */
  public Optional<String> labelName() {
    return Optional.ofNullable(labelName);
  }

  /** Whether a file without the label array is an error. */
  public boolean labelsRequired() {
    return labelsRequired;
  }

  public double scale() {
    return scale;
  }

  /** The explicit TFRecord feature spec, if one was given. */
  public Optional<FeatureSpec> features() {
    return Optional.ofNullable(features);
  }

  /** The feature keys used for TFRecords: the explicit spec, else the input and label names. */
  public FeatureSpec effectiveFeatures() {
    return features != null ? features : new FeatureSpec(inputName, labelName());
  }

  /** Whether the TFRecord label feature must be present. */
  boolean featureLabelsRequired() {
    return features != null ? features.labelKey().isPresent() : labelsRequired;
  }

  public Optional<long[]> exampleShape() {
    return Optional.ofNullable(exampleShape).map(long[]::clone);
  }

  @Override
  public String toString() {
    return "DataSpec{inputs=" + inputName + ", labels=" + labelName + (labelsRequired ? " (required)" : "")
        + ", scale=" + scale + (features == null ? "" : ", features=" + features)
        + (exampleShape == null ? "" : ", exampleShape=" + Arrays.toString(exampleShape)) + "}";
  }
}
