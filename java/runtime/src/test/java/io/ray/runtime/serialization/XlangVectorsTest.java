package io.ray.runtime.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import io.ray.api.exception.RayTaskException;
import io.ray.rpc.ErrorInfo;
import io.ray.rpc.ErrorType;
import io.ray.rpc.Language;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every vector of tests/xlang (the cross-language byte format) decodes to the value its manifest
 * describes, and encoding that value gives exactly the vector's bytes.
 */
class XlangVectorsTest {

  /** Finds tests/xlang: the build's system property, else upwards from the working directory. */
  static Path vectorsDir() {
    String configured = System.getProperty("ray.xlang.vectors");
    if (configured != null && Files.isRegularFile(Paths.get(configured, "vectors.json"))) {
      return Paths.get(configured);
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("tests").resolve("xlang");
      if (Files.isRegularFile(candidate.resolve("vectors.json"))) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "cannot find tests/xlang/vectors.json above " + Paths.get("").toAbsolutePath());
  }

  private static JsonArray manifest() throws IOException {
    String json =
        new String(
            Files.readAllBytes(vectorsDir().resolve("vectors.json")), StandardCharsets.UTF_8);
    JsonObject root = JsonParser.parseString(json).getAsJsonObject();
    assertEquals(1, root.get("format_version").getAsInt());
    return root.getAsJsonArray("vectors");
  }

  @Test
  void manifestListsEveryBinFile() throws IOException {
    List<String> named = new ArrayList<>();
    for (JsonElement v : manifest()) {
      named.add(v.getAsJsonObject().get("name").getAsString() + ".bin");
    }
    List<String> files = new ArrayList<>();
    try (Stream<Path> list = Files.list(vectorsDir())) {
      list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".bin")).forEach(files::add);
    }
    named.sort(null);
    files.sort(null);
    assertEquals(named, files);
    assertTrue(named.size() >= 33, "expected the full set of vectors, found " + named.size());
  }

  @TestFactory
  Stream<DynamicTest> everyVectorDecodesAndReencodesExactly() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonElement element : manifest()) {
      JsonObject vector = element.getAsJsonObject();
      String name = vector.get("name").getAsString();
      tests.add(DynamicTest.dynamicTest(name, () -> checkVector(vector)));
    }
    return tests.stream();
  }

  private static void checkVector(JsonObject vector) throws IOException {
    String name = vector.get("name").getAsString();
    String format = vector.get("format").getAsString();
    byte[] bytes = Files.readAllBytes(vectorsDir().resolve(name + ".bin"));
    JsonObject value = vector.getAsJsonObject("value");
    switch (format) {
      case "XLANG":
        {
          assertEquals(FrameCodec.XLANG, FrameCodec.formatOf(bytes));
          Object expected = build(value);
          Object decoded = FrameCodec.decode(bytes);
          Values.assertDeepEquals(expected, decoded, name);
          assertArrayEquals(bytes, FrameCodec.encode(decoded).frame(), name + ": re-encoding");
          assertArrayEquals(bytes, FrameCodec.encode(expected).frame(), name + ": encoding");
          // Bytes after the end of a frame are ignored.
          byte[] padded = Arrays.copyOf(bytes, bytes.length + 13);
          Values.assertDeepEquals(expected, FrameCodec.decode(padded), name + " (padded)");
          break;
        }
      case "RAW":
        {
          assertEquals(FrameCodec.RAW, FrameCodec.formatOf(bytes));
          byte[] expected = hex(value.get("bytes_hex").getAsString());
          byte[] decoded = (byte[]) FrameCodec.decode(bytes);
          assertArrayEquals(expected, decoded, name);
          assertArrayEquals(bytes, FrameCodec.encodeRaw(decoded), name + ": re-encoding");
          break;
        }
      case "ERROR":
        {
          assertEquals(FrameCodec.ERROR, FrameCodec.formatOf(bytes));
          ErrorInfo expected = buildError(value.getAsJsonObject("error"));
          ErrorInfo decoded = FrameCodec.errorOf(bytes);
          assertEquals(expected, decoded, name);
          assertArrayEquals(bytes, FrameCodec.encodeError(decoded), name + ": re-encoding");
          assertArrayEquals(bytes, FrameCodec.encodeError(expected), name + ": encoding");
          if (expected.getType() == ErrorType.ERROR_TYPE_TASK_EXECUTION) {
            RayTaskException e =
                assertThrows(RayTaskException.class, () -> FrameCodec.decode(bytes), name);
            assertEquals(expected.getExceptionType(), e.getRemoteExceptionType());
            assertEquals(expected.getMessage(), e.getRemoteMessage());
            assertEquals(expected.getTraceback(), e.getRemoteTraceback());
            assertEquals(ErrorFrames.languageName(expected.getLanguage()), e.getLanguage());
            assertTrue(e.getMessage().contains(expected.getMessage()), e.getMessage());
            assertTrue(e.getMessage().contains(expected.getTraceback()), e.getMessage());
          }
          break;
        }
      default:
        throw new AssertionError(name + ": unknown format " + format);
    }
  }

  /** Builds the natural Java value of a typed-JSON node (tests/xlang/README.md section 5). */
  static Object build(JsonObject node) {
    assertEquals(1, node.size(), "a typed-JSON node has one key: " + node);
    String kind = node.keySet().iterator().next();
    JsonElement v = node.get(kind);
    switch (kind) {
      case "null":
        return null;
      case "bool":
        return v.getAsBoolean();
      case "int":
        return Long.parseLong(v.getAsString());
      case "float":
        return Double.parseDouble(v.getAsString());
      case "str":
        return v.getAsString();
      case "bytes_hex":
        return hex(v.getAsString());
      case "list":
        {
          List<Object> list = new ArrayList<>();
          for (JsonElement item : v.getAsJsonArray()) {
            list.add(build(item.getAsJsonObject()));
          }
          return list;
        }
      case "map":
        {
          Map<Object, Object> map = new LinkedHashMap<>();
          for (JsonElement entry : v.getAsJsonArray()) {
            JsonArray pair = entry.getAsJsonArray();
            map.put(build(pair.get(0).getAsJsonObject()), build(pair.get(1).getAsJsonObject()));
          }
          return map;
        }
      case "array":
        {
          JsonObject a = v.getAsJsonObject();
          JsonArray shapeJson = a.getAsJsonArray("shape");
          long[] shape = new long[shapeJson.size()];
          for (int i = 0; i < shape.length; i++) {
            shape[i] = shapeJson.get(i).getAsLong();
          }
          NdArray nd =
              new NdArray(
                  a.get("dtype").getAsString(), shape, hex(a.get("data_hex").getAsString()));
          return XlangDecoder.natural(nd);
        }
      default:
        throw new AssertionError("unknown typed-JSON kind " + kind);
    }
  }

  private static ErrorInfo buildError(JsonObject error) {
    ErrorInfo.Builder b = ErrorInfo.newBuilder();
    for (String key : error.keySet()) {
      String s = error.get(key).getAsString();
      switch (key) {
        case "type":
          b.setType(ErrorType.valueOf(s));
          break;
        case "language":
          b.setLanguage(Language.valueOf(s));
          break;
        case "message":
          b.setMessage(s);
          break;
        case "traceback":
          b.setTraceback(s);
          break;
        case "exception_type":
          b.setExceptionType(s);
          break;
        case "task_id_hex":
          b.setTaskId(ByteString.copyFrom(hex(s)));
          break;
        case "actor_id_hex":
          b.setActorId(ByteString.copyFrom(hex(s)));
          break;
        case "python_exception_hex":
          b.setPythonException(ByteString.copyFrom(hex(s)));
          break;
        default:
          throw new AssertionError("unknown ErrorInfo key " + key);
      }
    }
    return b.build();
  }

  static byte[] hex(String s) {
    byte[] out = new byte[s.length() / 2];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
    }
    return out;
  }

  @Test
  void explicitValuesOfSomeVectors() throws IOException {
    Path dir = vectorsDir();
    assertEquals(42L, FrameCodec.decode(Files.readAllBytes(dir.resolve("int_42.bin"))));
    assertEquals(
        42,
        FrameCodec.decode(
            Files.readAllBytes(dir.resolve("int_42.bin")), Integer.class, null, null));
    assertArrayEquals(
        new int[] {1, -2, 3},
        (int[]) FrameCodec.decode(Files.readAllBytes(dir.resolve("array_int32_1d.bin"))));
    double[][] matrix =
        (double[][])
            FrameCodec.decode(
                Files.readAllBytes(dir.resolve("array_float64_2x3.bin")),
                double[][].class,
                null,
                null);
    assertArrayEquals(new double[] {0.5, 1, 2}, matrix[0]);
    assertArrayEquals(new double[] {3, 4, 5}, matrix[1]);
    assertArrayEquals(
        new byte[0],
        (byte[]) FrameCodec.decode(Files.readAllBytes(dir.resolve("bytes_empty.bin"))));
    assertEquals(
        -5L,
        FrameCodec.decode(
            Files.readAllBytes(dir.resolve("array_int64_0d.bin")), Long.class, null, null));
    assertEquals(
        "héllo wörld ✓ 日本 🚀",
        FrameCodec.decode(
            Files.readAllBytes(dir.resolve("str_unicode.bin")), String.class, null, null));
  }
}
