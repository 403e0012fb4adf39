package io.ray.runtime.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.rpc.ErrorInfo;
import io.ray.runtime.serialization.FrameCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runner loads job classes from the code search path (class directories, jars, directories of
 * jars). The job's class is compiled here, so this test JVM's own class path does not have it.
 */
class CodeSearchPathTest {
  private static final String GREETER = "com.example.job.Greeter";
  private static final String SOURCE =
      "package com.example.job;\n"
          + "public class Greeter {\n"
          + "  public static String greet(String name) { return \"hello, \" + name; }\n"
          + "  public static final class Box implements java.io.Serializable {\n"
          + "    private static final long serialVersionUID = 1L;\n"
          + "    public final int v;\n"
          + "    public Box(int v) { this.v = v; }\n"
          + "  }\n"
          + "  public static int unbox(Box b) { return b.v; }\n"
          + "  public static Box box(int v) { return new Box(v); }\n"
          + "}\n";

  @TempDir Path tmp;
  private Path classes;

  @BeforeEach
  void compile() throws IOException {
    Path src = tmp.resolve("src/com/example/job/Greeter.java");
    Files.createDirectories(src.getParent());
    Files.write(src, SOURCE.getBytes(StandardCharsets.UTF_8));
    classes = Files.createDirectories(tmp.resolve("classes"));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "tests need a JDK (javax.tools)");
    int rc = javac.run(null, null, null, "-d", classes.toString(), src.toString());
    assertEquals(0, rc, "javac failed");
    assertThrows(ClassNotFoundException.class, () -> Class.forName(GREETER));
  }

  private static byte[] args(Object... values) {
    return PackedFrames.pack(
        Stream.of(values)
            .map(v -> FrameCodec.encode(v).frame())
            .collect(java.util.stream.Collectors.toList()));
  }

  private static Object result(byte[] packed) {
    return FrameCodec.decode(PackedFrames.unpack(packed).get(0));
  }

  @Test
  void classDirectory() {
    ClassLoader loader =
        JobClassLoader.create(List.of(classes.toString()), getClass().getClassLoader());
    RunnerEntryPoint runner = new RunnerEntryPoint(loader, () -> {});
    assertEquals("hello, ray", result(runner.callStatic(GREETER, "greet", "", args("ray"), 1)));
  }

  @Test
  void directoryOfJarsAndJarFiles() throws IOException {
    Path lib = Files.createDirectories(tmp.resolve("lib"));
    Path jar = lib.resolve("greeter.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
        Stream<Path> files = Files.walk(classes)) {
      for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
        out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
        out.write(Files.readAllBytes(f));
        out.closeEntry();
      }
    }
    for (String entry : List.of(lib.toString(), jar.toString())) {
      ClassLoader loader = JobClassLoader.create(List.of(entry), getClass().getClassLoader());
      RunnerEntryPoint runner = new RunnerEntryPoint(loader, () -> {});
      assertEquals(
          "hello, jar", result(runner.callStatic(GREETER, "greet", "", args("jar"), 1)), entry);
    }
  }

  @Test
  void javaFormatValuesOfJobClassesAreReadWithTheJobLoader() throws Exception {
    ClassLoader loader =
        JobClassLoader.create(List.of(classes.toString()), getClass().getClassLoader());
    RunnerEntryPoint runner = new RunnerEntryPoint(loader, () -> {});
    Object box =
        Class.forName(GREETER + "$Box", true, loader).getConstructor(int.class).newInstance(42);
    byte[] frame = FrameCodec.encode(box).frame();
    assertEquals(FrameCodec.JAVA, FrameCodec.formatOf(frame));
    assertEquals(
        42L, result(runner.callStatic(GREETER, "unbox", "", PackedFrames.pack(List.of(frame)), 1)));
    byte[] made =
        PackedFrames.unpack(
                runner.callStatic(
                    GREETER, "box", "(I)L" + "com/example/job/Greeter$Box;", args(7), 1))
            .get(0);
    Object back = FrameCodec.decode(made, Object.class, loader, null);
    assertEquals(GREETER + "$Box", back.getClass().getName());
  }

  @Test
  void classesNotOnThePathAreReported() {
    RunnerEntryPoint runner =
        new RunnerEntryPoint(
            JobClassLoader.create(List.of(), getClass().getClassLoader()), () -> {});
    ErrorInfo info =
        FrameCodec.errorOf(
            PackedFrames.unpack(runner.callStatic(GREETER, "greet", "", args("x"), 1)).get(0));
    assertNotNull(info);
    assertTrue(info.getMessage().contains(GREETER), info.getMessage());
  }

  @Test
  void missingAndNonJarEntriesAreSkipped() throws IOException {
    Path text = Files.write(tmp.resolve("notes.txt"), new byte[] {1});
    assertEquals(
        1,
        JobClassLoader.urls(
                List.of(classes.toString(), text.toString(), tmp.resolve("missing").toString()))
            .size());
  }
}
