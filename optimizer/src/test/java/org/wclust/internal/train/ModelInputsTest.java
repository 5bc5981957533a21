package org.wclust.internal.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.collect.ImmutableList;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorShapeProto;
import org.wclust.TfJavaModels;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.ServingSignature;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.cluster.ClusterRewriter;
import org.wclust.internal.cluster.ClusterSettings;
import org.wclust.internal.cluster.ClusteredModel;
import org.wclust.internal.data.Dataset;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.load.ModelLoader;

/**
 * Inputs of the type the model declares: data read as float32 is fed as float64, float16, bfloat16,
 * int32, int64, uint8 or uint16 (integers must be whole and in range), and a model whose input is
 * float64, float16 or uint8 fine-tunes (its loss falls).
 */
class ModelInputsTest {
  @TempDir Path tmp;

  private static final float[] PIXELS = {0f, 1f, 2f, 255f, 17f, 128f, 3f, 200f};

  private static TensorSpec input(DataType dtype) {
    return new TensorSpec("x", "x:0", dtype, TensorShapeProto.getDefaultInstance());
  }

  /** The fed tensor's values, decoded from its little-endian bytes (independently of ModelInputs). */
  private static double[] decode(HostTensor t) {
    ByteBuffer b = t.toProto().getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    double[] out = new double[(int) t.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = switch (t.dtype()) {
        case DT_DOUBLE -> b.getDouble();
        case DT_HALF -> HostTensor.halfToFloat(b.getShort());
        case DT_BFLOAT16 -> Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
        case DT_INT32 -> b.getInt();
        case DT_INT64 -> b.getLong();
        case DT_UINT8 -> b.get() & 0xff;
        case DT_UINT16 -> b.getShort() & 0xffff;
        default -> throw new AssertionError(t.dtype());
      };
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(value = DataType.class, names = {"DT_DOUBLE", "DT_HALF", "DT_BFLOAT16", "DT_INT32", "DT_INT64",
      "DT_UINT8", "DT_UINT16"})
  void wholeNumbersArriveInTheDeclaredType(DataType dtype) {
    Dataset data = Dataset.unlabeled(new long[] {4}, PIXELS);
    HostTensor fed = ModelInputs.batch(data, new int[] {1, 0}, input(dtype));
    assertEquals(dtype, fed.dtype());
    assertEquals(List.of(2L, 4L), List.of(fed.shape()[0], fed.shape()[1]));
    double[] values = decode(fed);
    for (int i = 0; i < 4; i++) {
      assertEquals(PIXELS[4 + i], values[i], 1e-9, "example 1, value " + i); // all exact in every type
      assertEquals(PIXELS[i], values[4 + i], 1e-9, "example 0, value " + i);
    }
  }

  @Test
  void integersOutOfRangeOrNotWholeAreRefusedNamingTheInput() {
    Dataset big = Dataset.unlabeled(new long[] {1}, new float[] {256f});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelInputs.batch(big, new int[] {0}, input(DataType.DT_UINT8)));
    assertTrue(e.getMessage().contains("'x' takes uint8 values in [0, 255]") && e.getMessage().contains("256"),
        e.getMessage());
    Dataset half = Dataset.unlabeled(new long[] {1}, new float[] {0.5f});
    e = assertThrows(IllegalArgumentException.class,
        () -> ModelInputs.batch(half, new int[] {0}, input(DataType.DT_INT64)));
    assertTrue(e.getMessage().contains("'x' takes int64 token ids"), e.getMessage());
    Dataset negative = Dataset.unlabeled(new long[] {1}, new float[] {-1f});
    assertThrows(IllegalArgumentException.class,
        () -> ModelInputs.batch(negative, new int[] {0}, input(DataType.DT_UINT16)));
    assertThrows(IllegalArgumentException.class,
        () -> ModelInputs.single(FlatModel.of(org.tensorflow.proto.GraphDef.getDefaultInstance(),
            new ServingSignature("s", ImmutableList.of(input(DataType.DT_STRING)), ImmutableList.of()),
            Map.of())));
  }

  /** 1,000 examples of whole numbers 0..255, labelled by the arg-max of x W for a fixed W. */
  private static Dataset pixels() {
    float[][] teacher = {{1f, -1f, 0.5f}, {-0.5f, 1f, 1f}, {2f, 0f, -1f}, {0f, 0.5f, -0.5f}};
    Random random = new Random(3);
    int n = 1000;
    float[] x = new float[n * 4];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 4; j++) {
        x[i * 4 + j] = random.nextInt(256);
      }
      float[] logits = TfJavaModels.dense(java.util.Arrays.copyOfRange(x, i * 4, i * 4 + 4), teacher, new float[3]);
      y[i] = Evaluation.argMax(logits, 0, 3);
    }
    return Dataset.of(new long[] {4}, x, y);
  }

  @ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"float64", "float16", "uint8", "int64"})
  void aModelWithANonFloat32InputFineTunes(String type) throws Exception {
    FlatModel model = ModelLoader.load(TfJavaModels.exportDense(tmp.resolve(type), TfJavaModels.inputType(type)),
        "serving_default");
    ClusteredModel clustered = ClusterRewriter.cluster(model, Map.of("dense/kernel", 3), ClusterSettings.of(3, 0));
    List<Double> losses = new ArrayList<>();
    FineTuner.fineTune(model, clustered, pixels(), new FineTuneOptions(3, 32, TrainingOptimizer.Adam.DEFAULT, 0.01f,
        LearningRateSchedule.CONSTANT, FineTuneOptions.LossKind.AUTO, false, 1f,
        FineTuneOptions.GradientAggregation.SUM, 1, null, 0L), (epoch, step, steps, loss, accuracy) -> {
          if (step == steps) {
            losses.add(loss);
          }
        });
    assertEquals(3, losses.size());
    assertTrue(losses.get(2) < losses.get(0), type + ": loss per epoch " + losses);
  }
}
