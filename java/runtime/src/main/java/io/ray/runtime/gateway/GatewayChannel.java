package io.ray.runtime.gateway;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.ray.rpc.ClientGatewayServiceGrpc;
import java.util.concurrent.TimeUnit;

/**
 * One gRPC channel to a gateway endpoint (the GCS for OpenSession, the session owner for the rest)
 * whose every call carries the cluster token ({@code x-ray-token}) and whose unary calls carry a
 * deadline.
 */
public final class GatewayChannel implements AutoCloseable {
  /** Metadata key of the cluster token. */
  public static final Metadata.Key<String> TOKEN_KEY =
      Metadata.Key.of("x-ray-token", Metadata.ASCII_STRING_MARSHALLER);

  /** Largest message accepted (as the Python services allow). */
  static final int MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

  private final String address;
  private final ManagedChannel channel;
  private final long rpcTimeoutMs;

  /**
   * Opens a channel (connecting lazily).
   *
   * @param address HOST:PORT.
   * @param token The cluster token.
   * @param rpcTimeoutMs Deadline of unary calls.
   */
  public GatewayChannel(String address, String token, long rpcTimeoutMs) {
    this.address = address;
    this.rpcTimeoutMs = rpcTimeoutMs;
    Metadata headers = new Metadata();
    headers.put(TOKEN_KEY, token);
    this.channel =
        Grpc.newChannelBuilder(address, InsecureChannelCredentials.create())
            .maxInboundMessageSize(MAX_MESSAGE_BYTES)
            .intercept(MetadataUtils.newAttachHeadersInterceptor(headers))
            .disableRetry()
            .build();
  }

  /**
   * Returns the address.
   *
   * @return HOST:PORT.
   */
  public String address() {
    return address;
  }

  /**
   * Returns a blocking stub whose calls have the default deadline.
   *
   * @return The stub.
   */
  public ClientGatewayServiceGrpc.ClientGatewayServiceBlockingStub blocking() {
    return blocking(rpcTimeoutMs);
  }

  /**
   * Returns a blocking stub with a given deadline.
   *
   * @param timeoutMs The deadline from now.
   * @return The stub.
   */
  public ClientGatewayServiceGrpc.ClientGatewayServiceBlockingStub blocking(long timeoutMs) {
    return ClientGatewayServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /**
   * Returns an async stub without a deadline (for the session's long-lived streams).
   *
   * @return The stub.
   */
  public ClientGatewayServiceGrpc.ClientGatewayServiceStub async() {
    return ClientGatewayServiceGrpc.newStub(channel);
  }

  /**
   * Returns an async stub with a deadline.
   *
   * @param timeoutMs The deadline from now.
   * @return The stub.
   */
  public ClientGatewayServiceGrpc.ClientGatewayServiceStub async(long timeoutMs) {
    return ClientGatewayServiceGrpc.newStub(channel)
        .withDeadlineAfter(timeoutMs, TimeUnit.MILLISECONDS);
  }

  /**
   * Returns the default deadline of unary calls.
   *
   * @return Milliseconds.
   */
  public long rpcTimeoutMs() {
    return rpcTimeoutMs;
  }

  /** Closes the channel, waiting briefly for calls in flight. */
  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(2, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
