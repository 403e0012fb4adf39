package io.ray.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checked-in overload sources are exactly what {@link RayCallGenerator} writes. */
class GeneratedSourcesTest {

  @Test
  void generatedSourcesAreUpToDate() throws IOException {
    Path module = Paths.get("").toAbsolutePath();
    Map<String, String> files = RayCallGenerator.generate();
    assertEquals(3 + 2 * (RayCallGenerator.MAX_PARAMETERS + 1), files.size());
    for (Map.Entry<String, String> entry : files.entrySet()) {
      Path path = module.resolve(entry.getKey());
      assertTrue(Files.exists(path), "missing generated file " + path);
      String actual = new String(Files.readAllBytes(path), StandardCharsets.UTF_8);
      assertEquals(
          entry.getValue(),
          actual,
          path
              + " is stale: run RayCallGenerator.main with the api module directory"
              + " (see its Javadoc) and commit the result");
    }
  }
}
