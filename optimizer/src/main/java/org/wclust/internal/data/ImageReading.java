package org.wclust.internal.data;

import java.util.List;

/** The image options of the command line, parsed into {@link ImageOptions} in one place. */
public final class ImageReading {
  private ImageReading() {}

  /**
   * @param size {@code H,W} or null
   * @param resize {@code bilinear} or {@code area}
   * @param mean {@code V[,V...]} or null
   * @param std {@code V[,V...]} or null
   * @param classNames the class folders in label order, or null for sorted
   * @param strict whether unreadable files and empty class folders are errors
   */
  public static ImageOptions options(String size, String resize, String mean, String std, List<String> classNames,
      boolean strict) {
    ImageOptions options = ImageOptions.defaults().withResize(ImageOptions.Resize.parse(resize))
        .withNormalization(mean, std).withStrict(strict);
    if (size != null) {
      options = options.withSize(size);
    }
    return classNames == null ? options : options.withClassNames(classNames);
  }
}
