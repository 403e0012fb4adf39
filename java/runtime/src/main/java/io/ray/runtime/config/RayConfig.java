package io.ray.runtime.config;

import io.ray.api.exception.RayException;
import io.ray.runtime.util.Hex;
import java.io.File;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The runtime's configuration, read as upstream Ray's Java runtime reads it: system properties
 * ({@code -Dray.*}), then environment variables. Unknown {@code ray.*} properties are ignored.
 *
 * <ul>
 *   <li>{@code ray.address} (else env {@code RAY_ADDRESS}): the GCS address HOST:PORT, or {@code
 *       auto} for the cluster {@code ray start} recorded on this machine. Unset: start a local
 *       cluster.
 *   <li>env {@code RAY_CLUSTER_TOKEN}: the cluster token; else the token of the cluster this user
 *       started on this machine at that address, from the records {@code ray start} keeps in {@code
 *       $RAY_TMPDIR} ({@link ClusterRecord}).
 *   <li>{@code ray.job.code-search-path}: {@code :}-separated directories and jars the job's
 *       workers load code from (default: this JVM's class path).
 *   <li>{@code ray.job.namespace}: the namespace of named actors (default: a fresh one).
 *   <li>{@code ray.job.jvm-options.0}, {@code .1}, ...: options of the JVMs that run the job's Java
 *       code.
 *   <li>{@code ray.cli}: the {@code ray} command used to start a local cluster (else {@code ray} on
 *       PATH, else a {@code .venv/bin/ray} above the jar or the working directory).
 *   <li>{@code ray.head-args.0}, {@code .1}, ...: extra arguments of {@code ray start --head}.
 *   <li>Attaching to an existing session (a Java worker on the cluster): {@code
 *       ray.session.address} / env {@code RAY_SESSION_ADDRESS} (HOST:PORT of the session owner),
 *       {@code ray.session.id} / env {@code RAY_SESSION_ID} (hex) and {@code ray.job.id} / env
 *       {@code RAY_JOB_ID} (hex).
 *   <li>Tunables: {@code ray.rpc.timeout-ms} (30000), {@code ray.session.reconnect-grace-ms}
 *       (10000), {@code ray.session.keepalive-timeout-ms} (30000), {@code
 *       ray.local-cluster.start-timeout-ms} (60000).
 * </ul>
 */
public final class RayConfig {
  /** Environment variable of the cluster token. */
  public static final String TOKEN_ENV = "RAY_CLUSTER_TOKEN";

  /** Environment variable of the cluster address. */
  public static final String ADDRESS_ENV = "RAY_ADDRESS";

  /** Environment variables of an existing session to attach to. */
  public static final String SESSION_ADDRESS_ENV = "RAY_SESSION_ADDRESS";

  /** Environment variable of the session id (hex) to attach to. */
  public static final String SESSION_ID_ENV = "RAY_SESSION_ID";

  /** Environment variable of the job id (hex) of the session to attach to. */
  public static final String JOB_ID_ENV = "RAY_JOB_ID";

  /** Environment variable of the namespace of the session to attach to. */
  public static final String NAMESPACE_ENV = "RAY_NAMESPACE";

  private static final String DEFAULT_TEMP_DIR = "/tmp/openray";

  /** An existing session to attach to instead of opening one. */
  public static final class Attach {
    /** HOST:PORT of the session owner. */
    public final String sessionAddress;

    /** The session id. */
    public final byte[] sessionId;

    /** The session's job id (4 bytes). */
    public final byte[] jobId;

    Attach(String sessionAddress, byte[] sessionId, byte[] jobId) {
      this.sessionAddress = sessionAddress;
      this.sessionId = sessionId;
      this.jobId = jobId;
    }
  }

  /** The cluster address (HOST:PORT or "auto"), or null to start a local cluster. */
  public final String address;

  /** The token from the environment, or null. */
  public final String tokenFromEnv;

  /** {@code $RAY_TMPDIR}. */
  public final Path tempDir;

  /** The job's code search path (absolute). */
  public final List<String> codeSearchPath;

  /** The job's namespace, or null for a fresh one. */
  public final String namespace;

  /** The job's JVM options. */
  public final List<String> jvmOptions;

  /** The configured {@code ray} command, or null. */
  public final String rayCli;

  /** Extra arguments of {@code ray start --head}. */
  public final List<String> headArgs;

  /** A session to attach to, or null. */
  public final Attach attach;

  /** Deadline of every unary call. */
  public final long rpcTimeoutMs;

  /** How long the session survives without a KeepAlive stream. */
  public final long reconnectGraceMs;

  /** How long the KeepAlive stream may stay silent before the client reconnects. */
  public final long keepAliveTimeoutMs;

  /** How long a local cluster may take to start. */
  public final long localClusterStartTimeoutMs;

  private RayConfig(Properties props, Map<String, String> env) {
    this.address = firstNonEmpty(props.getProperty("ray.address"), env.get(ADDRESS_ENV));
    this.tokenFromEnv = emptyToNull(env.get(TOKEN_ENV));
    this.tempDir =
        Paths.get(Optional.ofNullable(emptyToNull(env.get("RAY_TMPDIR"))).orElse(DEFAULT_TEMP_DIR));
    String searchPath = emptyToNull(props.getProperty("ray.job.code-search-path"));
    if (searchPath == null) {
      searchPath = props.getProperty("java.class.path", "");
    }
    this.codeSearchPath = absolutePaths(searchPath);
    this.namespace = emptyToNull(props.getProperty("ray.job.namespace"));
    this.jvmOptions = indexed(props, "ray.job.jvm-options.");
    this.rayCli = emptyToNull(props.getProperty("ray.cli"));
    this.headArgs = indexed(props, "ray.head-args.");
    this.rpcTimeoutMs = positiveLong(props, "ray.rpc.timeout-ms", 30_000);
    this.reconnectGraceMs = positiveLong(props, "ray.session.reconnect-grace-ms", 10_000);
    this.keepAliveTimeoutMs = positiveLong(props, "ray.session.keepalive-timeout-ms", 30_000);
    this.localClusterStartTimeoutMs =
        positiveLong(props, "ray.local-cluster.start-timeout-ms", 60_000);
    String sessionAddress =
        firstNonEmpty(props.getProperty("ray.session.address"), env.get(SESSION_ADDRESS_ENV));
    String sessionId = firstNonEmpty(props.getProperty("ray.session.id"), env.get(SESSION_ID_ENV));
    String jobId = firstNonEmpty(props.getProperty("ray.job.id"), env.get(JOB_ID_ENV));
    if (sessionAddress != null || sessionId != null) {
      if (sessionAddress == null || sessionId == null || jobId == null) {
        throw new RayException(
            "To attach to a session, set all of ray.session.address (or "
                + SESSION_ADDRESS_ENV
                + "), ray.session.id (or "
                + SESSION_ID_ENV
                + ") and ray.job.id (or "
                + JOB_ID_ENV
                + "); got address="
                + sessionAddress
                + ", session id="
                + sessionId
                + ", job id="
                + jobId
                + ".");
      }
      byte[] jobIdBytes;
      byte[] sessionIdBytes;
      try {
        jobIdBytes = Hex.decode(jobId);
        sessionIdBytes = Hex.decode(sessionId);
      } catch (IllegalArgumentException e) {
        throw new RayException("The session id and job id must be hex: " + e.getMessage(), e);
      }
      if (jobIdBytes.length != 4) {
        throw new RayException("The job id must be 4 bytes (8 hex digits), got '" + jobId + "'.");
      }
      this.attach = new Attach(sessionAddress, sessionIdBytes, jobIdBytes);
    } else {
      this.attach = null;
    }
  }

  /**
   * Reads the configuration of this JVM.
   *
   * @return The configuration.
   * @throws RayException If a setting is invalid.
   */
  public static RayConfig fromSystem() {
    return from(System.getProperties(), System.getenv());
  }

  /**
   * Reads a configuration from given properties and environment (for tests).
   *
   * @param props The system properties.
   * @param env The environment.
   * @return The configuration.
   * @throws RayException If a setting is invalid.
   */
  public static RayConfig from(Properties props, Map<String, String> env) {
    return new RayConfig(props, env);
  }

  /**
   * Resolves the GCS address: {@code auto} means the cluster {@code ray start} recorded here.
   *
   * @return HOST:PORT.
   * @throws RayException If it is {@code auto} and no cluster is recorded, or not HOST:PORT.
   */
  public String resolveAddress() {
    String a = address;
    if (a.startsWith("ray://")) {
      a = a.substring("ray://".length());
    }
    if (a.equals("auto")) {
      return ClusterRecord.read(tempDir)
          .map(ClusterRecord::gcsAddress)
          .orElseThrow(
              () ->
                  new RayException(
                      "ray.address=auto, but no cluster started with `ray start --head` is"
                          + " recorded in "
                          + tempDir.resolve(ClusterRecord.CURRENT_CLUSTER_FILE)
                          + ". Start one, or give its HOST:PORT."));
    }
    int colon = a.lastIndexOf(':');
    if (colon <= 0 || colon == a.length() - 1) {
      throw new RayException(
          "ray.address must be the GCS address HOST:PORT (or auto), got '" + address + "'.");
    }
    try {
      int port = Integer.parseInt(a.substring(colon + 1));
      if (port <= 0 || port > 65535) {
        throw new NumberFormatException();
      }
    } catch (NumberFormatException e) {
      throw new RayException(
          "ray.address must be the GCS address HOST:PORT (or auto), got '" + address + "'.");
    }
    return a;
  }

  /**
   * Finds the token of the cluster at {@code gcsAddress}: {@code RAY_CLUSTER_TOKEN}, else the token
   * of the cluster {@code ray start} recorded here if its address matches.
   *
   * @param gcsAddress HOST:PORT of the GCS.
   * @return The token.
   * @throws RayException If none is found; the message says how to provide it.
   */
  public String resolveToken(String gcsAddress) {
    if (tokenFromEnv != null) {
      return tokenFromEnv;
    }
    Optional<ClusterRecord> record = ClusterRecord.readRegistered(tempDir, gcsAddress);
    if (record.isEmpty()) {
      record = ClusterRecord.read(tempDir).filter(r -> r.gcsAddress().equals(gcsAddress));
    }
    if (record.isPresent()) {
      Optional<String> token = record.get().readToken();
      if (token.isPresent()) {
        return token.get();
      }
      throw new RayException(
          "Cannot read the token of the cluster at "
              + gcsAddress
              + " from "
              + record.get().sessionDir().resolve("token")
              + ": set "
              + TOKEN_ENV
              + " to the token that `ray start --head` printed.");
    }
    throw new RayException(
        "No token for the cluster at "
            + gcsAddress
            + ": set "
            + TOKEN_ENV
            + " to the token that `ray start --head` printed (on the head machine `ray start`"
            + " also records it in "
            + tempDir.resolve(ClusterRecord.CURRENT_CLUSTER_FILE)
            + ").");
  }

  private static List<String> absolutePaths(String searchPath) {
    List<String> out = new ArrayList<>();
    for (String entry : searchPath.split(File.pathSeparator)) {
      if (!entry.isBlank()) {
        out.add(Paths.get(entry.trim()).toAbsolutePath().normalize().toString());
      }
    }
    return Collections.unmodifiableList(out);
  }

  private static List<String> indexed(Properties props, String prefix) {
    TreeMap<Integer, String> byIndex = new TreeMap<>();
    for (String key : props.stringPropertyNames()) {
      if (key.startsWith(prefix)) {
        try {
          byIndex.put(Integer.parseInt(key.substring(prefix.length())), props.getProperty(key));
        } catch (NumberFormatException e) {
          throw new RayException(
              "Property "
                  + key
                  + ": the part after '"
                  + prefix
                  + "' must be a number (0, 1, ...).");
        }
      }
    }
    return Collections.unmodifiableList(new ArrayList<>(byIndex.values()));
  }

  private static long positiveLong(Properties props, String key, long defaultValue) {
    String s = emptyToNull(props.getProperty(key));
    if (s == null) {
      return defaultValue;
    }
    try {
      long v = Long.parseLong(s.trim());
      if (v <= 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw new RayException("Property " + key + " must be a positive number, got '" + s + "'.");
    }
  }

  private static String firstNonEmpty(String a, String b) {
    String x = emptyToNull(a);
    return x != null ? x : emptyToNull(b);
  }

  private static String emptyToNull(String s) {
    return s == null || s.trim().isEmpty() ? null : s.trim();
  }
}
