// The work behind the C entry point of RAY_REMOTE libraries (ray/api/entry_point.h).

#include <cxxabi.h>
#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <typeinfo>
#include <vector>

#include "cluster_runtime.h"
#include "ids.h"
#include "ray/api/entry_point.h"
#include "ray/api/function_manager.h"
#include "ray/api/ray_exception.h"
#include "ray/api/ray_runtime_holder.h"
#include "ray/api/serializer.h"

namespace ray {
namespace internal {

namespace {

thread_local bool in_actor_call = false;

struct ActorCallScope {
  ActorCallScope() { in_actor_call = true; }
  ~ActorCallScope() { in_actor_call = false; }
};

// The sessions C++ code of this process was attached to (a worker runs tasks of several
// jobs, each with its own session), by session id, and the current one. Guarded by init_mu.
std::mutex init_mu;
std::map<std::string, std::shared_ptr<ClusterRuntime>> attached_sessions;
std::string current_session_id;

std::string ModulePath(const void *module) {
  Dl_info info;
  if (dladdr(module, &info) != 0 && info.dli_fname != nullptr) return info.dli_fname;
  return "<unknown library>";
}

void WriteBuffer(const std::string &bytes, uint8_t **out, size_t *out_size) {
  if (out == nullptr || out_size == nullptr) return;
  *out = nullptr;
  *out_size = 0;
  void *buffer = std::malloc(bytes.empty() ? 1 : bytes.size());
  if (buffer == nullptr) return;
  if (!bytes.empty()) std::memcpy(buffer, bytes.data(), bytes.size());
  *out = static_cast<uint8_t *>(buffer);
  *out_size = bytes.size();
}

void ClearOutput(uint8_t **out, size_t *out_size) {
  if (out != nullptr) *out = nullptr;
  if (out_size != nullptr) *out_size = 0;
}

std::string ErrorFrame(ErrorType type, const std::string &exception_type,
                       const std::string &message, const std::string &traceback) {
  ErrorDetails error;
  error.type = type;
  error.exception_type = exception_type;
  error.message = message;
  error.traceback = traceback;
  error.language = Language::kCpp;
  return EncodeError(error);
}

// The ERROR frame of the exception being handled.
std::string CurrentExceptionFrame(const std::string &where) {
  std::string type;
  std::string what;
  ErrorType error_type = ErrorType::kTaskExecution;
  try {
    throw;
  } catch (const RayException &e) {
    type = DemangleTypeName(typeid(e).name());
    what = e.what();
  } catch (const std::exception &e) {
    type = DemangleTypeName(typeid(e).name());
    what = e.what();
  } catch (...) {
    const std::type_info *info = abi::__cxa_current_exception_type();
    type = info != nullptr ? DemangleTypeName(info->name()) : "unknown";
    what = "an exception of type " + type + " (not derived from std::exception)";
  }
  return ErrorFrame(error_type, type, type + ": " + what, "  in " + where);
}

std::vector<std::string_view> Frames(const uint8_t *const *arg_frames, const size_t *arg_sizes,
                                     size_t num_args) {
  std::vector<std::string_view> frames;
  frames.reserve(num_args);
  for (size_t i = 0; i < num_args; ++i) {
    frames.emplace_back(reinterpret_cast<const char *>(arg_frames[i]), arg_sizes[i]);
  }
  return frames;
}

// An ERROR argument fails the call with that same error.
const std::string_view *FirstErrorArgument(const std::vector<std::string_view> &frames) {
  for (const auto &frame : frames) {
    if (frame.size() >= 5 && std::memcmp(frame.data(), "RXO1", 4) == 0 &&
        static_cast<uint8_t>(frame[4]) == static_cast<uint8_t>(ObjectFormat::kError)) {
      return &frame;
    }
  }
  return nullptr;
}

bool ArgsUsable(const uint8_t *const *arg_frames, const size_t *arg_sizes, size_t num_args) {
  if (num_args == 0) return true;
  if (arg_frames == nullptr || arg_sizes == nullptr) return false;
  for (size_t i = 0; i < num_args; ++i) {
    if (arg_frames[i] == nullptr && arg_sizes[i] != 0) return false;
  }
  return true;
}

std::string NotFoundMessage(const void *module, RemoteKind kind, const std::string &name) {
  const char *what = kind == RemoteKind::kFunction  ? "function"
                     : kind == RemoteKind::kFactory ? "actor factory"
                                                    : "actor method";
  std::string message = "no C++ " + std::string(what) + " named '" + name +
                        "' is registered with RAY_REMOTE in " + ModulePath(module);
  auto &registry = FunctionRegistry::Instance();
  for (RemoteKind other : {RemoteKind::kFunction, RemoteKind::kFactory, RemoteKind::kMethod}) {
    if (other != kind && registry.Find(module, other, name) != nullptr) {
      message += " ('" + name + "' is registered as another kind)";
    }
  }
  return message;
}

// Refs returned inside a result may name tasks still on the Submit stream: the caller looks
// them up in the session as soon as the call returns.
void WaitForSubmissionsOf(const std::vector<std::string> &ids) {
  if (ids.empty()) return;
  if (auto *cluster = dynamic_cast<ClusterRuntime *>(GetRayRuntimeOrNull().get())) {
    cluster->WaitForSubmissions();
  }
}

void WriteIds(const std::vector<std::string> &ids, uint8_t **out, size_t *out_size) {
  std::string joined;
  for (const auto &id : ids) joined += id;
  if (ids.empty()) {
    ClearOutput(out, out_size);
  } else {
    WriteBuffer(joined, out, out_size);
  }
}

}  // namespace


void ExitCurrentActor() {
  if (in_actor_call) {
    throw RayIntentionalSystemExitException("ray::ExitActor() was called: the actor exits");
  }
  throw RayException("ray::ExitActor() can only be called inside a C++ actor method");
}

int32_t EntryInit(const void *module, const char *config, size_t config_size,
                  uint8_t **error_frame, size_t *error_size) {
  ClearOutput(error_frame, error_size);
  try {
    if (config == nullptr && config_size != 0) {
      throw RayException("ray_cpp_init: config is NULL");
    }
    SessionInfo session = ParseSessionConfig(std::string(config == nullptr ? "" : config, config_size));
    {
      std::lock_guard<std::mutex> lock(init_mu);
      if (GetRayRuntimeOrNull() != nullptr && attached_sessions.empty()) {
        // A driver (ray::Init) runs its own RAY_REMOTE code locally: it keeps its runtime.
      } else if (session.session_id != current_session_id) {
        auto it = attached_sessions.find(session.session_id);
        if (it == attached_sessions.end()) {
          it = attached_sessions.emplace(session.session_id, ClusterRuntime::Attach(session)).first;
        }
        SetRayRuntime(it->second);
        current_session_id = session.session_id;
      }
    }
    auto errors = FunctionRegistry::Instance().Errors(module);
    if (!errors.empty()) {
      std::string message = "RAY_REMOTE registration failed in " + ModulePath(module) + ":";
      for (const auto &e : errors) message += "\n  " + e;
      WriteBuffer(ErrorFrame(ErrorType::kTaskExecution, "ray::internal::RayException", message, ""),
                  error_frame, error_size);
      return RAY_CPP_ERROR;
    }
    return RAY_CPP_OK;
  } catch (...) {
    WriteBuffer(CurrentExceptionFrame("ray_cpp_init of " + ModulePath(module)), error_frame,
                error_size);
    return RAY_CPP_ERROR;
  }
}

void EntryShutdown() {
  std::map<std::string, std::shared_ptr<ClusterRuntime>> sessions;
  {
    std::lock_guard<std::mutex> lock(init_mu);
    if (attached_sessions.empty()) return;  // a driver's runtime is ended by ray::Shutdown
    SetRayRuntime(nullptr);
    sessions.swap(attached_sessions);
    current_session_id.clear();
  }
  for (auto &[id, runtime] : sessions) {
    try {
      runtime->Close();
    } catch (...) {
    }
  }
}

void HoldReturnedReferences(const std::vector<std::string> &ids) {
  if (ids.empty()) return;
  auto runtime = GetRayRuntimeOrNull();
  if (runtime == nullptr) return;
  for (const auto &id : ids) runtime->AddLocalReference(id);
}

void EntryReleaseContained(const uint8_t *ids, size_t ids_size) {
  if (ids == nullptr || ids_size == 0) return;
  auto runtime = GetRayRuntimeOrNull();
  if (runtime == nullptr) return;
  for (size_t offset = 0; offset + kObjectIdSize <= ids_size; offset += kObjectIdSize) {
    runtime->RemoveLocalReference(std::string(reinterpret_cast<const char *>(ids) + offset,
                                              kObjectIdSize));
  }
}

int32_t EntryListFunctions(const void *module, uint8_t **text, size_t *text_size) {
  if (text == nullptr || text_size == nullptr) return RAY_CPP_INVALID;
  std::string joined;
  for (const auto &line : FunctionRegistry::Instance().List(module)) joined += line + "\n";
  WriteBuffer(joined, text, text_size);
  return RAY_CPP_OK;
}

int32_t EntryCallFunction(const void *module, const char *name, const uint8_t *const *arg_frames,
                          const size_t *arg_sizes, size_t num_args, uint8_t **result_frame,
                          size_t *result_size, uint8_t **contained_ids,
                          size_t *contained_ids_size) {
  ClearOutput(contained_ids, contained_ids_size);
  if (result_frame == nullptr || result_size == nullptr) return RAY_CPP_INVALID;
  ClearOutput(result_frame, result_size);
  if (name == nullptr || !ArgsUsable(arg_frames, arg_sizes, num_args)) {
    WriteBuffer(ErrorFrame(ErrorType::kTaskExecution, "ray::internal::RayException",
                           "ray_cpp_call_function: NULL name or argument arrays", ""),
                result_frame, result_size);
    return RAY_CPP_INVALID;
  }
  auto frames = Frames(arg_frames, arg_sizes, num_args);
  if (const auto *error = FirstErrorArgument(frames)) {
    WriteBuffer(std::string(*error), result_frame, result_size);
    return RAY_CPP_ERROR;
  }
  const RemoteEntry *entry = FunctionRegistry::Instance().Find(module, RemoteKind::kFunction, name);
  if (entry == nullptr) {
    WriteBuffer(ErrorFrame(ErrorType::kTaskExecution, "ray::internal::RayFunctionNotFound",
                           "ray::internal::RayFunctionNotFound: " +
                               NotFoundMessage(module, RemoteKind::kFunction, name),
                           ""),
                result_frame, result_size);
    return RAY_CPP_ERROR;
  }
  try {
    std::vector<std::string> ids;
    std::string result = entry->function(frames, &ids);
    WaitForSubmissionsOf(ids);
    WriteBuffer(result, result_frame, result_size);
    WriteIds(ids, contained_ids, contained_ids_size);
    return RAY_CPP_OK;
  } catch (...) {
    WriteBuffer(CurrentExceptionFrame("C++ function " + std::string(name) + " (" +
                                      ModulePath(module) + ")"),
                result_frame, result_size);
    return RAY_CPP_ERROR;
  }
}

int32_t EntryCreateActor(const void *module, const char *factory_name,
                         const uint8_t *const *arg_frames, const size_t *arg_sizes,
                         size_t num_args, void **actor, uint8_t **error_frame,
                         size_t *error_size) {
  ClearOutput(error_frame, error_size);
  if (actor == nullptr) return RAY_CPP_INVALID;
  *actor = nullptr;
  if (factory_name == nullptr || !ArgsUsable(arg_frames, arg_sizes, num_args)) {
    WriteBuffer(ErrorFrame(ErrorType::kTaskExecution, "ray::internal::RayException",
                           "ray_cpp_create_actor: NULL name or argument arrays", ""),
                error_frame, error_size);
    return RAY_CPP_INVALID;
  }
  auto frames = Frames(arg_frames, arg_sizes, num_args);
  if (const auto *error = FirstErrorArgument(frames)) {
    WriteBuffer(std::string(*error), error_frame, error_size);
    return RAY_CPP_ERROR;
  }
  const RemoteEntry *entry =
      FunctionRegistry::Instance().Find(module, RemoteKind::kFactory, factory_name);
  if (entry == nullptr) {
    WriteBuffer(ErrorFrame(ErrorType::kTaskExecution, "ray::internal::RayFunctionNotFound",
                           "ray::internal::RayFunctionNotFound: " +
                               NotFoundMessage(module, RemoteKind::kFactory, factory_name),
                           ""),
                error_frame, error_size);
    return RAY_CPP_ERROR;
  }
  try {
    *actor = entry->factory(frames);
    return RAY_CPP_OK;
  } catch (...) {
    WriteBuffer(CurrentExceptionFrame("C++ actor factory " + std::string(factory_name) + " (" +
                                      ModulePath(module) + ")"),
                error_frame, error_size);
    return RAY_CPP_ERROR;
  }
}

int32_t EntryCallActor(const void *module, void *actor, const char *method_name,
                       const uint8_t *const *arg_frames, const size_t *arg_sizes, size_t num_args,
                       uint8_t **result_frame, size_t *result_size, uint8_t **contained_ids,
                       size_t *contained_ids_size) {
  ClearOutput(contained_ids, contained_ids_size);
  if (result_frame == nullptr || result_size == nullptr) return RAY_CPP_INVALID;
  ClearOutput(result_frame, result_size);
  if (actor == nullptr || method_name == nullptr ||
      !ArgsUsable(arg_frames, arg_sizes, num_args)) {
    WriteBuffer(ErrorFrame(ErrorType::kTaskExecution, "ray::internal::RayException",
                           "ray_cpp_call_actor: NULL actor, name or argument arrays", ""),
                result_frame, result_size);
    return RAY_CPP_INVALID;
  }
  auto frames = Frames(arg_frames, arg_sizes, num_args);
  if (const auto *error = FirstErrorArgument(frames)) {
    WriteBuffer(std::string(*error), result_frame, result_size);
    return RAY_CPP_ERROR;
  }
  const RemoteEntry *entry =
      FunctionRegistry::Instance().Find(module, RemoteKind::kMethod, method_name);
  if (entry == nullptr) {
    WriteBuffer(ErrorFrame(ErrorType::kTaskExecution, "ray::internal::RayFunctionNotFound",
                           "ray::internal::RayFunctionNotFound: " +
                               NotFoundMessage(module, RemoteKind::kMethod, method_name),
                           ""),
                result_frame, result_size);
    return RAY_CPP_ERROR;
  }
  try {
    ActorCallScope scope;
    std::vector<std::string> ids;
    std::string result = entry->method(static_cast<ActorInstance *>(actor), frames, &ids);
    WaitForSubmissionsOf(ids);
    WriteBuffer(result, result_frame, result_size);
    WriteIds(ids, contained_ids, contained_ids_size);
    return RAY_CPP_OK;
  } catch (const RayIntentionalSystemExitException &) {
    WriteBuffer(EncodeXlang(XlangValue::Null()), result_frame, result_size);
    return RAY_CPP_EXIT_ACTOR;
  } catch (...) {
    WriteBuffer(CurrentExceptionFrame("C++ actor method " + std::string(method_name) + " (" +
                                      ModulePath(module) + ")"),
                result_frame, result_size);
    return RAY_CPP_ERROR;
  }
}

void EntryDestroyActor(void *actor) {
  if (actor == nullptr) return;
  auto *instance = static_cast<ActorInstance *>(actor);
  try {
    if (instance->destroy != nullptr) instance->destroy(instance->self);
  } catch (...) {
    // A throwing destructor must not cross the C boundary.
  }
  delete instance;
}

void EntryFree(void *buffer) { std::free(buffer); }

}  // namespace internal
}  // namespace ray
