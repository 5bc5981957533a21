package org.wclust.api;

import java.nio.file.Path;
import java.util.Optional;

/**
 * What {@link Wclust#convert} wrote: the {@code .tflite} file, its bytes and zipped bytes, and the TFLM
 * lookup-table compression when it was asked for. The sizes and the compression are also in the JSON
 * report next to the file ({@link TfliteOutput#reportFile()}).
 */
public record TfliteConversion(Path file, ClusterSummary.TfliteBytes size, Optional<TflmCompression> compression) {}
