#pragma once

// Tunables of the C++ runtime. Each can be overridden by an environment variable
// RAY_<NAME> (the same convention as python/ray/_private/constants.py).

#include <cstdint>
#include <cstdlib>
#include <string>

namespace ray {
namespace internal {

inline double EnvDouble(const char *name, double default_value) {
  const char *value = std::getenv((std::string("RAY_") + name).c_str());
  if (value == nullptr || *value == '\0') return default_value;
  char *end = nullptr;
  double parsed = std::strtod(value, &end);
  return (end != value) ? parsed : default_value;
}

struct Constants {
  // Deadline of ordinary unary calls.
  static double RpcTimeoutS() { return EnvDouble("RPC_TIMEOUT_S", 30.0); }
  // Frames above this size are sent with PutStream instead of Put.
  static uint64_t PutStreamThresholdBytes() {
    return static_cast<uint64_t>(EnvDouble("CPP_PUT_STREAM_THRESHOLD_BYTES", 2 << 20));
  }
  // Size of the chunks of PutStream.
  static uint64_t ChunkBytes() { return static_cast<uint64_t>(EnvDouble("CPP_CHUNK_BYTES", 1 << 20)); }
  // Task arguments above this size are put first and passed by reference (as Ray does).
  static uint64_t MaxInlineArgBytes() {
    return static_cast<uint64_t>(EnvDouble("MAX_INLINE_OBJECT_BYTES", 100 * 1024));
  }
  // A Get or Wait without a timeout asks in rounds of this many milliseconds.
  static int64_t BlockingPollMs() { return static_cast<int64_t>(EnvDouble("CPP_BLOCKING_POLL_MS", 60000)); }
  // A Get waits this long for values coming back on the Submit stream, then asks the gateway.
  static int64_t StreamResultWaitMs() {
    return static_cast<int64_t>(EnvDouble("CPP_STREAM_RESULT_WAIT_MS", 1000));
  }
  // Remote() asks for its value on the Submit stream while fewer are on their way (a round
  // trip gains; a burst of calls is read with one Get).
  static size_t MaxStreamResults() {
    return static_cast<size_t>(EnvDouble("CPP_MAX_STREAM_RESULTS", 4));
  }
  // Extra deadline of a Get beyond its timeout, for streaming the values.
  static double GetTransferMarginS() { return EnvDouble("CPP_GET_TRANSFER_MARGIN_S", 300.0); }
  // How long `ray start` may take to print the GCS address.
  static double ProcessStartTimeoutS() { return EnvDouble("PROCESS_START_TIMEOUT_S", 60.0); }
  // How long `ray start --block` may take to stop after SIGTERM before it is killed.
  static double ProcessStopTimeoutS() { return EnvDouble("CPP_PROCESS_STOP_TIMEOUT_S", 30.0); }
  // How long the session survives without a KeepAlive stream.
  static int64_t ReconnectGraceMs() { return static_cast<int64_t>(EnvDouble("CPP_RECONNECT_GRACE_MS", 10000)); }
  // A KeepAlive stream that sent nothing for this long is reopened.
  static double KeepAliveSilenceS() { return EnvDouble("CPP_KEEPALIVE_SILENCE_S", 20.0); }
  // Reference counts are batched for this long before they are sent.
  static int64_t RefFlushIntervalMs() { return static_cast<int64_t>(EnvDouble("CPP_REF_FLUSH_INTERVAL_MS", 50)); }
  // Items per SubmitRequest message.
  static size_t MaxSubmitBatch() { return static_cast<size_t>(EnvDouble("CPP_MAX_SUBMIT_BATCH", 1000)); }
  // Largest gRPC message sent or received (as the Python channels).
  static int GrpcMaxMessageBytes() { return 512 * 1024 * 1024; }
  // Deadline of a long-lived stream (KeepAlive, Submit); it is reopened when it expires.
  static double StreamDeadlineS() { return EnvDouble("CPP_STREAM_DEADLINE_S", 24 * 3600.0); }
};

// The gRPC metadata key of the cluster token, and the env var that carries it.
inline constexpr const char *kTokenMetadataKey = "x-ray-token";
inline constexpr const char *kTokenEnv = "RAY_CLUSTER_TOKEN";

}  // namespace internal
}  // namespace ray
