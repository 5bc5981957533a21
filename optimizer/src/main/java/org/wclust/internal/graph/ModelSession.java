package org.wclust.internal.graph;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.wclust.internal.bridge.GraphDefs;
import org.wclust.internal.bridge.HostTensor;
import org.wclust.internal.bridge.TensorSpec;

/**
 * A flat model imported into a TF Java {@link Graph} with its variables initialised, ready to run.
 * Initialisation feeds each variable's value through a placeholder once, so no value is baked into
 * the graph twice.
 */
public final class ModelSession implements AutoCloseable {
  private static final String INIT_SCOPE = "wclust_init";
  private static final String READ_SCOPE = "wclust_read_back";

  private final FlatModel model;
  private final Graph graph;
  private final Session session;
  private Map<String, GraphOperation> readBack;

  public ModelSession(FlatModel model) {
    this(model, model.graph(), Session::new);
  }

  /**
   * A session on {@code graphDef}, a graph that holds the model's variables under their node names
   * (say, a training graph replicated over workers), opened by {@code opener} (say, on a remote
   * master), with the variables initialised from the model's values.
   */
  public ModelSession(FlatModel model, GraphDef graphDef, Function<Graph, Session> opener) {
    this.model = model;
    this.graph = new Graph();
    Session opened = null;
    try {
      graph.importGraphDef(graphDef);
      opened = opener.apply(graph);
      this.session = opened;
      initializeVariables();
    } catch (RuntimeException e) {
      if (opened != null) {
        opened.close();
      }
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

  /**
   * Evaluates graph tensors (by name, {@code node:index}) that need no feeds in a session of their own
   * that holds only what they depend on: the nodes they are computed from and those nodes' variables.
   * Importing and initialising the whole model instead costs seconds and a copy of every weight on a
   * big model, to compute (say) a few BatchNorm scales.
   */
  public static Map<String, HostTensor> evaluate(FlatModel model, List<String> tensorNames) {
    if (tensorNames.isEmpty()) {
      return Map.of();
    }
    GraphDef pruned = GraphDefs.prune(model.graph(), tensorNames);
    Set<String> kept = new HashSet<>();
    pruned.getNodeList().forEach(n -> kept.add(n.getName()));
    Map<String, ModelVariable> variables = new LinkedHashMap<>(model.variables());
    variables.keySet().retainAll(kept);
    try (ModelSession session = new ModelSession(FlatModel.of(pruned, model.signature(), variables))) {
      return session.evaluate(tensorNames);
    }
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

  /**
   * The model with every float and int32 variable at its current value in this session (after
   * training ops ran on it; other variables are not trained and keep theirs); the read ops are added
   * to the graph once.
   */
  public FlatModel currentModel() {
    if (readBack == null) {
      readBack = new LinkedHashMap<>();
      int i = 0;
      for (ModelVariable variable : model.variables().values()) {
        DataType dtype = variable.value().dtype();
        if (dtype != DataType.DT_FLOAT && dtype != DataType.DT_INT32) {
          continue;
        }
        readBack.put(variable.handleNode(), graph.opBuilder("ReadVariableOp", READ_SCOPE + "/read_" + i++,
                graph.baseScope())
            .addInput(graph.operationOrThrow(variable.handleNode()).output(0))
            .setAttr("dtype", variable.value().dtype())
            .build());
      }
    }
    Session.Runner runner = session.runner();
    List<String> handles = new ArrayList<>(readBack.keySet());
    handles.forEach(h -> runner.fetch(readBack.get(h).output(0)));
    Map<String, ModelVariable> variables = new LinkedHashMap<>(model.variables());
    try (Result result = runner.run()) {
      for (int i = 0; i < handles.size(); i++) {
        String h = handles.get(i);
        variables.put(h, variables.get(h).withValue(HostTensor.copyOf(result.get(i))));
      }
    }
    return FlatModel.of(model.graph(), model.signature(), variables);
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
