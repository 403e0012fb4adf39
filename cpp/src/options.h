#pragma once

// The API's descriptors and options as client_gateway.proto messages (pure mapping).

#include <string>
#include <vector>

#include "client_gateway.pb.h"
#include "common.pb.h"
#include "config.h"
#include "ray/api/ray_runtime.h"
#include "ray/api/task_options.h"

namespace ray {
namespace internal {

// What a FunctionDescriptor names.
enum class DescriptorRole { kFunction, kActorClass, kActorMethod };

rpc::FunctionDescriptor ToFunctionDescriptor(const RemoteFunctionHolder &holder,
                                             DescriptorRole role);

// Throws RayException for options the gateway cannot express (placement groups).
rpc::TaskOptions ToTaskOptions(const CallOptions &options);

rpc::ActorOptions ToActorOptions(const ActorCreationOptions &options, bool default_detached);

// Arguments already resolved (frames small enough, large ones replaced by references).
void FillTaskArgs(const std::vector<TaskArg> &args,
                  google::protobuf::RepeatedPtrField<rpc::TaskArg> *out);

rpc::JobConfig ToJobConfig(const ResolvedConfig &config);

}  // namespace internal
}  // namespace ray
