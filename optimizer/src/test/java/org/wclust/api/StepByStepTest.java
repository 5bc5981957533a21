package org.wclust.api;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.StdArrays;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.wclust.TfJavaModels;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.graph.FlatModel;
import org.wclust.internal.graph.ModelSession;
import org.wclust.internal.load.ModelLoader;

/** The step-by-step API: cluster, train the clustered graph in one's own TF Java loop, strip, export. */
class StepByStepTest {
  @TempDir
  Path tmp;

  private static final float[][] X = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {1, -1, 0.5f, 2}};

  @Test
  void ownLoopTrainsTheClusteredGraphAndTheStrippedExportComputesWhatItComputed() throws Exception {
    try (ClusterableModel model = ClusterableModel.load(TfJavaModels.exportDenseWithResourceVariables(tmp.resolve("m")));
        ClusteredModel clustered = model.cluster(ClusterConfig.builder().clusters(2).init("optimal")
            .measureTfliteSize(false).build())) {
      assertEquals(List.of("dense/kernel"), model.clusterableWeights());
      assertEquals(List.of("dense/kernel"), clustered.clusteredWeights());
      Graph g = clustered.graph();
      Ops tf = Ops.create(g).withSubScope("test_training");
      // Regression towards a kernel of all 1 and the same bias: the clustered kernel (-1 and 2) must move.
      float[][] targets = new float[X.length][];
      for (int i = 0; i < X.length; i++) {
        targets[i] = TfJavaModels.dense(X[i], new float[][] {{1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}},
            TfJavaModels.BIAS);
      }
      Placeholder<TFloat32> target = tf.placeholder(TFloat32.class);
      Operand<TFloat32> loss = tf.math.mean(tf.math.square(tf.math.sub(clustered.output(), target)),
          tf.constant(new int[] {0, 1}));
      List<TrainableVariable> variables = clustered.trainableVariables();
      List<String> names = variables.stream().map(TrainableVariable::name).toList();
      assertTrue(names.contains("dense/kernel/centroids"), names.toString());
      assertTrue(names.contains("dense/kernel"), "the straight-through original: " + names);
      assertFalse(names.stream().anyMatch(n -> n.endsWith("indices") || n.endsWith("gradient_scale")), names.toString());
      List<Op> updates = new ArrayList<>();
      for (TrainableVariable v : variables) {
        Output<?>[] grad = g.addGradients(loss.asOutput(), v.reads().toArray(new Output<?>[0]));
        @SuppressWarnings("unchecked")
        Operand<TFloat32> first = (Operand<TFloat32>) grad[0];
        updates.add(tf.assignSubVariableOp(v.handle(), tf.math.mul(tf.constant(0.05f), first)));
      }
      float before = run(clustered.session(), clustered, target, targets, loss, List.of());
      for (int step = 0; step < 50; step++) {
        run(clustered.session(), clustered, target, targets, loss, updates);
        clustered.session().runner().addTarget(clustered.reassignOp()).run().close();
      }
      float after = run(clustered.session(), clustered, target, targets, loss, List.of());
      assertTrue(after < before / 2, "loss " + before + " -> " + after);
      float[] trainedOutputs = outputs(clustered.session(), clustered);

      StrippedModel stripped = clustered.strip();
      int distinct = stripped.distinctValues().get("dense/kernel");
      assertTrue(distinct >= 1 && distinct <= 2, "distinct " + distinct);
      Path out = tmp.resolve("out");
      ClusterSummary summary = stripped.exportSavedModel(out);
      assertTrue(Files.isRegularFile(summary.reportFile()));
      FlatModel exported = ModelLoader.load(out, ModelLoader.DEFAULT_SIGNATURE);
      assertTrue(exported.variables().isEmpty(), "constants only");
      try (ModelSession session = new ModelSession(exported)) {
        float[] y = session.run(Map.of("x", HostTensor.ofFloats(new long[] {X.length, 4}, flat(X)))).get("y").toFloats();
        assertArrayEquals(trainedOutputs, y, 1e-5f, "the export computes what the trained clustered graph computed");
      }
      assertThrows(java.io.IOException.class, () -> stripped.exportSavedModel(out), "an existing output is refused");
    }
  }

  @Test
  void fineTuneUsesTheExamplesAndReportsItsRun() throws Exception {
    try (ClusterableModel model = ClusterableModel.load(TfJavaModels.exportDenseWithResourceVariables(tmp.resolve("m")));
        ClusteredModel clustered = model.cluster(ClusterConfig.builder().clusters(2).measureTfliteSize(false).build())) {
      // Labels: the argmax of the original model, so cross-entropy is defined on its 3 outputs.
      float[] x = flat(X);
      int[] labels = new int[X.length];
      for (int i = 0; i < X.length; i++) {
        float[] y = TfJavaModels.dense(X[i], TfJavaModels.KERNEL, TfJavaModels.BIAS);
        labels[i] = y[0] >= y[1] && y[0] >= y[2] ? 0 : y[1] >= y[2] ? 1 : 2;
      }
      ClusterSummary.FineTuningRun run = clustered.fineTune(Datasets.of(new long[] {4}, x, labels),
          FineTuning.builder().epochs(3).batchSize(5).learningRate(1e-2f).build());
      assertEquals(3, run.steps());
      assertTrue(run.trainedVariables().contains("dense/kernel/centroids"), run.trainedVariables().toString());
      assertTrue(clustered.strip().distinctValues().get("dense/kernel") <= 2);
    }
  }

  private static float run(Session session, ClusteredModel m, Placeholder<TFloat32> target, float[][] targets,
      Operand<TFloat32> loss, List<Op> updates) {
    try (TFloat32 x = TFloat32.tensorOf(StdArrays.ndCopyOf(X)); TFloat32 t = TFloat32.tensorOf(StdArrays.ndCopyOf(targets))) {
      Session.Runner runner = session.runner().feed(m.input(), x).feed(target, t).fetch(loss);
      updates.forEach(runner::addTarget);
      try (Result r = runner.run()) {
        return ((TFloat32) r.get(0)).getFloat();
      }
    }
  }

  private static float[] outputs(Session session, ClusteredModel m) {
    try (TFloat32 x = TFloat32.tensorOf(StdArrays.ndCopyOf(X));
        Result r = session.runner().feed(m.input(), x).fetch(m.output()).run()) {
      return HostTensor.copyOf(r.get(0)).toFloats();
    }
  }

  private static float[] flat(float[][] rows) {
    float[] f = new float[rows.length * rows[0].length];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, f, i * rows[0].length, rows[0].length);
    }
    return f;
  }
}
