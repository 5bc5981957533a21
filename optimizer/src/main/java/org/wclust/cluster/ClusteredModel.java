package org.wclust.cluster;

import com.google.common.collect.ImmutableList;
import org.wclust.graph.FlatModel;

/** A flat model whose target weights are read through centroid-gather subgraphs. */
public record ClusteredModel(FlatModel model, ImmutableList<ClusteredLayer> layers) {}
