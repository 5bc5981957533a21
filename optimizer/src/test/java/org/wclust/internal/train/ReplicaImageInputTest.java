package org.wclust.internal.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;
import org.wclust.internal.data.DataSpec;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.data.DatasetLoader;
import org.wclust.internal.data.ImageFileInput;
import org.wclust.internal.data.ImageOptions;
import org.wclust.internal.distribute.GraphReplicas;
import org.wclust.internal.distribute.WorkerCluster;

/**
 * A replica's input read from image files on its worker: the replica's model input is computed from
 * a string placeholder of paths by ReadFile and decode ops that all carry the worker's device, and it
 * yields exactly the pixels that this process's own decoding gives for the same files.
 */
class ReplicaImageInputTest {
  private static final int CAPACITY = 4;
  private static final String MODEL_INPUT = "replica_1/x";

  @TempDir Path tmp;

  @Test
  void theReplicaInputIsReadFromPathsOnItsWorkerAndDecodedAsHere() throws IOException {
    Dataset data = imageFolder();
    ImageFileInput files = ImageFileInput.of(data).orElseThrow();
    GraphDef def;
    ReplicaImageInput input;
    try (Graph g = new Graph()) {
      // a stand-in for replica 1's copy of the model: its input placeholder and an op that uses it
      Ops model = Ops.create(g).withSubScope("replica_1");
      Placeholder<TFloat32> x = model.withName("x").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 6, 5, 1)));
      model.withName("y").math.mul(x, model.constant(2f));
      input = ReplicaImageInput.add(g, 1, DeviceSpec.newBuilder().job(WorkerCluster.JOB).replica(0).task(1).build(),
          files, CAPACITY);
      def = GraphReplicas.inputsFrom(g.toGraphDef(), Map.of(MODEL_INPUT, input.pixels()));
    }

    NodeDef in = node(def, MODEL_INPUT);
    assertEquals("Identity", in.getOp());
    assertEquals(input.pixels().replace(":0", ""), in.getInput(0));
    // what is fed: the paths (strings) and their count, nothing of the pixels
    Map<String, DataType> placeholders = def.getNodeList().stream().filter(n -> n.getOp().equals("Placeholder"))
        .collect(Collectors.toMap(NodeDef::getName, n -> n.getAttrOrThrow("dtype").getType()));
    assertEquals(Map.of(op(input.paths()), DataType.DT_STRING, op(input.count()), DataType.DT_INT32), placeholders);
    // the files are read and decoded on the worker
    Set<String> reading = Set.of("ReadFile", "DecodeImage", "ResizeBilinear", "Cast", "Mul", "Sub", "RealDiv");
    List<NodeDef> ops = def.getNodeList().stream().filter(n -> reading.contains(n.getOp())
        && !n.getName().startsWith("replica_1/")).toList();
    assertEquals(CAPACITY, ops.stream().filter(n -> n.getOp().equals("ReadFile")).count(), ops.toString());
    assertEquals(CAPACITY, ops.stream().filter(n -> n.getOp().equals("DecodeImage")).count(), ops.toString());
    for (NodeDef n : def.getNodeList()) {
      if (n.getName().startsWith("replica_1_input/")) {
        assertEquals(WorkerCluster.device(1), n.getDevice(), n.getName());
      }
    }

    // Run here (devices dropped): a slice of 3 examples, padded to 4, gives the dataset's own pixels.
    int[] examples = {4, 1, 3};
    String[] paths = {files.path(4), files.path(1), files.path(3), files.path(4)};
    float[] expected = data.batchInputs(examples).toFloats();
    GraphDef local = def.toBuilder().clearNode().addAllNode(def.getNodeList().stream()
        .map(n -> n.toBuilder().clearDevice().build()).toList()).build();
    try (Graph g = new Graph()) {
      g.importGraphDef(local);
      try (Session s = new Session(g);
          Tensor p = TString.tensorOf(NdArrays.vectorOfObjects(paths));
          Tensor c = TInt32.scalarOf(examples.length);
          Result r = s.runner().feed(input.paths(), p).feed(input.count(), c).fetch("replica_1/y:0").run()) {
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
  }

  @Test
  void onlyFoldersOfImageFilesAreReadByTheWorkers() {
    Dataset arrays = Dataset.of(new long[] {2, 2, 1}, new float[8], new int[] {0, 1});
    assertTrue(ImageFileInput.of(arrays).isEmpty());
  }

  /** Two class folders of PNGs of several sizes and channel counts, resized to 6 x 5 gray, normalized. */
  private Dataset imageFolder() throws IOException {
    Random random = new Random(3);
    for (int i = 0; i < 6; i++) {
      Path dir = Files.createDirectories(tmp.resolve("images").resolve("class" + (i % 2)));
      BufferedImage image = new BufferedImage(7 + i, 9 - i % 3, i % 3 == 0 ? BufferedImage.TYPE_INT_RGB
          : BufferedImage.TYPE_BYTE_GRAY);
      for (int yy = 0; yy < image.getHeight(); yy++) {
        for (int xx = 0; xx < image.getWidth(); xx++) {
          image.setRGB(xx, yy, random.nextInt(1 << 24));
        }
      }
      ImageIO.write(image, "png", dir.resolve("img" + i + ".png").toFile());
    }
    DataSpec spec = DataSpec.defaults().withScale(1 / 255.0)
        .withImages(ImageOptions.defaults().withNormalization("0.5", "0.25"));
    return DatasetLoader.load(tmp.resolve("images"), spec).withExampleShape(new long[] {6, 5, 1});
  }

  private static NodeDef node(GraphDef def, String name) {
    return def.getNodeList().stream().filter(n -> n.getName().equals(name)).findFirst().orElseThrow();
  }

  private static String op(String tensor) {
    return tensor.substring(0, tensor.indexOf(':'));
  }
}
