#pragma once

/// \file
/// The C entry point that every library using RAY_REMOTE exports, so that a Python worker can
/// run its C++ functions and actors (DESIGN.md section 8) with `ctypes`.
///
/// Including <ray/api.h> (or <ray/api/ray_remote.h>) defines these functions `extern "C"`,
/// `inline` and `__attribute__((used, visibility("default")))`: every translation unit emits
/// them as one mergeable (COMDAT) definition, so a library made of many source files exports
/// exactly one copy, even when built with -fvisibility=hidden. Each library's copy runs that
/// library's RAY_REMOTE functions (a hidden per-library tag names the library); the work is
/// done in libray_api.so, which the library links.
///
/// ABI version 2 (version 1 had no ray_cpp_release_contained and attached one session per
/// process). All frames are object frames (tests/xlang/README.md). Names are
/// NUL-terminated UTF-8: the RAY_REMOTE spelling, e.g. "Plus", "Counter::FactoryCreate",
/// "&Counter::Add" (`FunctionDescriptor.function_name` of LANGUAGE_CPP).
///
/// Status codes (int32_t):
///   RAY_CPP_OK (0)          the output frame is the value.
///   RAY_CPP_ERROR (1)       the output frame is an ERROR frame (ErrorInfo with language
///                           LANGUAGE_CPP, exception_type the C++ exception type, e.g.
///                           "std::invalid_argument", message "<type>: <what()>"); an ERROR
///                           argument is passed through unchanged.
///   RAY_CPP_EXIT_ACTOR (2)  ray_cpp_call_actor only: the method called ray::ExitActor(); the
///                           output frame is the method's (null) result; end the actor.
///   RAY_CPP_INVALID (-1)    the call itself was malformed (null pointer, unknown actor);
///                           an ERROR frame describes it when the output pointers are usable.
///
/// Memory: every `uint8_t **` output is set to a buffer allocated by the library (malloc) or to
/// NULL with size 0; the caller releases each non-NULL one with ray_cpp_free. Inputs are only
/// read during the call. An actor handle (`void *`) stays valid until ray_cpp_destroy_actor.
///
/// Functions:
///   uint32_t ray_cpp_abi_version(void)
///       The ABI version (1). Check it before any other call.
///   int32_t ray_cpp_init(const char *config, size_t config_size,
///                        uint8_t **error_frame, size_t *error_frame_size)
///       Connects C++ code of this process to its client-gateway session, so it can use the Ray
///       API itself (nested tasks, puts, gets). `config` is UTF-8 text of "key=value" lines:
///         session_address  HOST:PORT of the session owner (required)
///         session_id       hex of the session id (required)
///         job_id           hex of the 4-byte job id (required)
///         token            the cluster token (sent as x-ray-token)
///         ray_namespace    the session's namespace
///         code_search_path ':'-separated directories
///       A process serves several sessions (a worker runs tasks of several jobs): the first
///       call with a session attaches to it, and every call makes its session the current one,
///       which the Ray API of C++ code in this process uses from then on. So the caller calls
///       it before running code of a job other than the last one's; a call with the current
///       session is a no-op (OK). In a driver (after ray::Init) it keeps the driver's runtime.
///       Also reports RAY_REMOTE registration errors of this library (RAY_CPP_ERROR).
///       Calling it is optional: functions that do not use the API run without it.
///   void ray_cpp_shutdown(void)
///       Flushes reference releases and disconnects every attached session (call once, when
///       the worker exits).
///   int32_t ray_cpp_list_functions(uint8_t **text, size_t *text_size)
///       Lines "kind\tname\tclass\n" of this library's entries; kind is function, factory or
///       method; class is the actor type of a factory or the class of a method.
///   int32_t ray_cpp_call_function(const char *name,
///                                 const uint8_t *const *arg_frames, const size_t *arg_sizes,
///                                 size_t num_args,
///                                 uint8_t **result_frame, size_t *result_size,
///                                 uint8_t **contained_ids, size_t *contained_ids_size)
///       Runs a RAY_REMOTE function. The result is one frame (void functions: XLANG null).
///       `contained_ids` receives the 28-byte ids of ObjectRefs inside the result, back to
///       back (report them as the return object's nested refs so they stay alive). Each is
///       held once more in the current session until ray_cpp_release_contained, so the objects
///       outlive the C++ values that held them until the caller holds them itself.
///   int32_t ray_cpp_create_actor(const char *factory_name,
///                                const uint8_t *const *arg_frames, const size_t *arg_sizes,
///                                size_t num_args, void **actor,
///                                uint8_t **error_frame, size_t *error_size)
///       Runs a RAY_REMOTE actor factory; on OK `*actor` is the instance's opaque handle.
///   int32_t ray_cpp_call_actor(void *actor, const char *method_name,
///                              const uint8_t *const *arg_frames, const size_t *arg_sizes,
///                              size_t num_args,
///                              uint8_t **result_frame, size_t *result_size,
///                              uint8_t **contained_ids, size_t *contained_ids_size)
///       Runs a RAY_REMOTE member function on the instance (as ray_cpp_call_function).
///   void ray_cpp_release_contained(const uint8_t *ids, size_t ids_size)
///       Drops the holds a call took on the ids it returned in `contained_ids` (pass that
///       buffer back, before or after freeing it; in the same session, i.e. before calling
///       ray_cpp_init for another one).
///   void ray_cpp_destroy_actor(void *actor)
///       Deletes the instance (its destructor runs). NULL is ignored.
///   void ray_cpp_free(void *buffer)
///       Frees a buffer returned by the functions above. NULL is ignored.
///
/// Calls may come from several threads at once (actors with max_concurrency > 1).

#include <ray/api/common_types.h>

#include <cstddef>
#include <cstdint>

#define RAY_CPP_ABI_VERSION 2
#define RAY_CPP_OK 0
#define RAY_CPP_ERROR 1
#define RAY_CPP_EXIT_ACTOR 2
#define RAY_CPP_INVALID (-1)

namespace ray {
namespace internal {

/// One per module (executable or shared library): its address names the module.
__attribute__((visibility("hidden"))) inline char ray_module_tag = 0;

RAY_EXPORT int32_t EntryInit(const void *module, const char *config, size_t config_size,
                             uint8_t **error_frame, size_t *error_size);
RAY_EXPORT void EntryShutdown();
RAY_EXPORT int32_t EntryListFunctions(const void *module, uint8_t **text, size_t *text_size);
RAY_EXPORT int32_t EntryCallFunction(const void *module, const char *name,
                                     const uint8_t *const *arg_frames, const size_t *arg_sizes,
                                     size_t num_args, uint8_t **result_frame,
                                     size_t *result_size, uint8_t **contained_ids,
                                     size_t *contained_ids_size);
RAY_EXPORT int32_t EntryCreateActor(const void *module, const char *factory_name,
                                    const uint8_t *const *arg_frames, const size_t *arg_sizes,
                                    size_t num_args, void **actor, uint8_t **error_frame,
                                    size_t *error_size);
RAY_EXPORT int32_t EntryCallActor(const void *module, void *actor, const char *method_name,
                                  const uint8_t *const *arg_frames, const size_t *arg_sizes,
                                  size_t num_args, uint8_t **result_frame, size_t *result_size,
                                  uint8_t **contained_ids, size_t *contained_ids_size);
RAY_EXPORT void EntryReleaseContained(const uint8_t *ids, size_t ids_size);
RAY_EXPORT void EntryDestroyActor(void *actor);
RAY_EXPORT void EntryFree(void *buffer);

}  // namespace internal
}  // namespace ray

#ifndef RAY_INTERNAL_BUILDING_LIBRARY

#define RAY_CPP_ENTRY_POINT extern "C" inline __attribute__((used, visibility("default")))

RAY_CPP_ENTRY_POINT uint32_t ray_cpp_abi_version(void) { return RAY_CPP_ABI_VERSION; }

RAY_CPP_ENTRY_POINT int32_t ray_cpp_init(const char *config, size_t config_size,
                                         uint8_t **error_frame, size_t *error_size) {
  return ray::internal::EntryInit(&ray::internal::ray_module_tag, config, config_size,
                                  error_frame, error_size);
}

RAY_CPP_ENTRY_POINT void ray_cpp_shutdown(void) { ray::internal::EntryShutdown(); }

RAY_CPP_ENTRY_POINT int32_t ray_cpp_list_functions(uint8_t **text, size_t *text_size) {
  return ray::internal::EntryListFunctions(&ray::internal::ray_module_tag, text, text_size);
}

RAY_CPP_ENTRY_POINT int32_t ray_cpp_call_function(const char *name,
                                                  const uint8_t *const *arg_frames,
                                                  const size_t *arg_sizes, size_t num_args,
                                                  uint8_t **result_frame, size_t *result_size,
                                                  uint8_t **contained_ids,
                                                  size_t *contained_ids_size) {
  return ray::internal::EntryCallFunction(&ray::internal::ray_module_tag, name, arg_frames,
                                          arg_sizes, num_args, result_frame, result_size,
                                          contained_ids, contained_ids_size);
}

RAY_CPP_ENTRY_POINT int32_t ray_cpp_create_actor(const char *factory_name,
                                                 const uint8_t *const *arg_frames,
                                                 const size_t *arg_sizes, size_t num_args,
                                                 void **actor, uint8_t **error_frame,
                                                 size_t *error_size) {
  return ray::internal::EntryCreateActor(&ray::internal::ray_module_tag, factory_name,
                                         arg_frames, arg_sizes, num_args, actor, error_frame,
                                         error_size);
}

RAY_CPP_ENTRY_POINT int32_t ray_cpp_call_actor(void *actor, const char *method_name,
                                               const uint8_t *const *arg_frames,
                                               const size_t *arg_sizes, size_t num_args,
                                               uint8_t **result_frame, size_t *result_size,
                                               uint8_t **contained_ids,
                                               size_t *contained_ids_size) {
  return ray::internal::EntryCallActor(&ray::internal::ray_module_tag, actor, method_name,
                                       arg_frames, arg_sizes, num_args, result_frame,
                                       result_size, contained_ids, contained_ids_size);
}

RAY_CPP_ENTRY_POINT void ray_cpp_release_contained(const uint8_t *ids, size_t ids_size) {
  ray::internal::EntryReleaseContained(ids, ids_size);
}

RAY_CPP_ENTRY_POINT void ray_cpp_destroy_actor(void *actor) {
  ray::internal::EntryDestroyActor(actor);
}

RAY_CPP_ENTRY_POINT void ray_cpp_free(void *buffer) { ray::internal::EntryFree(buffer); }

#endif  // RAY_INTERNAL_BUILDING_LIBRARY
