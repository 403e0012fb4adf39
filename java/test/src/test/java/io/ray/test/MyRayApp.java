package io.ray.test;

import java.util.concurrent.TimeUnit;

// The seed document's class, verbatim (upstream's docs: "Ray.get timeout example").
// Ray.get timeout example: Ray.get will throw an RayTimeoutException if time out.
public class MyRayApp {
  public static int slowFunction() throws InterruptedException {
    TimeUnit.SECONDS.sleep(10);
    return 1;
  }
}
