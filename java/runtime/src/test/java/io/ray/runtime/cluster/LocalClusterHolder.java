package io.ray.runtime.cluster;

import java.nio.file.Paths;
import java.util.List;
import java.util.Map;

/** A JVM that starts a local cluster with a given command and then just waits (to be killed). */
public final class LocalClusterHolder {
  private LocalClusterHolder() {}

  /**
   * Starts the cluster and prints its address, then sleeps.
   *
   * @param args The path of the {@code ray} command.
   * @throws InterruptedException Never expected.
   */
  public static void main(String[] args) throws InterruptedException {
    LocalCluster cluster =
        LocalCluster.start(
            LocalCluster.headCommand(Paths.get(args[0]), 1, List.of()), Map.of(), 30_000);
    System.out.println("ADDRESS " + cluster.gcsAddress());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
