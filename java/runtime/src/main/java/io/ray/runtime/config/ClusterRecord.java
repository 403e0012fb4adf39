package io.ray.runtime.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The records {@code ray start} keeps on this machine ({@code python/ray/_private/session.py}),
 * each a file of two lines, the GCS address and the session directory (whose {@code token} file
 * holds the cluster token): {@code $RAY_TMPDIR/clusters-<uid>/<host>_<port>} for every cluster this
 * user started, and {@code $RAY_TMPDIR/ray_current_cluster} for the one {@code address=auto} means.
 */
public final class ClusterRecord {
  /** File name of the record inside the temp directory. */
  public static final String CURRENT_CLUSTER_FILE = "ray_current_cluster";

  private final String gcsAddress;
  private final Path sessionDir;

  ClusterRecord(String gcsAddress, Path sessionDir) {
    this.gcsAddress = gcsAddress;
    this.sessionDir = sessionDir;
  }

  /**
   * Reads this user's record of the cluster at an address ({@code clusters-<uid>/<host>_<port>}).
   *
   * @param tempDir {@code $RAY_TMPDIR} (default {@code /tmp/openray}).
   * @param gcsAddress HOST:PORT of the GCS.
   * @return The record, or empty when there is none for that address (or the uid is unknown).
   */
  public static Optional<ClusterRecord> readRegistered(Path tempDir, String gcsAddress) {
    Optional<Integer> uid = currentUid();
    int colon = gcsAddress.lastIndexOf(':');
    if (uid.isEmpty() || colon < 0) {
      return Optional.empty();
    }
    String name =
        gcsAddress.substring(0, colon).replace('/', '_') + "_" + gcsAddress.substring(colon + 1);
    return readFile(tempDir.resolve("clusters-" + uid.get()).resolve(name))
        .filter(r -> r.gcsAddress.equals(gcsAddress));
  }

  /**
   * Returns the uid of this process (the owner of {@code /proc/self}).
   *
   * @return The uid, or empty where it cannot be read.
   */
  static Optional<Integer> currentUid() {
    try {
      return Optional.of((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException
        | UnsupportedOperationException
        | IllegalArgumentException
        | ClassCastException e) {
      return Optional.empty();
    }
  }

  /**
   * Reads the record, if there is one of this runtime's form.
   *
   * @param tempDir {@code $RAY_TMPDIR} (default {@code /tmp/openray}).
   * @return The record, or empty when missing or not ours (upstream Ray writes only an address).
   */
  public static Optional<ClusterRecord> read(Path tempDir) {
    return readFile(tempDir.resolve(CURRENT_CLUSTER_FILE));
  }

  private static Optional<ClusterRecord> readFile(Path file) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return Optional.empty();
    }
    if (lines.size() < 2 || lines.get(0).isBlank() || lines.get(1).isBlank()) {
      return Optional.empty();
    }
    return Optional.of(new ClusterRecord(lines.get(0).trim(), Path.of(lines.get(1).trim())));
  }

  /**
   * Returns the recorded GCS address.
   *
   * @return HOST:PORT.
   */
  public String gcsAddress() {
    return gcsAddress;
  }

  /**
   * Returns the recorded session directory.
   *
   * @return The directory.
   */
  public Path sessionDir() {
    return sessionDir;
  }

  /**
   * Reads the cluster token from the session directory.
   *
   * @return The token, or empty if the file cannot be read.
   */
  public Optional<String> readToken() {
    return readTokenFile(sessionDir);
  }

  /**
   * Reads the {@code token} file of a session directory.
   *
   * @param sessionDir The directory.
   * @return The token, or empty if the file cannot be read or is empty.
   */
  public static Optional<String> readTokenFile(Path sessionDir) {
    try {
      String token =
          new String(Files.readAllBytes(sessionDir.resolve("token")), StandardCharsets.UTF_8)
              .trim();
      return token.isEmpty() ? Optional.empty() : Optional.of(token);
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
