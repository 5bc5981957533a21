package org.wclust.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The real-data acceptance fixture: Fashion-MNIST (from the Debian package {@code dataset-fashion-mnist},
 * installed by {@code scripts/setup-data.sh}) as .npz files, and a small Keras CNN trained on it, made
 * once per build by {@code make_fashion_mnist.py} into {@code target/fashion-mnist} (about a minute).
 *
 * <p>The .npz files hold raw uint8 pixels ({@code x}, [N, 28, 28, 1]) and int64 labels ({@code y});
 * the model takes float32 pixels in [0, 1] under the signature input {@link #inputKey()}, so inputs are
 * multiplied by {@link #SCALE} (wclust's {@code --scale}). Its output {@link #outputKey()} is class
 * probabilities (softmax). {@link #accuracy} is the independent Python check of an accuracy.
 */
final class FashionMnist {
  /** The input scale of the model: pixel / 255. */
  static final double SCALE = 1.0 / 255.0;
  static final String SIGNATURE = "serving_default";
  private static final Path DIR = Path.of("target/fashion-mnist").toAbsolutePath();
  private static JsonObject manifest;

  private FashionMnist() {}

  /** The fixture directory, made on first use (by this or an earlier test run). */
  static synchronized Path dir() {
    if (manifest == null) {
      try {
        if (!Files.exists(DIR.resolve("manifest.json"))) {
          Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_fashion_mnist.py").toString(), DIR.toString());
        }
        manifest = JsonParser.parseString(Files.readString(DIR.resolve("manifest.json"))).getAsJsonObject();
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("cannot make the Fashion-MNIST fixture", e);
      }
    }
    return DIR;
  }

  /** {@code manifest.json}: accuracy, signature keys and shapes, training time, epochs, seed. */
  static synchronized JsonObject manifest() {
    dir();
    return manifest.deepCopy();
  }

  /** The trained CNN, a SavedModel exported by Keras {@code model.export()}. */
  static Path model() {
    return dir().resolve("model");
  }

  /** 60,000 training images and labels. */
  static Path train() {
    return dir().resolve("train.npz");
  }

  /** 10,000 test images and labels. */
  static Path test() {
    return dir().resolve("test.npz");
  }

  /** The 60,000 training images without labels ({@code x} only), for distillation. */
  static Path trainImages() {
    return dir().resolve("train_images.npz");
  }

  /** Test accuracy of the trained model as measured by Keras {@code model.evaluate}. */
  static double kerasAccuracy() {
    return manifest().get("keras_test_accuracy").getAsDouble();
  }

  static String inputKey() {
    return manifest().get("input_key").getAsString();
  }

  static String outputKey() {
    return manifest().get("output_key").getAsString();
  }

  /**
   * Top-1 accuracy of a SavedModel directory or a .tflite file on an .npz with {@code x} and {@code y},
   * inputs multiplied by {@code scale}, computed by Python TensorFlow ({@code evaluate_accuracy.py}).
   */
  static double accuracy(Path modelOrTflite, Path npz, double scale) {
    JsonObject result = runJson(Fixtures.PYTHON_DIR.resolve("evaluate_accuracy.py").toString(),
        modelOrTflite.toAbsolutePath().toString(), npz.toAbsolutePath().toString(), "--scale", Double.toString(scale));
    return result.get("accuracy").getAsDouble();
  }

  /** An array's header in an .npz: numpy dtype descriptor (e.g. {@code |u1}, {@code <i8}) and shape. */
  record NpyArray(String descr, long[] shape) {}

  /** The arrays of an (uncompressed or compressed) .npz file by name, read from their .npy headers. */
  static Map<String, NpyArray> arrays(Path npz) throws IOException {
    Map<String, NpyArray> out = new LinkedHashMap<>();
    try (ZipFile zip = new ZipFile(npz.toFile())) {
      for (ZipEntry e : java.util.Collections.list(zip.entries())) {
        try (DataInputStream in = new DataInputStream(zip.getInputStream(e))) {
          out.put(e.getName().replaceFirst("\\.npy$", ""), readHeader(in, npz + ":" + e.getName()));
        }
      }
    }
    return out;
  }

  /** The values of an int64 array of an .npz (e.g. the labels {@code y}). */
  static long[] longs(Path npz, String name) throws IOException {
    try (ZipFile zip = new ZipFile(npz.toFile())) {
      ZipEntry e = zip.getEntry(name + ".npy");
      if (e == null) {
        throw new IOException(npz + " has no array " + name);
      }
      try (DataInputStream in = new DataInputStream(zip.getInputStream(e))) {
        NpyArray header = readHeader(in, npz + ":" + name);
        if (!header.descr().equals("<i8") || header.shape().length != 1) {
          throw new IOException(npz + ":" + name + " is " + header.descr() + " of rank " + header.shape().length
              + ", expected a vector of <i8");
        }
        ByteBuffer data = ByteBuffer.wrap(in.readNBytes(Math.toIntExact(header.shape()[0] * 8)))
            .order(ByteOrder.LITTLE_ENDIAN);
        long[] values = new long[(int) header.shape()[0]];
        data.asLongBuffer().get(values);
        return values;
      }
    }
  }

  private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
  private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

  private static NpyArray readHeader(DataInputStream in, String what) throws IOException {
    byte[] magic = in.readNBytes(6);
    if (magic.length != 6 || (magic[0] & 0xff) != 0x93 || !new String(magic, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
      throw new IOException(what + " is not an .npy array");
    }
    int major = in.readUnsignedByte();
    in.readUnsignedByte();
    int length = major == 1
        ? Short.toUnsignedInt(Short.reverseBytes(in.readShort()))
        : Integer.reverseBytes(in.readInt());
    String header = new String(in.readNBytes(length), StandardCharsets.ISO_8859_1);
    Matcher descr = DESCR.matcher(header);
    Matcher shape = SHAPE.matcher(header);
    if (!descr.find() || !shape.find() || header.contains("'fortran_order': True")) {
      throw new IOException(what + ": unsupported .npy header " + header.strip());
    }
    List<Long> dims = new ArrayList<>();
    for (String d : shape.group(1).split(",")) {
      if (!d.isBlank()) {
        dims.add(Long.parseLong(d.strip()));
      }
    }
    return new NpyArray(descr.group(1), dims.stream().mapToLong(Long::longValue).toArray());
  }

  /** Runs a Python script of the project's virtualenv and parses the last line of its stdout as JSON. */
  private static JsonObject runJson(String... args) {
    try {
      List<String> command = new ArrayList<>(List.of(Fixtures.python().python().toString()));
      command.addAll(List.of(args));
      Path err = Files.createTempFile("wclust-python", ".err");
      try {
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(err.toFile());
        pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "3");
        Process p = pb.start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (InputStream in = p.getInputStream()) {
          in.transferTo(out);
        }
        String stdout = out.toString(StandardCharsets.UTF_8).strip();
        if (p.waitFor() != 0) {
          throw new IllegalStateException("python " + String.join(" ", args) + " failed:\n" + stdout + "\n"
              + Files.readString(err));
        }
        String[] lines = stdout.split("\n");
        return JsonParser.parseString(lines[lines.length - 1]).getAsJsonObject();
      } finally {
        Files.deleteIfExists(err);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run python " + String.join(" ", args), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted: python " + String.join(" ", args), e);
    }
  }
}
