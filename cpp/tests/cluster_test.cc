// The gateway client against a real cluster: ray::Init() with no address starts a local one
// (`ray start --head --port 0 --block`), the tests drive it through the public API, and
// ray::Shutdown() stops it. Python code on the cluster comes from cpp/tests/python.

#include <gtest/gtest.h>
#include <ray/api.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

class ClusterEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    ray::RayConfig config;
    config.code_search_path = {RAY_TEST_PYTHON_DIR};
    ray::Init(config);
  }
  void TearDown() override {
    ray::Shutdown();
    EXPECT_FALSE(ray::IsInitialized());
  }
};

testing::Environment *const environment =
    testing::AddGlobalTestEnvironment(new ClusterEnvironment());

ray::PyFunction<int64_t> Add() { return {"cpp_check_mod", "add"}; }

TEST(Cluster, PutAndGet) {
  ray::ObjectRef<int> ref = ray::Put(1);
  EXPECT_EQ(*ref.Get(), 1);
  EXPECT_EQ(*ref.Get(1000), 1);
  std::map<std::string, std::vector<int64_t>> table = {{"big", {int64_t{1} << 40, -7}}};
  EXPECT_EQ(*ray::Get(ray::Put(table)), table);
}

TEST(Cluster, SeedSnippetGetOfAVector) {
  std::vector<ray::ObjectRef<int>> obj_refs;
  for (int i = 0; i < 3; i++) {
    obj_refs.emplace_back(ray::Put(i));
  }
  auto results = ray::Get(obj_refs);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(*results[0], 0);
  EXPECT_EQ(*results[1], 1);
  EXPECT_EQ(*results[2], 2);
}

TEST(Cluster, LargeValuesStreamInChunks) {
  std::vector<uint8_t> big(5 << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 31);
  EXPECT_EQ(*ray::Get(ray::Put(big)), big);  // PutStream, then a chunked Get
  auto blob = ray::Task(ray::PyFunction<std::vector<uint8_t>>{"cpp_check_mod", "make_blob"})
                  .Remote(3 << 20);
  EXPECT_EQ(blob.Get()->size(), 3u << 20);
}

TEST(Cluster, PipelinedPythonTasks) {
  std::vector<ray::ObjectRef<int64_t>> refs;
  for (int i = 0; i < 300; ++i) refs.push_back(ray::Task(Add()).Remote(i, int64_t{1} << 40));
  auto values = ray::Get(refs);
  for (int i = 0; i < 300; ++i) EXPECT_EQ(*values[i], i + (int64_t{1} << 40));
  // A ref as an argument is passed by reference; the task sees the value.
  EXPECT_EQ(*ray::Task(Add()).Remote(ray::Put(int64_t{2}), 3).Get(), 5);
}

TEST(Cluster, RemoteErrorsAndTypeMismatches) {
  try {
    ray::Task(ray::PyFunction<int>{"cpp_check_mod", "fail"}).Remote(7).Get();
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException &e) {
    EXPECT_NE(e.RemoteType().find("ValueError"), std::string::npos) << e.RemoteType();
    EXPECT_NE(std::string(e.what()).find("bad value 7"), std::string::npos) << e.what();
  }
  try {
    ray::Task(ray::PyFunction<std::string>{"cpp_check_mod", "add"}).Remote(1, 2).Get();
    FAIL() << "expected a type mismatch";
  } catch (const ray::internal::RayException &e) {
    EXPECT_NE(std::string(e.what()).find("XLANG int"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("std::string"), std::string::npos) << e.what();
  }
}

TEST(Cluster, GetTimesOutAndWaitSplits) {
  auto slow = ray::Task(ray::PyFunction<int>{"time", "sleep"}).Remote(10);
  EXPECT_THROW(ray::Get(slow, 200), ray::internal::RayTimeoutException);
  ray::ObjectRef<int> ready = ray::Put(5);
  std::vector<ray::ObjectRef<int>> refs = {slow, ready};
  ray::WaitResult<int> result = ray::Wait(refs, 1, 5000);
  ASSERT_EQ(result.ready.size(), 1u);
  EXPECT_EQ(result.ready.front().ID(), ready.ID());
  ASSERT_EQ(result.unready.size(), 1u);
  EXPECT_EQ(result.unready.front().ID(), slow.ID());
}

TEST(Cluster, PythonActorsNamedAndKilled) {
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

TEST(Cluster, CopiedAndMovedRefsStayReadable) {
  ray::ObjectRef<std::string> original = ray::Put(std::string("kept"));
  std::vector<ray::ObjectRef<std::string>> copies(20, original);
  ray::ObjectRef<std::string> moved = std::move(original);
  copies.clear();  // releases 20 holders; `moved` still holds the object
  EXPECT_EQ(*moved.Get(5000), "kept");
}

}  // namespace
