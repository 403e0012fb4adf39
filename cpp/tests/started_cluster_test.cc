// The C++ API against a cluster started beforehand, as upstream's docs tell Java and C++ users
// to: `ray start --head --port P --num-cpus N --temp-dir DIR`, then the driver joins by
// address with the code search path given (`--ray_address=... --ray_code_search_path=...`),
// and `ray stop` ends it. The token is never printed: the driver finds it by address in this
// user's record of the clusters started here.
//
// A C++ driver killed mid-session (SIGKILL) leaves nothing pinned: the object stores go back to
// what they held, its actor and its session owner exit.

#include <gtest/gtest.h>
#include <ray/api.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cluster_functions.h"
#include "test_support.h"

namespace {

ray_test::IsolatedRayEnv *isolated = nullptr;
std::string address;
std::vector<pid_t> cluster_pids;  // the GCS and the node manager `ray start` printed
const std::string kCodeSearchPath =
    std::string(RAY_CLUSTER_CODE_LIBRARY) + ":" + RAY_TEST_PYTHON_DIR;

// The `ray` command: $RAY_CLI, else the project's (.venv/bin/ray).
std::string Cli() {
  const char *cli = std::getenv("RAY_CLI");
  return cli != nullptr && *cli != '\0' ? cli : RAY_TEST_CLI;
}

pid_t PidOnLine(const std::string &output, const std::string &label) {
  size_t at = output.find(label);
  if (at == std::string::npos) return -1;
  size_t pid_at = output.find("(pid ", at);
  if (pid_at == std::string::npos) return -1;
  return static_cast<pid_t>(std::stol(output.substr(pid_at + 5)));
}

std::string ReadFile(const std::string &path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// A detached cluster outlives a test binary that is killed, so a binary that runs too long
// (a hang: ctest would kill it at its TIMEOUT) stops the cluster itself, then exits.
class Watchdog {
 public:
  explicit Watchdog(double seconds)
      : thread_([this, seconds] {
          std::unique_lock<std::mutex> lock(mu_);
          if (cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return done_; })) {
            return;
          }
          std::cerr << "started_cluster_test: still running after " << seconds
                    << " s; stopping the cluster and exiting" << std::endl;
          auto stopped = ray_test::Run({Cli(), "stop"}, {}, 60);
          std::cerr << stopped.output << std::endl;
          std::_Exit(3);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

Watchdog *watchdog = nullptr;

class StartedClusterEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    isolated = new ray_test::IsolatedRayEnv();
    watchdog = new Watchdog(240);  // ctest's TIMEOUT for this test is 300 s
    const std::string port = std::to_string(ray_test::FreePort());
    const std::string temp_dir = isolated->temp_dir() + "/sessions";
    auto started = ray_test::Run({Cli(), "start", "--head", "--port", port, "--num-cpus",
                                  "2", "--temp-dir", temp_dir},
                                 {}, 120);
    ASSERT_EQ(started.status, 0) << started.output;
    address = "127.0.0.1:" + port;
    ASSERT_NE(started.output.find("GCS address:   " + address), std::string::npos)
        << started.output;
    cluster_pids = {PidOnLine(started.output, "GCS address:"),
                    PidOnLine(started.output, "Node manager:")};
    ASSERT_GT(cluster_pids[0], 0) << started.output;
    ASSERT_GT(cluster_pids[1], 0) << started.output;
    // The sessions went to --temp-dir, and `ray start` said where the token is, not what.
    auto sessions = ray_test::SessionNames(temp_dir);
    ASSERT_EQ(sessions.size(), 1u) << "sessions under " << temp_dir;
    std::string token = ReadFile(temp_dir + "/" + sessions[0] + "/token");
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    ASSERT_GE(token.size(), 16u);
    EXPECT_EQ(started.output.find(token), std::string::npos) << "the token was printed";
    EXPECT_NE(started.output.find(temp_dir + "/" + sessions[0] + "/token"), std::string::npos)
        << started.output;
    // Joins by address, as upstream's docs show: flags name the address and the code.
    std::vector<std::string> args = {"started_cluster_test", "--ray_address=" + address,
                                     "--ray_code_search_path=" + kCodeSearchPath};
    std::vector<char *> argv;
    for (auto &a : args) argv.push_back(a.data());
    ray::RayConfig config;
    ray::Init(config, static_cast<int>(argv.size()), argv.data());
    ASSERT_TRUE(ray::IsInitialized());
  }

  void TearDown() override {
    ray::Shutdown();
    EXPECT_FALSE(ray::IsInitialized());
    // `ray stop` stops what `ray start` started (it reads RAY_TMPDIR's record: only ours).
    auto stopped = ray_test::Run({Cli(), "stop"}, {}, 120);
    EXPECT_EQ(stopped.status, 0) << stopped.output;
    for (pid_t pid : cluster_pids) {
      EXPECT_TRUE(ray_test::WaitFor([&] { return !ray_test::Alive(pid); }, 30.0))
          << "pid " << pid << " survived ray stop";
    }
    isolated->ExpectNothingLeft(30.0);
    delete watchdog;
    delete isolated;
  }
};

testing::Environment *const environment =
    testing::AddGlobalTestEnvironment(new StartedClusterEnvironment());

struct StoreReading {
  int64_t num_objects = -1;
  int64_t used_bytes = -1;
  std::vector<pid_t> worker_pids;
  bool met = false;
};

// cpp/tests/python/cluster_probe.py: the object stores and workers of the cluster's nodes.
StoreReading Probe(const std::vector<std::string> &until = {}) {
  std::vector<std::string> argv = {RAY_TEST_PYTHON, std::string(RAY_TEST_PYTHON_DIR) + "/cluster_probe.py",
                                   address};
  argv.insert(argv.end(), until.begin(), until.end());
  auto result = ray_test::Run(argv, {}, 90);
  StoreReading reading;
  reading.met = result.status == 0;
  size_t at = result.output.rfind("num_objects=");
  if (at == std::string::npos) {
    ADD_FAILURE() << "cluster_probe.py failed: " << result.output;
    return reading;
  }
  std::string line = result.output.substr(at);
  reading.num_objects = std::stoll(line.substr(line.find('=') + 1));
  reading.used_bytes = std::stoll(line.substr(line.find("used_bytes=") + 11));
  std::stringstream pids(line.substr(line.find("worker_pids=") + 12));
  std::string pid;
  while (std::getline(pids, pid, ',')) {
    if (!pid.empty() && std::isdigit(static_cast<unsigned char>(pid[0]))) {
      reading.worker_pids.push_back(static_cast<pid_t>(std::stol(pid)));
    }
  }
  return reading;
}

// First, while the cluster holds nothing else: the readings are this test's alone.
TEST(KilledDriver, LeavesNothingPinned) {
  StoreReading before = Probe();
  ASSERT_GE(before.num_objects, 0);
  auto tagged_before = ray_test::TaggedProcesses(isolated->tag());
  auto driver = ray_test::Child::Spawn(
      {RAY_KILLED_DRIVER, "--ray_address=" + address, "--ray_code_search_path=" + kCodeSearchPath,
       isolated->temp_dir() + "/task_pid"},
      {"RAY_CPP_RECONNECT_GRACE_MS=1000"});
  const std::string ready = driver->WaitForLine("ready actor_pid", 90);
  pid_t actor_pid = static_cast<pid_t>(ray_test::NumberAfter(ready, "actor_pid"));
  pid_t task_pid = static_cast<pid_t>(ray_test::NumberAfter(ready, "task_pid"));
  StoreReading during = Probe();
  // Three 2 MiB puts and the actor's 1 MiB object are in shared memory.
  EXPECT_GE(during.num_objects, before.num_objects + 4);
  EXPECT_GE(during.used_bytes, before.used_bytes + (7 << 20));
  EXPECT_TRUE(ray_test::Alive(actor_pid));
  EXPECT_TRUE(ray_test::Alive(task_pid));

  driver->Signal(SIGKILL);
  EXPECT_EQ(driver->Wait(10), 128 + SIGKILL);
  // The session's owner notices (no KeepAlive for 1 s), exits, and its job ends: its objects
  // are freed, its actor (and the objects the actor owned) goes.
  StoreReading after = Probe({"--until-objects", std::to_string(before.num_objects),
                              "--until-bytes", std::to_string(before.used_bytes), "--timeout",
                              "30"});
  EXPECT_TRUE(after.met) << "the stores held (or CPUs are still taken) " << after.num_objects << " objects, "
                         << after.used_bytes << " bytes; before the driver: "
                         << before.num_objects << ", " << before.used_bytes;
  EXPECT_TRUE(ray_test::WaitFor([&] { return !ray_test::Alive(actor_pid); }, 30))
      << "the actor's process " << actor_pid << " survived its driver";
  // The worker still running the driver's task is not given to anyone else: it is ended.
  EXPECT_TRUE(ray_test::WaitFor([&] { return !ray_test::Alive(task_pid); }, 30))
      << "the worker " << task_pid << " running the dead driver's task survived it";
  // Every process that appeared for the driver is gone, but idle pool workers.
  std::vector<pid_t> extra;
  bool gone = ray_test::WaitFor(
      [&] {
        auto workers = Probe().worker_pids;
        extra.clear();
        for (pid_t pid : ray_test::TaggedProcesses(isolated->tag())) {
          bool old = std::find(tagged_before.begin(), tagged_before.end(), pid) != tagged_before.end();
          bool worker = std::find(workers.begin(), workers.end(), pid) != workers.end();
          if (!old && !worker) extra.push_back(pid);
        }
        return extra.empty();
      },
      30);
  EXPECT_TRUE(gone) << "still running: " << ray_test::Join(extra);
}

TEST(StartedCluster, SeedSnippetsTasksAndActors) {
  constexpr int kWait = 60000;  // a failure fails the test rather than hanging it
  ray::ObjectRef<int> obj_ref = ray::Put(1);
  EXPECT_TRUE(*obj_ref.Get() == 1);
  std::vector<ray::ObjectRef<int>> obj_refs;
  for (int i = 0; i < 3; i++) {
    obj_refs.emplace_back(ray::Put(i));
  }
  auto results = ray::Get(obj_refs);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(*results[2], 2);
  EXPECT_EQ(*ray::Task(Plus).Remote(ray::Put(2), 3).Get(kWait), 5);
  EXPECT_EQ(*ray::Task(NestedPlus).Remote(1, 1).Get(kWait), 20);
  EXPECT_EQ(*ray::Task(ray::PyFunction<int64_t>{"cpp_check_mod", "add"}).Remote(1, 2).Get(kWait),
            3);
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(5);
  std::vector<ray::ObjectRef<int>> adds;
  for (int i = 0; i < 20; ++i) adds.push_back(counter.Task(&Counter::Add).Remote(2));
  auto sums = ray::Get(adds, kWait);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(*sums[i], 7 + 2 * i);
  ray::ActorHandleXlang py = ray::Actor(ray::PyActorClass{"cpp_check_mod", "Counter"}).Remote(1);
  EXPECT_EQ(*py.Task(ray::PyActorMethod<int>{"incr"}).Remote(4).Get(kWait), 5);
  try {
    ray::Task(Fail).Remote(3).Get(kWait);
    FAIL() << "expected RayTaskException";
  } catch (const ray::internal::RayTaskException &e) {
    EXPECT_EQ(e.RemoteType(), "std::invalid_argument");
  }
  EXPECT_THROW(ray::Get(ray::Task(ray::PyFunction<int>{"time", "sleep"}).Remote(10), 100),
               ray::internal::RayTimeoutException);
}

// Other drivers join while this one runs: `ray::Init()` by RAY_ADDRESS, and
// `ray::Init(config, argc, argv)` by upstream's flags amid the program's own. A namespace
// given by flag or by name reaches an actor this driver named there.
TEST(StartedCluster, DriversJoinByEnvironmentAndByFlags) {
  auto shared = ray::Actor(Counter::FactoryCreate).SetName("shared_counter", "cpp_shared_ns").Remote(100);
  ASSERT_EQ(*shared.Task(&Counter::Get).Remote().Get(60000), 100);
  // This driver's namespace is not cpp_shared_ns: the name is found only there.
  EXPECT_FALSE(ray::GetActor<Counter>("shared_counter").has_value());
  ASSERT_TRUE(ray::GetActor<Counter>("shared_counter", "cpp_shared_ns").has_value());

  auto by_env = ray_test::Run({RAY_JOINING_DRIVER, "init"}, {"RAY_ADDRESS=" + address}, 120);
  ASSERT_EQ(by_env.status, 0) << by_env.output;
  for (const char *line : {"initialized yes", "put_get 1099511627776", "python 42",
                           "in_own_namespace none", "in_cpp_shared_ns found", "counter 100",
                           "done shut down"}) {
    EXPECT_NE(by_env.output.find(std::string(line) + "\n"), std::string::npos)
        << "no line '" << line << "' in:\n" << by_env.output;
  }

  auto by_flags = ray_test::Run(
      {RAY_JOINING_DRIVER, "flags", "--verbose", "--ray_address=" + address, "input.txt",
       "--ray_code_search_path", kCodeSearchPath, "--ray_job_namespace=cpp_shared_ns",
       "--ray_node_ip_address=127.0.0.1", "--threads=4"},
      {"RAY_ADDRESS=127.0.0.1:1"},  // the flag wins over the environment
      120);
  ASSERT_EQ(by_flags.status, 0) << by_flags.output;
  for (const char *line : {"argc 10", "own_args --verbose input.txt --threads=4", "initialized yes",
                           "put_get 1099511627776", "python 42", "in_own_namespace found",
                           "in_cpp_shared_ns found", "counter 105", "cpp 5", "python_module 15",
                           "done shut down"}) {
    EXPECT_NE(by_flags.output.find(std::string(line) + "\n"), std::string::npos)
        << "no line '" << line << "' in:\n" << by_flags.output;
  }
  // The other driver's call reached this driver's actor.
  EXPECT_EQ(*shared.Task(&Counter::Get).Remote().Get(60000), 105);
  shared.Kill();
}

// A Python driver calls C++: RAY_REMOTE functions (one of them using the API itself) and the
// C++ actor, from the library on its job's code search path; a C++ exception as Python sees it.
TEST(StartedCluster, PythonDriverCallsCppFunctionsAndActors) {
  auto run = ray_test::Run({RAY_TEST_PYTHON, std::string(RAY_TEST_PYTHON_DIR) + "/cpp_from_python.py",
                            address, RAY_CLUSTER_CODE_LIBRARY},
                           {}, 120);
  ASSERT_EQ(run.status, 0) << run.output;
  for (const char *line : {"plus 42", "sum_of 1099511627777", "describe a=1,2;b=;", "nested 50",
                           "counter [11, 13, 16, 16]", "done"}) {
    EXPECT_NE(run.output.find(std::string(line) + "\n"), std::string::npos)
        << "no line '" << line << "' in:\n" << run.output;
  }
  size_t error = run.output.find("error ");
  ASSERT_NE(error, std::string::npos) << run.output;
  std::string seen = run.output.substr(error, run.output.find('\n', error) - error);
  EXPECT_NE(seen.find("std::invalid_argument: bad input 4"), std::string::npos) << seen;
}

// The seed program (examples/cpp/objects.cc, built as a user builds it) joins this cluster.
TEST(StartedCluster, ExampleJoinsByAddress) {
  auto run = ray_test::Run({RAY_EXAMPLE_BINARY, "--ray_address=" + address},
                           {"LD_LIBRARY_PATH=" + std::string(RAY_INSTALLED_LIBRARY_DIR)}, 120);
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("objects example: ok"), std::string::npos) << run.output;
}

}  // namespace
