package org.wclust.internal.train;

import java.util.function.UnaryOperator;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.wclust.internal.bridge.TensorRef;
import org.wclust.internal.bridge.TensorSpec;
import org.wclust.internal.graph.FlatModel;

/**
 * The loss of one copy of a model in a graph: the placeholder of its targets, the batch's mean loss
 * and, for classifier objectives, how many examples it got right.
 *
 * @param target integer labels, float targets, or the teacher's log-probabilities, per objective
 * @param correct examples whose arg-max matches the label (or the teacher's); null for {@code MSE}
 */
record TrainingLoss(Placeholder<?> target, Operand<TFloat32> loss, Operand<TFloat32> correct) {

  /**
   * Builds the loss of {@code objective} on the model output {@code output}.
   *
   * @param model the model whose graph names {@code output} and its Softmax refer to
   * @param inGraph maps a tensor name of {@code model} to its name in {@code graph} (the identity when
   *     the model was imported as it is; a prefix for a replica)
   */
  static TrainingLoss build(Ops tf, Graph graph, FlatModel model, TensorSpec output, UnaryOperator<String> inGraph,
      TrainingGraph.Objective objective, float temperature) {
    Operand<TFloat32> out = floatOutput(graph, inGraph.apply(output.tensorName()), output.key());
    Operand<TFloat32> logits = logits(tf, graph, model, output.tensorName(), inGraph, objective, out);
    Operand<TInt32> batchAxis = tf.constant(0);
    Operand<TInt32> classAxis = tf.constant(1);
    return switch (objective) {
      case CROSSENTROPY_LOGITS, CROSSENTROPY_PROBABILITIES -> {
        Placeholder<TInt32> labels = tf.withName("labels").placeholder(TInt32.class);
        int classes = classes(out, output.key());
        Operand<TFloat32> oneHot = tf.oneHot(labels, tf.constant(classes), tf.constant(1f), tf.constant(0f));
        Operand<TFloat32> loss = tf.math.mean(tf.nn.softmaxCrossEntropyWithLogits(logits, oneHot).loss(), batchAxis);
        yield new TrainingLoss(labels, tf.withName("loss").identity(loss), correctCount(tf, out, labels));
      }
      case MSE -> {
        Placeholder<TFloat32> targets = tf.withName("targets").placeholder(TFloat32.class);
        Operand<TFloat32> loss = tf.math.mean(tf.math.square(tf.math.sub(out, targets)), allAxes(tf, out));
        yield new TrainingLoss(targets, tf.withName("loss").identity(loss), null);
      }
      case DISTILL_LOGITS, DISTILL_PROBABILITIES -> {
        Placeholder<TFloat32> teacher = tf.withName("teacher_log_probabilities").placeholder(TFloat32.class);
        Operand<TFloat32> student = tf.nn.logSoftmax(tf.math.div(logits, tf.constant(temperature)));
        // KL(teacher || student) per example, scaled by T^2 so gradients keep their size (Hinton et al.).
        Operand<TFloat32> kl = tf.sum(tf.math.mul(tf.math.exp(teacher), tf.math.sub(teacher, student)), classAxis);
        Operand<TFloat32> loss = tf.math.mul(tf.math.mean(kl, batchAxis), tf.constant(temperature * temperature));
        yield new TrainingLoss(teacher, tf.withName("loss").identity(loss),
            correctCount(tf, out, tf.math.argMax(teacher, classAxis, TInt32.class)));
      }
    };
  }

  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> floatOutput(Graph graph, String tensorName, String key) {
    TensorRef ref = TensorRef.parse(tensorName);
    Output<?> out = graph.operationOrThrow(ref.node()).output(ref.index());
    if (out.dataType() != DataType.DT_FLOAT) {
      throw new IllegalArgumentException("fine-tuning needs a float32 output, '" + key + "' is " + out.dataType());
    }
    return (Operand<TFloat32>) out;
  }

  /**
   * The logits of a classifier output: the input of a final Softmax (through Identity nodes) when
   * there is one, log(p) when the output holds probabilities without one, else the output itself.
   */
  private static Operand<TFloat32> logits(Ops tf, Graph graph, FlatModel model, String tensorName,
      UnaryOperator<String> inGraph, TrainingGraph.Objective objective, Operand<TFloat32> out) {
    if (objective == TrainingGraph.Objective.MSE) {
      return out;
    }
    String softmaxInput = TrainingGraph.softmaxInput(model, tensorName);
    if (softmaxInput != null) {
      return floatOutput(graph, inGraph.apply(softmaxInput), "softmax input");
    }
    if (objective == TrainingGraph.Objective.CROSSENTROPY_PROBABILITIES
        || objective == TrainingGraph.Objective.DISTILL_PROBABILITIES) {
      return tf.math.log(tf.math.maximum(out, tf.constant(1e-7f)));
    }
    return out;
  }

  private static int classes(Operand<TFloat32> out, String key) {
    Shape shape = out.shape();
    if (shape.numDimensions() != 2 || shape.get(1) < 2) {
      throw new IllegalArgumentException("cross-entropy needs a [batch, classes] output, '" + key
          + "' has shape " + shape + " (use --loss mse for regression)");
    }
    return Math.toIntExact(shape.get(1));
  }

  private static Operand<TFloat32> correctCount(Ops tf, Operand<TFloat32> out, Operand<TInt32> labels) {
    Operand<TInt32> predicted = tf.math.argMax(out, tf.constant(1), TInt32.class);
    return tf.sum(tf.dtypes.cast(tf.math.equal(predicted, labels), TFloat32.class), tf.constant(0));
  }

  private static Operand<TInt32> allAxes(Ops tf, Operand<TFloat32> out) {
    return tf.range(tf.constant(0), tf.rank(out), tf.constant(1));
  }
}
