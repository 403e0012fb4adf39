package io.ray.runtime.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ray.api.exception.RayException;
import io.ray.api.options.ActorCreationOptions;
import io.ray.api.options.ActorLifetime;
import io.ray.api.options.CallOptions;
import io.ray.rpc.ActorOptions;
import io.ray.rpc.TaskOptions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The API's options map to the option messages of client_gateway.proto. */
class ProtoOptionsTest {

  @Test
  void taskOptions() {
    CallOptions options =
        new CallOptions.Builder()
            .setName("my-task")
            .setResource("CPU", 2.0)
            .setResources(Map.of("GPU", 0.5, "custom", 3.0))
            .build();
    TaskOptions proto = ProtoOptions.taskOptions(options, 1);
    assertEquals("my-task", proto.getName());
    assertEquals(Map.of("CPU", 2.0, "GPU", 0.5, "custom", 3.0), proto.getResourcesMap());
    assertTrue(proto.hasNumReturns());
    assertEquals(1, proto.getNumReturns());
    assertFalse(proto.hasMaxRetries());
    TaskOptions none = ProtoOptions.taskOptions(new CallOptions.Builder().build(), 0);
    assertEquals("", none.getName());
    assertTrue(none.getResourcesMap().isEmpty());
    assertEquals(0, none.getNumReturns());
    // An explicit 0 CPU is sent (without CPU a task asks for 1).
    assertEquals(
        Map.of("CPU", 0.0),
        ProtoOptions.taskOptions(new CallOptions.Builder().setResource("CPU", 0.0).build(), 1)
            .getResourcesMap());
  }

  @Test
  void actorOptions() {
    ActorCreationOptions options =
        new ActorCreationOptions.Builder()
            .setName("counter")
            .setNamespace("ns")
            .setLifetime(ActorLifetime.DETACHED)
            .setResource("CPU", 1.0)
            .setMaxRestarts(-1)
            .setMaxTaskRetries(2)
            .setMaxConcurrency(4)
            .build();
    ActorOptions proto = ProtoOptions.actorOptions(options);
    assertEquals("counter", proto.getName());
    assertEquals("ns", proto.getRayNamespace());
    assertTrue(proto.getDetached());
    assertEquals(Map.of("CPU", 1.0), proto.getResourcesMap());
    assertEquals(-1, proto.getMaxRestarts());
    assertEquals(2, proto.getMaxTaskRetries());
    assertEquals(4, proto.getMaxConcurrency());
    assertFalse(proto.getGetIfExists());
    ActorOptions defaults = ProtoOptions.actorOptions(new ActorCreationOptions.Builder().build());
    assertEquals("", defaults.getName());
    assertFalse(defaults.getDetached());
    assertEquals(1, defaults.getMaxConcurrency());
    assertEquals(0, defaults.getMaxRestarts());
    assertFalse(
        ProtoOptions.actorOptions(
                new ActorCreationOptions.Builder().setLifetime(ActorLifetime.NON_DETACHED).build())
            .getDetached());
  }

  @Test
  void perActorJvmOptionsAreRefusedClearly() {
    ActorCreationOptions options =
        new ActorCreationOptions.Builder().setJvmOptions(List.of("-Xmx1g")).build();
    RayException e = assertThrows(RayException.class, () -> ProtoOptions.actorOptions(options));
    assertTrue(e.getMessage().contains("ray.job.jvm-options"), e.getMessage());
  }

  @Test
  void invalidResourcesAreRejectedWhenBuilt() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new CallOptions.Builder().setResource("CPU", -1.0).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> new CallOptions.Builder().setResource("CPU", 1.5).build());
    assertThrows(
        IllegalArgumentException.class,
        () -> new ActorCreationOptions.Builder().setMaxConcurrency(0));
  }
}
