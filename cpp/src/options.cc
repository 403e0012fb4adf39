#include "options.h"

#include "ray/api/ray_exception.h"

namespace ray {
namespace internal {

rpc::FunctionDescriptor ToFunctionDescriptor(const RemoteFunctionHolder &holder,
                                             DescriptorRole role) {
  rpc::FunctionDescriptor d;
  switch (holder.lang_type) {
    case LangType::CPP:
      d.set_language(rpc::LANGUAGE_CPP);
      d.set_function_name(holder.function_name);
      d.set_class_name(holder.class_name);
      break;
    case LangType::PYTHON:
      d.set_language(rpc::LANGUAGE_PYTHON);
      d.set_module_name(holder.module_name);
      if (role == DescriptorRole::kActorClass) {
        d.set_class_name(holder.class_name);
      } else {
        d.set_function_name(holder.function_name);
      }
      break;
    case LangType::JAVA:
      d.set_language(rpc::LANGUAGE_JAVA);
      d.set_class_name(holder.class_name);
      d.set_function_name(role == DescriptorRole::kActorClass ? "<init>" : holder.function_name);
      break;
  }
  return d;
}

rpc::TaskOptions ToTaskOptions(const CallOptions &options) {
  if (!options.group.Empty()) {
    throw RayException("placement groups are not supported by the client gateway yet");
  }
  rpc::TaskOptions out;
  out.set_name(options.name);
  for (const auto &[name, amount] : options.resources) (*out.mutable_resources())[name] = amount;
  return out;
}

rpc::ActorOptions ToActorOptions(const ActorCreationOptions &options, bool default_detached) {
  if (!options.group.Empty()) {
    throw RayException("placement groups are not supported by the client gateway yet");
  }
  rpc::ActorOptions out;
  out.set_name(options.name);
  out.set_ray_namespace(options.ray_namespace);
  out.set_detached(options.detached.value_or(default_detached));
  for (const auto &[name, amount] : options.resources) (*out.mutable_resources())[name] = amount;
  out.set_max_restarts(options.max_restarts);
  out.set_max_task_retries(options.max_task_retries);
  out.set_max_concurrency(options.max_concurrency);
  out.set_get_if_exists(options.get_if_exists);
  return out;
}

void FillTaskArgs(const std::vector<TaskArg> &args,
                  google::protobuf::RepeatedPtrField<rpc::TaskArg> *out) {
  for (const auto &arg : args) {
    rpc::TaskArg *a = out->Add();
    if (arg.object_id) {
      a->mutable_object_ref()->set_object_id(*arg.object_id);
    } else if (arg.frame) {
      a->set_inline_data(*arg.frame);
    } else {
      throw RayException("a task argument has neither a value nor a reference");
    }
    for (const auto &id : arg.nested_ids) a->add_nested_refs()->set_object_id(id);
  }
}

rpc::JobConfig ToJobConfig(const ResolvedConfig &config) {
  rpc::JobConfig job;
  job.set_ray_namespace(config.ray_namespace);
  for (const auto &path : config.code_search_path) job.add_code_search_path(path);
  return job;
}

}  // namespace internal
}  // namespace ray
