package org.wclust.internal.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.internal.data.DataSpec;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.DatasetLoader;
import org.wclust.internal.data.GraphInput;
import org.wclust.internal.data.ImageFileInput;
import org.wclust.internal.data.ImageOptions;
import org.wclust.internal.data.RecordInput;
import org.wclust.internal.data.TestFiles;
import org.wclust.internal.distribute.GraphReplicas;
import org.wclust.internal.distribute.WorkerCluster;

/**
 * A replica's input read on its worker: the replica's model input is computed from placeholders that
 * say where the examples are (image file paths; TFRecord files, offsets and lengths) by reading and
 * decoding ops that all carry the worker's device, and it yields exactly the pixels that this
 * process's own reading gives for the same examples.
 */
class ReplicaInputTest {
  private static final int CAPACITY = 4;
  private static final String MODEL_INPUT = "replica_1/x";
  /** Fed for byte ranges: the paths, and offsets, lengths and footers. */
  private static final Map<DataType, Long> RANGES = Map.of(DataType.DT_STRING, 1L, DataType.DT_INT64, 3L);
  private static final DataSpec SPEC = DataSpec.defaults().withScale(1 / 255.0)
      .withImages(ImageOptions.defaults().withNormalization("0.5", "0.25"));

  @TempDir Path tmp;

  @Test
  void imageFilesAreReadFromTheirPathsOnTheWorkerAndDecodedAsHere() throws IOException {
    Dataset data = DatasetLoader.load(imageFolder(), SPEC).withExampleShape(new long[] {6, 5, 1});
    GraphInput files = GraphInput.of(data).orElseThrow();
    assertTrue(files instanceof ImageFileInput);
    GraphDef def = readsOnTheWorkerAsHere(data, files, Map.of(DataType.DT_STRING, 1L));
    assertEquals(CAPACITY, count(def, "ReadFile"), "one file read per example");
    assertEquals(CAPACITY, count(def, "DecodeImage"), "decoded on the worker");
  }

  @Test
  void tfRecordsAreReadByOffsetOnTheWorkerAndDecodedAsHere() throws IOException {
    // the same PNGs as TFRecords of {image, label}, in two shards
    List<byte[]> pngs = pngs();
    Path shards = Files.createDirectories(tmp.resolve("shards"));
    for (int s = 0; s < 2; s++) {
      List<byte[]> records = new ArrayList<>();
      for (int i = s * 3; i < s * 3 + 3; i++) {
        records.add(TestFiles.example("label", TestFiles.int64s(i % 2), "image", TestFiles.bytes(pngs.get(i))));
      }
      TestFiles.tfrecord(shards.resolve("part-" + s + ".tfrecord"), records);
    }
    Dataset data = DatasetLoader.load(shards, SPEC.withFeatures("x:image,y:label")).withExampleShape(new long[] {6, 5, 1});
    GraphInput records = GraphInput.of(data).orElseThrow();
    assertTrue(records instanceof RecordInput);
    GraphDef def = readsOnTheWorkerAsHere(data, records, RANGES);
    // shards: each record read from its file by range
    assertEquals(CAPACITY, count(def, "FixedLengthRecordDatasetV2"), "one byte range read per example");
    assertEquals(CAPACITY, count(def, "ParseSingleExample"));
    assertEquals(CAPACITY, count(def, "DecodeImage"), "decoded on the worker");
    assertEquals(0, count(def, "ReadFile"), "no whole file is read");
  }

  @Test
  void uncompressedArraysAreReadByRowOnTheWorkerAsHere() throws IOException {
    Random random = new Random(5);
    long[] shape = {6, 6, 5, 1};
    float[] f = new float[180];
    double[] d = new double[180];
    int[] u = new int[180];
    for (int i = 0; i < 180; i++) {
      f[i] = random.nextFloat() * 300 - 20;
      d[i] = random.nextDouble() * 300 - 20;
      u[i] = random.nextInt(256);
    }
    byte[] y = TestFiles.npy(1, "<i8", false, new long[] {6}, TestFiles.i8(0, 1, 0, 1, 0, 1));
    List<Path> files = List.of(
        TestFiles.zip(tmp.resolve("f4.npz"), false, Map.of("x.npy", TestFiles.npy(1, "<f4", false, shape,
            TestFiles.f4(f)), "y.npy", y)),
        TestFiles.zip(tmp.resolve("f8.npz"), false, Map.of("y.npy", y, "x.npy", TestFiles.npy(1, "<f8", false, shape,
            TestFiles.f8(d)))),
        TestFiles.write(tmp.resolve("u1.npy"), TestFiles.npy(1, "|u1", false, shape, TestFiles.u1(u))));
    for (Path file : files) {
      DataSpec spec = file.toString().endsWith(".npy") ? DataSpec.defaults().withoutLabels() : DataSpec.defaults();
      Dataset data = DatasetLoader.load(file, spec.withScale(1 / 255.0));
      assertTrue(GraphInput.of(data).orElseThrow() instanceof RecordInput, file.toString());
      GraphDef def = readsOnTheWorkerAsHere(data, GraphInput.of(data).orElseThrow(), RANGES);
      assertEquals(CAPACITY, count(def, "DecodeRaw"), file.toString());
      // one small file: read once into the worker's memory, each row cut out of it
      assertEquals(1, count(def, "ReadFile"), file.toString());
      assertEquals(CAPACITY, count(def, "Substr"), file.toString());
      assertEquals(0, count(def, "FixedLengthRecordDatasetV2"), file.toString());
      // a validation split keeps its rows' place in the file
      Dataset tail = data.slice(2, 6);
      assertArrayEquals(data.batchInputs(new int[] {3}).toFloats(), local(tail, new int[] {1}), file.toString());
    }
  }

  @Test
  void tfRecordFeaturesAreReadByOffsetOnTheWorkerAsHere() throws IOException {
    Random random = new Random(7);
    List<byte[]> floats = new ArrayList<>();
    List<byte[]> ints = new ArrayList<>();
    List<byte[]> raw = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      float[] f = new float[30];
      long[] l = new long[30];
      byte[] b = new byte[30];
      for (int j = 0; j < 30; j++) {
        f[j] = random.nextFloat() * 7 - 3;
        l[j] = random.nextInt(1000) - 500;
        b[j] = (byte) random.nextInt(256);
      }
      floats.add(TestFiles.example("x", TestFiles.floats(f), "y", TestFiles.int64s(i % 2)));
      ints.add(TestFiles.example("x", TestFiles.int64s(l), "y", TestFiles.int64s(i % 2)));
      raw.add(TestFiles.example("y", TestFiles.int64s(i % 2), "x", TestFiles.bytes(b)));
    }
    for (Path file : List.of(TestFiles.tfrecord(tmp.resolve("floats.tfrecord"), floats),
        TestFiles.tfrecord(tmp.resolve("ints.tfrecord"), ints), TestFiles.tfrecord(tmp.resolve("raw.tfrecord"), raw))) {
      Dataset data = DatasetLoader.load(file, DataSpec.defaults().withScale(0.1)).withExampleShape(new long[] {6, 5, 1});
      assertTrue(GraphInput.of(data).orElseThrow() instanceof RecordInput, file.toString());
      GraphDef def = readsOnTheWorkerAsHere(data, GraphInput.of(data).orElseThrow(), RANGES);
      assertEquals(CAPACITY, count(def, "ParseSingleExample"), file.toString());
      assertEquals(CAPACITY, count(def, "Substr"), file.toString());
    }
  }

  @Test
  void dataNotInAFileOrNotReachableByOffsetIsReadByTheChief() throws IOException {
    Dataset arrays = Dataset.of(new long[] {2, 2, 1}, new float[8], new int[] {0, 1});
    assertTrue(GraphInput.of(arrays).isEmpty());
    long[] shape = {2, 2, 1};
    byte[] y = TestFiles.npy(1, "<i8", false, new long[] {2}, TestFiles.i8(0, 1));
    // np.savez_compressed: deflated entries; int8 has no DecodeRaw type
    Path compressed = TestFiles.zip(tmp.resolve("compressed.npz"), true, Map.of("x.npy",
        TestFiles.npy(1, "<f4", false, shape, TestFiles.f4(1, 2, 3, 4, 5, 6, 7, 8)), "y.npy", y));
    Path int8 = TestFiles.zip(tmp.resolve("int8.npz"), false, Map.of("x.npy",
        TestFiles.npy(1, "|i1", false, shape, TestFiles.u1(1, 2, 3, 4, 5, 6, 7, 8)), "y.npy", y));
    for (Path file : List.of(compressed, int8)) {
      Dataset data = DatasetLoader.load(file, DataSpec.defaults());
      assertEquals(2, data.size());
      assertTrue(GraphInput.of(data).isEmpty(), file.toString());
    }
    // GZIP-compressed records cannot be reached by offset
    Path gz = TestFiles.tfrecord(tmp.resolve("images.tfrecord.gz"), List.of(
        TestFiles.example("label", TestFiles.int64s(0), "image", TestFiles.bytes(pngs().get(0)))));
    Dataset gzipped = DatasetLoader.load(gz, SPEC.withFeatures("x:image,y:label"));
    assertEquals(1, gzipped.size());
    assertTrue(GraphInput.of(gzipped).isEmpty());
  }

  /**
   * Builds replica 1's input from {@code input} into a graph with a stand-in for the replica's model,
   * checks what is fed (placeholders by dtype: count, besides the int32 count) and that every reading
   * op is on task 1, then runs it here (devices dropped) on a slice of 3 examples padded to 4: the
   * model sees this process's values of those examples, exactly.
   */
  private static GraphDef readsOnTheWorkerAsHere(Dataset data, GraphInput input, Map<DataType, Long> fed) {
    GraphDef def;
    ReplicaInput replica;
    long[] shape = data.exampleShape();
    try (Graph g = new Graph()) {
      Ops model = Ops.create(g).withSubScope("replica_1");
      long[] batch = new long[shape.length + 1];
      batch[0] = -1;
      System.arraycopy(shape, 0, batch, 1, shape.length);
      Placeholder<TFloat32> x = model.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(batch)));
      model.withName("y").math.mul(x, model.constant(2f));
      replica = ReplicaInput.add(g, 1, DeviceSpec.newBuilder().job(WorkerCluster.JOB).replica(0).task(1).build(),
          input, CAPACITY);
      def = GraphReplicas.inputsFrom(g.toGraphDef(), Map.of(MODEL_INPUT, replica.values()));
    }
    NodeDef in = def.getNodeList().stream().filter(n -> n.getName().equals(MODEL_INPUT)).findFirst().orElseThrow();
    assertEquals("Identity", in.getOp());
    assertEquals(replica.values().replace(":0", ""), in.getInput(0));
    // what is fed: where the examples are and their count, nothing of the values
    Map<String, DataType> placeholders = def.getNodeList().stream().filter(n -> n.getOp().equals("Placeholder"))
        .collect(Collectors.toMap(NodeDef::getName, n -> n.getAttrOrThrow("dtype").getType()));
    assertEquals(DataType.DT_INT32, placeholders.remove(op(replica.count())));
    assertEquals(fed, placeholders.values().stream().collect(Collectors.groupingBy(t -> t, Collectors.counting())));
    assertEquals(placeholders.keySet(), replica.fed().stream().map(ReplicaInputTest::op).collect(Collectors.toSet()));
    for (NodeDef n : def.getNodeList()) {
      if (n.getName().startsWith("replica_1_input/")) {
        assertEquals(WorkerCluster.device(1), n.getDevice(), n.getName());
      }
    }
    float[] expected = data.batchInputs(new int[] {4, 1, 3}).toFloats();
    for (int i = 0; i < expected.length; i++) {
      expected[i] *= 2;
    }
    assertArrayEquals(expected, run(def, replica, input, new int[] {4, 1, 3}, "replica_1/y:0"));
    return def;
  }

  /** The values that {@code data}'s graph input gives for {@code examples} (fewer than the capacity), run here. */
  private static float[] local(Dataset data, int[] examples) {
    GraphInput input = GraphInput.of(data).orElseThrow();
    try (Graph g = new Graph()) {
      ReplicaInput replica = ReplicaInput.add(g, 0, DeviceSpec.newBuilder().build(), input, CAPACITY);
      return run(g.toGraphDef(), replica, input, examples, replica.values());
    }
  }

  /** Runs {@code def} without devices, feeding {@code examples} padded with the first; fetches {@code fetch}. */
  private static float[] run(GraphDef def, ReplicaInput replica, GraphInput input, int[] examples, String fetch) {
    GraphDef local = def.toBuilder().clearNode().addAllNode(def.getNodeList().stream()
        .map(n -> n.toBuilder().clearDevice().build()).toList()).build();
    int[] padded = new int[CAPACITY];
    for (int i = 0; i < CAPACITY; i++) {
      padded[i] = examples[i < examples.length ? i : 0];
    }
    List<Tensor> where = input.feeds(padded);
    try (Graph g = new Graph()) {
      g.importGraphDef(local);
      try (Session s = new Session(g); Tensor c = TInt32.scalarOf(examples.length)) {
        if (!replica.init().isEmpty()) {
          Session.Runner init = s.runner();
          replica.init().forEach(init::addTarget);
          init.run();
        }
        Session.Runner runner = s.runner().feed(replica.count(), c);
        for (int i = 0; i < where.size(); i++) {
          runner.feed(replica.fed().get(i), where.get(i));
        }
        try (Result r = runner.fetch(fetch).run()) {
          TFloat32 y = (TFloat32) r.get(0);
          assertEquals(examples.length, y.shape().get(0));
          float[] got = new float[(int) y.size()];
          y.asRawTensor().data().asFloats().read(got);
          return got;
        }
      }
    } finally {
      where.forEach(Tensor::close);
    }
  }

  /** Six PNGs of several sizes and channel counts (resized to 6 x 5 gray, normalized, when read). */
  private static List<byte[]> pngs() throws IOException {
    Random random = new Random(3);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      BufferedImage image = new BufferedImage(7 + i, 9 - i % 3, i % 3 == 0 ? BufferedImage.TYPE_INT_RGB
          : BufferedImage.TYPE_BYTE_GRAY);
      for (int yy = 0; yy < image.getHeight(); yy++) {
        for (int xx = 0; xx < image.getWidth(); xx++) {
          image.setRGB(xx, yy, random.nextInt(1 << 24));
        }
      }
      ByteArrayOutputStream png = new ByteArrayOutputStream();
      ImageIO.write(image, "png", png);
      out.add(png.toByteArray());
    }
    return out;
  }

  /** The PNGs in two class folders. */
  private Path imageFolder() throws IOException {
    List<byte[]> pngs = pngs();
    for (int i = 0; i < pngs.size(); i++) {
      Path dir = Files.createDirectories(tmp.resolve("images").resolve("class" + (i % 2)));
      Files.write(dir.resolve("img" + i + ".png"), pngs.get(i));
    }
    return tmp.resolve("images");
  }

  private static long count(GraphDef def, String op) {
    return def.getNodeList().stream().filter(n -> n.getOp().equals(op)).count();
  }

  private static String op(String tensor) {
    return tensor.substring(0, tensor.indexOf(':'));
  }
}
