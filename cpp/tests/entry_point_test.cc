// The C entry point of a RAY_REMOTE library (ray/api/entry_point.h), called exactly as the
// Python worker's ctypes runner will: dlopen the library, dlsym the symbols, frames in and out.

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <ray/api.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_functions.h"

namespace {

using ray::internal::ErrorDetails;
using ray::internal::ErrorType;
using ray::internal::Language;
using ray::internal::ObjectFormat;
using ray::internal::Serializer;

using AbiVersionFn = uint32_t (*)();
using InitFn = int32_t (*)(const char *, size_t, uint8_t **, size_t *);
using ShutdownFn = void (*)();
using ListFn = int32_t (*)(uint8_t **, size_t *);
using CallFn = int32_t (*)(const char *, const uint8_t *const *, const size_t *, size_t, uint8_t **,
                           size_t *, uint8_t **, size_t *);
using CreateFn = int32_t (*)(const char *, const uint8_t *const *, const size_t *, size_t, void **,
                             uint8_t **, size_t *);
using CallActorFn = int32_t (*)(void *, const char *, const uint8_t *const *, const size_t *,
                                size_t, uint8_t **, size_t *, uint8_t **, size_t *);
using DestroyFn = void (*)(void *);
using FreeFn = void (*)(void *);

struct Library {
  void *handle = nullptr;
  AbiVersionFn abi_version;
  InitFn init;
  ShutdownFn shutdown;
  ListFn list;
  CallFn call;
  CreateFn create;
  CallActorFn call_actor;
  DestroyFn destroy;
  FreeFn free_buffer;
};

template <typename F>
F Symbol(void *handle, const char *name) {
  void *symbol = dlsym(handle, name);
  if (symbol == nullptr) throw std::runtime_error(std::string("missing symbol ") + name);
  return reinterpret_cast<F>(symbol);
}

const Library &Lib() {
  static Library *lib = [] {
    auto *l = new Library();
    // RTLD_LOCAL, as ctypes.CDLL loads by default.
    l->handle = dlopen(RAY_TEST_FUNCTIONS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (l->handle == nullptr) throw std::runtime_error(dlerror());
    l->abi_version = Symbol<AbiVersionFn>(l->handle, "ray_cpp_abi_version");
    l->init = Symbol<InitFn>(l->handle, "ray_cpp_init");
    l->shutdown = Symbol<ShutdownFn>(l->handle, "ray_cpp_shutdown");
    l->list = Symbol<ListFn>(l->handle, "ray_cpp_list_functions");
    l->call = Symbol<CallFn>(l->handle, "ray_cpp_call_function");
    l->create = Symbol<CreateFn>(l->handle, "ray_cpp_create_actor");
    l->call_actor = Symbol<CallActorFn>(l->handle, "ray_cpp_call_actor");
    l->destroy = Symbol<DestroyFn>(l->handle, "ray_cpp_destroy_actor");
    l->free_buffer = Symbol<FreeFn>(l->handle, "ray_cpp_free");
    return l;
  }();
  return *lib;
}

struct Result {
  int32_t status = -100;
  std::string frame;
  std::string contained;
};

std::string Take(uint8_t *buffer, size_t size) {
  std::string out = buffer == nullptr ? "" : std::string(reinterpret_cast<char *>(buffer), size);
  Lib().free_buffer(buffer);
  return out;
}

struct Args {
  explicit Args(std::vector<std::string> frames) : frames(std::move(frames)) {
    for (const auto &f : this->frames) {
      pointers.push_back(reinterpret_cast<const uint8_t *>(f.data()));
      sizes.push_back(f.size());
    }
  }
  std::vector<std::string> frames;
  std::vector<const uint8_t *> pointers;
  std::vector<size_t> sizes;
};

Result Call(const char *name, std::vector<std::string> frames) {
  Args args(std::move(frames));
  uint8_t *out = nullptr, *ids = nullptr;
  size_t out_size = 0, ids_size = 0;
  Result r;
  r.status = Lib().call(name, args.pointers.data(), args.sizes.data(), args.frames.size(), &out,
                        &out_size, &ids, &ids_size);
  r.frame = Take(out, out_size);
  r.contained = Take(ids, ids_size);
  return r;
}

void *Create(const char *name, std::vector<std::string> frames, Result *error = nullptr) {
  Args args(std::move(frames));
  void *actor = nullptr;
  uint8_t *err = nullptr;
  size_t err_size = 0;
  int32_t status = Lib().create(name, args.pointers.data(), args.sizes.data(), args.frames.size(),
                                &actor, &err, &err_size);
  if (error != nullptr) {
    error->status = status;
    error->frame = Take(err, err_size);
  } else {
    Take(err, err_size);
  }
  return actor;
}

Result CallActor(void *actor, const char *name, std::vector<std::string> frames) {
  Args args(std::move(frames));
  uint8_t *out = nullptr, *ids = nullptr;
  size_t out_size = 0, ids_size = 0;
  Result r;
  r.status = Lib().call_actor(actor, name, args.pointers.data(), args.sizes.data(),
                              args.frames.size(), &out, &out_size, &ids, &ids_size);
  r.frame = Take(out, out_size);
  r.contained = Take(ids, ids_size);
  return r;
}

ErrorDetails ErrorOf(const Result &r) {
  auto view = ray::internal::ParseFrame(r.frame);
  EXPECT_EQ(view.format, ObjectFormat::kError);
  return ray::internal::DecodeError(view);
}

TEST(EntryPoint, ExportsVersionTwo) {
  EXPECT_EQ(Lib().abi_version(), 2u);
  EXPECT_EQ(Lib().abi_version(), static_cast<uint32_t>(RAY_CPP_ABI_VERSION));
  EXPECT_NE(dlsym(Lib().handle, "ray_cpp_release_contained"), nullptr);
}

TEST(EntryPoint, ListsTheLibrarysEntriesFromEveryTranslationUnit) {
  uint8_t *text = nullptr;
  size_t size = 0;
  ASSERT_EQ(Lib().list(&text, &size), RAY_CPP_OK);
  std::string listing = Take(text, size);
  for (const char *line : {"function\tPlus\t\n", "function\tShout\t\n",
                           "function\tRAY_FUNC(Twice, int)\t\n",
                           "factory\tCounter::FactoryCreate\tCounter\n",
                           "method\t&Counter::Add\tCounter\n", "method\t&Base::BaseValue\tBase\n"}) {
    EXPECT_NE(listing.find(line), std::string::npos) << "missing " << line << " in\n" << listing;
  }
  // The test program's own RAY_REMOTE functions are not this library's.
  EXPECT_EQ(listing.find("Deref"), std::string::npos);
}

TEST(EntryPoint, CallsFunctionsWithFrames) {
  Result r = Call("Plus", {Serializer::Serialize(1), Serializer::Serialize(2)});
  ASSERT_EQ(r.status, RAY_CPP_OK);
  EXPECT_EQ(*Serializer::Deserialize<int>(r.frame), 3);
  EXPECT_TRUE(r.contained.empty());
  // A Python caller's arguments: ints arrive as XLANG int64 values.
  r = Call("Plus", {Serializer::Serialize(int64_t{40}), Serializer::Serialize(int64_t{2})});
  EXPECT_EQ(*Serializer::Deserialize<int64_t>(r.frame), 42);
  r = Call("Greet", {Serializer::Serialize(std::string("ray"))});
  EXPECT_EQ(*Serializer::Deserialize<std::string>(r.frame), "hello ray");
  r = Call("Shout", {Serializer::Serialize(std::string("quiet"))});
  EXPECT_EQ(*Serializer::Deserialize<std::string>(r.frame), "QUIET");
  r = Call("RAY_FUNC(Twice, int)", {Serializer::Serialize(21)});
  EXPECT_EQ(*Serializer::Deserialize<int>(r.frame), 42);
  r = Call("Doubled", {Serializer::Serialize(std::vector<int64_t>{1, int64_t{1} << 40})});
  EXPECT_EQ(*Serializer::Deserialize<std::vector<int64_t>>(r.frame),
            (std::vector<int64_t>{2, int64_t{1} << 41}));
  // void returns a null value.
  r = Call("Nothing", {});
  ASSERT_EQ(r.status, RAY_CPP_OK);
  EXPECT_TRUE(ray::internal::DecodeXlang(ray::internal::ParseFrame(r.frame)).is_null());
}

TEST(EntryPoint, UserTypesCrossInTheCppFormat) {
  Result r = Call("Mirror", {Serializer::Serialize(test_types::Point{1, 2, "p"})});
  ASSERT_EQ(r.status, RAY_CPP_OK);
  auto p = *Serializer::Deserialize<test_types::Point>(r.frame);
  EXPECT_EQ(p.x, 2);
  EXPECT_EQ(p.y, 1);
  EXPECT_EQ(p.label, "p!");
}

TEST(EntryPoint, ExceptionsBecomeErrorFrames) {
  Result r = Call("Fail", {Serializer::Serialize(5)});
  ASSERT_EQ(r.status, RAY_CPP_ERROR);
  ErrorDetails e = ErrorOf(r);
  EXPECT_EQ(e.type, ErrorType::kTaskExecution);
  EXPECT_EQ(e.language, Language::kCpp);
  EXPECT_EQ(e.exception_type, "std::invalid_argument");
  EXPECT_EQ(e.message, "std::invalid_argument: bad input 5");
  EXPECT_NE(e.traceback.find("C++ function Fail"), std::string::npos) << e.traceback;
  // The reader gets a RayTaskException naming the C++ type.
  try {
    Serializer::Deserialize<int>(r.frame);
    FAIL();
  } catch (const ray::internal::RayTaskException &ex) {
    EXPECT_EQ(ex.RemoteType(), "std::invalid_argument");
  }
  r = Call("ThrowInt", {});
  ASSERT_EQ(r.status, RAY_CPP_ERROR);
  EXPECT_EQ(ErrorOf(r).exception_type, "int");
}

TEST(EntryPoint, BadCallsAreErrorsNotCrashes) {
  Result r = Call("NoSuchFunction", {});
  ASSERT_EQ(r.status, RAY_CPP_ERROR);
  ErrorDetails e = ErrorOf(r);
  EXPECT_EQ(e.exception_type, "ray::internal::RayFunctionNotFound");
  EXPECT_NE(e.message.find("NoSuchFunction"), std::string::npos);
  r = Call("Plus", {Serializer::Serialize(1)});
  ASSERT_EQ(r.status, RAY_CPP_ERROR);
  EXPECT_NE(ErrorOf(r).message.find("takes 2 arguments, got 1"), std::string::npos);
  r = Call("Plus", {Serializer::Serialize(std::string("one")), Serializer::Serialize(2)});
  ASSERT_EQ(r.status, RAY_CPP_ERROR);
  EXPECT_NE(ErrorOf(r).message.find("argument 0 of Plus"), std::string::npos) << ErrorOf(r).message;
  EXPECT_NE(ErrorOf(r).message.find("int32_t"), std::string::npos);
  r = Call("Plus", {std::string("garbage"), Serializer::Serialize(2)});
  ASSERT_EQ(r.status, RAY_CPP_ERROR);
  EXPECT_NE(ErrorOf(r).message.find("malformed object frame"), std::string::npos);
  // A factory is not a function.
  r = Call("Counter::FactoryCreate", {Serializer::Serialize(1)});
  ASSERT_EQ(r.status, RAY_CPP_ERROR);
  EXPECT_NE(ErrorOf(r).message.find("another kind"), std::string::npos);
  // NULL pointers.
  uint8_t *out = nullptr;
  size_t out_size = 0;
  EXPECT_EQ(Lib().call(nullptr, nullptr, nullptr, 0, &out, &out_size, nullptr, nullptr),
            RAY_CPP_INVALID);
  Take(out, out_size);
  EXPECT_EQ(Lib().call("Plus", nullptr, nullptr, 2, nullptr, nullptr, nullptr, nullptr),
            RAY_CPP_INVALID);
  Lib().free_buffer(nullptr);
  Lib().destroy(nullptr);
}

TEST(EntryPoint, ErrorArgumentsPassThroughUnchanged) {
  ErrorDetails upstream;
  upstream.type = ErrorType::kWorkerDied;
  upstream.message = "the worker died";
  upstream.language = Language::kPython;
  std::string error = ray::internal::EncodeError(upstream);
  Result r = Call("Plus", {Serializer::Serialize(1), error});
  ASSERT_EQ(r.status, RAY_CPP_ERROR);
  EXPECT_EQ(r.frame, error);
}

TEST(EntryPoint, ActorsLiveBetweenCallsAndDie) {
  auto live = [] { return *Serializer::Deserialize<int>(Call("LiveCounters", {}).frame); };
  int before = live();
  void *counter = Create("Counter::FactoryCreate", {Serializer::Serialize(10)});
  ASSERT_NE(counter, nullptr);
  EXPECT_EQ(live(), before + 1);
  Result r = CallActor(counter, "&Counter::Add", {Serializer::Serialize(5)});
  ASSERT_EQ(r.status, RAY_CPP_OK);
  EXPECT_EQ(*Serializer::Deserialize<int>(r.frame), 15);
  r = CallActor(counter, "&Counter::Add", {Serializer::Serialize(1)});
  EXPECT_EQ(*Serializer::Deserialize<int>(r.frame), 16);
  r = CallActor(counter, "&Counter::Get", {});
  EXPECT_EQ(*Serializer::Deserialize<int>(r.frame), 16);
  // ray::ExitActor() inside a method asks the worker to end the actor.
  r = CallActor(counter, "&Counter::Stop", {});
  EXPECT_EQ(r.status, RAY_CPP_EXIT_ACTOR);
  r = CallActor(counter, "&Counter::Nope", {});
  EXPECT_EQ(r.status, RAY_CPP_ERROR);
  Lib().destroy(counter);
  EXPECT_EQ(live(), before);
}

TEST(EntryPoint, FailingFactoriesReportTheirError) {
  Result error;
  void *actor = Create("Counter::FailingCreate", {}, &error);
  EXPECT_EQ(actor, nullptr);
  ASSERT_EQ(error.status, RAY_CPP_ERROR);
  ErrorDetails e = ErrorOf(error);
  EXPECT_EQ(e.exception_type, "std::runtime_error");
  EXPECT_NE(e.message.find("no counter today"), std::string::npos);
  Create("Unknown::Create", {}, &error);
  EXPECT_EQ(error.status, RAY_CPP_ERROR);
  EXPECT_EQ(ErrorOf(error).exception_type, "ray::internal::RayFunctionNotFound");
}

TEST(EntryPoint, BaseClassMethodsWorkOnDerivedActors) {
  void *derived = Create("Derived::Create", {});
  ASSERT_NE(derived, nullptr);
  Result r = CallActor(derived, "&Base::BaseValue", {});
  ASSERT_EQ(r.status, RAY_CPP_OK) << ErrorOf(r).message;
  EXPECT_EQ(*Serializer::Deserialize<int>(r.frame), 107);  // Base is not the first base
  r = CallActor(derived, "&Other::OtherValue", {});
  EXPECT_EQ(*Serializer::Deserialize<int>(r.frame), -1);
  // A method of an unrelated class is refused.
  r = CallActor(derived, "&Counter::Add", {Serializer::Serialize(1)});
  ASSERT_EQ(r.status, RAY_CPP_ERROR);
  EXPECT_NE(ErrorOf(r).message.find("called on an actor of type Derived"), std::string::npos)
      << ErrorOf(r).message;
  Lib().destroy(derived);
}

TEST(EntryPoint, ContainedRefsAreReported) {
  Result r = Call("RefsOf", {Serializer::Serialize(2)});
  ASSERT_EQ(r.status, RAY_CPP_OK);
  EXPECT_EQ(r.contained, std::string(28, 'a') + std::string(28, 'b'));
}

// Counts what the entry point does to references (no cluster).
class CountingRuntime : public ray::internal::RayRuntime {
 public:
  std::map<std::string, int> net;
  std::string Put(std::string, const std::vector<std::string> &) override { return ""; }
  std::vector<std::string> Get(const std::vector<std::string> &, int) override { return {}; }
  std::vector<bool> Wait(const std::vector<std::string> &, int, int) override { return {}; }
  std::string Call(const ray::internal::RemoteFunctionHolder &, std::vector<ray::internal::TaskArg> &,
                   const ray::internal::CallOptions &) override {
    return "";
  }
  std::string CreateActor(const ray::internal::RemoteFunctionHolder &,
                          std::vector<ray::internal::TaskArg> &,
                          const ray::internal::ActorCreationOptions &) override {
    return "";
  }
  std::string CallActor(const ray::internal::RemoteFunctionHolder &, const std::string &,
                        std::vector<ray::internal::TaskArg> &,
                        const ray::internal::CallOptions &) override {
    return "";
  }
  void AddLocalReference(const std::string &id) override { ++net[id]; }
  void RemoveLocalReference(const std::string &id) override { --net[id]; }
  std::string GetActorId(const std::string &, const std::string &) override { return ""; }
  void KillActor(const std::string &, bool) override {}
  void ExitActor() override {}
  std::string GetNamespace() override { return ""; }
};

TEST(EntryPoint, ContainedRefsAreHeldUntilTheCallerReleasesThem) {
  // The refs inside the result die with the C++ value, inside the call; the call holds each
  // once more, so the session keeps them until the worker took its own references.
  auto runtime = std::make_shared<CountingRuntime>();
  ray::internal::SetRayRuntime(runtime);
  Result r = Call("RefsOf", {Serializer::Serialize(2)});
  ASSERT_EQ(r.status, RAY_CPP_OK);
  const std::string a(28, 'a'), b(28, 'b');
  EXPECT_EQ(runtime->net[a], 1);
  EXPECT_EQ(runtime->net[b], 1);
  using ReleaseFn = void (*)(const uint8_t *, size_t);
  auto release = reinterpret_cast<ReleaseFn>(dlsym(Lib().handle, "ray_cpp_release_contained"));
  ASSERT_NE(release, nullptr);
  release(reinterpret_cast<const uint8_t *>(r.contained.data()), r.contained.size());
  EXPECT_EQ(runtime->net[a], 0);
  EXPECT_EQ(runtime->net[b], 0);
  release(nullptr, 0);  // nothing to release: a no-op
  // A failed call holds nothing.
  Result failed = Call("Fail", {Serializer::Serialize(1)});
  EXPECT_EQ(failed.status, RAY_CPP_ERROR);
  EXPECT_TRUE(failed.contained.empty());
  ray::internal::SetRayRuntime(nullptr);
  for (const auto &[id, count] : runtime->net) EXPECT_EQ(count, 0) << id;
}

TEST(EntryPoint, InitValidatesAndSwitchesSessions) {
  uint8_t *err = nullptr;
  size_t err_size = 0;
  std::string bad = "session_address=127.0.0.1:1\n";
  EXPECT_EQ(Lib().init(bad.data(), bad.size(), &err, &err_size), RAY_CPP_ERROR);
  std::string message = ray::internal::DecodeError(ray::internal::ParseFrame(Take(err, err_size))).message;
  EXPECT_NE(message.find("session_id"), std::string::npos) << message;
  std::string not_hex = "session_address=127.0.0.1:1\nsession_id=zz\njob_id=01000000\n";
  EXPECT_EQ(Lib().init(not_hex.data(), not_hex.size(), &err, &err_size), RAY_CPP_ERROR);
  Take(err, err_size);
  // A valid config attaches (connections are made lazily, on the first call that needs one).
  std::string good =
      "session_address=127.0.0.1:1\nsession_id=0a0b\njob_id=01000000\ntoken=t\nray_namespace=ns\n";
  // OK also says the library registered without errors (Plus is registered twice, harmlessly).
  ASSERT_EQ(Lib().init(good.data(), good.size(), &err, &err_size), RAY_CPP_OK);
  EXPECT_EQ(err, nullptr);
  EXPECT_TRUE(ray::IsInitialized());
  EXPECT_EQ(ray::internal::GetRayRuntime()->GetNamespace(), "ns");
  auto first = ray::internal::GetRayRuntime();
  ASSERT_EQ(Lib().init(good.data(), good.size(), &err, &err_size), RAY_CPP_OK);  // same session
  EXPECT_EQ(ray::internal::GetRayRuntime(), first);
  // Another job's session (a worker runs tasks of several jobs): attached too, and current.
  std::string other =
      "session_address=127.0.0.1:1\nsession_id=0c0d\njob_id=02000000\nray_namespace=other\n";
  ASSERT_EQ(Lib().init(other.data(), other.size(), &err, &err_size), RAY_CPP_OK);
  EXPECT_EQ(err, nullptr);
  EXPECT_EQ(ray::internal::GetRayRuntime()->GetNamespace(), "other");
  EXPECT_NE(ray::internal::GetRayRuntime(), first);
  // Back to the first: the same runtime as before.
  ASSERT_EQ(Lib().init(good.data(), good.size(), &err, &err_size), RAY_CPP_OK);
  EXPECT_EQ(ray::internal::GetRayRuntime(), first);
  EXPECT_EQ(ray::internal::GetRayRuntime()->GetNamespace(), "ns");
  Lib().shutdown();
  EXPECT_FALSE(ray::IsInitialized());
}

}  // namespace
