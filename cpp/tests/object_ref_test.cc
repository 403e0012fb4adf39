// The API layer above RayRuntime: ObjectRef reference counting (copies, moves, containers),
// one Get request for a vector, Wait's split, what Remote() and Actor() hand the runtime.
// The runtime here records the calls the API makes; it is not a cluster.

#include <gtest/gtest.h>
#include <ray/api.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "test_functions.h"

namespace {

using ray::internal::LangType;
using ray::internal::RemoteFunctionHolder;
using ray::internal::Serializer;
using ray::internal::TaskArg;

class RecordingRuntime : public ray::internal::RayRuntime {
 public:
  std::map<std::string, int> adds;
  std::map<std::string, int> releases;
  std::map<std::string, std::string> objects;
  std::vector<std::vector<std::string>> get_calls;
  std::vector<std::pair<RemoteFunctionHolder, std::vector<TaskArg>>> calls;
  std::vector<std::pair<RemoteFunctionHolder, std::vector<TaskArg>>> actor_calls;
  std::vector<std::pair<RemoteFunctionHolder, ray::internal::ActorCreationOptions>> creations;
  std::vector<std::string> killed;
  int next = 0;

  std::string NewId() {
    std::string id(28, '\0');
    id[0] = static_cast<char>(++next);
    return id;
  }
  int Net(const std::string &id) const {
    auto a = adds.count(id) ? adds.at(id) : 0;
    auto r = releases.count(id) ? releases.at(id) : 0;
    return a - r;
  }

  std::string Put(std::string frame, const std::vector<std::string> &) override {
    std::string id = NewId();
    objects[id] = std::move(frame);
    return id;
  }
  std::vector<std::string> Get(const std::vector<std::string> &ids, int) override {
    get_calls.push_back(ids);
    std::vector<std::string> frames;
    for (const auto &id : ids) frames.push_back(objects.at(id));
    return frames;
  }
  std::vector<bool> Wait(const std::vector<std::string> &ids, int, int) override {
    std::vector<bool> ready;
    for (const auto &id : ids) ready.push_back(objects.count(id) > 0);
    return ready;
  }
  std::string Call(const RemoteFunctionHolder &holder, std::vector<TaskArg> &args,
                   const ray::internal::CallOptions &) override {
    calls.emplace_back(holder, args);
    std::string id = NewId();
    objects[id] = Serializer::Serialize(100 + static_cast<int>(calls.size()));
    return id;
  }
  std::string CreateActor(const RemoteFunctionHolder &holder, std::vector<TaskArg> &,
                          const ray::internal::ActorCreationOptions &options) override {
    creations.emplace_back(holder, options);
    return std::string(28, 'A');
  }
  std::string CallActor(const RemoteFunctionHolder &holder, const std::string &,
                        std::vector<TaskArg> &args, const ray::internal::CallOptions &) override {
    actor_calls.emplace_back(holder, args);
    std::string id = NewId();
    objects[id] = Serializer::Serialize(std::string("done"));
    return id;
  }
  void AddLocalReference(const std::string &id) override { ++adds[id]; }
  void RemoveLocalReference(const std::string &id) override { ++releases[id]; }
  std::string GetActorId(const std::string &name, const std::string &) override {
    return name == "known" ? std::string(28, 'K') : "";
  }
  void KillActor(const std::string &id, bool) override { killed.push_back(id); }
  void ExitActor() override {}
  std::string GetNamespace() override { return "ns"; }
};

class ObjectRefTest : public testing::Test {
 protected:
  void SetUp() override {
    runtime_ = std::make_shared<RecordingRuntime>();
    ray::internal::SetRayRuntime(runtime_);
  }
  void TearDown() override { ray::internal::SetRayRuntime(nullptr); }
  std::shared_ptr<RecordingRuntime> runtime_;
};

TEST_F(ObjectRefTest, PutAdoptsTheReferenceAndReleasesItOnce) {
  std::string id;
  {
    ray::ObjectRef<int> ref = ray::Put(7);
    id = ref.ID();
    EXPECT_EQ(runtime_->Net(id), 0);  // the runtime's count was adopted, nothing added
    EXPECT_EQ(*ref.Get(), 7);
    EXPECT_EQ(*ray::Get(ref), 7);
  }
  EXPECT_EQ(runtime_->releases[id], 1);
  EXPECT_EQ(runtime_->adds[id], 0);
}

TEST_F(ObjectRefTest, CopiesCountAndMovesDoNot) {
  ray::ObjectRef<int> a = ray::Put(1);
  const std::string id = a.ID();
  {
    ray::ObjectRef<int> b = a;  // copy: +1
    EXPECT_EQ(runtime_->adds[id], 1);
    ray::ObjectRef<int> c = std::move(b);  // move: nothing, b is empty
    EXPECT_TRUE(b.ID().empty());
    EXPECT_EQ(runtime_->adds[id], 1);
    EXPECT_EQ(runtime_->releases[id], 0);
  }  // c released, b (moved from) releases nothing
  EXPECT_EQ(runtime_->releases[id], 1);
  ray::ObjectRef<int> d;
  d = a;  // copy assignment into an empty ref
  EXPECT_EQ(runtime_->adds[id], 2);
  d = a;  // same object: no change
  EXPECT_EQ(runtime_->adds[id], 2);
  ray::ObjectRef<int> e = ray::Put(2);
  const std::string other = e.ID();
  d = std::move(e);  // move assignment releases d's old object, takes e's
  EXPECT_EQ(runtime_->releases[id], 2);
  EXPECT_EQ(d.ID(), other);
  EXPECT_TRUE(e.ID().empty());
  d = d;  // self assignment
  EXPECT_EQ(runtime_->Net(other), 0);
}

TEST_F(ObjectRefTest, SeedSnippetEmplaceBackKeepsEveryRef) {
  // Upstream hangs here because a moved ref is released; each ref here keeps its one count.
  std::vector<ray::ObjectRef<int>> obj_refs;
  for (int i = 0; i < 3; i++) {
    obj_refs.emplace_back(ray::Put(i));
  }
  for (int i = 0; i < 100; i++) obj_refs.push_back(ray::Put(1000 + i));  // reallocations move
  for (const auto &ref : obj_refs) {
    EXPECT_EQ(runtime_->Net(ref.ID()), 0) << "a ref lost or gained a count";
  }
  obj_refs.resize(3);
  auto results = ray::Get(obj_refs);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(*results[0], 0);
  EXPECT_EQ(*results[1], 1);
  EXPECT_EQ(*results[2], 2);
  ASSERT_EQ(runtime_->get_calls.size(), 1u);  // one request for the whole vector
  EXPECT_EQ(runtime_->get_calls[0].size(), 3u);
  std::vector<std::string> ids;
  for (const auto &r : obj_refs) ids.push_back(r.ID());
  obj_refs.clear();
  for (const auto &id : ids) EXPECT_EQ(runtime_->releases[id], 1);
}

TEST_F(ObjectRefTest, WaitSplitsReadyAndUnready) {
  std::vector<ray::ObjectRef<int>> refs = {ray::Put(1), ray::ObjectRef<int>(std::string(28, 'z')),
                                           ray::Put(2)};
  ray::WaitResult<int> result = ray::Wait(refs, 2, 1000);
  ASSERT_EQ(result.ready.size(), 2u);
  ASSERT_EQ(result.unready.size(), 1u);
  EXPECT_EQ(result.ready.front().ID(), refs[0].ID());
  EXPECT_EQ(result.unready.front().ID(), std::string(28, 'z'));
}

TEST_F(ObjectRefTest, DeserializedRefsAreNewHolders) {
  ray::ObjectRef<int> inner = ray::Put(5);
  std::vector<ray::ObjectRef<int>> holder;
  holder.push_back(inner);  // copy: +1
  EXPECT_EQ(runtime_->adds[inner.ID()], 1);
  std::vector<std::string> contained;
  std::string frame = Serializer::Serialize(holder, &contained);
  EXPECT_EQ(contained, std::vector<std::string>{inner.ID()});
  EXPECT_EQ(runtime_->adds[inner.ID()], 1);  // serializing counts nothing
  {
    auto back = Serializer::Deserialize<std::vector<ray::ObjectRef<int>>>(frame);
    EXPECT_EQ(runtime_->adds[inner.ID()], 2);  // the read ref is a new holder
    EXPECT_EQ(runtime_->releases[inner.ID()], 0);
  }
  EXPECT_EQ(runtime_->releases[inner.ID()], 1);
}

TEST_F(ObjectRefTest, GetWithoutRuntimeSaysInitFirst) {
  ray::ObjectRef<int> ref = ray::Put(1);
  ray::internal::SetRayRuntime(nullptr);
  try {
    ref.Get();
    FAIL();
  } catch (const ray::internal::RayException &e) {
    EXPECT_NE(std::string(e.what()).find("ray::Init"), std::string::npos);
  }
  // Destroying refs after shutdown is harmless.
}

}  // namespace

// ---- tasks and actors ----------------------------------------------------------------------

int Plus(int a, int b) { return a + b; }
void Log(std::string) {}
int Sum(std::vector<int> v) {
  int s = 0;
  for (int x : v) s += x;
  return s;
}
int Deref(ray::ObjectRef<int> ref) { return *ref.Get(); }

class Counter {
 public:
  explicit Counter(int v) : v_(v) {}
  static Counter *FactoryCreate(int v) { return new Counter(v); }
  int Add(int x) { return v_ += x; }
  std::string Name() const { return "counter"; }

 private:
  int v_;
};

RAY_REMOTE(Plus, Log, Sum, Deref, Counter::FactoryCreate, &Counter::Add, &Counter::Name);

int NotRegistered(int x) { return x; }

namespace {

TEST_F(ObjectRefTest, TaskRemotePassesValuesAndReferences) {
  ray::ObjectRef<int> two = ray::Put(2);
  ray::ObjectRef<int> result = ray::Task(Plus).SetName("plus").SetResource("CPU", 0.5).Remote(1, two);
  ASSERT_EQ(runtime_->calls.size(), 1u);
  const auto &[holder, args] = runtime_->calls[0];
  EXPECT_EQ(holder.function_name, "Plus");
  EXPECT_EQ(holder.lang_type, LangType::CPP);
  ASSERT_EQ(args.size(), 2u);
  ASSERT_TRUE(args[0].frame.has_value());
  EXPECT_EQ(*Serializer::Deserialize<int>(*args[0].frame), 1);
  ASSERT_TRUE(args[1].object_id.has_value());  // an ObjectRef<int> for an int: by reference
  EXPECT_EQ(*args[1].object_id, two.ID());
  EXPECT_EQ(runtime_->Net(result.ID()), 0);  // the return's count is adopted
  EXPECT_EQ(*result.Get(), 101);
  // Arguments convert to the parameter type: a literal char array becomes std::string.
  ray::Task(Log).Remote("text");
  EXPECT_EQ(*Serializer::Deserialize<std::string>(*runtime_->calls[1].second[0].frame), "text");
  ray::Task(Sum).Remote(std::vector<int>{1, 2, 3});
  EXPECT_EQ(*Serializer::Deserialize<std::vector<int>>(*runtime_->calls[2].second[0].frame),
            (std::vector<int>{1, 2, 3}));
  // An ObjectRef parameter takes the ref itself, as a value with the id nested.
  ray::Task(Deref).Remote(two);
  const TaskArg &ref_arg = runtime_->calls[3].second[0];
  ASSERT_TRUE(ref_arg.frame.has_value());
  EXPECT_EQ(ref_arg.nested_ids, std::vector<std::string>{two.ID()});
}

TEST_F(ObjectRefTest, UnregisteredFunctionsAreRefused) {
  EXPECT_THROW(ray::Task(NotRegistered), ray::internal::RayFunctionNotFound);
}

TEST_F(ObjectRefTest, BadResourcesAreRefused) {
  EXPECT_THROW(ray::Task(Plus).SetResource("CPU", 1.5).Remote(1, 2), ray::internal::RayException);
  EXPECT_THROW(ray::Task(Plus).SetResource("GPU", 0).Remote(1, 2), ray::internal::RayException);
}

TEST_F(ObjectRefTest, ActorsUseRegisteredNames) {
  ray::ActorHandle<Counter> counter =
      ray::Actor(Counter::FactoryCreate).SetName("c").SetMaxRestarts(2).Remote(10);
  ASSERT_EQ(runtime_->creations.size(), 1u);
  EXPECT_EQ(runtime_->creations[0].first.function_name, "Counter::FactoryCreate");
  EXPECT_EQ(runtime_->creations[0].first.class_name, "Counter");
  EXPECT_EQ(runtime_->creations[0].second.name, "c");
  EXPECT_EQ(runtime_->creations[0].second.max_restarts, 2);
  EXPECT_EQ(counter.ID(), std::string(28, 'A'));
  auto ref = counter.Task(&Counter::Add).Remote(5);
  auto name = counter.Task(&Counter::Name).Remote();
  ASSERT_EQ(runtime_->actor_calls.size(), 2u);
  EXPECT_EQ(runtime_->actor_calls[0].first.function_name, "&Counter::Add");
  EXPECT_EQ(runtime_->actor_calls[1].first.function_name, "&Counter::Name");
  EXPECT_EQ(*name.Get(), "done");
  counter.Kill();
  EXPECT_EQ(runtime_->killed, std::vector<std::string>{std::string(28, 'A')});
  auto found = ray::GetActor<Counter>("known");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->ID(), std::string(28, 'K'));
  EXPECT_FALSE(ray::GetActor<Counter>("unknown").has_value());
}

TEST_F(ObjectRefTest, CrossLanguageCallsNameModuleAndFunction) {
  auto ref = ray::Task(ray::PyFunction<int>{"my_module", "add"}).Remote(1, std::string("x"));
  const auto &[holder, args] = runtime_->calls.back();
  EXPECT_EQ(holder.lang_type, LangType::PYTHON);
  EXPECT_EQ(holder.module_name, "my_module");
  EXPECT_EQ(holder.function_name, "add");
  EXPECT_EQ(ray::internal::ParseFrame(*args[0].frame).format, ray::internal::ObjectFormat::kXlang);
  ray::ActorHandleXlang actor = ray::Actor(ray::PyActorClass{"my_module", "Counter"}).Remote(3);
  EXPECT_EQ(runtime_->creations.back().first.class_name, "Counter");
  EXPECT_EQ(runtime_->creations.back().first.lang_type, LangType::PYTHON);
  auto r = actor.Task(ray::PyActorMethod<std::string>{"increment"}).Remote(ray::Put(1));
  EXPECT_EQ(runtime_->actor_calls.back().first.function_name, "increment");
  EXPECT_TRUE(runtime_->actor_calls.back().second[0].object_id.has_value());
  EXPECT_EQ(*r.Get(), "done");
}

}  // namespace

namespace {

int One() { return 1; }
int Two() { return 2; }

TEST(FunctionRegistry, ANameForTwoFunctionsIsAnErrorOfItsModule) {
  static const char module = 0;  // a module tag of our own
  ray::internal::RegisterRemoteFunctions(&module, "Same", One);
  ray::internal::RegisterRemoteFunctions(&module, "Same", One);  // again: fine
  EXPECT_TRUE(ray::internal::FunctionRegistry::Instance().Errors(&module).empty());
  ray::internal::RegisterRemoteFunctions(&module, "Same", Two);
  auto errors = ray::internal::FunctionRegistry::Instance().Errors(&module);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("'Same' names two different functions"), std::string::npos) << errors[0];
  const auto *entry = ray::internal::FunctionRegistry::Instance().Find(
      &module, ray::internal::RemoteKind::kFunction, "Same");
  ASSERT_NE(entry, nullptr);
  std::vector<std::string> ids;
  EXPECT_EQ(*Serializer::Deserialize<int>(entry->function({}, &ids)), 1);  // the first one stays
}

TEST(FunctionRegistry, SplitsRayRemoteNames) {
  EXPECT_EQ(ray::internal::SplitRemoteNames("Plus, Counter::FactoryCreate, &Counter::Add"),
            (std::vector<std::string>{"Plus", "Counter::FactoryCreate", "&Counter::Add"}));
  EXPECT_EQ(ray::internal::SplitRemoteNames("RAY_FUNC(f, int, std::map<int, int>), g"),
            (std::vector<std::string>{"RAY_FUNC(f, int, std::map<int, int>)", "g"}));
}

}  // namespace
