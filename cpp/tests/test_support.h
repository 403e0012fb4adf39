#pragma once

// What the C++ tests against real clusters share: child processes (each in its own process
// group, stopped by pid), a private RAY_TMPDIR and a process tag per test binary, and the
// checks that a cluster left nothing behind (no process carrying the tag, no /dev/shm entry
// of its sessions). Never kills by name.

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ray_test {

// Polls `done` (every 50 ms) until it is true or `timeout_s` passed; returns its last value.
bool WaitFor(const std::function<bool()> &done, double timeout_s);

// A new directory under /tmp; removed by RemoveTree.
std::string MakeTempDir(const std::string &prefix);
void RemoveTree(const std::string &path);

// A child process in its own process group, its stdout and stderr read into a buffer.
// The destructor kills the group (SIGKILL) if the child still runs, and reaps it.
class Child {
 public:
  // `extra_env` entries are "NAME=value", added to this process's environment.
  static std::unique_ptr<Child> Spawn(const std::vector<std::string> &argv,
                                      const std::vector<std::string> &extra_env = {});
  ~Child();

  pid_t pid() const { return pid_; }
  // The first output line containing `needle`; throws std::runtime_error with the output on
  // timeout or when the child exits first.
  std::string WaitForLine(const std::string &needle, double timeout_s);
  // Exit status (code, or 128 + signal), or -1 if it still runs after timeout_s.
  int Wait(double timeout_s);
  void Signal(int signal);
  std::string Output() const;
  // The output once the pipe closed (every writer exited), or after timeout_s.
  std::string FinalOutput(double timeout_s);

 private:
  Child() = default;
  void Read(int fd);

  pid_t pid_ = -1;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string output_;
  bool closed_ = false;
  bool stop_reading_ = false;
  bool reaped_ = false;
  int status_ = -1;
  std::thread reader_;
};

struct RunResult {
  int status = -1;  // exit code, 128 + signal, or -1 (timed out and killed)
  std::string output;
};

// Runs a command to its end (killed after timeout_s).
RunResult Run(const std::vector<std::string> &argv, const std::vector<std::string> &extra_env,
              double timeout_s);

// True while the process exists and is not a zombie.
bool Alive(pid_t pid);

// Processes whose environment holds RAY_CPP_TEST_TAG=<tag> (what this test binary started,
// and everything they started).
std::vector<pid_t> TaggedProcesses(const std::string &tag);

// Names of the session directories (session_*) under root, one or two levels down.
std::vector<std::string> SessionNames(const std::string &root);

// /dev/shm entries of those sessions' object stores (ray_<last 26 chars of the name>_*).
std::vector<std::string> ShmEntriesOf(const std::vector<std::string> &session_names);

// A TCP port free on 127.0.0.1 right now.
int FreePort();

// Integers printed by the child after "label " on its line, e.g. "pid 123".
int64_t NumberAfter(const std::string &text, const std::string &label);

std::string Join(const std::vector<pid_t> &pids);

// Sets RAY_TMPDIR to a private directory and RAY_CPP_TEST_TAG to a unique tag for this
// process and its children, so clusters started here record themselves apart from anyone
// else's and can be found again by the tag.
class IsolatedRayEnv {
 public:
  IsolatedRayEnv();
  ~IsolatedRayEnv();
  const std::string &temp_dir() const { return temp_dir_; }
  const std::string &tag() const { return tag_; }
  // Fails the current test (gtest) unless, within timeout_s, no tagged process is left but
  // those in `allowed` and no /dev/shm entry of a session under temp_dir() is left.
  void ExpectNothingLeft(double timeout_s, const std::vector<pid_t> &allowed = {}) const;

 private:
  std::string temp_dir_;
  std::string tag_;
};

}  // namespace ray_test
