#include "cluster_runtime.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "chunking.h"
#include "constants.h"
#include "logging.h"
#include "options.h"
#include "ray/api/ray_exception.h"
#include "token.h"
#include "ray/api/ray_runtime_holder.h"

namespace ray {
namespace internal {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds Ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

std::string DescribeIds(const std::vector<std::string> &ids) {
  std::string text;
  for (size_t i = 0; i < ids.size() && i < 3; ++i) text += (i ? ", " : "") + ToHex(ids[i]);
  if (ids.size() > 3) text += ", ...";
  return text;
}

bool RetryableStreamError(grpc::StatusCode code) {
  switch (code) {
    case grpc::INVALID_ARGUMENT:
    case grpc::NOT_FOUND:
    case grpc::UNAUTHENTICATED:
    case grpc::PERMISSION_DENIED:
    case grpc::UNIMPLEMENTED:
    case grpc::FAILED_PRECONDITION:
      return false;
    default:
      return true;
  }
}

}  // namespace

thread_local std::string ClusterRuntime::last_timeout_message_;

SessionInfo ParseSessionConfig(const std::string &text) {
  std::unordered_map<std::string, std::string> values;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      throw RayException("ray_cpp_init: expected key=value, got '" + line + "'");
    }
    values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  auto required = [&](const std::string &key) {
    auto it = values.find(key);
    if (it == values.end() || it->second.empty()) {
      throw RayException("ray_cpp_init: the config has no " + key);
    }
    return it->second;
  };
  SessionInfo info;
  info.session_address = required("session_address");
  info.session_id = FromHex(required("session_id"));
  info.job_id = FromHex(required("job_id"));
  if (info.job_id.size() != kJobIdSize) {
    throw RayException("ray_cpp_init: job_id must be 4 bytes (8 hex digits)");
  }
  info.token = values["token"];
  info.ray_namespace = values["ray_namespace"];
  info.code_search_path = SplitPath(values["code_search_path"]);
  return info;
}

rpc::PutStreamRequest MakePutStreamChunk(const std::string &session_id,
                                         const std::string &object_id, const std::string &frame,
                                         const std::vector<std::string> &nested, uint64_t offset,
                                         uint64_t size, bool first) {
  rpc::PutStreamRequest chunk;
  if (first) {
    chunk.set_session_id(session_id);
    chunk.set_object_id(object_id);
    chunk.set_total_size_bytes(static_cast<int64_t>(frame.size()));
    for (const auto &id : nested) chunk.add_nested_object_ids(id);
  }
  chunk.set_offset(static_cast<int64_t>(offset));
  chunk.set_data(frame.data() + offset, size);
  return chunk;
}

std::vector<rpc::PutStreamRequest> MakePutStreamRequests(const std::string &session_id,
                                                         const std::string &object_id,
                                                         const std::string &frame,
                                                         const std::vector<std::string> &nested,
                                                         uint64_t chunk_bytes) {
  std::vector<rpc::PutStreamRequest> out;
  auto plan = PlanChunks(frame.size(), chunk_bytes);
  for (size_t i = 0; i < plan.size(); ++i) {
    out.push_back(MakePutStreamChunk(session_id, object_id, frame, nested, plan[i].offset,
                                     plan[i].size, i == 0));
  }
  return out;
}

// ---- lifecycle ---------------------------------------------------------------------------

std::shared_ptr<ClusterRuntime> ClusterRuntime::Connect(const ResolvedConfig &config) {
  std::shared_ptr<ClusterRuntime> runtime(new ClusterRuntime());
  EnvLookup env = ProcessEnv();
  std::string address = ResolveAutoAddress(config.address, env);
  std::string token;
  if (address.empty()) {
    int num_cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    auto command = StartCommand(FindRayCli(env), num_cpus, config.node_ip_address, config.head_args);
    runtime->local_cluster_ = LocalCluster::Start(command, Constants::ProcessStartTimeoutS());
    const StartOutput &out = runtime->local_cluster_->output();
    address = out.gcs_address;
    // The cluster this process started: its own session directory holds the token.
    if (!out.session_dir.empty()) {
      token = ReadSessionToken(out.session_dir).value_or("");
    }
    if (token.empty()) token = FindToken(address, env).value_or("");
    RAY_CPP_LOG(kInfo) << "started a local cluster at " << address << " (pid "
                       << runtime->local_cluster_->pid() << ")";
  } else {
    token = FindToken(address, env).value_or("");
  }
  if (token.empty()) {
    throw RayException(
        "no token for the cluster at " + address + ": on the machine that started it, this "
        "user's record " + TempDir(env) + "/clusters-" + std::to_string(::getuid()) + "/<host>_<port> "
        "names its session directory, whose `token` file holds it (RAY_TMPDIR must be the same "
        "as for `ray start`); elsewhere set " + kTokenEnv + " to what `ray token --address " +
        address + "` prints there");
  }
  GatewayClient cluster(address, token);
  rpc::OpenSessionRequest request;
  *request.mutable_job_config() = ToJobConfig(config);
  request.set_language(rpc::LANGUAGE_CPP);
  request.set_client_ip_address(config.node_ip_address);
  request.set_reconnect_grace_ms(Constants::ReconnectGraceMs());
  rpc::OpenSessionReply reply = cluster.OpenSession(request, Constants::RpcTimeoutS());
  if (reply.session_address().empty() || reply.job_id().size() != kJobIdSize) {
    throw RayException("the cluster at " + address +
                       " answered OpenSession without a session address or a 4-byte job id");
  }
  runtime->session_ = std::make_unique<GatewayClient>(reply.session_address(), token);
  runtime->session_id_ = reply.session_id();
  runtime->namespace_ = reply.ray_namespace();
  runtime->default_detached_ = config.default_detached;
  runtime->ids_ = std::make_unique<IdGenerator>(reply.job_id());
  runtime->StartThreads(/*keep_alive=*/true);
  RAY_CPP_LOG(kInfo) << "session " << ToHex(runtime->session_id_) << " at "
                     << reply.session_address();
  return runtime;
}

std::shared_ptr<ClusterRuntime> ClusterRuntime::Attach(const SessionInfo &session) {
  std::shared_ptr<ClusterRuntime> runtime(new ClusterRuntime());
  runtime->attached_ = true;
  runtime->session_ = std::make_unique<GatewayClient>(session.session_address, session.token);
  runtime->session_id_ = session.session_id;
  runtime->namespace_ = session.ray_namespace;
  runtime->ids_ = std::make_unique<IdGenerator>(session.job_id);
  runtime->StartThreads(/*keep_alive=*/false);
  return runtime;
}

void ClusterRuntime::StartThreads(bool keep_alive) {
  keep_alive_last_ = Clock::now();
  if (keep_alive) keep_alive_thread_ = std::thread([this] { KeepAliveLoop(); });
  submit_thread_ = std::thread([this] { SubmitLoop(); });
  flush_thread_ = std::thread([this] { FlushLoop(); });
}

ClusterRuntime::~ClusterRuntime() {
  try {
    Close();
  } catch (const std::exception &e) {
    RAY_CPP_LOG(kWarning) << "shutting down: " << e.what();
  }
}

void ClusterRuntime::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || closing_) return;
  }
  bool submitted = true;
  try {
    submitted = submit_queue_.Barrier(Ms(Constants::RpcTimeoutS()));
    if (!submitted) {
      RAY_CPP_LOG(kWarning) << "shutting down with " << submit_queue_.pushed() - submit_queue_.acked()
                            << " submitted tasks the gateway never acknowledged";
    }
  } catch (const std::exception &e) {
    submitted = false;
    RAY_CPP_LOG(kWarning) << "shutting down: " << e.what();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
    submit_abort_ = !submitted;
    if (submit_abort_ && submit_context_ != nullptr) submit_context_->TryCancel();
    cv_.notify_all();
  }
  submit_queue_.Close();
  if (flush_thread_.joinable()) flush_thread_.join();
  if (submit_thread_.joinable()) submit_thread_.join();
  FlushReferences(std::chrono::milliseconds(100));
  if (!attached_) {
    try {
      rpc::CloseSessionRequest request;
      request.set_session_id(session_id_);
      session_->CloseSession(request, Constants::RpcTimeoutS());
    } catch (const std::exception &e) {
      RAY_CPP_LOG(kWarning) << "CloseSession: " << e.what();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (keep_alive_context_ != nullptr) keep_alive_context_->TryCancel();
    }
    if (keep_alive_thread_.joinable()) keep_alive_thread_.join();
  }
  if (local_cluster_) local_cluster_->Stop(Constants::ProcessStopTimeoutS());
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
}

void ClusterRuntime::CheckUsable() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || closing_) throw RayException("Ray is shut down: call ray::Init() first");
  if (session_lost_) throw RayException(*session_lost_);
}

void ClusterRuntime::SubmitBarrier() {
  if (!submit_queue_.Barrier(Ms(Constants::RpcTimeoutS()))) {
    CheckUsable();
    throw RayTimeoutException(
        "the client gateway at " + session_->address() + " did not acknowledge " +
        std::to_string(submit_queue_.pushed() - submit_queue_.acked()) +
        " submitted tasks within " + std::to_string(static_cast<int>(Constants::RpcTimeoutS())) +
        " s (RAY_RPC_TIMEOUT_S)");
  }
}

// ---- background threads --------------------------------------------------------------------

void ClusterRuntime::KeepAliveLoop() {
  bool broken = false;
  Clock::time_point broken_since;
  while (true) {
    grpc::ClientContext context;
    session_->Prepare(&context, Constants::StreamDeadlineS());
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_) return;
      keep_alive_context_ = &context;
      keep_alive_last_ = Clock::now();
    }
    rpc::KeepAliveRequest request;
    request.set_session_id(session_id_);
    auto reader = session_->stub()->KeepAlive(&context, request);
    rpc::KeepAliveReply reply;
    while (reader->Read(&reply)) {
      std::lock_guard<std::mutex> lock(mu_);
      keep_alive_last_ = Clock::now();
      broken = false;
    }
    grpc::Status status = reader->Finish();
    std::unique_lock<std::mutex> lock(mu_);
    keep_alive_context_ = nullptr;
    if (closing_) return;
    if (status.error_code() == grpc::NOT_FOUND) {
      session_lost_ = "the client session ended (the gateway at " + session_->address() +
                      " no longer knows it: " + status.error_message() +
                      "); call ray::Shutdown() and ray::Init() again";
      cv_.notify_all();
      return;
    }
    if (!broken) {
      broken = true;
      broken_since = Clock::now();
    }
    if (Clock::now() - broken_since > std::chrono::milliseconds(Constants::ReconnectGraceMs())) {
      session_lost_ = "lost the client session: its KeepAlive stream to " + session_->address() +
                      " broke (" + status.error_message() + ") and could not be reopened within " +
                      std::to_string(Constants::ReconnectGraceMs()) + " ms";
      cv_.notify_all();
      return;
    }
    RAY_CPP_LOG(kWarning) << "KeepAlive stream ended (" << status.error_message()
                          << "); reopening";
    cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return closing_; });
  }
}

void ClusterRuntime::SubmitLoop() {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<grpc::ClientReaderWriter<rpc::SubmitRequest, rpc::SubmitReply>> stream;
  std::thread reader;
  std::atomic<bool> broken{false};
  int failures = 0;

  auto finish = [&](bool writes_done) {
    if (writes_done) stream->WritesDone();
    if (reader.joinable()) reader.join();
    grpc::Status status = stream->Finish();
    {
      std::lock_guard<std::mutex> lock(mu_);
      submit_context_ = nullptr;
    }
    stream.reset();
    context.reset();
    return status;
  };

  while (true) {
    if (stream && broken) {
      grpc::Status status = finish(/*writes_done=*/false);
      bool abort;
      {
        std::lock_guard<std::mutex> lock(mu_);
        abort = submit_abort_;
      }
      if (abort) break;
      if (!status.ok() && (!RetryableStreamError(status.error_code()) || ++failures > 10)) {
        submit_queue_.Fail("the Submit stream to " + session_->address() + " ended: " +
                           status.error_message() + " (code " +
                           std::to_string(status.error_code()) + ")");
        break;
      }
      results_.StreamLost();
      submit_queue_.StreamRestarted();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (submit_abort_ || (closing_ && !submit_queue_.HasUnacked())) break;
    }
    std::vector<rpc::SubmitItem> batch =
        submit_queue_.TakeUnsent(Constants::MaxSubmitBatch(), std::chrono::milliseconds(100));
    if (batch.empty()) continue;
    if (!stream) {
      context = std::make_unique<grpc::ClientContext>();
      session_->Prepare(context.get(), Constants::StreamDeadlineS());
      stream = session_->stub()->Submit(context.get());
      {
        std::lock_guard<std::mutex> lock(mu_);
        submit_context_ = context.get();
      }
      broken = false;
      reader = std::thread([this, s = stream.get(), &broken] {
        rpc::SubmitReply reply;
        while (s->Read(&reply)) {
          submit_queue_.Ack(reply.num_accepted());
          for (auto &result : *reply.mutable_results()) {
            results_.Deliver(result.object_id(), std::move(*result.mutable_frame()),
                             result.fetch());
          }
        }
        broken = true;
      });
    }
    rpc::SubmitRequest request;
    for (auto &item : batch) *request.add_items() = std::move(item);
    if (stream->Write(request)) {
      failures = 0;
    } else {
      broken = true;  // the items count as sent; they are sent again on the next stream
    }
  }
  results_.StreamLost();  // waiting Gets ask the gateway from now on
  if (stream) {
    grpc::Status status = finish(/*writes_done=*/!broken);
    if (!status.ok() && status.error_code() != grpc::CANCELLED) {
      RAY_CPP_LOG(kDebug) << "Submit stream closed: " << status.error_message();
    }
  }
}

void ClusterRuntime::FlushLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1),
                   [&] { return closing_ || references_.pending() > 0; });
      if (closing_) return;
      // Watchdog: a KeepAlive stream that went silent (a cut network) is reopened.
      if (keep_alive_context_ != nullptr &&
          Clock::now() - keep_alive_last_ > Ms(Constants::KeepAliveSilenceS())) {
        keep_alive_context_->TryCancel();
        keep_alive_last_ = Clock::now();
      }
      if (references_.pending() == 0) continue;
      // Batch what arrives in the next few milliseconds.
      cv_.wait_for(lock, std::chrono::milliseconds(Constants::RefFlushIntervalMs()),
                   [&] { return closing_; });
      if (closing_) return;
    }
    FlushReferences(Ms(Constants::RpcTimeoutS()));
  }
}

void ClusterRuntime::FlushReferences(std::chrono::milliseconds barrier_timeout) {
  ReferenceBatcher::Batch batch = references_.Take();
  if (batch.empty()) return;
  // Counts may name returns of items still on the Submit stream: wait until they are known.
  try {
    if (!submit_queue_.Barrier(barrier_timeout)) {
      references_.Restore(batch);
      return;
    }
  } catch (const std::exception &) {
    // Submission failed for good; send the counts anyway (unknown ids are ignored).
  }
  const double timeout = Constants::RpcTimeoutS();
  if (!batch.adds.empty()) {
    rpc::AddReferencesRequest request;
    request.set_session_id(session_id_);
    for (const auto &id : batch.adds) request.add_object_ids(id);
    grpc::Status status = session_->AddReferences(request, timeout);
    if (status.error_code() == grpc::NOT_FOUND) {
      // One unknown id fails the whole batch: add the others one by one.
      for (const auto &id : batch.adds) {
        rpc::AddReferencesRequest one;
        one.set_session_id(session_id_);
        one.add_object_ids(id);
        grpc::Status s = session_->AddReferences(one, timeout);
        if (!s.ok()) {
          RAY_CPP_LOG(kWarning) << "AddReferences(" << ToHex(id) << "): " << s.error_message();
        }
      }
    } else if (status.error_code() == grpc::UNAVAILABLE) {
      references_.Restore(batch);
      return;
    } else if (!status.ok()) {
      RAY_CPP_LOG(kWarning) << "AddReferences: " << status.error_message();
    }
  }
  if (!batch.releases.empty()) {
    rpc::ReleaseReferencesRequest request;
    request.set_session_id(session_id_);
    for (const auto &id : batch.releases) request.add_object_ids(id);
    grpc::Status status = session_->ReleaseReferences(request, timeout);
    if (status.error_code() == grpc::UNAVAILABLE) {
      ReferenceBatcher::Batch releases;
      releases.releases = batch.releases;
      references_.Restore(releases);
    } else if (!status.ok()) {
      RAY_CPP_LOG(kWarning) << "ReleaseReferences: " << status.error_message();
    }
  }
}

// ---- the RayRuntime interface -------------------------------------------------------------

std::string ClusterRuntime::Put(std::string frame, const std::vector<std::string> &nested_ids) {
  CheckUsable();
  if (!nested_ids.empty()) SubmitBarrier();
  const std::string object_id = ids_->NewPutId();
  std::string stored;
  if (frame.size() <= Constants::PutStreamThresholdBytes()) {
    rpc::PutRequest request;
    request.set_session_id(session_id_);
    request.set_object_id(object_id);
    request.set_frame(std::move(frame));
    for (const auto &id : nested_ids) request.add_nested_object_ids(id);
    stored = session_->Put(request, Constants::RpcTimeoutS()).object_id();
  } else {
    auto plan = PlanChunks(frame.size(), Constants::ChunkBytes());
    // Allow 10 MB/s on top of the ordinary deadline.
    double timeout = Constants::RpcTimeoutS() + static_cast<double>(frame.size()) / 10e6;
    stored = session_
                 ->PutStream(
                     [&](size_t i, rpc::PutStreamRequest *chunk) {
                       if (i >= plan.size()) return false;
                       *chunk = MakePutStreamChunk(session_id_, object_id, frame, nested_ids,
                                                   plan[i].offset, plan[i].size, i == 0);
                       return true;
                     },
                     timeout)
                 .object_id();
  }
  return stored.empty() ? object_id : stored;
}

std::vector<std::string> ClusterRuntime::GetOnce(const std::vector<std::string> &ids,
                                                 int64_t timeout_ms, double deadline_s,
                                                 bool *timed_out) {
  *timed_out = false;
  grpc::ClientContext context;
  session_->Prepare(&context, deadline_s);
  rpc::GetRequest request;
  request.set_session_id(session_id_);
  for (const auto &id : ids) request.add_object_ids(id);
  request.set_timeout_ms(timeout_ms);
  auto reader = session_->stub()->Get(&context, request);
  ObjectAssembler assembler(ids.size());
  rpc::GetReply reply;
  std::string protocol_error;
  while (reader->Read(&reply)) {
    if (!protocol_error.empty()) continue;
    try {
      for (const auto &chunk : reply.chunks()) {
        assembler.Add(chunk.index(), chunk.total_size_bytes(), chunk.offset(), chunk.data());
      }
    } catch (const RayException &e) {
      protocol_error = e.what();
      context.TryCancel();
    }
  }
  grpc::Status status = reader->Finish();
  if (!protocol_error.empty()) throw RayException(protocol_error);
  if (status.error_code() == grpc::DEADLINE_EXCEEDED) {
    *timed_out = true;
    last_timeout_message_ = status.error_message();
    return {};
  }
  if (!status.ok()) ThrowForStatus(status, "Get", session_->address());
  if (!assembler.Complete()) {
    throw RayException("the client gateway ended the Get stream before all " +
                       std::to_string(ids.size()) + " objects arrived (" +
                       std::to_string(assembler.Missing().size()) + " missing)");
  }
  return assembler.Take();
}

std::vector<std::string> ClusterRuntime::Get(const std::vector<std::string> &ids,
                                             int timeout_ms) {
  CheckUsable();
  if (ids.empty()) return {};
  for (const auto &id : ids) {
    if (id.empty()) throw RayException("ray::Get of an empty ObjectRef (moved from or default)");
  }
  // Values of Remote() calls may come back on the Submit stream: wait for them a little
  // (values still on their way then, of long tasks, are asked of the gateway).
  const auto start = Clock::now();
  int64_t wait_ms = Constants::StreamResultWaitMs();
  if (timeout_ms >= 0) wait_ms = std::min<int64_t>(wait_ms, timeout_ms);
  std::vector<std::string> frames;
  if (results_.Take(ids, start + std::chrono::milliseconds(wait_ms), &frames) ==
      ResultCache::Outcome::kTaken) {
    return frames;
  }
  results_.Forget(ids);
  SubmitBarrier();
  bool timed_out = false;
  if (timeout_ms >= 0) {
    // What is left of the timeout is the gateway's.
    auto spent =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
    const int64_t left = std::max<int64_t>(timeout_ms - spent, 0);
    auto frames =
        GetOnce(ids, left, left / 1000.0 + Constants::GetTransferMarginS(), &timed_out);
    if (timed_out) {
      throw RayTimeoutException("ray::Get timed out after " + std::to_string(timeout_ms) +
                                " ms waiting for " + std::to_string(ids.size()) + " object(s) (" +
                                DescribeIds(ids) + "): " + last_timeout_message_);
    }
    return frames;
  }
  while (true) {
    const int64_t poll = Constants::BlockingPollMs();
    auto frames = GetOnce(ids, poll, poll / 1000.0 + Constants::GetTransferMarginS(), &timed_out);
    if (!timed_out) return frames;
    CheckUsable();
  }
}

std::vector<bool> ClusterRuntime::Wait(const std::vector<std::string> &ids, int num_objects,
                                       int timeout_ms) {
  CheckUsable();
  if (num_objects < 0 || static_cast<size_t>(num_objects) > ids.size()) {
    throw RayException("ray::Wait: num_objects must be between 0 and the number of refs (" +
                       std::to_string(ids.size()) + "), got " + std::to_string(num_objects));
  }
  std::vector<bool> ready(ids.size(), false);
  if (num_objects == 0 || ids.empty()) return ready;
  // The gateway takes each id once.
  std::vector<std::string> unique;
  std::unordered_map<std::string, size_t> position;
  for (const auto &id : ids) {
    if (id.empty()) throw RayException("ray::Wait of an empty ObjectRef (moved from or default)");
    if (position.emplace(id, unique.size()).second) unique.push_back(id);
  }
  const int want = std::min<int>(num_objects, static_cast<int>(unique.size()));
  SubmitBarrier();
  std::vector<bool> unique_ready(unique.size(), false);
  while (true) {
    const int64_t round = timeout_ms >= 0 ? timeout_ms : Constants::BlockingPollMs();
    rpc::WaitRequest request;
    request.set_session_id(session_id_);
    for (const auto &id : unique) request.add_object_ids(id);
    request.set_num_returns(want);
    request.set_timeout_ms(round);
    request.set_fetch_local(true);
    rpc::WaitReply reply = session_->Wait(request, round / 1000.0 + Constants::RpcTimeoutS());
    int count = 0;
    for (uint32_t index : reply.ready_indices()) {
      if (index < unique_ready.size() && !unique_ready[index]) {
        unique_ready[index] = true;
        ++count;
      }
    }
    if (timeout_ms >= 0 || count >= want) break;
    std::fill(unique_ready.begin(), unique_ready.end(), false);
    CheckUsable();
  }
  int marked = 0;
  for (size_t i = 0; i < ids.size() && marked < num_objects; ++i) {
    if (unique_ready[position[ids[i]]]) {
      ready[i] = true;
      ++marked;
    }
  }
  return ready;
}

void ClusterRuntime::ResolveLargeArgs(std::vector<TaskArg> &args) {
  for (auto &arg : args) {
    if (arg.frame && arg.frame->size() > Constants::MaxInlineArgBytes()) {
      std::string id = Put(std::move(*arg.frame), arg.nested_ids);
      arg.frame.reset();
      arg.nested_ids.clear();
      arg.object_id = std::move(id);
      arg.release_after_submit = true;
    }
  }
}

void ClusterRuntime::ReleaseAfterSubmit(const std::vector<TaskArg> &args) {
  for (const auto &arg : args) {
    if (arg.release_after_submit && arg.object_id) RemoveLocalReference(*arg.object_id);
  }
}

std::string ClusterRuntime::PushItem(rpc::SubmitItem item, const std::string &task_id,
                                     const std::vector<TaskArg> &args) {
  const std::string return_id = IdGenerator::ObjectId(task_id, 1);
  // Not for C++ code running in a task: its Get must go to the gateway, whose blocked get
  // lends the task's CPUs to the tasks it waits for.
  if (!attached_ && results_.Expect(return_id, Constants::MaxStreamResults())) {
    item.set_return_results(true);
  }
  submit_queue_.Push(std::move(item));
  ReleaseAfterSubmit(args);
  return return_id;
}

std::string ClusterRuntime::Call(const RemoteFunctionHolder &holder, std::vector<TaskArg> &args,
                                 const CallOptions &options) {
  CheckUsable();
  rpc::SubmitItem item;
  rpc::SubmitTaskRequest *task = item.mutable_task();
  *task->mutable_options() = ToTaskOptions(options);
  *task->mutable_function() = ToFunctionDescriptor(holder, DescriptorRole::kFunction);
  ResolveLargeArgs(args);
  task->set_session_id(session_id_);
  FillTaskArgs(args, task->mutable_args());
  const std::string task_id = ids_->NewTaskId();
  task->set_task_id(task_id);
  return PushItem(std::move(item), task_id, args);
}

std::string ClusterRuntime::CallActor(const RemoteFunctionHolder &holder,
                                      const std::string &actor_id, std::vector<TaskArg> &args,
                                      const CallOptions &options) {
  CheckUsable();
  if (actor_id.empty()) throw RayException("a call on an empty ActorHandle");
  rpc::SubmitItem item;
  rpc::CallActorRequest *call = item.mutable_actor_call();
  *call->mutable_method() = ToFunctionDescriptor(holder, DescriptorRole::kActorMethod);
  ResolveLargeArgs(args);
  call->set_session_id(session_id_);
  call->set_actor_id(actor_id);
  FillTaskArgs(args, call->mutable_args());
  call->set_num_returns(1);
  call->set_name(options.name);
  const std::string task_id = ids_->NewTaskId();
  call->set_task_id(task_id);
  return PushItem(std::move(item), task_id, args);
}

std::string ClusterRuntime::CreateActor(const RemoteFunctionHolder &holder,
                                        std::vector<TaskArg> &args,
                                        const ActorCreationOptions &options) {
  CheckUsable();
  rpc::StartActorRequest request;
  *request.mutable_options() = ToActorOptions(options, default_detached_);
  *request.mutable_actor_class() = ToFunctionDescriptor(holder, DescriptorRole::kActorClass);
  ResolveLargeArgs(args);
  bool has_refs = false;
  for (const auto &arg : args) has_refs = has_refs || arg.object_id || !arg.nested_ids.empty();
  if (has_refs) SubmitBarrier();
  request.set_session_id(session_id_);
  FillTaskArgs(args, request.mutable_args());
  const std::string actor_id = ids_->NewActorId();
  request.set_actor_id(actor_id);
  rpc::StartActorReply reply = session_->StartActor(request, Constants::RpcTimeoutS());
  ReleaseAfterSubmit(args);
  return reply.actor_id().empty() ? actor_id : reply.actor_id();
}

void ClusterRuntime::AddLocalReference(const std::string &id) {
  references_.Add(id);
  cv_.notify_all();
}

void ClusterRuntime::RemoveLocalReference(const std::string &id) {
  references_.Release(id);
  cv_.notify_all();
}

std::string ClusterRuntime::GetActorId(const std::string &actor_name,
                                       const std::string &ray_namespace) {
  CheckUsable();
  rpc::LookupActorRequest request;
  request.set_session_id(session_id_);
  request.set_name(actor_name);
  request.set_ray_namespace(ray_namespace);
  return session_->LookupActor(request, Constants::RpcTimeoutS()).actor_id();
}

void ClusterRuntime::KillActor(const std::string &actor_id, bool no_restart) {
  CheckUsable();
  SubmitBarrier();  // calls made before the kill reach the gateway first
  rpc::StopActorRequest request;
  request.set_session_id(session_id_);
  request.set_actor_id(actor_id);
  request.set_no_restart(no_restart);
  session_->StopActor(request, Constants::RpcTimeoutS());
}

void ClusterRuntime::ExitActor() { ExitCurrentActor(); }

}  // namespace internal
}  // namespace ray
