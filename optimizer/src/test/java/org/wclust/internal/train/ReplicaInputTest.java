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
    GraphDef def = readsOnTheWorkerAsHere(data, records, Map.of(DataType.DT_STRING, 1L, DataType.DT_INT64, 3L));
    assertEquals(CAPACITY, count(def, "FixedLengthRecordDatasetV2"), "one byte range read per example");
    assertEquals(CAPACITY, count(def, "ParseSingleExample"));
    assertEquals(0, count(def, "ReadFile"), "no whole file is read");
  }

  @Test
  void arraysAndCompressedRecordsAreReadByTheChief() throws IOException {
    Dataset arrays = Dataset.of(new long[] {2, 2, 1}, new float[8], new int[] {0, 1});
    assertTrue(GraphInput.of(arrays).isEmpty());
    // GZIP-compressed records cannot be reached by offset
    Path gz = TestFiles.tfrecord(tmp.resolve("images.tfrecord.gz"), List.of(
        TestFiles.example("label", TestFiles.int64s(0), "image", TestFiles.bytes(pngs().get(0)))));
    Dataset compressed = DatasetLoader.load(gz, SPEC.withFeatures("x:image,y:label"));
    assertEquals(1, compressed.size());
    assertTrue(GraphInput.of(compressed).isEmpty());
  }

  /**
   * Builds replica 1's input from {@code input} into a graph with a stand-in for the replica's model,
   * checks what is fed (placeholders by dtype: count) and that every reading op is on task 1, then runs
   * it here (devices dropped) on a slice of 3 examples padded to 4: the model sees the dataset's pixels.
   */
  private static GraphDef readsOnTheWorkerAsHere(Dataset data, GraphInput input, Map<DataType, Long> fed) {
    GraphDef def;
    ReplicaInput replica;
    try (Graph g = new Graph()) {
      Ops model = Ops.create(g).withSubScope("replica_1");
      Placeholder<TFloat32> x = model.withName("x").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 6, 5, 1)));
      model.withName("y").math.mul(x, model.constant(2f));
      replica = ReplicaInput.add(g, 1, DeviceSpec.newBuilder().job(WorkerCluster.JOB).replica(0).task(1).build(),
          input, CAPACITY);
      def = GraphReplicas.inputsFrom(g.toGraphDef(), Map.of(MODEL_INPUT, replica.values()));
    }
    NodeDef in = def.getNodeList().stream().filter(n -> n.getName().equals(MODEL_INPUT)).findFirst().orElseThrow();
    assertEquals("Identity", in.getOp());
    assertEquals(replica.values().replace(":0", ""), in.getInput(0));
    // what is fed: where the examples are and their count, nothing of the pixels
    Map<String, DataType> placeholders = def.getNodeList().stream().filter(n -> n.getOp().equals("Placeholder"))
        .collect(Collectors.toMap(NodeDef::getName, n -> n.getAttrOrThrow("dtype").getType()));
    assertEquals(op(replica.count()), placeholders.entrySet().stream().filter(e -> e.getValue() == DataType.DT_INT32)
        .map(Map.Entry::getKey).collect(Collectors.joining()));
    placeholders.remove(op(replica.count()));
    assertEquals(fed, placeholders.values().stream().collect(Collectors.groupingBy(t -> t, Collectors.counting())));
    assertEquals(Set.copyOf(placeholders.keySet()), replica.fed().stream().map(ReplicaInputTest::op)
        .collect(Collectors.toSet()));
    assertEquals(CAPACITY, count(def, "DecodeImage"), "decoded on the worker");
    for (NodeDef n : def.getNodeList()) {
      if (n.getName().startsWith("replica_1_input/")) {
        assertEquals(WorkerCluster.device(1), n.getDevice(), n.getName());
      }
    }

    int[] examples = {4, 1, 3};
    float[] expected = data.batchInputs(examples).toFloats();
    GraphDef local = def.toBuilder().clearNode().addAllNode(def.getNodeList().stream()
        .map(n -> n.toBuilder().clearDevice().build()).toList()).build();
    List<Tensor> where = input.feeds(new int[] {4, 1, 3, 4});
    try (Graph g = new Graph()) {
      g.importGraphDef(local);
      try (Session s = new Session(g); Tensor c = TInt32.scalarOf(examples.length)) {
        Session.Runner runner = s.runner().feed(replica.count(), c);
        for (int i = 0; i < where.size(); i++) {
          runner.feed(replica.fed().get(i), where.get(i));
        }
        try (Result r = runner.fetch("replica_1/y:0").run()) {
          TFloat32 y = (TFloat32) r.get(0);
          assertArrayEquals(new long[] {3, 6, 5, 1}, y.shape().asArray());
          float[] got = new float[(int) y.size()];
          y.asRawTensor().data().asFloats().read(got);
          for (int i = 0; i < expected.length; i++) {
            expected[i] *= 2;
          }
          assertArrayEquals(expected, got);
        }
      }
    } finally {
      where.forEach(Tensor::close);
    }
    return def;
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
