#include "gateway_client.h"

#include <chrono>
#include <thread>

#include "constants.h"
#include "ray/api/ray_exception.h"

namespace ray {
namespace internal {

namespace {

const char *CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::UNKNOWN: return "UNKNOWN";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::ABORTED: return "ABORTED";
    case grpc::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::INTERNAL: return "INTERNAL";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::DATA_LOSS: return "DATA_LOSS";
    case grpc::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN_CODE";
  }
}

}  // namespace

void ThrowForStatus(const grpc::Status &status, const std::string &call,
                    const std::string &address) {
  std::string details = status.error_message();
  std::string head = call + " to the client gateway at " + address + " failed (" +
                     CodeName(status.error_code()) + (details.empty() ? "" : ": " + details) + ")";
  switch (status.error_code()) {
    case grpc::DEADLINE_EXCEEDED:
      throw RayTimeoutException(head + ": it did not finish in time");
    case grpc::UNAVAILABLE:
      throw RayException(head + ": cannot reach it; is the cluster running and reachable?");
    case grpc::UNAUTHENTICATED:
      throw RayException(head + ": the cluster refused the token; set RAY_CLUSTER_TOKEN to the "
                                "token `ray start --head` printed");
    case grpc::UNIMPLEMENTED:
      throw RayException(head + ": that address does not serve the client gateway; give the "
                                "GCS address `ray start --head` printed");
    case grpc::RESOURCE_EXHAUSTED:
      throw RayObjectStoreFullException(head);
    default:
      throw RayException(head);
  }
}

GatewayClient::GatewayClient(std::string address, std::string token)
    : address_(std::move(address)), token_(std::move(token)) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(Constants::GrpcMaxMessageBytes());
  args.SetMaxSendMessageSize(Constants::GrpcMaxMessageBytes());
  channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  stub_ = rpc::ClientGatewayService::NewStub(channel_);
}

void GatewayClient::Prepare(grpc::ClientContext *context, double timeout_s) const {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)));
  context->AddMetadata(kTokenMetadataKey, token_);
}

#define RAY_GATEWAY_UNARY(Method, Request, Reply)                                 \
  rpc::Reply GatewayClient::Method(const rpc::Request &request, double timeout_s) { \
    grpc::ClientContext context;                                                  \
    Prepare(&context, timeout_s);                                                 \
    rpc::Reply reply;                                                             \
    grpc::Status status = stub_->Method(&context, request, &reply);               \
    if (!status.ok()) ThrowForStatus(status, #Method, address_);                  \
    return reply;                                                                 \
  }

RAY_GATEWAY_UNARY(Put, PutRequest, PutReply)
RAY_GATEWAY_UNARY(Wait, WaitRequest, WaitReply)
RAY_GATEWAY_UNARY(StartActor, StartActorRequest, StartActorReply)
RAY_GATEWAY_UNARY(CallActor, CallActorRequest, CallActorReply)
RAY_GATEWAY_UNARY(SubmitTask, SubmitTaskRequest, SubmitTaskReply)

#undef RAY_GATEWAY_UNARY

rpc::OpenSessionReply GatewayClient::OpenSession(const rpc::OpenSessionRequest &request,
                                                 double timeout_s) {
  auto give_up = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (true) {
    grpc::ClientContext context;
    Prepare(&context, timeout_s);
    context.set_wait_for_ready(true);  // the cluster may still be coming up
    rpc::OpenSessionReply reply;
    grpc::Status status = stub_->OpenSession(&context, request, &reply);
    if (status.ok()) return reply;
    if (status.error_code() != grpc::UNAVAILABLE ||
        std::chrono::steady_clock::now() + std::chrono::milliseconds(500) > give_up) {
      ThrowForStatus(status, "OpenSession", address_);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

void GatewayClient::CloseSession(const rpc::CloseSessionRequest &request, double timeout_s) {
  grpc::ClientContext context;
  Prepare(&context, timeout_s);
  rpc::CloseSessionReply reply;
  grpc::Status status = stub_->CloseSession(&context, request, &reply);
  if (!status.ok()) ThrowForStatus(status, "CloseSession", address_);
}

rpc::PutStreamReply GatewayClient::PutStream(
    const std::function<bool(size_t, rpc::PutStreamRequest *)> &next, double timeout_s) {
  grpc::ClientContext context;
  Prepare(&context, timeout_s);
  rpc::PutStreamReply reply;
  auto writer = stub_->PutStream(&context, &reply);
  rpc::PutStreamRequest chunk;
  for (size_t i = 0; next(i, &chunk); ++i) {
    if (!writer->Write(chunk)) break;  // the stream broke: Finish says why
    chunk.Clear();
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) ThrowForStatus(status, "PutStream", address_);
  return reply;
}

rpc::LookupActorReply GatewayClient::LookupActor(const rpc::LookupActorRequest &request,
                                                 double timeout_s) {
  grpc::ClientContext context;
  Prepare(&context, timeout_s);
  rpc::LookupActorReply reply;
  grpc::Status status = stub_->LookupActor(&context, request, &reply);
  if (status.error_code() == grpc::NOT_FOUND) return rpc::LookupActorReply();
  if (!status.ok()) ThrowForStatus(status, "LookupActor", address_);
  return reply;
}

void GatewayClient::StopActor(const rpc::StopActorRequest &request, double timeout_s) {
  grpc::ClientContext context;
  Prepare(&context, timeout_s);
  rpc::StopActorReply reply;
  grpc::Status status = stub_->StopActor(&context, request, &reply);
  if (!status.ok()) ThrowForStatus(status, "StopActor", address_);
}

grpc::Status GatewayClient::AddReferences(const rpc::AddReferencesRequest &request,
                                          double timeout_s) {
  grpc::ClientContext context;
  Prepare(&context, timeout_s);
  rpc::AddReferencesReply reply;
  return stub_->AddReferences(&context, request, &reply);
}

grpc::Status GatewayClient::ReleaseReferences(const rpc::ReleaseReferencesRequest &request,
                                              double timeout_s) {
  grpc::ClientContext context;
  Prepare(&context, timeout_s);
  rpc::ReleaseReferencesReply reply;
  return stub_->ReleaseReferences(&context, request, &reply);
}

}  // namespace internal
}  // namespace ray
