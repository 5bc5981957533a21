package org.wclust.it;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Image-file copies of the first 6,000 Fashion-MNIST training images (PNG class folders, TFRecords of
 * PNGs, and their .npz twin in the same order), written by TensorFlow in {@code make_image_data.py}
 * from the {@link FashionMnist} fixture, once per build into {@code target/image-data}.
 */
final class ImageData {
  private static final Path DIR = Path.of("target/image-data").toAbsolutePath();
  private static boolean made;

  private ImageData() {}

  static synchronized Path dir() {
    if (!made) {
      try {
        Fixtures.runPython(Fixtures.PYTHON_DIR.resolve("make_image_data.py").toString(),
            FashionMnist.dir().toString(), DIR.toString());
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("cannot make the image-data fixture", e);
      }
      made = true;
    }
    return DIR;
  }

  /** Class folders "0".."9" of PNG files. */
  static Path pngFolder() {
    return dir().resolve("png");
  }

  /** The PNG folder's images and labels as an .npz, in the order the folder is listed. */
  static Path sortedNpz() {
    return dir().resolve("sorted.npz");
  }

  /** The same examples as one TFRecord of {image: PNG bytes, label: int64}. */
  static Path tfrecord() {
    return dir().resolve("png.tfrecord");
  }

  /** The same records in three shards. */
  static Path shards() {
    return dir().resolve("shards");
  }
}
