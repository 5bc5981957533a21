package org.wclust.api;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.wclust.internal.bridge.TfliteConverter;
import org.wclust.internal.bridge.TfliteExport;
import org.wclust.internal.bridge.TflmCompressor;

/**
 * A {@code .tflite} converted from the clustered SavedModel in the same run (with Python TensorFlow's
 * converter), written only together with the SavedModel: float, int8 or int8 per tensor, optionally
 * compressed into lookup tables for TensorFlow Lite Micro and verified in TFLM's interpreter.
 *
 * <pre>{@code
 * ClusterConfig config = ClusterConfig.builder().clusters(16)
 *     .tflite(TfliteOutput.to(Path.of("model.tflite")).compress(true).build()).build();
 * }</pre>
 */
public final class TfliteOutput {
  private final TfliteExport.Target target;

  private TfliteOutput(TfliteExport.Target target) {
    this.target = target;
  }

  /** A builder for a {@code .tflite} written to {@code file} by {@link ClusterConfig.Builder#tflite}. */
  public static Builder to(Path file) {
    return new Builder(file, false);
  }

  /**
   * A builder for a {@code .tflite} written by {@link Wclust#convert}: {@code file} may have any name and
   * {@link Builder#quantize} also takes {@code dynamic} (int8 weights, float activations).
   */
  public static Builder convertTo(Path file) {
    return new Builder(file, true);
  }

  /** The {@code .tflite} file written. */
  public Path file() {
    return target.file();
  }

  /** Whether the weights are quantized to int8 per output channel (which clustering should snap to). */
  public boolean int8PerChannel() {
    return target.quantization() == TfliteConverter.Quantization.INT8;
  }

  /** The JSON report written next to the {@code .tflite} (sizes, TFLM compression). */
  public Path reportFile() {
    return TfliteExport.reportFile(target.file());
  }

  /** The written file's bytes and zipped bytes. */
  public ClusterSummary.TfliteBytes measure() throws java.io.IOException {
    return ClusterSummary.TfliteBytes.of(org.wclust.internal.bridge.TfliteSize.of(target.file()));
  }

  /** Whether the converter quantizes the weights (any mode but {@code none}). */
  public boolean quantized() {
    return target.quantization() != TfliteConverter.Quantization.NONE;
  }

  /** Whether the {@code .tflite} is compressed into TFLM lookup tables. */
  public boolean compressed() {
    return target.compression() != null;
  }

  TfliteExport.Target target() {
    return target;
  }

  /**
   * Builds {@link TfliteOutput}.
   *
   * <pre>{@code
   * TfliteOutput.to(Path.of("m.tflite")).quantize("int8").representative(Path.of("x.npz"), 1 / 255.0).build();
   * }</pre>
   */
  public static final class Builder {
    private final Path file;
    private final boolean conversion;
    private String quantize = "none";
    private Path representative;
    private double scale = 1;
    private boolean compress;
    private boolean allowUncompressed;
    private int verifyInputs = 3;
    private long verifySeed;

    private Builder(Path file, boolean conversion) {
      this.file = file;
      this.conversion = conversion;
    }

    /**
     * {@code none} (float32, default), {@code int8} (per channel) or {@code int8-per-tensor}; with
     * {@link TfliteOutput#convertTo} also {@code dynamic}.
     */
    public Builder quantize(String mode) {
      quantize = mode;
      return this;
    }

    /** Representative inputs (an {@code .npz} with array {@code x}, times {@code scale}) for int8 and TFLM verification. */
    public Builder representative(Path npz, double scale) {
      this.representative = npz;
      this.scale = scale;
      return this;
    }

    /** Compress into TFLM lookup tables (needs PyPI {@code tflite-micro}) and verify in TFLM. */
    public Builder compress(boolean c) {
      compress = c;
      return this;
    }

    /** With {@link #compress}: write the plain .tflite when no weight gets smaller, instead of failing. */
    public Builder allowUncompressed(boolean a) {
      allowUncompressed = a;
      return this;
    }

    /** With {@link #compress}: inputs run through both models in TFLM (default 3). */
    public Builder verifyInputs(int n) {
      verifyInputs = n;
      return this;
    }

    /** With {@link #compress}: seed of random verification inputs (default 0). */
    public Builder verifySeed(long seed) {
      verifySeed = seed;
      return this;
    }

    /** The output; fails with an {@link IllegalArgumentException} naming a bad value. */
    public TfliteOutput build() {
      if (!conversion && !file.getFileName().toString().endsWith(".tflite")) {
        throw new IllegalArgumentException("--tflite must name a .tflite file: " + file);
      }
      TfliteConverter.Quantization quantization = TfliteConverter.Quantization.parse(quantize, conversion
          ? List.of(TfliteConverter.Quantization.values())
          : List.of(TfliteConverter.Quantization.NONE, TfliteConverter.Quantization.INT8,
              TfliteConverter.Quantization.INT8_PER_TENSOR));
      if (conversion && quantization.needsData() && representative == null) {
        throw new IllegalArgumentException("--quantize " + quantize + " needs --data FILE.npz (representative inputs)");
      }
      if (representative != null && !Files.isRegularFile(representative)) {
        throw new IllegalArgumentException("no such file: " + representative);
      }
      if (quantization.needsData() && representative == null) {
        throw new IllegalArgumentException("--quantize " + quantize + " needs representative inputs: "
            + "--representative FILE.npz (or --data FILE.npz)");
      }
      if (allowUncompressed && !compress) {
        throw new IllegalArgumentException("--allow-uncompressed needs --compress");
      }
      TflmCompressor.Options compression = compress
          ? new TflmCompressor.Options(verifyInputs, verifySeed, representative, (float) scale, allowUncompressed)
          : null;
      return new TfliteOutput(new TfliteExport.Target(file, quantization, representative, (float) scale, compression));
    }
  }
}
