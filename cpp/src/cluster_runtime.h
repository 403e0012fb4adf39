#pragma once

// The runtime behind the API: a client of one gateway session (proto/client_gateway.proto).
//
// - A driver (ray::Init) opens the session at the cluster address (OpenSession), holds it
//   with a KeepAlive stream on a thread, and closes it at Shutdown. With no address it first
//   starts a local cluster (local_cluster.h).
// - C++ code running in a Python worker attaches to an existing session (ray_cpp_init): no
//   OpenSession, KeepAlive or CloseSession; everything else is the same.
//
// Puts are synchronous (unary Put, or PutStream in 1 MiB chunks above a few MiB). Tasks and
// actor calls get client-made ids and are pipelined on the Submit stream, so Remote() never
// waits; every later unary call that names ids first waits until the gateway acknowledged all
// items submitted before it (SubmitQueue::Barrier), so ids are known when it arrives.
// Reference counts are batched (ReferenceBatcher) and sent by a flusher thread.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client_gateway.pb.h"
#include "config.h"
#include "gateway_client.h"
#include "ids.h"
#include "local_cluster.h"
#include "ray/api/ray_runtime.h"
#include "reference_batcher.h"
#include "result_cache.h"
#include "submit_queue.h"

namespace ray {
namespace internal {

// An existing session, as the worker tells it to ray_cpp_init.
struct SessionInfo {
  std::string session_address;
  std::string session_id;  // binary
  std::string job_id;      // binary, 4 bytes
  std::string token;
  std::string ray_namespace;
  std::vector<std::string> code_search_path;
};

// Parses ray_cpp_init's "key=value" lines; throws RayException for missing or bad keys.
SessionInfo ParseSessionConfig(const std::string &text);

// One PutStream message: the first (`first`) names the session, object, size and nested ids.
rpc::PutStreamRequest MakePutStreamChunk(const std::string &session_id,
                                         const std::string &object_id, const std::string &frame,
                                         const std::vector<std::string> &nested, uint64_t offset,
                                         uint64_t size, bool first);

// All PutStream messages of one frame, each carrying at most chunk_bytes.
std::vector<rpc::PutStreamRequest> MakePutStreamRequests(const std::string &session_id,
                                                         const std::string &object_id,
                                                         const std::string &frame,
                                                         const std::vector<std::string> &nested,
                                                         uint64_t chunk_bytes);

class ClusterRuntime : public RayRuntime {
 public:
  // A driver: starts a local cluster if needed, opens the session, starts KeepAlive.
  static std::shared_ptr<ClusterRuntime> Connect(const ResolvedConfig &config);
  // C++ code in a worker: uses an existing session.
  static std::shared_ptr<ClusterRuntime> Attach(const SessionInfo &session);

  ~ClusterRuntime() override;

  // Waits for submissions, flushes references, ends the session (driver) and stops the
  // local cluster. Idempotent.
  void Close();

  const std::string &session_id() const { return session_id_; }

  // Waits until the gateway acknowledged every task and actor call submitted so far (so the
  // session holds their return ids); throws RayTimeoutException after RAY_RPC_TIMEOUT_S.
  void WaitForSubmissions() { SubmitBarrier(); }

  std::string Put(std::string frame, const std::vector<std::string> &nested_ids) override;
  std::vector<std::string> Get(const std::vector<std::string> &ids, int timeout_ms) override;
  std::vector<bool> Wait(const std::vector<std::string> &ids, int num_objects,
                         int timeout_ms) override;
  std::string Call(const RemoteFunctionHolder &holder, std::vector<TaskArg> &args,
                   const CallOptions &options) override;
  std::string CreateActor(const RemoteFunctionHolder &holder, std::vector<TaskArg> &args,
                          const ActorCreationOptions &options) override;
  std::string CallActor(const RemoteFunctionHolder &holder, const std::string &actor_id,
                        std::vector<TaskArg> &args, const CallOptions &options) override;
  void AddLocalReference(const std::string &id) override;
  void RemoveLocalReference(const std::string &id) override;
  std::string GetActorId(const std::string &actor_name, const std::string &ray_namespace) override;
  void KillActor(const std::string &actor_id, bool no_restart) override;
  void ExitActor() override;
  std::string GetNamespace() override { return namespace_; }

 private:
  ClusterRuntime() = default;
  void StartThreads(bool keep_alive);
  void CheckUsable();
  void SubmitBarrier();
  void ResolveLargeArgs(std::vector<TaskArg> &args);
  void ReleaseAfterSubmit(const std::vector<TaskArg> &args);
  // Queues a task or actor call on the Submit stream (its results to come back on it);
  // returns its return id.
  std::string PushItem(rpc::SubmitItem item, const std::string &task_id,
                       const std::vector<TaskArg> &args);
  std::vector<std::string> GetOnce(const std::vector<std::string> &ids, int64_t timeout_ms,
                                   double deadline_s, bool *timed_out);

  void KeepAliveLoop();
  void SubmitLoop();
  void FlushLoop();
  void FlushReferences(std::chrono::milliseconds barrier_timeout);

  bool attached_ = false;
  std::unique_ptr<LocalCluster> local_cluster_;
  std::unique_ptr<GatewayClient> session_;
  std::string session_id_;
  std::string namespace_;
  bool default_detached_ = false;
  std::unique_ptr<IdGenerator> ids_;

  SubmitQueue submit_queue_;
  // Return values of Remote() calls, sent back on the Submit stream.
  ResultCache results_;
  ReferenceBatcher references_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool closing_ = false;
  bool closed_ = false;
  std::optional<std::string> session_lost_;
  grpc::ClientContext *keep_alive_context_ = nullptr;
  std::chrono::steady_clock::time_point keep_alive_last_;
  grpc::ClientContext *submit_context_ = nullptr;
  bool submit_abort_ = false;
  // The gateway's message of the last Get that timed out (used by the calling thread only).
  static thread_local std::string last_timeout_message_;

  std::thread keep_alive_thread_;
  std::thread submit_thread_;
  std::thread flush_thread_;
};

}  // namespace internal
}  // namespace ray
