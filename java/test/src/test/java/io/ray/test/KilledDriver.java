package io.ray.test;

import io.ray.api.ActorHandle;
import io.ray.api.ObjectRef;
import io.ray.api.PyActorHandle;
import io.ray.api.Ray;
import io.ray.api.function.PyActorClass;
import io.ray.api.function.PyActorMethod;
import java.util.ArrayList;
import java.util.List;

/**
 * The driver {@link KilledDriverTest} kills: joins the cluster of {@code -Dray.address}, puts
 * objects large enough for the shared-memory store, starts a Java and a Python actor (named, so the
 * test can look for them), prints {@code READY <java actor JVM pid> <its worker pid> <python actor
 * pid>} and waits to be killed.
 */
public final class KilledDriver {
  /** MiB put by the driver. */
  static final int MIB_PUT = 24;

  private KilledDriver() {}

  public static void main(String[] args) throws InterruptedException {
    Ray.init();
    List<ObjectRef<byte[]>> pinned = new ArrayList<>();
    for (int i = 0; i < MIB_PUT / 8; i++) {
      pinned.add(Ray.put(new byte[8 << 20]));
    }
    ActorHandle<JavaActorTest.Counter> javaActor =
        Ray.actor(JavaActorTest.Counter::new).setName("killed-driver-java").remote();
    PyActorHandle pyActor =
        Ray.actor(PyActorClass.of("java_test_fixtures", "Counter"), 0)
            .setName("killed-driver-python")
            .remote();
    long jvm = javaActor.task(JavaActorTest.Counter::pid).remote().get();
    long worker = javaActor.task(JavaActorTest.Counter::workerPid).remote().get();
    int pyPid = pyActor.task(PyActorMethod.of("pid", Integer.class)).remote().get();
    // The objects are stored before the driver says it is ready.
    Ray.get(pinned);
    System.out.println("READY " + jvm + " " + worker + " " + pyPid);
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
