#pragma once

// A typed client of ClientGatewayService (proto/client_gateway.proto) over the generated stub:
// it owns deadlines, the x-ray-token metadata and the mapping of gRPC errors to the API's
// exceptions. Other code never touches the raw stub.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client_gateway.grpc.pb.h"
#include "client_gateway.pb.h"

namespace ray {
namespace internal {

// Throws the API exception for a failed call: DEADLINE_EXCEEDED -> RayTimeoutException,
// everything else -> RayException, each naming the call, the address and what to do.
[[noreturn]] void ThrowForStatus(const grpc::Status &status, const std::string &call,
                                 const std::string &address);

class GatewayClient {
 public:
  // address: HOST:PORT; token: sent as x-ray-token on every call.
  GatewayClient(std::string address, std::string token);

  const std::string &address() const { return address_; }

  // Sets the deadline and the token metadata of a call.
  void Prepare(grpc::ClientContext *context, double timeout_s) const;

  // Waits for the channel and retries UNAVAILABLE (the cluster may be starting) for timeout_s.
  rpc::OpenSessionReply OpenSession(const rpc::OpenSessionRequest &request, double timeout_s);
  void CloseSession(const rpc::CloseSessionRequest &request, double timeout_s);
  rpc::PutReply Put(const rpc::PutRequest &request, double timeout_s);
  // Sends the chunks `next(0, &msg)`, `next(1, &msg)`, ... until it returns false.
  rpc::PutStreamReply PutStream(
      const std::function<bool(size_t index, rpc::PutStreamRequest *chunk)> &next,
      double timeout_s);
  rpc::WaitReply Wait(const rpc::WaitRequest &request, double timeout_s);
  rpc::StartActorReply StartActor(const rpc::StartActorRequest &request, double timeout_s);
  rpc::CallActorReply CallActor(const rpc::CallActorRequest &request, double timeout_s);
  rpc::SubmitTaskReply SubmitTask(const rpc::SubmitTaskRequest &request, double timeout_s);
  // NOT_FOUND is not an error here: the reply is empty (actor_id "").
  rpc::LookupActorReply LookupActor(const rpc::LookupActorRequest &request, double timeout_s);
  void StopActor(const rpc::StopActorRequest &request, double timeout_s);
  // Returns the status (NOT_FOUND is handled by the caller).
  grpc::Status AddReferences(const rpc::AddReferencesRequest &request, double timeout_s);
  grpc::Status ReleaseReferences(const rpc::ReleaseReferencesRequest &request, double timeout_s);

  rpc::ClientGatewayService::Stub *stub() { return stub_.get(); }

 private:
  std::string address_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<rpc::ClientGatewayService::Stub> stub_;
};

}  // namespace internal
}  // namespace ray
