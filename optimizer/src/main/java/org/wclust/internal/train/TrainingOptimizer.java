package org.wclust.internal.train;

import static com.google.common.base.Preconditions.checkArgument;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.VarHandleOp;
import org.tensorflow.op.train.ResourceApplyAdam;
import org.tensorflow.op.train.ResourceApplyMomentum;
import org.tensorflow.types.TFloat32;

/**
 * An optimizer over resource variables ({@code ResourceApply*} ops; the tensorflow-framework
 * optimizers only handle legacy VariableV2). Built with {@link Ops}, so an update runs eagerly or in
 * a graph. Per-step hyperparameters ({@link Hyper}) are operands: placeholders fed each step in a
 * graph, constants in eager mode.
 */
public sealed interface TrainingOptimizer {

  /** The learning rate and, for Adam, {@code beta1^t} and {@code beta2^t} of the current step. */
  record Hyper(Operand<TFloat32> learningRate, Operand<TFloat32> beta1Power, Operand<TFloat32> beta2Power) {}

  /** Creates the slot variables of one variable, zero-initialised by {@link Slots#initializers}. */
  Slots slots(Ops tf, String name, Shape shape);

  /** The update op of {@code variable} (a resource handle) by {@code gradient}. */
  Op apply(Ops tf, Operand<?> variable, Slots slots, Operand<TFloat32> gradient, Hyper hyper);

  /** {@code beta1^t} for Adam's bias correction (1 for SGD), t counted from 1. */
  default float beta1Power(long step) {
    return 1f;
  }

  default float beta2Power(long step) {
    return 1f;
  }

  /** Slot variables and the ops that zero them. */
  record Slots(VarHandleOp[] handles, Op[] initializers) {}

  /** SGD with (optionally Nesterov) momentum: {@code accum = m * accum + g; w -= lr * accum}. */
  record Sgd(float momentum, boolean nesterov) implements TrainingOptimizer {
    public Sgd {
      checkArgument(momentum >= 0 && momentum < 1, "momentum must be in [0, 1), got %s", momentum);
    }

    @Override
    public Slots slots(Ops tf, String name, Shape shape) {
      return zeroSlots(tf, name, shape, "momentum");
    }

    @Override
    public String toString() {
      return (nesterov ? "sgd(nesterov, momentum=" : "sgd(momentum=") + momentum + ")";
    }

    @Override
    public Op apply(Ops tf, Operand<?> variable, Slots slots, Operand<TFloat32> gradient, Hyper hyper) {
      return tf.train.resourceApplyMomentum(variable, slots.handles()[0].resource(), hyper.learningRate(),
          gradient, tf.constant(momentum), ResourceApplyMomentum.useNesterov(nesterov));
    }
  }

  /** Adam (Kingma and Ba), with TensorFlow's bias-corrected step size. */
  record Adam(float beta1, float beta2, float epsilon) implements TrainingOptimizer {
    public static final Adam DEFAULT = new Adam(0.9f, 0.999f, 1e-7f);

    public Adam {
      checkArgument(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
          "Adam betas must be in [0, 1), got %s and %s", beta1, beta2);
      checkArgument(epsilon > 0, "Adam epsilon must be positive, got %s", epsilon);
    }

    @Override
    public Slots slots(Ops tf, String name, Shape shape) {
      return zeroSlots(tf, name, shape, "m", "v");
    }

    @Override
    public String toString() {
      return "adam(beta1=" + beta1 + ", beta2=" + beta2 + ", epsilon=" + epsilon + ")";
    }

    @Override
    public Op apply(Ops tf, Operand<?> variable, Slots slots, Operand<TFloat32> gradient, Hyper hyper) {
      return tf.train.resourceApplyAdam(variable, slots.handles()[0].resource(), slots.handles()[1].resource(),
          hyper.beta1Power(), hyper.beta2Power(), hyper.learningRate(), tf.constant(beta1),
          tf.constant(beta2), tf.constant(epsilon), gradient, new ResourceApplyAdam.Options[0]);
    }

    @Override
    public float beta1Power(long step) {
      return (float) Math.pow(beta1, step);
    }

    @Override
    public float beta2Power(long step) {
      return (float) Math.pow(beta2, step);
    }
  }

  private static Slots zeroSlots(Ops tf, String name, Shape shape, String... slotNames) {
    VarHandleOp[] handles = new VarHandleOp[slotNames.length];
    Op[] init = new Op[slotNames.length];
    for (int i = 0; i < slotNames.length; i++) {
      String slotName = name + "/" + slotNames[i];
      Ops scoped = tf.withName(slotNames[i]);
      // An explicit shared_name: VarHandleOps without one alias each other in an imported graph.
      handles[i] = scoped.varHandleOp(TFloat32.class, shape, VarHandleOp.sharedName(slotName));
      init[i] = tf.assignVariableOp(handles[i], tf.fill(tf.constant(toLongs(shape)), tf.constant(0f)));
    }
    return new Slots(handles, init);
  }

  private static long[] toLongs(Shape shape) {
    return shape.asArray();
  }
}
