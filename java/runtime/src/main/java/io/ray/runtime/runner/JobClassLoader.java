package io.ray.runtime.runner;

import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * The class loader of a job's Java code: every directory of the code search path (as a class
 * directory, plus the jars directly inside it) and every jar named on it. Classes of the runner's
 * own class path (ray_dist.jar, and anything put on {@code -cp}) come first.
 */
public final class JobClassLoader {
  private static final Logger LOG = Logger.getLogger(JobClassLoader.class.getName());

  private JobClassLoader() {}

  /**
   * Lists the URLs of a code search path.
   *
   * @param codeSearchPath Directories and jars.
   * @return Their URLs, in order; entries that do not exist or are not jars are skipped.
   */
  public static List<URL> urls(List<String> codeSearchPath) {
    List<URL> urls = new ArrayList<>();
    for (String entry : codeSearchPath) {
      Path p = Paths.get(entry).toAbsolutePath();
      try {
        if (Files.isDirectory(p)) {
          urls.add(p.toUri().toURL());
          try (Stream<Path> files = Files.list(p)) {
            files
                .filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f))
                .sorted()
                .forEach(
                    f -> {
                      try {
                        urls.add(f.toUri().toURL());
                      } catch (MalformedURLException e) {
                        LOG.warning("skipping " + f + ": " + e);
                      }
                    });
          }
        } else if (Files.isRegularFile(p) && (entry.endsWith(".jar") || entry.endsWith(".zip"))) {
          urls.add(p.toUri().toURL());
        }
      } catch (IOException e) {
        LOG.warning("skipping code search path entry " + entry + ": " + e);
      }
    }
    return urls;
  }

  /**
   * Creates the loader.
   *
   * @param codeSearchPath Directories and jars.
   * @param parent The runner's own loader.
   * @return The loader.
   */
  public static ClassLoader create(List<String> codeSearchPath, ClassLoader parent) {
    List<URL> urls = urls(codeSearchPath);
    return new URLClassLoader("ray-job", urls.toArray(new URL[0]), parent);
  }
}
