// The C++ API against a real cluster that ray::Init() starts itself (`ray start --head --port 0
// --block`, stopped by ray::Shutdown()): objects, Python and C++ tasks and actors, errors,
// timeouts. Python code comes from cpp/tests/python, C++ code from the directory of
// libray_cluster_functions.so (both on the code search path). The environment checks at the
// end that the cluster left no process and no /dev/shm entry behind.

#include <gtest/gtest.h>
#include <ray/api.h>
#include <unistd.h>

#include <cassert>
#include <cstdint>
#include <string>
#include <vector>

#include "cluster_functions.h"
#include "test_support.h"

// Registered in this driver only: the cluster's libraries do not have it.
int OnlyInTheDriver(int x) { return x; }
RAY_REMOTE(OnlyInTheDriver);

namespace {

ray_test::IsolatedRayEnv *isolated = nullptr;

class LocalClusterEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    isolated = new ray_test::IsolatedRayEnv();
    ray::RayConfig config;
    config.code_search_path = {RAY_TEST_PYTHON_DIR, RAY_CLUSTER_CODE_DIR};
    // Passed to `ray start --head`: a custom resource the option tests ask for.
    config.head_args = {"--resources", "{\"slot\": 2}"};
    ray::Init(config);
    ASSERT_TRUE(ray::IsInitialized());
  }
  void TearDown() override {
    ray::Shutdown();
    EXPECT_FALSE(ray::IsInitialized());
    // ray::Shutdown() stopped the cluster it started: every process of it is gone, and so are
    // the shared-memory files of its object store.
    isolated->ExpectNothingLeft(30.0);
    delete isolated;
  }
};

testing::Environment *const environment =
    testing::AddGlobalTestEnvironment(new LocalClusterEnvironment());

ray::PyFunction<int64_t> Add() { return {"cpp_check_mod", "add"}; }

// ---- the seed's C++ snippets, verbatim (their assert()s as EXPECT_TRUE: NDEBUG is set) ----

TEST(Seed, PutAnObject) {
  // Put an object in Ray's object store.
  int y = 1;
  ray::ObjectRef<int> object_ref = ray::Put(y);
  EXPECT_EQ(*object_ref.Get(), 1);
}

TEST(Seed, GetOneAndManyObjects) {
  // Get the value of one object ref.
  ray::ObjectRef<int> obj_ref = ray::Put(1);
  EXPECT_TRUE(*obj_ref.Get() == 1);

  // Get the values of multiple object refs in parallel.
  std::vector<ray::ObjectRef<int>> obj_refs;
  for (int i = 0; i < 3; i++) {
    obj_refs.emplace_back(ray::Put(i));
  }
  auto results = ray::Get(obj_refs);
  EXPECT_TRUE(results.size() == 3);
  EXPECT_TRUE(*results[0] == 0);
  EXPECT_TRUE(*results[1] == 1);
  EXPECT_TRUE(*results[2] == 2);
}

// ---- objects --------------------------------------------------------------------------------

TEST(Objects, PutGetWithTimeoutAndLargeValues) {
  ray::ObjectRef<int> ref = ray::Put(1);
  EXPECT_EQ(*ref.Get(1000), 1);
  std::map<std::string, std::vector<int64_t>> table = {{"big", {int64_t{1} << 40, -7}}};
  EXPECT_EQ(*ray::Get(ray::Put(table)), table);
  std::vector<uint8_t> big(5 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 31);
  EXPECT_EQ(*ray::Get(ray::Put(big)), big);  // PutStream, then a chunked Get
}

TEST(Objects, GetTimesOutAndWaitSplits) {
  auto slow = ray::Task(ray::PyFunction<int>{"time", "sleep"}).Remote(10);
  auto start = std::chrono::steady_clock::now();
  try {
    ray::Get(slow, 200);
    FAIL() << "expected RayTimeoutException";
  } catch (const ray::internal::RayTimeoutException &e) {
    EXPECT_NE(std::string(e.what()).find("timed out after 200 ms"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_THROW(slow.Get(100), ray::internal::RayTimeoutException);
  ray::ObjectRef<int> ready = ray::Put(5);
  std::vector<ray::ObjectRef<int>> refs = {slow, ready};
  ray::WaitResult<int> result = ray::Wait(refs, 1, 5000);
  ASSERT_EQ(result.ready.size(), 1u);
  EXPECT_EQ(result.ready.front().ID(), ready.ID());
  ASSERT_EQ(result.unready.size(), 1u);
  EXPECT_EQ(result.unready.front().ID(), slow.ID());
}

TEST(Objects, CopiedAndMovedRefsStayReadable) {
  ray::ObjectRef<std::string> original = ray::Put(std::string("kept"));
  std::vector<ray::ObjectRef<std::string>> copies(20, original);
  ray::ObjectRef<std::string> moved = std::move(original);
  copies.clear();  // releases 20 holders; `moved` still holds the object
  EXPECT_EQ(*moved.Get(5000), "kept");
}

// ---- C++ and Python objects, each read by the other language --------------------------------

TEST(CrossLanguage, ObjectsPutFromCppAreReadByPython) {
  ray::PyFunction<std::string> describe{"cpp_check_mod", "describe"};
  std::map<std::string, std::vector<int64_t>> table = {{"big", {int64_t{1} << 40, -7}},
                                                       {"none", {}}};
  // By reference (the task reads the object C++ put) and by value.
  EXPECT_EQ(*ray::Task(describe).Remote(ray::Put(table)).Get(),
            "{'big': [int:1099511627776, int:-7], 'none': []}");
  EXPECT_EQ(*ray::Task(describe).Remote(table).Get(),
            "{'big': [int:1099511627776, int:-7], 'none': []}");
  EXPECT_EQ(*ray::Task(describe).Remote(ray::Put(std::string("héllo"))).Get(), "str:'héllo'");
  EXPECT_EQ(*ray::Task(describe).Remote(ray::Put(2.5)).Get(), "float:2.5");
  EXPECT_EQ(*ray::Task(describe).Remote(ray::Put(true)).Get(), "bool:True");
  // A large one, from shared memory.
  std::vector<uint8_t> blob(3 << 20, 1);
  EXPECT_EQ(*ray::Task(describe).Remote(ray::Put(blob)).Get(), "bytes(3145728, sum=3145728)");
  // Python puts what C++ gave it (ray.put in an actor) and hands it back.
  ray::ActorHandleXlang store = ray::Actor(ray::PyActorClass{"cpp_check_mod", "Store"}).Remote();
  EXPECT_EQ(*store.Task(ray::PyActorMethod<int>{"put"}).Remote(std::string("t"), ray::Put(table)).Get(), 1);
  EXPECT_EQ(*store.Task(ray::PyActorMethod<std::map<std::string, std::vector<int64_t>>>{"get"})
                 .Remote(std::string("t"))
                 .Get(),
            table);
  store.Kill();
}

TEST(CrossLanguage, ObjectsPutFromPythonAreReadByCpp) {
  auto array = *ray::Task(ray::PyFunction<std::vector<int64_t>>{"cpp_check_mod", "py_array"})
                    .Remote(300000)
                    .Get();  // 2.4 MB: in shared memory
  ASSERT_EQ(array.size(), 300000u);
  EXPECT_EQ(array[0], 0);
  EXPECT_EQ(array[299999], 3 * 299999);
  std::map<std::string, std::vector<int64_t>> table =
      *ray::Task(ray::PyFunction<std::map<std::string, std::vector<int64_t>>>{"cpp_check_mod",
                                                                              "py_table"})
           .Remote()
           .Get();
  EXPECT_EQ(table, (std::map<std::string, std::vector<int64_t>>{
                       {"big", {int64_t{1} << 40, -7}}, {"empty", {}}, {"one", {1}}}));
  EXPECT_EQ(*ray::Task(ray::PyFunction<std::string>{"cpp_check_mod", "py_text"}).Remote().Get(),
            "héllo wörld ✓");
  auto blob = ray::Task(ray::PyFunction<std::vector<uint8_t>>{"cpp_check_mod", "make_blob"})
                  .Remote(3 << 20);
  auto bytes = blob.Get();
  ASSERT_EQ(bytes->size(), 3u << 20);
  EXPECT_EQ((*bytes)[257], 1);
  // Objects Python put with ray.put, read in C++.
  ray::ActorHandleXlang store = ray::Actor(ray::PyActorClass{"cpp_check_mod", "Store"}).Remote();
  EXPECT_EQ(*store.Task(ray::PyActorMethod<int>{"put_array"}).Remote(std::string("a"), 1000).Get(), 1);
  auto stored = *store.Task(ray::PyActorMethod<std::vector<int64_t>>{"get"}).Remote(std::string("a")).Get();
  ASSERT_EQ(stored.size(), 1000u);
  EXPECT_EQ(stored[999], 2997);
  store.Kill();
}

// ---- task and actor options -----------------------------------------------------------------

TEST(Options, NamesAndResourcesReachTheCluster) {
  // The cluster has {"slot": 2} (RayConfig::head_args); task_info says what the task holds.
  ray::PyFunction<std::string> info{"cpp_check_mod", "task_info"};
  EXPECT_EQ(*ray::Task(info).SetName("named_task").SetResource("slot", 2).Remote().Get(60000),
            "named_task|CPU=1,slot=2");
  EXPECT_EQ(*ray::Task(info).SetResources({{"CPU", 0.5}, {"slot", 1}}).Remote().Get(60000),
            "task_info|CPU=0.5,slot=1");
  EXPECT_EQ(*ray::Task(Plus).SetName("plus").SetResource("slot", 1).Remote(2, 3).Get(60000), 5);
  // An actor holds its resources while it lives: a task that needs both slots waits for it.
  auto probe = ray::Actor(ray::PyActorClass{"cpp_check_mod", "ResourceProbe"})
                   .SetResource("slot", 1)
                   .Remote();
  EXPECT_EQ(*probe.Task(ray::PyActorMethod<std::string>{"held"}).Remote().Get(60000), "slot=1");
  auto both = ray::Task(info).SetName("both_slots").SetResource("slot", 2).Remote();
  std::vector<ray::ObjectRef<std::string>> waiting = {both};
  EXPECT_EQ(ray::Wait(waiting, 1, 1000).unready.size(), 1u);
  probe.Kill();
  EXPECT_EQ(*both.Get(60000), "both_slots|CPU=1,slot=2");
}

// ---- Python tasks and actors ----------------------------------------------------------------

TEST(Python, PipelinedTasksAndRefArguments) {
  std::vector<ray::ObjectRef<int64_t>> refs;
  for (int i = 0; i < 300; ++i) refs.push_back(ray::Task(Add()).Remote(i, int64_t{1} << 40));
  auto values = ray::Get(refs);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(*values[i], i + (int64_t{1} << 40));
  // A ref as an argument is passed by reference; the task sees the value.
  EXPECT_EQ(*ray::Task(Add()).Remote(ray::Put(int64_t{2}), 3).Get(), 5);
}

TEST(Python, ExceptionsKeepTypeAndMessage) {
  try {
    ray::Task(ray::PyFunction<int>{"cpp_check_mod", "fail"}).Remote(7).Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException &e) {
    EXPECT_EQ(e.RemoteType(), "builtins.ValueError");
    EXPECT_NE(std::string(e.what()).find("bad value 7"), std::string::npos) << e.what();
    EXPECT_NE(e.Traceback().find("raise ValueError"), std::string::npos) << e.Traceback();
  }
  try {
    ray::Task(ray::PyFunction<std::string>{"cpp_check_mod", "add"}).Remote(1, 2).Get();
    FAIL() << "expected a type mismatch";
  } catch (const ray::internal::RayException &e) {
    EXPECT_NE(std::string(e.what()).find("XLANG int"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("std::string"), std::string::npos) << e.what();
  }
}

TEST(Python, ActorsNamedAndKilled) {
  ray::ActorHandleXlang counter =
      ray::Actor(ray::PyActorClass{"cpp_check_mod", "Counter"}).SetName("cpp_counter").Remote(10);
  auto first = counter.Task(ray::PyActorMethod<int>{"incr"}).Remote(5);
  auto second = counter.Task(ray::PyActorMethod<int>{"incr"}).Remote(1);
  EXPECT_EQ(*second.Get(), 16);  // calls run in the order they were made
  EXPECT_EQ(*first.Get(), 15);
  auto found = ray::GetActor<void>("cpp_counter");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->ID(), counter.ID());
  EXPECT_FALSE(ray::GetActor<void>("nobody").has_value());
  counter.Kill();
  EXPECT_THROW(counter.Task(ray::PyActorMethod<int>{"incr"}).Remote(1).Get(10000),
               ray::internal::RayActorException);
}

// ---- C++ code on the cluster ------------------------------------------------------------------

TEST(Cpp, FunctionsTakeValuesAndRefs) {
  EXPECT_EQ(*ray::Task(Plus).Remote(1, 2).Get(), 3);
  // An ObjectRef argument: the function gets the value.
  EXPECT_EQ(*ray::Task(SumOf).Remote(ray::Put(std::vector<int64_t>{1, 2, int64_t{1} << 40})).Get(),
            3 + (int64_t{1} << 40));
  // The result of another task, passed on before it is ready.
  auto first = ray::Task(Plus).Remote(1, 2);
  EXPECT_EQ(*ray::Task(Plus).Remote(first, 10).Get(), 13);
  std::map<std::string, std::vector<int64_t>> table = {{"a", {1, 2}}, {"b", {}}};
  EXPECT_EQ(*ray::Task(Describe).Remote(table).Get(), "a=1,2;b=;");
  EXPECT_EQ(*ray::Task(Describe).Remote(ray::Put(table)).Get(), "a=1,2;b=;");
  // A large result, from shared memory.
  auto blob = *ray::Task(Blob).Remote(3 << 20).Get();
  ASSERT_EQ(blob.size(), 3u << 20);
  EXPECT_EQ(blob[10], 70);
  // Runs in a worker, not here.
  EXPECT_NE(*ray::Task(Pid).Remote().Get(), static_cast<int>(::getpid()));
  // Many, pipelined.
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < 200; ++i) refs.push_back(ray::Task(Plus).Remote(i, i));
  auto values = ray::Get(refs);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(*values[i], 2 * i);
}

TEST(Cpp, CodeOnTheClusterUsesTheApi) {
  EXPECT_EQ(*ray::Task(NestedPlus).Remote(2, 3).Get(), 50);  // C++ task -> C++ task
  EXPECT_EQ(*ray::Task(NestedPython).Remote(int64_t{1} << 40, 1).Get(),
            (int64_t{1} << 40) + 1);                        // C++ task -> Python task
  EXPECT_EQ(*ray::Task(PutThenGet).Remote(5).Get(), 16);    // put and get on the cluster
  // Refs made on the cluster, returned inside a value, outlive the task that made them.
  auto refs = *ray::Task(MakeRefs).Remote(3).Get();
  ASSERT_EQ(refs.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*refs[i].Get(10000), 100 + i);
  auto task_refs = *ray::Task(MakeTaskRefs).Remote(3).Get();
  ASSERT_EQ(task_refs.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*task_refs[i].Get(10000), 1000 + i);
}

TEST(Cpp, NestedTasksDoNotWaitForTheCpusOfTheirParents) {
  // More tasks that wait for nested ones than the cluster has CPUs: a C++ task blocked in Get
  // lends its CPU, as a Python task's ray.get does, so the nested tasks run (on workers that
  // never ran this job before).
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < 6; ++i) refs.push_back(ray::Task(NestedPlus).Remote(i, 1));
  auto values = ray::Get(refs, 60000);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(*values[i], (i + 1) * 10);
}

TEST(Cpp, ActorKeepsStateAndPerCallerOrder) {
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(10);
  std::vector<ray::ObjectRef<int>> adds;
  for (int i = 0; i < 100; ++i) adds.push_back(counter.Task(&Counter::Add).Remote(1));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*adds[i].Get(), 11 + i) << "call " << i;
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 110);
  // A method using the API (a nested task), then the state it left.
  EXPECT_EQ(*counter.Task(&Counter::AddViaTask).Remote(5).Get(), 115);
  EXPECT_EQ(*counter.Task(&Counter::Get).Remote().Get(), 115);
  int pid = *counter.Task(&Counter::Pid).Remote().Get();
  EXPECT_NE(pid, static_cast<int>(::getpid()));
  EXPECT_EQ(*counter.Task(&Counter::Pid).Remote().Get(), pid);  // one process holds it
  // ray::ExitActor() ends it (the call's result is null); later calls fail.
  counter.Task(&Counter::Stop).Remote();
  EXPECT_TRUE(ray_test::WaitFor([&] { return !ray_test::Alive(pid); }, 20.0));
  EXPECT_THROW(counter.Task(&Counter::Get).Remote().Get(10000), ray::internal::RayActorException);
}

TEST(Cpp, ExceptionsKeepTypeAndMessage) {
  try {
    ray::Task(Fail).Remote(7).Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException &e) {
    EXPECT_EQ(e.RemoteType(), "std::invalid_argument");
    EXPECT_NE(std::string(e.what()).find("std::invalid_argument: bad input 7"), std::string::npos)
        << e.what();
    // Where it was thrown: the function and the library.
    EXPECT_NE(e.Traceback().find("C++ function Fail"), std::string::npos) << e.Traceback();
    EXPECT_NE(e.Traceback().find("libray_cluster_functions.so"), std::string::npos)
        << e.Traceback();
  }
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(1);
  try {
    counter.Task(&Counter::Fail).Remote(3).Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException &e) {
    EXPECT_EQ(e.RemoteType(), "std::out_of_range");
    EXPECT_NE(std::string(e.what()).find("counter cannot take 3"), std::string::npos) << e.what();
  }
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(1).Get(), 2);  // the actor lives on
  // A factory that throws: the actor is dead, its calls say why.
  auto broken = ray::Actor(Counter::FailingCreate).Remote(4);
  try {
    broken.Task(&Counter::Get).Remote().Get(20000);
    FAIL() << "expected RayActorException";
  } catch (const ray::internal::RayActorException &e) {
    EXPECT_NE(std::string(e.what()).find("std::runtime_error: no counter from 4"),
              std::string::npos)
        << e.what();
  }
  // An error as an argument fails the task that takes it, with the same error.
  try {
    ray::Task(Plus).Remote(ray::Task(Fail).Remote(9), 1).Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException &e) {
    EXPECT_EQ(e.RemoteType(), "std::invalid_argument");
    EXPECT_NE(std::string(e.what()).find("bad input 9"), std::string::npos) << e.what();
  }
}

TEST(Cpp, UnknownNamesSayWhatTheLibrariesHave) {
  try {
    ray::Task(OnlyInTheDriver).Remote(1).Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException &e) {
    std::string what = e.what();
    EXPECT_NE(what.find("no C++ function named 'OnlyInTheDriver'"), std::string::npos) << what;
    EXPECT_NE(what.find("libray_cluster_functions.so"), std::string::npos) << what;
    EXPECT_NE(what.find("NestedPlus"), std::string::npos) << what;  // what it does have
    // A library of another entry point version, beside it, is skipped and named.
    EXPECT_NE(what.find("libray_old_abi_library.so"), std::string::npos) << what;
    EXPECT_NE(what.find("ABI version 1"), std::string::npos) << what;
  }
}

}  // namespace
