package org.wclust.internal.data;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;

/**
 * TFRecord files (one, or the shards of a folder) whose {@code tf.train.Example}s hold one encoded
 * image (JPEG/PNG/BMP/GIF bytes) and optionally an int64 label each. One pass indexes the records (file,
 * offset, length, label: 20 bytes per example); batches then read their records by offset, so only the
 * index stays in memory. GZIP-compressed files cannot be read by offset: their encoded images are held
 * in memory instead (still far smaller than the decoded pixels).
 */
final class ImageRecords {
  /** The indexed records; labels null for unlabelled data. */
  record Index(EncodedImageStore.Source source, int[] labels) {}

  private ImageRecords() {}

  /**
   * Whether record 0 of {@code file} holds an encoded image under {@code key}: bytes with an image
   * signature, unless they are exactly {@code rawSize} long (raw pixels that happen to start alike).
   */
  static boolean holdsImages(Path file, String key, long rawSize) throws IOException {
    try (TfRecordReader reader = TfRecordReader.open(file)) {
      byte[] first = reader.next();
      if (first == null) {
        return false;
      }
      Feature f = TfExampleDecoder.parse(first, file, 0).getFeatures().getFeatureMap().get(key);
      return f != null && f.hasBytesList() && f.getBytesList().getValueCount() == 1
          && f.getBytesList().getValue(0).size() != rawSize && isImage(f.getBytesList().getValue(0));
    }
  }

  static Index index(List<Path> files, FeatureSpec features, boolean labelsRequired) throws IOException {
    String imageKey = features.inputKey();
    String labelKey = features.labelKey().orElse(null);
    Growing index = new Growing();
    List<byte[]> inMemory = new ArrayList<>();
    boolean labelled = false;
    for (int f = 0; f < files.size(); f++) {
      Path file = files.get(f);
      boolean gzip = TfRecordReader.isGzip(file);
      try (TfRecordReader reader = TfRecordReader.open(file)) {
        for (long at = reader.position(); ; at = reader.position()) {
          int i = reader.index();
          byte[] record = reader.next();
          if (record == null) {
            break;
          }
          Map<String, Feature> map = TfExampleDecoder.parse(record, file, i).getFeatures().getFeatureMap();
          ByteString image = image(map, file, i, imageKey);
          if (index.size == 0) {
            labelled = labelKey != null && (labelsRequired || map.containsKey(labelKey));
          }
          int label = -1;
          if (labelled) {
            Feature y = map.get(labelKey);
            if (y == null) {
              throw TfExampleDecoder.missing(file, i, labelKey, "label", map);
            }
            label = TfExampleDecoder.label(y, file, i, labelKey);
          }
          if (gzip) {
            inMemory.add(image.toByteArray());
          }
          index.add(f, at + 12, record.length, i, label);
        }
      }
    }
    if (index.size == 0) {
      throw new IllegalArgumentException((files.size() == 1 ? files.get(0) : files.size() + " TFRecord files")
          + " hold no records");
    }
    int n = index.size;
    Source source = new Source(files.toArray(new Path[0]), imageKey, Arrays.copyOf(index.file, n),
        Arrays.copyOf(index.offset, n), Arrays.copyOf(index.length, n), Arrays.copyOf(index.record, n),
        inMemory.size() == n ? inMemory.toArray(new byte[0][]) : null);
    if (!inMemory.isEmpty() && inMemory.size() != n) {
      // Mixed plain and GZIP shards: keep everything in memory rather than half of it.
      byte[][] all = new byte[n][];
      for (int i = 0; i < n; i++) {
        all[i] = source.bytes(i);
      }
      source = source.withImages(all);
    }
    return new Index(source, labelled ? Arrays.copyOf(index.label, n) : null);
  }

  /**
   * The records of {@code source} read inside a training graph ({@link RecordInput}), when they are
   * read from their files by offset; empty when they are held in memory (GZIP files) or are not records.
   */
  static Optional<GraphInput> graphInput(EncodedImageStore.Source source, ImageOptions options, long[] shape) {
    if (!(source instanceof Source records) || records.images() != null) {
      return Optional.empty();
    }
    return Optional.of(new RecordInput(records.files(),
        RecordInput.Ranges.indexed(records.file(), records.offset(), records.length()),
        RecordInput.images(records.key(), options, shape)));
  }

  private static ByteString image(Map<String, Feature> map, Path file, int i, String key) {
    Feature x = map.get(key);
    if (x == null) {
      throw TfExampleDecoder.missing(file, i, key, "image", map);
    }
    if (!x.hasBytesList() || x.getBytesList().getValueCount() != 1 || !isImage(x.getBytesList().getValue(0))) {
      throw new IllegalArgumentException(file + ": record " + i + ": feature '" + key
          + "' does not hold one encoded JPEG/PNG/BMP/GIF image (a bytes_list of one value)");
    }
    return x.getBytesList().getValue(0);
  }

  private static boolean isImage(ByteString b) {
    return ImageFormats.isEncoded(b.toByteArray());
  }

  /** Parallel arrays that grow by doubling while the files are scanned. */
  private static final class Growing {
    int size;
    int[] file = new int[1024];
    long[] offset = new long[1024];
    int[] length = new int[1024];
    int[] record = new int[1024];
    int[] label = new int[1024];

    void add(int f, long at, int len, int rec, int lab) {
      if (size == file.length) {
        int cap = Math.multiplyExact(size, 2);
        file = Arrays.copyOf(file, cap);
        offset = Arrays.copyOf(offset, cap);
        length = Arrays.copyOf(length, cap);
        record = Arrays.copyOf(record, cap);
        label = Arrays.copyOf(label, cap);
      }
      file[size] = f;
      offset[size] = at;
      length[size] = len;
      record[size] = rec;
      label[size] = lab;
      size++;
    }
  }

  /** Reads record i by its offset (CRC checked), or from memory for GZIP files. */
  private record Source(Path[] files, String key, int[] file, long[] offset, int[] length, int[] record,
      byte[][] images) implements EncodedImageStore.Source {
    Source withImages(byte[][] all) {
      return new Source(files, key, file, offset, length, record, all);
    }

    @Override
    public int size() {
      return file.length;
    }

    @Override
    public byte[] bytes(int i) throws IOException {
      if (images != null) {
        return images[i];
      }
      Path path = files[file[i]];
      ByteBuffer buf = ByteBuffer.allocate(length[i] + 4).order(ByteOrder.LITTLE_ENDIAN);
      try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
        while (buf.hasRemaining()) {
          if (ch.read(buf, offset[i] + buf.position()) < 0) {
            throw new IOException("the file ended early (changed since it was indexed?)");
          }
        }
      }
      byte[] data = Arrays.copyOf(buf.array(), length[i]);
      if (buf.getInt(length[i]) != TfRecordReader.maskedCrc32c(data, 0, data.length)) {
        throw new IOException("record " + record[i] + ": data CRC mismatch; the file is corrupt");
      }
      Example example = TfExampleDecoder.parse(data, path, record[i]);
      return image(example.getFeatures().getFeatureMap(), path, record[i], key).toByteArray();
    }

    @Override
    public String name(int i) {
      return files[file[i]] + " record " + record[i];
    }

    @Override
    public EncodedImageStore.Source slice(int from, int to) {
      return new Source(files, key, Arrays.copyOfRange(file, from, to), Arrays.copyOfRange(offset, from, to),
          Arrays.copyOfRange(length, from, to), Arrays.copyOfRange(record, from, to),
          images == null ? null : Arrays.copyOfRange(images, from, to));
    }

    @Override
    public String describe() {
      return "TFRecord images";
    }
  }
}
