package io.ray.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The programs of {@code examples/java/}, compiled with plain {@code javac} against nothing but
 * {@code ray_dist.jar} (no Maven) and run in both ways a user starts the cluster: the library
 * starting its own local cluster, and a cluster started beforehand with {@code ray start} that the
 * program joins by address with the code search path given. Each must exit 0 and leave no process
 * and no {@code /dev/shm} entry behind.
 */
class ExamplesTest extends BaseTest {
  private static Path classes;
  private static Path appJar;
  private static Path rayDist;

  static List<Path> examples() throws IOException {
    try (Stream<Path> files = Files.list(TestCluster.repoRoot().resolve("examples/java"))) {
      return files
          .filter(p -> p.toString().endsWith(".java"))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  @BeforeAll
  static void compileWithPlainJavac() throws IOException {
    // The jar as installed in the ray package (python/ray/jars/ray_dist.jar), the build's own.
    rayDist = TestCluster.installedJar();
    assertTrue(
        java.util.Arrays.equals(Files.readAllBytes(rayDist), Files.readAllBytes(TestCluster.jar())),
        rayDist + " is not the jar this build made (" + TestCluster.jar() + ")");
    classes = Files.createTempDirectory("openray-java-examples-");
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "javac").toString());
    command.add("-cp");
    command.add(rayDist.toString());
    command.add("-d");
    command.add(classes.toString());
    List<Path> sources = examples();
    assertFalse(sources.isEmpty(), "no examples in examples/java");
    for (Path p : sources) {
      command.add(p.toString());
    }
    TestCluster.ProcessResult javac = TestCluster.run(command, java.util.Map.of(), 120);
    assertEquals(0, javac.exitCode, "javac failed:\n" + javac.out);
    // The same classes as an application jar, as users ship them: app.jar.
    appJar = Files.createTempDirectory("openray-java-app-").resolve("app.jar");
    TestCluster.ProcessResult jar =
        TestCluster.run(
            List.of(
                Paths.get(System.getProperty("java.home"), "bin", "jar").toString(),
                "--create",
                "--file",
                appJar.toString(),
                "-C",
                classes.toString(),
                "."),
            java.util.Map.of(),
            120);
    assertEquals(0, jar.exitCode, "jar failed:\n" + jar.out);
  }

  @AfterAll
  static void removeClasses() {
    TestCluster.deleteTree(classes);
    if (appJar != null) {
      TestCluster.deleteTree(appJar.getParent());
    }
  }

  private static List<String> javaCommand(Path app, String mainClass, String... options) {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(options));
    command.add("-cp");
    command.add(app + ":" + rayDist);
    command.add(mainClass);
    return command;
  }

  private static List<String> mainClasses() throws IOException {
    List<String> out = new ArrayList<>();
    for (Path p : examples()) {
      out.add(p.getFileName().toString().replace(".java", ""));
    }
    return out;
  }

  @Test
  void examplesRunOnTheirOwnLocalCluster() throws IOException {
    for (String main : mainClasses()) {
      Path tempDir = Files.createTempDirectory("openray-java-example-cluster-");
      try {
        ProgramRun run =
            ProgramRun.run(
                javaCommand(
                    classes,
                    main,
                    "-Dray.cli=" + TestCluster.rayCli(),
                    "-Dray.head-args.0=--temp-dir",
                    "-Dray.head-args.1=" + tempDir),
                120);
        assertEquals(0, run.exitCode, main + " failed:\n" + run.output);
        assertTrue(run.output.contains("`get` timed out."), run.output);
        assertTrue(
            run.descendants.values().stream().anyMatch(c -> c.contains("node_manager")),
            "the example started no node: " + run.descendants);
        List<String> left = TestCluster.Leftovers.processes(run.descendants, 20_000);
        List<String> prefixes = ProgramRun.shmPrefixes(tempDir);
        assertEquals(1, prefixes.size(), "sessions in " + tempDir + ": " + prefixes);
        left.addAll(TestCluster.Leftovers.shmEntries(prefixes.get(0), 20_000));
        assertTrue(left.isEmpty(), main + " left behind: " + left);
      } finally {
        TestCluster.deleteTree(tempDir);
      }
    }
  }

  @Test
  void examplesJoinAClusterStartedBeforehand() throws IOException {
    // `java -cp app.jar:ray_dist.jar Main`, the application jar also the job's code search path
    // (the cluster's JVMs load the remote functions from it).
    for (String main : mainClasses()) {
      ProgramRun run =
          ProgramRun.run(
              javaCommand(
                  appJar,
                  main,
                  "-Dray.address=" + cluster.address(),
                  "-Dray.job.code-search-path=" + appJar),
              120);
      assertEquals(0, run.exitCode, main + " failed:\n" + run.output);
      assertTrue(run.output.contains("`get` timed out."), run.output);
      List<String> left = TestCluster.Leftovers.processes(run.descendants, 20_000);
      assertTrue(left.isEmpty(), main + " left behind: " + left);
    }
  }
}
