#pragma once

// The local cluster `ray::Init()` starts when no address is given:
//   ray start --head --port 0 --num-cpus <n> --block [head_args...]
// The GCS address comes from the line "  GCS address:   HOST:PORT" of its stdout, the session
// directory from "  Session:       DIR  (logs in logs/)"; the token is that directory's `token`
// file (`ray start` prints where the token is stored, never the token itself).
//
// Not leaving it behind: the child is forked by a thread that lives exactly as long as the
// child (it waits for it), and sets prctl(PR_SET_PDEATHSIG, SIGTERM) before exec, so when this
// process dies, even by SIGKILL, the kernel sends the child SIGTERM, which `--block` turns into
// stopping the node. The child's stdin is also a pipe whose write end only this process holds:
// it reads EOF when this process is gone (a second signal the CLI may watch). Shutdown sends
// SIGTERM and waits; after RAY_CPP_PROCESS_STOP_TIMEOUT_S it sends SIGKILL.

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config.h"

namespace ray {
namespace internal {

// What `ray start --head` printed.
struct StartOutput {
  std::string gcs_address;
  std::string session_dir;
};

// Reads one stdout line of `ray start`; returns true when the line gave the GCS address.
bool ParseStartLine(const std::string &line, StartOutput *out);

// The `ray` command: $RAY_CLI, else `ray` on PATH, else <repo>/.venv/bin/ray. Throws
// RayException naming where it looked.
std::string FindRayCli(const EnvLookup &env);

// The command line Init runs.
std::vector<std::string> StartCommand(const std::string &cli, int num_cpus,
                                      const std::string &node_ip_address,
                                      const std::vector<std::string> &head_args);

class LocalCluster {
 public:
  // Starts the cluster and waits for its address; throws RayException (with the output's
  // last lines) when it exits early or does not report in time.
  static std::unique_ptr<LocalCluster> Start(const std::vector<std::string> &command,
                                             double timeout_s);
  ~LocalCluster();

  const StartOutput &output() const { return output_; }
  pid_t pid() const { return pid_; }

  // SIGTERM, wait, SIGKILL after timeout_s. Idempotent.
  void Stop(double timeout_s);

 private:
  LocalCluster() = default;
  void Launch(const std::vector<std::string> &command);
  void ReadOutput(int fd);
  std::string Tail() const;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  pid_t pid_ = -1;
  bool launched_ = false;
  bool exited_ = false;
  int exit_status_ = 0;
  std::string launch_error_;
  bool have_address_ = false;
  bool output_closed_ = false;
  StartOutput output_;
  std::deque<std::string> tail_;
  int stdin_write_fd_ = -1;
  std::thread waiter_;
  std::thread reader_;
  bool stopped_ = false;
  bool stop_reading_ = false;
};

}  // namespace internal
}  // namespace ray
