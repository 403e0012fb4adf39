package io.ray.runtime.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.exception.RayException;
import io.ray.api.function.RayFunc0;
import io.ray.api.function.RayFunc1;
import io.ray.api.function.RayFunc2;
import io.ray.api.function.RayFuncVoid1;
import io.ray.api.function.RayFuncVoid2;
import java.lang.reflect.ParameterizedType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Method references and lambdas name the method the cluster runs. */
class JavaFunctionTest {

  static int add(int a, int b) {
    return a + b;
  }

  static List<String> names(int n) {
    return List.of();
  }

  static void log(String s) {}

  static int slow() {
    return 1;
  }

  /** An actor class. */
  static class Counter {
    int value;

    Counter(int start) {
      value = start;
    }

    int increment() {
      return ++value;
    }

    void reset(int to) {
      value = to;
    }

    static Counter create(int start) {
      return new Counter(start);
    }
  }

  @Test
  void staticMethodReference() {
    JavaFunction f = JavaFunction.of((RayFunc2<Integer, Integer, Integer>) JavaFunctionTest::add);
    assertEquals(JavaFunctionTest.class.getName(), f.className);
    assertEquals("add", f.methodName);
    assertEquals("(II)I", f.signature);
    assertEquals(int.class, f.returnType);
    assertEquals(1, f.numReturns);
    assertTrue(f.isStatic);
    assertFalse(f.isConstructor);
  }

  @Test
  void genericReturnTypesAreKept() {
    JavaFunction f = JavaFunction.of((RayFunc1<Integer, List<String>>) JavaFunctionTest::names);
    assertEquals("(I)Ljava/util/List;", f.signature);
    ParameterizedType t = (ParameterizedType) f.returnType;
    assertEquals(List.class, t.getRawType());
    assertEquals(String.class, t.getActualTypeArguments()[0]);
  }

  @Test
  void voidFunctionsHaveNoReturns() {
    JavaFunction f = JavaFunction.of((RayFuncVoid1<String>) JavaFunctionTest::log);
    assertEquals(0, f.numReturns);
    assertNull(f.returnType);
  }

  @Test
  void constructorsFactoriesAndActorMethods() {
    JavaFunction ctor = JavaFunction.of((RayFunc1<Integer, Counter>) Counter::new);
    assertEquals(Counter.class.getName(), ctor.className);
    assertEquals("<init>", ctor.methodName);
    assertEquals("(I)V", ctor.signature);
    assertTrue(ctor.isConstructor);
    assertEquals(Counter.class, ctor.returnType);
    JavaFunction factory = JavaFunction.of((RayFunc1<Integer, Counter>) Counter::create);
    assertEquals("create", factory.methodName);
    assertTrue(factory.isStatic);
    assertFalse(factory.isConstructor);
    JavaFunction method = JavaFunction.of((RayFunc1<Counter, Integer>) Counter::increment);
    assertEquals("increment", method.methodName);
    assertEquals("()I", method.signature);
    assertFalse(method.isStatic);
    JavaFunction reset = JavaFunction.of((RayFuncVoid2<Counter, Integer>) Counter::reset);
    assertEquals("(I)V", reset.signature);
    assertEquals(0, reset.numReturns);
  }

  @Test
  void nonCapturingLambdasAreStaticMethodsOfTheirClass() {
    JavaFunction f = JavaFunction.of((RayFunc0<Integer>) () -> 42);
    assertEquals(JavaFunctionTest.class.getName(), f.className);
    assertTrue(f.methodName.startsWith("lambda$"), f.methodName);
    assertTrue(f.isStatic);
  }

  @Test
  void capturingLambdasAndBoundReferencesAreRejected() {
    int captured = 5;
    RayException e =
        assertThrows(RayException.class, () -> JavaFunction.of((RayFunc0<Integer>) () -> captured));
    assertTrue(e.getMessage().contains("captures"), e.getMessage());
    Counter c = new Counter(0);
    assertThrows(RayException.class, () -> JavaFunction.of((RayFunc0<Integer>) c::increment));
  }

  @Test
  void nonLambdaImplementationsAreRejected() {
    RayFunc0<Integer> anonymous =
        new RayFunc0<Integer>() {
          private static final long serialVersionUID = 1L;

          @Override
          public Integer apply() {
            return 1;
          }
        };
    RayException e = assertThrows(RayException.class, () -> JavaFunction.of(anonymous));
    assertTrue(e.getMessage().contains("method reference"), e.getMessage());
  }

  @Test
  void descriptorsAreCachedPerCallSite() {
    RayFunc0<Integer> f = JavaFunctionTest::slow;
    assertTrue(JavaFunction.of(f) == JavaFunction.of(f));
  }
}
