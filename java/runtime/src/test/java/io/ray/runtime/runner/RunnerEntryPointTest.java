package io.ray.runtime.runner;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.exception.RayTaskException;
import io.ray.api.id.ObjectId;
import io.ray.rpc.ErrorInfo;
import io.ray.rpc.ErrorType;
import io.ray.rpc.Language;
import io.ray.runtime.runner.fixtures.Calculator;
import io.ray.runtime.runner.fixtures.Counter;
import io.ray.runtime.serialization.FrameCodec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The runner's entry points call real Java methods in this JVM, with frames in and out. */
class RunnerEntryPointTest {
  private static final String CALC = Calculator.class.getName();
  private static final String COUNTER = Counter.class.getName();

  private final RunnerEntryPoint runner =
      new RunnerEntryPoint(getClass().getClassLoader(), () -> {});

  private static byte[] args(Object... values) {
    List<byte[]> frames = new ArrayList<>();
    for (Object v : values) {
      frames.add(FrameCodec.encode(v).frame());
    }
    return PackedFrames.pack(frames);
  }

  private static List<byte[]> frames(byte[] packed) {
    return PackedFrames.unpack(packed);
  }

  private static Object single(byte[] packed) {
    List<byte[]> f = frames(packed);
    assertEquals(1, f.size());
    return FrameCodec.decode(f.get(0));
  }

  private static ErrorInfo singleError(byte[] packed) {
    List<byte[]> f = frames(packed);
    assertEquals(1, f.size());
    ErrorInfo info = FrameCodec.errorOf(f.get(0));
    assertNotNull(info, "expected an ERROR frame");
    assertEquals(Language.LANGUAGE_JAVA, info.getLanguage());
    return info;
  }

  @Test
  void versionNamesTheProtocol() {
    assertEquals("openray-java-runner/1", runner.version());
  }

  @Test
  void staticMethodsBySignatureOrByArity() {
    assertEquals(5L, single(runner.callStatic(CALC, "add", "(II)I", args(2, 3), 1)));
    assertEquals(7L, single(runner.callStatic(CALC, "add", "", args(3, 4), 1)));
    assertEquals(
        List.of("A", "BC"),
        single(runner.callStatic(CALC, "upper", "", args(List.of("a", "bc")), 1)));
    // XLANG ints arrive as long[] (int32 array read as long[]) and as a list of ints.
    assertEquals(6L, single(runner.callStatic(CALC, "sum", "([J)J", args(new int[] {1, 2, 3}), 1)));
    assertEquals(6L, single(runner.callStatic(CALC, "sum", "([J)J", args(List.of(1, 2, 3)), 1)));
    assertEquals(3L, single(runner.callStatic(CALC, "overloaded", "(I)I", args(3), 1)));
    assertEquals(
        2L, single(runner.callStatic(CALC, "overloaded", "(Ljava/lang/String;)I", args("ab"), 1)));
  }

  @Test
  void voidMethodsAndNumReturns() {
    assertEquals(0, frames(runner.callStatic(CALC, "nothing", "()V", args(), 0)).size());
    assertNull(single(runner.callStatic(CALC, "nothing", "()V", args(), 1)));
    List<byte[]> two = frames(runner.callStatic(CALC, "pair", "()Ljava/util/List;", args(), 2));
    assertEquals(2, two.size());
    assertEquals(1L, FrameCodec.decode(two.get(0)));
    assertEquals("two", FrameCodec.decode(two.get(1)));
    List<byte[]> wrong = frames(runner.callStatic(CALC, "add", "(II)I", args(1, 1), 2));
    assertEquals(2, wrong.size());
    assertTrue(FrameCodec.errorOf(wrong.get(0)).getMessage().contains("numReturns=2"));
  }

  @Test
  void javaOnlyValuesCrossInTheJavaFormat() {
    byte[] point =
        frames(
                runner.callStatic(
                    CALC, "point", "(II)L" + CALC.replace('.', '/') + "$Point;", args(3, -4), 1))
            .get(0);
    assertEquals(FrameCodec.JAVA, FrameCodec.formatOf(point));
    Calculator.Point p = (Calculator.Point) FrameCodec.decode(point);
    assertEquals(3, p.x);
    assertEquals(
        7L, single(runner.callStatic(CALC, "norm1", "", PackedFrames.pack(List.of(point)), 1)));
  }

  @Test
  void resultsReportTheObjectsTheirValuesContain() {
    ObjectId id = ObjectId.fromRandom();
    List<PackedFrames.Entry> out =
        PackedFrames.unpackEntries(runner.callStatic(CALC, "holdRef", "", args(id.toString()), 1));
    assertEquals(1, out.size());
    assertEquals(FrameCodec.JAVA, FrameCodec.formatOf(out.get(0).frame()));
    assertEquals(List.of(id), out.get(0).contained());
    PackedFrames.Entry plain =
        PackedFrames.unpackEntries(runner.callStatic(CALC, "add", "", args(1, 2), 1)).get(0);
    assertTrue(plain.contained().isEmpty());
  }

  @Test
  void resultsWithReferencesAreKeptUntilReleased() {
    ObjectId id = ObjectId.fromRandom();
    List<PackedFrames.Entry> out =
        PackedFrames.unpackEntries(
            runner.callStatic("call-1", CALC, "holdRef", "", args(id.toString()), 1));
    assertEquals(List.of(id), out.get(0).contained());
    assertEquals(1, runner.numKeptResults());
    // A result without references is not kept.
    runner.callStatic("call-2", CALC, "add", "", args(1, 2), 1);
    assertEquals(1, runner.numKeptResults());
    assertFalse(runner.release("call-2"));
    assertTrue(runner.release("call-1"));
    assertEquals(0, runner.numKeptResults());
    assertFalse(runner.release("call-1"));
  }

  @Test
  void aMissingClassNamesWhereItWasLookedFor() {
    ErrorInfo info = singleError(runner.callStatic("com.example.Nowhere", "f", "", args(), 1));
    assertEquals("java.lang.ClassNotFoundException", info.getExceptionType());
    assertTrue(info.getMessage().contains("com.example.Nowhere"), info.getMessage());
    assertTrue(info.getMessage().contains("class path"), info.getMessage());
  }

  @Test
  void userExceptionsBecomeJavaErrorFrames() {
    ErrorInfo info =
        singleError(runner.callStatic(CALC, "fail", "(Ljava/lang/String;)I", args("bad input"), 1));
    assertEquals(ErrorType.ERROR_TYPE_TASK_EXECUTION, info.getType());
    assertEquals("java.lang.IllegalStateException", info.getExceptionType());
    assertEquals("java.lang.IllegalStateException: bad input", info.getMessage());
    assertTrue(
        info.getTraceback().contains("Calculator.fail(Calculator.java"), info.getTraceback());
    assertFalse(info.getTraceback().contains("jdk.internal.reflect"), info.getTraceback());

    ErrorInfo deep = singleError(runner.callStatic(CALC, "failDeep", "", args("x"), 1));
    assertEquals("java.lang.RuntimeException", deep.getExceptionType());
    assertTrue(
        deep.getTraceback().contains("Caused by: java.lang.IllegalStateException: x"),
        deep.getTraceback());

    byte[] frame = frames(runner.callStatic(CALC, "fail", "", args("boom"), 1)).get(0);
    RayTaskException e = assertThrows(RayTaskException.class, () -> FrameCodec.decode(frame));
    assertEquals("JAVA", e.getLanguage());
    assertEquals("java.lang.IllegalStateException", e.getRemoteExceptionType());
    assertTrue(e.getMessage().contains("boom"));
  }

  @Test
  void lookupFailuresBecomeErrorFrames() {
    ErrorInfo noClass =
        singleError(runner.callStatic("com.example.Missing", "f", "()V", args(), 1));
    assertEquals("java.lang.ClassNotFoundException", noClass.getExceptionType());
    assertTrue(noClass.getMessage().contains("code search path"), noClass.getMessage());
    ErrorInfo noMethod = singleError(runner.callStatic(CALC, "add", "(JJ)J", args(1, 2), 1));
    assertEquals("java.lang.NoSuchMethodException", noMethod.getExceptionType());
    ErrorInfo ambiguous = singleError(runner.callStatic(CALC, "overloaded", "", args(1), 1));
    assertTrue(ambiguous.getMessage().contains("2 methods match"), ambiguous.getMessage());
    ErrorInfo notStatic = singleError(runner.callStatic(CALC, "instanceMethod", "()I", args(), 1));
    assertTrue(notStatic.getMessage().contains("not a static method"), notStatic.getMessage());
    ErrorInfo arity = singleError(runner.callStatic(CALC, "add", "(II)I", args(1), 1));
    assertTrue(arity.getMessage().contains("takes 2 arguments, got 1"), arity.getMessage());
    ErrorInfo badArg = singleError(runner.callStatic(CALC, "add", "(II)I", args("one", 2), 1));
    assertEquals(ErrorType.ERROR_TYPE_SERIALIZATION, badArg.getType());
    assertTrue(badArg.getMessage().contains("Argument 0"), badArg.getMessage());
    ErrorInfo nullPrimitive =
        singleError(runner.callStatic(CALC, "add", "(II)I", args(null, 2), 1));
    assertTrue(nullPrimitive.getMessage().contains("null to int"), nullPrimitive.getMessage());
    ErrorInfo unstorable = singleError(runner.callStatic(CALC, "notSerializable", "", args(), 1));
    assertEquals(ErrorType.ERROR_TYPE_SERIALIZATION, unstorable.getType());
    ErrorInfo garbage =
        singleError(runner.callStatic(CALC, "add", "(II)I", new byte[] {1, 0, 0, 0}, 1));
    assertEquals(ErrorType.ERROR_TYPE_SERIALIZATION, garbage.getType());
  }

  @Test
  void anErrorFrameArgumentFailsTheCallWithThatError() {
    byte[] error = frames(runner.callStatic(CALC, "fail", "", args("upstream"), 1)).get(0);
    List<byte[]> out =
        frames(
            runner.callStatic(
                CALC,
                "add",
                "(II)I",
                PackedFrames.pack(List.of(error, FrameCodec.encode(1).frame())),
                1));
    assertArrayEquals(error, out.get(0));
  }

  @Test
  void actorsAreCreatedCalledAndRemoved() {
    assertEquals(0, frames(runner.createActor("a1", COUNTER, "<init>", "(I)V", args(5))).size());
    assertEquals(1, runner.numActors());
    assertEquals(6L, single(runner.callActor("a1", COUNTER, "increment", "()I", args(), 1)));
    assertEquals(16L, single(runner.callActor("a1", COUNTER, "add", "(I)I", args(10), 1)));
    // A method declared by a superclass, named by it.
    assertEquals(
        16L,
        single(
            runner.callActor(
                "a1", "io.ray.runtime.runner.fixtures.BaseCounter", "get", "()I", args(), 1)));
    assertEquals(16L, single(runner.callActor("a1", "", "get", "", args(), 1)));
    assertEquals(0, frames(runner.callActor("a1", COUNTER, "reset", "()V", args(), 0)).size());
    assertEquals(0L, single(runner.callActor("a1", COUNTER, "get", "()I", args(), 1)));
    // A static factory.
    assertEquals(
        0,
        frames(
                runner.createActor(
                    "a2",
                    COUNTER,
                    "startingAt",
                    "(I)L" + COUNTER.replace('.', '/') + ";",
                    args(100)))
            .size());
    assertEquals(101L, single(runner.callActor("a2", COUNTER, "increment", "()I", args(), 1)));
    assertEquals(2, runner.numActors());
    assertTrue(runner.removeActor("a1"));
    assertFalse(runner.removeActor("a1"));
    assertEquals(
        ErrorType.ERROR_TYPE_ACTOR_DIED,
        singleError(runner.callActor("a1", COUNTER, "get", "()I", args(), 1)).getType());
  }

  @Test
  void actorFailuresBecomeErrorFrames() {
    ErrorInfo twice;
    assertEquals(0, frames(runner.createActor("b", COUNTER, "<init>", "", args(1))).size());
    twice = singleError(runner.createActor("b", COUNTER, "<init>", "", args(1)));
    assertTrue(twice.getMessage().contains("exists already"), twice.getMessage());
    ErrorInfo badCtor =
        singleError(runner.createActor("c", COUNTER, "<init>", "(Ljava/lang/String;)V", args("x")));
    assertEquals("java.lang.NoSuchMethodException", badCtor.getExceptionType());
    ErrorInfo staticCall =
        singleError(runner.callActor("b", COUNTER, "staticHelper", "()I", args(), 1));
    assertTrue(staticCall.getMessage().contains("not an instance method"), staticCall.getMessage());
    ErrorInfo wrongClass = singleError(runner.callActor("b", CALC, "add", "(II)I", args(1, 2), 1));
    assertTrue(wrongClass.getMessage().contains("not a " + CALC), wrongClass.getMessage());
    assertEquals(1, runner.numActors());
  }

  @Test
  void packedFramesRoundTripAndRejectGarbage() {
    List<byte[]> in = List.of(new byte[0], new byte[] {1, 2, 3});
    List<byte[]> out = PackedFrames.unpack(PackedFrames.pack(in));
    assertEquals(2, out.size());
    assertArrayEquals(in.get(1), out.get(1));
    assertEquals(0, PackedFrames.unpack(new byte[0]).size());
    assertThrows(
        IllegalArgumentException.class, () -> PackedFrames.unpack(new byte[] {2, 0, 0, 0, 1}));
    ObjectId id = ObjectId.fromRandom();
    List<PackedFrames.Entry> withIds =
        PackedFrames.unpackEntries(
            PackedFrames.packEntries(List.of(new PackedFrames.Entry(new byte[] {7}, List.of(id)))));
    assertEquals(List.of(id), withIds.get(0).contained());
    assertThrows(
        IllegalArgumentException.class,
        () -> PackedFrames.unpack(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}));
    byte[] stray = PackedFrames.pack(List.of(new byte[] {9}));
    byte[] longer = java.util.Arrays.copyOf(stray, stray.length + 1);
    assertThrows(IllegalArgumentException.class, () -> PackedFrames.unpack(longer));
  }
}
