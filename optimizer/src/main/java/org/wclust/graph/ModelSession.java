package org.wclust.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.DataType;
import org.wclust.bridge.HostTensor;
import org.wclust.bridge.TensorSpec;

/**
 * A flat model imported into a TF Java {@link Graph} with its variables initialised, ready to run.
 * Initialisation feeds each variable's value through a placeholder once, so no value is baked into
 * the graph twice.
 */
public final class ModelSession implements AutoCloseable {
  private static final String INIT_SCOPE = "wclust_init";

  private final FlatModel model;
  private final Graph graph;
  private final Session session;

  public ModelSession(FlatModel model) {
    this.model = model;
    this.graph = new Graph();
    try {
      graph.importGraphDef(model.graph());
      this.session = new Session(graph);
      initializeVariables();
    } catch (RuntimeException e) {
      graph.close();
      throw e;
    }
  }

  public Graph graph() {
    return graph;
  }

  public Session session() {
    return session;
  }

  public FlatModel model() {
    return model;
  }

  private void initializeVariables() {
    if (model.variables().isEmpty()) {
      return;
    }
    Session.Runner runner = session.runner();
    List<Tensor> fed = new ArrayList<>();
    try {
      int i = 0;
      for (ModelVariable variable : model.variables().values()) {
        DataType dtype = variable.value().dtype();
        GraphOperation value = graph.opBuilder("Placeholder", INIT_SCOPE + "/value_" + i, graph.baseScope())
            .setAttr("dtype", dtype).build();
        GraphOperation assign = graph.opBuilder("AssignVariableOp", INIT_SCOPE + "/assign_" + i,
                graph.baseScope())
            .addInput(graph.operationOrThrow(variable.handleNode()).output(0))
            .addInput(value.output(0))
            .setAttr("dtype", dtype)
            .build();
        Tensor t = variable.value().toTensor();
        fed.add(t);
        runner.feed(value.output(0), t).addTarget(assign);
        i++;
      }
      runner.run().close();
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  /** Runs the signature on the given inputs (by signature key); returns outputs by signature key. */
  public Map<String, HostTensor> run(Map<String, HostTensor> inputs) {
    return fetch(inputs, model.signature().outputs().stream().map(TensorSpec::tensorName).toList(),
        model.signature().outputs().stream().map(TensorSpec::key).toList());
  }

  /** Runs the graph on the given inputs (by signature key) and returns the named tensors by name. */
  public Map<String, HostTensor> run(Map<String, HostTensor> inputs, List<String> tensorNames) {
    return fetch(inputs, tensorNames, tensorNames);
  }

  /** Evaluates graph tensors (by name, {@code node:index}) that need no feeds, e.g. weight reads. */
  public Map<String, HostTensor> evaluate(List<String> tensorNames) {
    return fetch(Map.of(), tensorNames, tensorNames);
  }

  private Map<String, HostTensor> fetch(Map<String, HostTensor> inputs, List<String> tensors,
      List<String> keys) {
    Session.Runner runner = session.runner();
    List<Tensor> fed = new ArrayList<>();
    try {
      for (TensorSpec spec : model.signature().inputs()) {
        HostTensor value = inputs.get(spec.key());
        if (value != null) {
          Tensor t = value.toTensor();
          fed.add(t);
          runner.feed(spec.tensorName(), t);
        }
      }
      tensors.forEach(runner::fetch);
      Map<String, HostTensor> out = new LinkedHashMap<>();
      try (Result result = runner.run()) {
        for (int i = 0; i < keys.size(); i++) {
          out.put(keys.get(i), HostTensor.copyOf(result.get(i)));
        }
      }
      return out;
    } finally {
      fed.forEach(Tensor::close);
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
