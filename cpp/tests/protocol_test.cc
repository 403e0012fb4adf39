// Pure protocol logic of the gateway client, without a server: ids, chunking and reassembly,
// the Submit queue's acknowledgements and resends, reference batching, option mapping, flags,
// token lookup, `ray start` output, status mapping and the worker's session config.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "chunking.h"
#include "cluster_runtime.h"
#include "config.h"
#include "gateway_client.h"
#include "ids.h"
#include "local_cluster.h"
#include "options.h"
#include "ray/api/ray_exception.h"
#include "reference_batcher.h"
#include "result_cache.h"
#include "submit_queue.h"
#include "token.h"

namespace ray {
namespace internal {
namespace {

EnvLookup MapEnv(std::map<std::string, std::string> values) {
  return [values](const std::string &name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/ray_cpp_test_XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string &path() const { return path_; }
  void Write(const std::string &name, const std::string &text) const {
    std::filesystem::create_directories(std::filesystem::path(path_ + "/" + name).parent_path());
    std::ofstream(path_ + "/" + name) << text;
  }

 private:
  std::string path_;
};

// ---- ids -----------------------------------------------------------------------------------

TEST(Ids, LayoutFollowsTheProtocol) {
  const std::string job("\x01\x02\x03\x04", 4);
  IdGenerator ids(job);
  std::string task = ids.NewTaskId();
  ASSERT_EQ(task.size(), 24u);
  EXPECT_EQ(task.substr(20), job);
  EXPECT_EQ(IdGenerator::JobIdOfTask(task), job);
  std::string put = ids.NewPutId();
  ASSERT_EQ(put.size(), 28u);
  EXPECT_EQ(put.substr(20, 4), job);
  EXPECT_EQ(put.substr(24), std::string(4, '\0'));
  EXPECT_EQ(IdGenerator::JobIdOfObject(put), job);
  std::string ret = IdGenerator::ObjectId(task, 1);
  EXPECT_EQ(ret.substr(0, 24), task);
  EXPECT_EQ(ret.substr(24), std::string("\x00\x00\x00\x01", 4));
  EXPECT_EQ(IdGenerator::IndexOf(IdGenerator::ObjectId(task, 0x01020304)), 0x01020304u);
  std::string actor = ids.NewActorId();
  ASSERT_EQ(actor.size(), 28u);
  EXPECT_EQ(actor.substr(24), job);
  EXPECT_EQ(IdGenerator::JobIdOfActor(actor), job);
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(seen.insert(ids.NewTaskId()).second);
  EXPECT_THROW(IdGenerator("abc"), RayException);
}

TEST(Ids, Hex) {
  EXPECT_EQ(ToHex(std::string("\x00\xab\xff", 3)), "00abff");
  EXPECT_EQ(FromHex("00ABff"), std::string("\x00\xab\xff", 3));
  EXPECT_THROW(FromHex("abc"), RayException);
  EXPECT_THROW(FromHex("zz"), RayException);
}

// ---- chunking ------------------------------------------------------------------------------

TEST(Chunking, PlansChunksOfAtMostTheChunkSize) {
  auto chunks = PlanChunks((5 << 20) + 3, 1 << 20);
  ASSERT_EQ(chunks.size(), 6u);
  EXPECT_EQ(chunks[0].offset, 0u);
  EXPECT_EQ(chunks[0].size, 1u << 20);
  EXPECT_EQ(chunks[5].offset, 5u << 20);
  EXPECT_EQ(chunks[5].size, 3u);
  EXPECT_EQ(PlanChunks(1 << 20, 1 << 20).size(), 1u);
  ASSERT_EQ(PlanChunks(0, 1 << 20).size(), 1u);
  EXPECT_EQ(PlanChunks(0, 1 << 20)[0].size, 0u);
}

TEST(Chunking, PutStreamMessagesCarryTheFrameInOrder) {
  std::string frame(2500, '\0');
  for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<char>(i * 7);
  auto messages = MakePutStreamRequests("sess", std::string(28, 'o'), frame, {std::string(28, 'n')}, 1000);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].session_id(), "sess");
  EXPECT_EQ(messages[0].object_id(), std::string(28, 'o'));
  EXPECT_EQ(messages[0].total_size_bytes(), 2500);
  EXPECT_EQ(messages[0].nested_object_ids_size(), 1);
  EXPECT_TRUE(messages[1].session_id().empty());  // later chunks leave them empty
  EXPECT_EQ(messages[2].offset(), 2000);
  EXPECT_EQ(messages[2].data().size(), 500u);
  std::string joined;
  for (const auto &m : messages) joined += m.data();
  EXPECT_EQ(joined, frame);
}

TEST(Chunking, ReassemblesObjectsInRequestOrder) {
  ObjectAssembler assembler(2);
  assembler.Add(0, 5, 0, "he");
  assembler.Add(0, 5, 2, "llo");
  EXPECT_FALSE(assembler.Complete());
  EXPECT_EQ(assembler.Missing(), std::vector<size_t>{1});
  assembler.Add(1, 3, 0, "abc");
  ASSERT_TRUE(assembler.Complete());
  EXPECT_EQ(assembler.Take(), (std::vector<std::string>{"hello", "abc"}));
}

TEST(Chunking, RejectsBrokenStreams) {
  auto expect_error = [](auto fn, const std::string &fragment) {
    try {
      fn();
      ADD_FAILURE() << "expected an error about " << fragment;
    } catch (const RayException &e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error([] { ObjectAssembler(1).Add(3, 1, 0, "x"); }, "no such position");
  expect_error([] { ObjectAssembler a(1); a.Add(0, 4, 0, "ab"); a.Add(0, 4, 3, "c"); }, "offset 3");
  expect_error([] { ObjectAssembler a(1); a.Add(0, 4, 0, "ab"); a.Add(0, 5, 2, "cd"); }, "total size changed");
  expect_error([] { ObjectAssembler a(1); a.Add(0, 2, 0, "abc"); }, "exceed");
  expect_error([] { ObjectAssembler a(1); a.Add(0, 1, 0, "a"); a.Add(0, 1, 1, ""); }, "complete");
}

// ---- the Submit queue ---------------------------------------------------------------------

rpc::SubmitItem Item(const std::string &task_id) {
  rpc::SubmitItem item;
  item.mutable_task()->set_task_id(task_id);
  return item;
}

TEST(SubmitQueue, BatchesAcknowledgesAndResendsAfterABrokenStream) {
  SubmitQueue q;
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(q.Push(Item("t" + std::to_string(i))), static_cast<uint64_t>(i));
  auto first = q.TakeUnsent(3, std::chrono::milliseconds(0));
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].task().task_id(), "t1");
  auto second = q.TakeUnsent(10, std::chrono::milliseconds(0));
  ASSERT_EQ(second.size(), 2u);
  EXPECT_TRUE(q.TakeUnsent(10, std::chrono::milliseconds(0)).empty());
  q.Ack(2);
  EXPECT_EQ(q.acked(), 2u);
  EXPECT_FALSE(q.Barrier(std::chrono::milliseconds(0)));
  // The stream breaks: t3..t5 were sent but not acknowledged; they go again, in order.
  q.StreamRestarted();
  auto resent = q.TakeUnsent(10, std::chrono::milliseconds(0));
  ASSERT_EQ(resent.size(), 3u);
  EXPECT_EQ(resent[0].task().task_id(), "t3");
  EXPECT_EQ(resent[2].task().task_id(), "t5");
  // The new stream counts from its own start.
  q.Ack(3);
  EXPECT_EQ(q.acked(), 5u);
  EXPECT_TRUE(q.Barrier(std::chrono::milliseconds(0)));
  EXPECT_FALSE(q.HasUnacked());
}

TEST(SubmitQueue, BarrierWaitsForAcknowledgementsFromAnotherThread) {
  SubmitQueue q;
  q.Push(Item("a"));
  std::thread acker([&] {
    q.TakeUnsent(1, std::chrono::milliseconds(1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q.Ack(1);
  });
  EXPECT_TRUE(q.Barrier(std::chrono::milliseconds(5000)));
  acker.join();
}

TEST(ResultCache, TakesDeliveredValuesOnce) {
  ResultCache cache;
  ASSERT_TRUE(cache.Expect("a", 4));
  ASSERT_TRUE(cache.Expect("b", 4));
  EXPECT_EQ(cache.pending(), 2u);
  cache.Deliver("b", "B", false);
  cache.Deliver("a", "A", false);
  EXPECT_EQ(cache.pending(), 0u);
  std::vector<std::string> frames;
  auto soon = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  ASSERT_EQ(cache.Take({"a", "b", "a"}, soon, &frames), ResultCache::Outcome::kTaken);
  EXPECT_EQ(frames, (std::vector<std::string>{"A", "B", "A"}));
  EXPECT_EQ(cache.size(), 0u);
  // Taken: a second Get of the same ref asks the gateway.
  EXPECT_EQ(cache.Take({"a"}, soon, &frames), ResultCache::Outcome::kAskGateway);
}

TEST(ResultCache, ABurstOfCallsIsLeftToGet) {
  ResultCache cache;
  EXPECT_TRUE(cache.Expect("a", 2));
  EXPECT_TRUE(cache.Expect("b", 2));
  EXPECT_FALSE(cache.Expect("c", 2));  // two on their way already
  cache.Deliver("a", "A", false);
  EXPECT_TRUE(cache.Expect("d", 2));
  std::vector<std::string> frames;
  auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(cache.Take({"a", "c"}, now, &frames), ResultCache::Outcome::kAskGateway);
  cache.Forget({"a", "c"});
  EXPECT_EQ(cache.size(), 2u);  // b and d
}

TEST(ResultCache, UnknownFetchAndLateValues) {
  ResultCache cache;
  std::vector<std::string> frames;
  auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(cache.Take({"never"}, now, &frames), ResultCache::Outcome::kAskGateway);
  cache.Expect("big", 4);
  cache.Deliver("big", "", true);
  EXPECT_EQ(cache.Take({"big"}, now, &frames), ResultCache::Outcome::kAskGateway);
  cache.Expect("slow", 4);
  EXPECT_EQ(cache.Take({"slow"}, now + std::chrono::milliseconds(20), &frames),
            ResultCache::Outcome::kTimedOut);
  // A value delivered from another thread wakes the waiter.
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    cache.Deliver("slow", "S", false);
  });
  EXPECT_EQ(cache.Take({"slow"}, now + std::chrono::seconds(5), &frames),
            ResultCache::Outcome::kTaken);
  reader.join();
  EXPECT_EQ(frames, std::vector<std::string>{"S"});
}

TEST(ResultCache, ALostStreamSendsWaitersToTheGateway) {
  ResultCache cache;
  cache.Expect("x", 4);
  std::thread breaker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    cache.StreamLost();
  });
  std::vector<std::string> frames;
  EXPECT_EQ(cache.Take({"x"}, std::chrono::steady_clock::now() + std::chrono::seconds(5), &frames),
            ResultCache::Outcome::kAskGateway);
  breaker.join();
  EXPECT_EQ(cache.pending(), 0u);
  // A value that still comes (a resent item's) is used again.
  cache.Deliver("x", "X", false);
  EXPECT_EQ(cache.Take({"x"}, std::chrono::steady_clock::now(), &frames),
            ResultCache::Outcome::kTaken);
}

TEST(ResultCache, DropsTheOldestValuesBeyondItsLimits) {
  ResultCache cache(/*max_bytes=*/10, /*max_entries=*/3);
  std::vector<std::string> frames;
  auto now = std::chrono::steady_clock::now();
  cache.Expect("a", 10);
  cache.Deliver("a", "123456", false);
  cache.Expect("b", 10);
  cache.Deliver("b", "123456", false);  // 12 bytes: "a" goes
  EXPECT_EQ(cache.Take({"a"}, now, &frames), ResultCache::Outcome::kAskGateway);
  for (const char *id : {"c", "d", "e"}) cache.Expect(id, 10);  // 4 entries: "b" goes
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.Take({"b"}, now, &frames), ResultCache::Outcome::kAskGateway);
}

TEST(SubmitQueue, FailureReachesBarriers) {
  SubmitQueue q;
  q.Push(Item("a"));
  q.Fail("INVALID_ARGUMENT: no ids");
  try {
    q.Barrier(std::chrono::milliseconds(1000));
    FAIL();
  } catch (const RayException &e) {
    EXPECT_NE(std::string(e.what()).find("no ids"), std::string::npos);
  }
}

// ---- reference batching ---------------------------------------------------------------------

TEST(ReferenceBatcher, NetsCountsPerIdInFirstSeenOrder) {
  ReferenceBatcher b;
  b.Add("x");
  b.Release("x");  // a temporary copy: nothing to send
  b.Release("y");
  b.Add("z");
  b.Add("z");
  b.Release("y");
  EXPECT_EQ(b.pending(), 2u);
  auto batch = b.Take();
  EXPECT_EQ(batch.adds, (std::vector<std::string>{"z", "z"}));
  EXPECT_EQ(batch.releases, (std::vector<std::string>{"y", "y"}));
  EXPECT_TRUE(b.Take().empty());
  b.Restore(batch);
  b.Release("z");
  auto again = b.Take();
  EXPECT_EQ(again.adds, std::vector<std::string>{"z"});
  EXPECT_EQ(again.releases, (std::vector<std::string>{"y", "y"}));
}

// ---- option mapping -------------------------------------------------------------------------

TEST(Options, FunctionDescriptorsPerLanguage) {
  RemoteFunctionHolder cpp("Plus");
  auto d = ToFunctionDescriptor(cpp, DescriptorRole::kFunction);
  EXPECT_EQ(d.language(), rpc::LANGUAGE_CPP);
  EXPECT_EQ(d.function_name(), "Plus");
  RemoteFunctionHolder factory("Counter::FactoryCreate");
  factory.class_name = "Counter";
  d = ToFunctionDescriptor(factory, DescriptorRole::kActorClass);
  EXPECT_EQ(d.function_name(), "Counter::FactoryCreate");
  EXPECT_EQ(d.class_name(), "Counter");
  RemoteFunctionHolder py("mod", "fn", "", LangType::PYTHON);
  d = ToFunctionDescriptor(py, DescriptorRole::kFunction);
  EXPECT_EQ(d.language(), rpc::LANGUAGE_PYTHON);
  EXPECT_EQ(d.module_name(), "mod");
  EXPECT_EQ(d.function_name(), "fn");
  RemoteFunctionHolder py_class("mod", "__init__", "Counter", LangType::PYTHON);
  d = ToFunctionDescriptor(py_class, DescriptorRole::kActorClass);
  EXPECT_EQ(d.class_name(), "Counter");
  EXPECT_EQ(d.function_name(), "");
  RemoteFunctionHolder java("", "add", "io.Example", LangType::JAVA);
  d = ToFunctionDescriptor(java, DescriptorRole::kFunction);
  EXPECT_EQ(d.language(), rpc::LANGUAGE_JAVA);
  EXPECT_EQ(d.class_name(), "io.Example");
  EXPECT_EQ(d.function_name(), "add");
  EXPECT_EQ(ToFunctionDescriptor(java, DescriptorRole::kActorClass).function_name(), "<init>");
}

TEST(Options, TaskAndActorOptions) {
  CallOptions call;
  call.name = "f";
  call.resources = {{"CPU", 2}, {"accel", 0.5}};
  auto t = ToTaskOptions(call);
  EXPECT_EQ(t.name(), "f");
  EXPECT_EQ(t.resources().at("CPU"), 2);
  EXPECT_EQ(t.resources().at("accel"), 0.5);
  EXPECT_FALSE(t.has_num_returns());
  call.group = PlacementGroup("pg", {});
  EXPECT_THROW(ToTaskOptions(call), RayException);

  ActorCreationOptions actor;
  actor.name = "a";
  actor.max_restarts = 3;
  actor.max_concurrency = 4;
  auto a = ToActorOptions(actor, /*default_detached=*/true);
  EXPECT_EQ(a.name(), "a");
  EXPECT_TRUE(a.detached());  // the job's default
  EXPECT_EQ(a.max_restarts(), 3);
  EXPECT_EQ(a.max_concurrency(), 4);
  actor.detached = false;
  EXPECT_FALSE(ToActorOptions(actor, true).detached());
}

TEST(Options, TaskArgs) {
  std::vector<TaskArg> args(2);
  args[0].frame = "frame";
  args[0].nested_ids = {"n1"};
  args[1].object_id = "id";
  google::protobuf::RepeatedPtrField<rpc::TaskArg> out;
  FillTaskArgs(args, &out);
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out[0].inline_data(), "frame");
  EXPECT_EQ(out[0].nested_refs(0).object_id(), "n1");
  EXPECT_EQ(out[1].object_ref().object_id(), "id");
  std::vector<TaskArg> empty(1);
  EXPECT_THROW(FillTaskArgs(empty, &out), RayException);
}

TEST(Options, JobConfig) {
  ResolvedConfig config;
  config.ray_namespace = "ns";
  config.code_search_path = {"/a", "/b"};
  auto job = ToJobConfig(config);
  EXPECT_EQ(job.ray_namespace(), "ns");
  EXPECT_EQ(job.code_search_path_size(), 2);
}

// ---- flags and config -----------------------------------------------------------------------

TEST(Flags, UpstreamFlagsInBothFormsOthersLeftAlone) {
  std::vector<std::string> storage = {"prog", "--ray_address=10.0.0.1:6379", "--verbose",
                                      "--ray_code_search_path", "/x:/y", "-ray_job_namespace=ns",
                                      "positional", "--ray_node_ip_address=127.0.0.2"};
  std::vector<char *> argv;
  for (auto &s : storage) argv.push_back(s.data());
  auto flags = ParseCommandLineFlags(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(flags.ray_address, "10.0.0.1:6379");
  EXPECT_EQ(flags.ray_code_search_path, "/x:/y");
  EXPECT_EQ(flags.ray_job_namespace, "ns");
  EXPECT_EQ(flags.ray_node_ip_address, "127.0.0.2");
  EXPECT_EQ(std::string(argv[2]), "--verbose");  // argv is not modified
  auto none = ParseCommandLineFlags(0, nullptr);
  EXPECT_FALSE(none.ray_address.has_value());
  std::vector<std::string> dangling = {"prog", "--ray_address"};
  std::vector<char *> dargv = {dangling[0].data(), dangling[1].data()};
  EXPECT_THROW(ParseCommandLineFlags(2, dargv.data()), RayException);
}

TEST(Config, FlagsThenConfigThenEnvironment) {
  RayConfig config;
  CommandLineFlags flags;
  auto env = MapEnv({{"RAY_ADDRESS", "env:1"}});
  EXPECT_EQ(ResolveConfig(config, flags, env).address, "env:1");
  config.address = "config:2";
  EXPECT_EQ(ResolveConfig(config, flags, env).address, "config:2");
  flags.ray_address = "flag:3";
  EXPECT_EQ(ResolveConfig(config, flags, env).address, "flag:3");
  flags.ray_address = "ray://flag:4";
  EXPECT_EQ(ResolveConfig(config, flags, env).address, "flag:4");
  EXPECT_EQ(ResolveConfig(RayConfig(), CommandLineFlags(), MapEnv({})).address, "");
  config.code_search_path = {"relative/dir", "/abs"};
  auto resolved = ResolveConfig(config, CommandLineFlags(), env);
  ASSERT_EQ(resolved.code_search_path.size(), 2u);
  EXPECT_TRUE(std::filesystem::path(resolved.code_search_path[0]).is_absolute());
  EXPECT_EQ(resolved.code_search_path[1], "/abs");
  flags.ray_code_search_path = "/p:/q";
  EXPECT_EQ(ResolveConfig(config, flags, env).code_search_path, (std::vector<std::string>{"/p", "/q"}));
  config.ray_namespace = "cfg";
  EXPECT_EQ(ResolveConfig(config, flags, env).ray_namespace, "cfg");
  flags.ray_job_namespace = "flag";
  EXPECT_EQ(ResolveConfig(config, flags, env).ray_namespace, "flag");
  config.default_actor_lifetime = ActorLifetime::DETACHED;
  EXPECT_TRUE(ResolveConfig(config, flags, env).default_detached);
  config.local_mode = true;
  EXPECT_THROW(ResolveConfig(config, flags, env), RayException);
}

// ---- the token and the cluster record ------------------------------------------------------

TEST(Token, EnvironmentThenTheRecordOfRayStart) {
  ScratchDir tmp;
  tmp.Write("session_x/token", "secret-token\n");
  tmp.Write("ray_current_cluster", "127.0.0.1:6379\n" + tmp.path() + "/session_x\n");
  auto env = MapEnv({{"RAY_TMPDIR", tmp.path()}});
  auto current = ReadCurrentCluster(tmp.path());
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->gcs_address, "127.0.0.1:6379");
  EXPECT_EQ(FindToken("127.0.0.1:6379", env), "secret-token");
  EXPECT_EQ(FindToken("10.1.1.1:6379", env), std::nullopt);  // another cluster
  EXPECT_EQ(FindToken("10.1.1.1:6379", MapEnv({{"RAY_TMPDIR", tmp.path()}, {"RAY_CLUSTER_TOKEN", "e"}})),
            "e");
  EXPECT_EQ(ResolveAutoAddress("auto", env), "127.0.0.1:6379");
  EXPECT_EQ(ResolveAutoAddress("h:1", env), "h:1");
  EXPECT_EQ(TempDir(MapEnv({})), "/tmp/openray");
}

TEST(Token, FoundByAddressInThisUsersRecordOfClusters) {
  // session.py register_cluster: $RAY_TMPDIR/clusters-<uid>/<host>_<port>, mode 0600, lines
  // "address" and "session directory"; the cluster's sessions may live in any --temp-dir.
  ScratchDir tmp;
  ScratchDir elsewhere;  // `ray start --temp-dir`
  elsewhere.Write("session_a/token", "token-a\n");
  elsewhere.Write("session_b/token", "token-b");
  const std::string records = "clusters-" + std::to_string(::getuid());
  tmp.Write(records + "/127.0.0.1_6380", "127.0.0.1:6380\n" + elsewhere.path() + "/session_a\n");
  tmp.Write(records + "/127.0.0.1_6381", "127.0.0.1:6381\n" + elsewhere.path() + "/session_b\n");
  // A record whose address line does not match its name is not trusted.
  tmp.Write(records + "/127.0.0.1_6382", "127.0.0.1:9999\n" + elsewhere.path() + "/session_a\n");
  // Another user's records are not looked at.
  tmp.Write("clusters-" + std::to_string(::getuid() + 1) + "/127.0.0.1_6383",
            "127.0.0.1:6383\n" + elsewhere.path() + "/session_a\n");
  auto env = MapEnv({{"RAY_TMPDIR", tmp.path()}});
  EXPECT_EQ(RegisteredSessionDir(tmp.path(), ::getuid(), "127.0.0.1:6380"),
            elsewhere.path() + "/session_a");
  EXPECT_EQ(FindToken("127.0.0.1:6380", env), "token-a");
  EXPECT_EQ(FindToken("127.0.0.1:6381", env), "token-b");
  EXPECT_EQ(FindToken("127.0.0.1:6382", env), std::nullopt);
  EXPECT_EQ(FindToken("127.0.0.1:6383", env), std::nullopt);
  EXPECT_EQ(FindToken("127.0.0.1:6384", env), std::nullopt);
  // The record wins over ray_current_cluster; the environment wins over both.
  tmp.Write("session_c/token", "token-c");
  tmp.Write("ray_current_cluster", "127.0.0.1:6380\n" + tmp.path() + "/session_c\n");
  EXPECT_EQ(FindToken("127.0.0.1:6380", env), "token-a");
  EXPECT_EQ(FindToken("127.0.0.1:6380", MapEnv({{"RAY_TMPDIR", tmp.path()},
                                                 {"RAY_CLUSTER_TOKEN", "from-env"}})),
            "from-env");
  // A record whose session has no token file falls back to ray_current_cluster.
  tmp.Write(records + "/127.0.0.1_6385", "127.0.0.1:6385\n" + tmp.path() + "/gone\n");
  tmp.Write("ray_current_cluster", "127.0.0.1:6385\n" + tmp.path() + "/session_c\n");
  EXPECT_EQ(FindToken("127.0.0.1:6385", env), "token-c");
}

TEST(Token, UpstreamRecordsAndMissingFilesAreNotOurs) {
  ScratchDir tmp;
  tmp.Write("ray_current_cluster", "127.0.0.1:6379\n");  // upstream writes only an address
  auto env = MapEnv({{"RAY_TMPDIR", tmp.path()}});
  EXPECT_FALSE(ReadCurrentCluster(tmp.path()).has_value());
  EXPECT_EQ(FindToken("127.0.0.1:6379", env), std::nullopt);
  EXPECT_THROW(ResolveAutoAddress("auto", env), RayException);
  EXPECT_FALSE(ReadCurrentCluster(tmp.path() + "/nowhere").has_value());
}

// ---- starting a local cluster ----------------------------------------------------------------

TEST(LocalCluster, ParsesTheOutputOfRayStartHead) {
  // The lines `ray start --head` prints (python/ray/_private/cli/main.py): the token itself is
  // not among them, only where it is stored.
  const char *lines[] = {
      "Started a Ray head node.",
      "  GCS address:   127.0.0.1:39999  (pid 11)",
      "  Node manager:  127.0.0.1:40001  (pid 12, node 0123456789ab)",
      "  Resources:     CPU 2; object store 1.0 GiB",
      "  Session:       /tmp/openray/session_2024_1  (logs in logs/)",
      "address. It is stored in /tmp/openray/session_2024_1/token (mode 0600); elsewhere, set",
  };
  StartOutput out;
  EXPECT_FALSE(ParseStartLine(lines[0], &out));
  EXPECT_TRUE(ParseStartLine(lines[1], &out));
  EXPECT_EQ(out.gcs_address, "127.0.0.1:39999");
  EXPECT_FALSE(ParseStartLine(lines[2], &out));
  EXPECT_FALSE(ParseStartLine(lines[3], &out));
  EXPECT_TRUE(out.session_dir.empty());
  EXPECT_FALSE(ParseStartLine(lines[4], &out));
  EXPECT_EQ(out.session_dir, "/tmp/openray/session_2024_1");
  EXPECT_FALSE(ParseStartLine(lines[5], &out));
  EXPECT_EQ(out.gcs_address, "127.0.0.1:39999");
  EXPECT_EQ(out.session_dir, "/tmp/openray/session_2024_1");
}

TEST(LocalCluster, CommandLine) {
  auto command = StartCommand("/bin/ray", 2, "", {"--resources", "{\"a\": 1}"});
  EXPECT_EQ(command, (std::vector<std::string>{"/bin/ray", "start", "--head", "--port", "0",
                                               "--num-cpus", "2", "--block", "--resources",
                                               "{\"a\": 1}"}));
  auto with_ip = StartCommand("/bin/ray", 1, "10.0.0.2", {});
  EXPECT_EQ(with_ip.back(), "10.0.0.2");
}

TEST(LocalCluster, FindsTheCli) {
  ScratchDir tmp;
  tmp.Write("bin/ray", "#!/bin/sh\n");
  std::string cli = tmp.path() + "/bin/ray";
  ::chmod(cli.c_str(), 0755);
  EXPECT_EQ(FindRayCli(MapEnv({{"RAY_CLI", cli}})), cli);
  EXPECT_EQ(FindRayCli(MapEnv({{"PATH", "/nonexistent:" + tmp.path() + "/bin"}})), cli);
  EXPECT_THROW(FindRayCli(MapEnv({{"RAY_CLI", tmp.path() + "/missing"}})), RayException);
}

TEST(LocalCluster, ReadsTheAddressFromTheChildAndStopsIt) {
  // A stand-in `ray` CLI script: prints like `ray start --head` and blocks until SIGTERM.
  ScratchDir tmp;
  tmp.Write("ray",
            "#!/bin/sh\n"
            "echo 'Started a Ray head node.'\n"
            "echo '  GCS address:   127.0.0.1:45678  (pid 1)'\n"
            "echo '  Session:       /tmp/x/session_1  (logs in logs/)'\n"
            "trap 'exit 0' TERM\n"
            "while true; do sleep 0.05; done\n");
  std::string cli = tmp.path() + "/ray";
  ::chmod(cli.c_str(), 0755);
  auto cluster = LocalCluster::Start(StartCommand(cli, 1, "", {}), 10.0);
  EXPECT_EQ(cluster->output().gcs_address, "127.0.0.1:45678");
  EXPECT_EQ(cluster->output().session_dir, "/tmp/x/session_1");
  pid_t pid = cluster->pid();
  EXPECT_EQ(::kill(pid, 0), 0);
  auto start = std::chrono::steady_clock::now();
  cluster->Stop(10.0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_NE(::kill(pid, 0), 0);  // gone and reaped
}

TEST(LocalCluster, ReportsAnEarlyExitWithItsOutput) {
  ScratchDir tmp;
  tmp.Write("ray", "#!/bin/sh\necho 'A Ray cluster started by ray start is already running'\nexit 3\n");
  std::string cli = tmp.path() + "/ray";
  ::chmod(cli.c_str(), 0755);
  try {
    LocalCluster::Start(StartCommand(cli, 1, "", {}), 10.0);
    FAIL();
  } catch (const RayException &e) {
    std::string message = e.what();
    EXPECT_NE(message.find("already running"), std::string::npos) << message;
  }
}

// ---- status mapping ---------------------------------------------------------------------------

TEST(Status, GrpcErrorsBecomeApiExceptions) {
  auto message_of = [](grpc::StatusCode code) {
    try {
      ThrowForStatus(grpc::Status(code, "details here"), "Get", "127.0.0.1:1");
    } catch (const RayTimeoutException &e) {
      return std::string("timeout:") + e.what();
    } catch (const RayException &e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string timeout = message_of(grpc::DEADLINE_EXCEEDED);
  EXPECT_EQ(timeout.rfind("timeout:", 0), 0u) << timeout;
  EXPECT_NE(timeout.find("details here"), std::string::npos);
  EXPECT_NE(message_of(grpc::UNAVAILABLE).find("cannot reach"), std::string::npos);
  EXPECT_NE(message_of(grpc::UNAUTHENTICATED).find("RAY_CLUSTER_TOKEN"), std::string::npos);
  EXPECT_NE(message_of(grpc::NOT_FOUND).find("NOT_FOUND"), std::string::npos);
  EXPECT_NE(message_of(grpc::INVALID_ARGUMENT).find("127.0.0.1:1"), std::string::npos);
  EXPECT_THROW(ThrowForStatus(grpc::Status(grpc::RESOURCE_EXHAUSTED, "full"), "Put", "a"),
               RayObjectStoreFullException);
}

// ---- the worker's session config --------------------------------------------------------------

TEST(SessionConfig, ParsesKeyValueLines) {
  auto info = ParseSessionConfig(
      "session_address=127.0.0.1:5\nsession_id=0a0b\njob_id=01000000\ntoken=t\n"
      "ray_namespace=ns\ncode_search_path=/a:/b\n");
  EXPECT_EQ(info.session_address, "127.0.0.1:5");
  EXPECT_EQ(info.session_id, std::string("\x0a\x0b"));
  EXPECT_EQ(info.job_id, std::string("\x01\x00\x00\x00", 4));
  EXPECT_EQ(info.token, "t");
  EXPECT_EQ(info.code_search_path, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_THROW(ParseSessionConfig("session_id=0a\njob_id=01000000\n"), RayException);
  EXPECT_THROW(ParseSessionConfig("session_address=h:1\nsession_id=0a\njob_id=0100\n"), RayException);
  EXPECT_THROW(ParseSessionConfig("garbage"), RayException);
}

}  // namespace
}  // namespace internal
}  // namespace ray
