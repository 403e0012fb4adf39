package io.ray.runtime.cluster;

import io.ray.api.exception.RayException;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Finds the {@code ray} command: the {@code ray.cli} property, else {@code ray} on {@code PATH},
 * else {@code .venv/bin/ray} or {@code bin/ray} in a directory above this jar (a repository
 * checkout keeps the jar in {@code python/ray/jars/}, a virtualenv in {@code
 * lib/pythonX.Y/site-packages/ray/jars/}) or above the working directory.
 */
public final class RayCliLocator {
  private RayCliLocator() {}

  /**
   * Finds the command.
   *
   * @param configured The {@code ray.cli} property, or null.
   * @param env The environment (for {@code PATH}).
   * @return The path of an executable {@code ray}.
   * @throws RayException If none is found; the message lists where it looked.
   */
  public static Path locate(String configured, Map<String, String> env) {
    if (configured != null) {
      Path p = Paths.get(configured);
      if (Files.isExecutable(p)) {
        return p.toAbsolutePath();
      }
      throw new RayException(
          "ray.cli=" + configured + " is not an executable file: point it at the `ray` command.");
    }
    List<String> looked = new ArrayList<>();
    String path = env.getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path p = Paths.get(dir, "ray");
      if (Files.isExecutable(p) && !Files.isDirectory(p)) {
        return p.toAbsolutePath();
      }
    }
    looked.add("PATH");
    List<Path> starts = new ArrayList<>();
    Path jarDir = jarDirectory();
    if (jarDir != null) {
      starts.add(jarDir);
    }
    starts.add(Paths.get("").toAbsolutePath());
    for (Path start : starts) {
      for (Path dir = start; dir != null; dir = dir.getParent()) {
        for (Path candidate : new Path[] {dir.resolve(".venv/bin/ray"), dir.resolve("bin/ray")}) {
          if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
            return candidate;
          }
        }
      }
      looked.add(".venv/bin/ray and bin/ray above " + start);
    }
    throw new RayException(
        "Cannot start a local cluster: no `ray` command found (looked in "
            + String.join("; ", looked)
            + "). Set -Dray.cli=/path/to/ray, or connect to a running cluster with"
            + " -Dray.address=HOST:PORT.");
  }

  private static Path jarDirectory() {
    try {
      CodeSource source = RayCliLocator.class.getProtectionDomain().getCodeSource();
      if (source == null || source.getLocation() == null) {
        return null;
      }
      Path location = Paths.get(source.getLocation().toURI());
      return Files.isDirectory(location) ? location : location.getParent();
    } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
      return null;
    }
  }
}
