package org.wclust.internal.bridge;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A {@code FILE.tflite} and its report {@code FILE.tflite.json}, made from a SavedModel by the TFLite
 * converter (or taken from an existing .tflite) and, when asked, LUT-compressed for TensorFlow Lite
 * Micro and verified there ({@link TflmCompressor}). Both files are prepared in a hidden sibling
 * directory under their final names (a zip size depends on the entry name) and appear only on
 * {@link #commit()}; closing without it deletes them, so a failure leaves nothing half-written.
 */
public final class TfliteExport implements AutoCloseable {
  /**
   * What to write.
   *
   * @param file the .tflite to write (an existing one is replaced on commit)
   * @param quantization by the converter
   * @param data representative inputs for {@link TfliteConverter.Quantization#INT8} (an .npz with an
   *     array {@code x}, times {@code dataScale}); also the inputs that verify the compression
   * @param compression null to write the converted model, else how to compress and verify it
   */
  public record Target(Path file, TfliteConverter.Quantization quantization, Path data, float dataScale,
      TflmCompressor.Options compression) {}

  private final Path target;
  private final Path staging;
  private final Path staged;
  private final JsonObject report;
  private final TfliteSize size;
  private final TflmCompressor.Result compression;
  private boolean committed;

  private TfliteExport(Path target, Path staging, Path staged, JsonObject report, TfliteSize size,
      TflmCompressor.Result compression) {
    this.target = target;
    this.staging = staging;
    this.staged = staged;
    this.report = report;
    this.size = size;
    this.compression = compression;
  }

  /** Converts {@code savedModel} (signature {@code signature}) and compresses it if the target asks. */
  public static TfliteExport fromSavedModel(PythonTensorFlow python, Path savedModel, String signature,
      Target target) throws IOException {
    Path staging = stagingDirectory(target.file());
    try {
      Path converted = staging.resolve("converted").resolve(target.file().getFileName());
      new TfliteConverter(python).convert(savedModel, signature, converted, target.quantization(),
          target.data(), target.dataScale());
      return finish(python, converted, staging, target, true);
    } catch (IOException | RuntimeException e) {
      AtomicOutputDirectory.deleteRecursively(staging);
      throw e;
    }
  }

  /** Compresses an existing .tflite (the target's quantization is ignored: the file is what it is). */
  public static TfliteExport fromTflite(PythonTensorFlow python, Path tflite, Target target) throws IOException {
    Path staging = stagingDirectory(target.file());
    try {
      Path copy = staging.resolve("converted").resolve(target.file().getFileName());
      Files.createDirectories(copy.getParent());
      Files.copy(tflite, copy);
      return finish(python, copy, staging, target, false);
    } catch (IOException | RuntimeException e) {
      AtomicOutputDirectory.deleteRecursively(staging);
      throw e;
    }
  }

  private static Path stagingDirectory(Path file) throws IOException {
    Path absolute = file.toAbsolutePath().normalize();
    Files.createDirectories(absolute.getParent());
    return Files.createTempDirectory(absolute.getParent(), "." + absolute.getFileName() + ".partial-");
  }

  /**
   * {@code converted}: whether the converter made the file (then the report names a quantization other
   * than none; a plain conversion's report stays {@code {"tflite_bytes", "zipped_tflite_bytes"}}).
   */
  private static TfliteExport finish(PythonTensorFlow python, Path model, Path staging, Target target,
      boolean converted) throws IOException {
    Path staged = staging.resolve(target.file().getFileName());
    JsonObject report = new JsonObject();
    TflmCompressor.Result compression = null;
    if (target.compression() == null) {
      Files.move(model, staged);
    } else {
      TfliteSize plain = TfliteSize.of(model);
      compression = new TflmCompressor(python).compress(model, staged, target.compression());
      report.add("uncompressed", plain.toJson());
    }
    TfliteSize size = TfliteSize.of(staged);
    JsonObject sizes = size.toJson();
    sizes.entrySet().forEach(e -> report.add(e.getKey(), e.getValue()));
    if (converted && target.quantization() != TfliteConverter.Quantization.NONE) {
      report.addProperty("quantize", target.quantization().cliName());
    }
    if (compression != null) {
      report.add("compression", compression.toJson());
    }
    // Keys in a stable order: the written file's sizes first.
    JsonObject ordered = new JsonObject();
    for (String key : new String[] {"tflite_bytes", "zipped_tflite_bytes", "quantize", "uncompressed",
        "compression"}) {
      if (report.has(key)) {
        ordered.add(key, report.get(key));
      }
    }
    return new TfliteExport(target.file().toAbsolutePath().normalize(), staging, staged, ordered, size,
        compression);
  }

  /** The content of {@code FILE.tflite.json}: sizes of the written file, and of the uncompressed one. */
  public JsonObject report() {
    return report.deepCopy();
  }

  /** The written file's sizes. */
  public TfliteSize size() {
    return size;
  }

  /** What compression did, or null when the target did not ask for it. */
  public TflmCompressor.Result compression() {
    return compression;
  }

  /** The report file beside a .tflite. */
  public static Path reportFile(Path tflite) {
    return tflite.resolveSibling(tflite.getFileName() + ".json");
  }

  /** Moves the .tflite and its report into place. */
  public void commit() throws IOException {
    Path json = staging.resolve(reportFile(staged).getFileName());
    Files.writeString(json, new GsonBuilder().setPrettyPrinting().create().toJson(report) + "\n");
    Files.move(staged, target, StandardCopyOption.REPLACE_EXISTING);
    Files.move(json, reportFile(target), StandardCopyOption.REPLACE_EXISTING);
    committed = true;
    AtomicOutputDirectory.deleteRecursively(staging);
  }

  @Override
  public void close() {
    if (!committed) {
      AtomicOutputDirectory.deleteRecursively(staging);
    }
  }
}
