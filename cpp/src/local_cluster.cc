#include "local_cluster.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "constants.h"
#include "logging.h"
#include "ray/api/ray_exception.h"

namespace ray {
namespace internal {
namespace {

std::string Trim(const std::string &s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool IsExecutable(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// <repo> of an installed libray_api.so (<repo>/python/ray/cpp/lib/libray_api.so).
std::string RepoOfThisLibrary() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&RepoOfThisLibrary), &info) == 0 || info.dli_fname == nullptr) {
    return "";
  }
  std::error_code ec;
  auto path = std::filesystem::weakly_canonical(info.dli_fname, ec);
  if (ec) return "";
  return path.parent_path().parent_path().parent_path().parent_path().parent_path().string();
}

}  // namespace

bool ParseStartLine(const std::string &line, StartOutput *out) {
  std::string text = Trim(line);
  const std::string address_label = "GCS address:";
  const std::string session_label = "Session:";
  if (text.rfind(address_label, 0) == 0) {
    std::string rest = Trim(text.substr(address_label.size()));
    size_t space = rest.find_first_of(" \t");
    out->gcs_address = rest.substr(0, space);
    return !out->gcs_address.empty();
  }
  if (text.rfind(session_label, 0) == 0) {
    std::string rest = Trim(text.substr(session_label.size()));
    out->session_dir = rest.substr(0, rest.find_first_of(" \t"));
  }
  return false;
}

std::string FindRayCli(const EnvLookup &env) {
  if (auto cli = env("RAY_CLI"); cli && !cli->empty()) {
    if (!IsExecutable(*cli)) throw RayException("RAY_CLI=" + *cli + " is not an executable file");
    return *cli;
  }
  std::vector<std::string> looked;
  if (auto path = env("PATH")) {
    for (const auto &dir : SplitPath(*path)) {
      std::string candidate = dir + "/ray";
      if (IsExecutable(candidate)) return candidate;
    }
    looked.push_back("PATH");
  }
  std::vector<std::string> repos = {RepoOfThisLibrary()};
#ifdef RAY_SOURCE_REPO_ROOT
  repos.push_back(RAY_SOURCE_REPO_ROOT);
#endif
  for (const auto &repo : repos) {
    if (repo.empty()) continue;
    std::string candidate = repo + "/.venv/bin/ray";
    if (IsExecutable(candidate)) return candidate;
    looked.push_back(candidate);
  }
  std::string where;
  for (const auto &l : looked) where += (where.empty() ? "" : ", ") + l;
  throw RayException(
      "ray::Init() with no address starts a local cluster with the `ray` command, which was not "
      "found (looked in RAY_CLI, " + where + "). Set RAY_CLI, or give an address "
      "(RAY_ADDRESS / --ray_address) of a running cluster.");
}

std::vector<std::string> StartCommand(const std::string &cli, int num_cpus,
                                      const std::string &node_ip_address,
                                      const std::vector<std::string> &head_args) {
  std::vector<std::string> command = {cli,         "start", "--head", "--port", "0",
                                      "--num-cpus", std::to_string(num_cpus), "--block"};
  if (!node_ip_address.empty()) {
    command.push_back("--node-ip-address");
    command.push_back(node_ip_address);
  }
  command.insert(command.end(), head_args.begin(), head_args.end());
  return command;
}

std::unique_ptr<LocalCluster> LocalCluster::Start(const std::vector<std::string> &command,
                                                  double timeout_s) {
  std::unique_ptr<LocalCluster> cluster(new LocalCluster());
  cluster->Launch(command);
  std::unique_lock<std::mutex> lock(cluster->mu_);
  bool ready = cluster->cv_.wait_for(
      lock, std::chrono::duration<double>(timeout_s), [&] {
        return cluster->have_address_ || cluster->exited_ || !cluster->launch_error_.empty() ||
               cluster->output_closed_;
      });
  if (cluster->have_address_) {
    // The session line (where the token is stored) follows the address line; wait briefly
    // for it (Connect falls back to the records of the clusters started on this machine).
    cluster->cv_.wait_for(lock, std::chrono::seconds(5), [&] {
      return !cluster->output_.session_dir.empty() || cluster->exited_ ||
             cluster->output_closed_;
    });
    return cluster;
  }
  // Let the reader take the child's last lines before they are quoted.
  cluster->cv_.wait_for(lock, std::chrono::seconds(2), [&] { return cluster->output_closed_; });
  if (cluster->have_address_ && !cluster->exited_) return cluster;
  std::string command_text;
  for (const auto &c : command) command_text += (command_text.empty() ? "" : " ") + c;
  std::string why;
  if (!cluster->launch_error_.empty()) {
    why = cluster->launch_error_;
  } else if (!ready) {
    why = "it did not print its GCS address within " + std::to_string(static_cast<int>(timeout_s)) +
          " s (RAY_PROCESS_START_TIMEOUT_S)";
  } else if (cluster->exited_) {
    why = "it exited with status " + std::to_string(cluster->exit_status_);
  } else {
    why = "it closed its output without printing a GCS address";
  }
  std::string tail = cluster->Tail();
  lock.unlock();
  cluster->Stop(5.0);
  throw RayException("could not start a local cluster with `" + command_text + "`: " + why +
                     (tail.empty() ? "" : ". Its last output:\n" + tail));
}

void LocalCluster::Launch(const std::vector<std::string> &command) {
  int out_pipe[2];
  int in_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(in_pipe, O_CLOEXEC) != 0) {
    throw RayException(std::string("pipe failed: ") + std::strerror(errno));
  }
  stdin_write_fd_ = in_pipe[1];
  std::vector<std::string> args = command;
  // The waiter thread forks and then waits for the child: PR_SET_PDEATHSIG is tied to the
  // thread that forked, so that thread must live as long as the child.
  waiter_ = std::thread([this, args, out_pipe, in_pipe]() {
    std::vector<char *> argv;
    for (const auto &a : args) argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(127);
      ::dup2(in_pipe[0], STDIN_FILENO);
      ::dup2(out_pipe[1], STDOUT_FILENO);
      ::dup2(out_pipe[1], STDERR_FILENO);
      ::execv(argv[0], argv.data());
      const char msg[] = "exec of the ray command failed\n";
      (void)!::write(STDERR_FILENO, msg, sizeof(msg) - 1);
      ::_exit(127);
    }
    ::close(out_pipe[1]);
    ::close(in_pipe[0]);
    {
      std::lock_guard<std::mutex> lock(mu_);
      launched_ = true;
      if (pid < 0) {
        launch_error_ = std::string("fork failed: ") + std::strerror(errno);
      } else {
        pid_ = pid;
      }
      cv_.notify_all();
    }
    if (pid < 0) {
      ::close(out_pipe[0]);
      return;
    }
    reader_ = std::thread([this, fd = out_pipe[0]]() { ReadOutput(fd); });
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    std::lock_guard<std::mutex> lock(mu_);
    exited_ = true;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    cv_.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return launched_; });
}

void LocalCluster::ReadOutput(int fd) {
  std::string pending;
  char buffer[4096];
  while (true) {
    // Poll, so that Stop() is never blocked by a grandchild that kept the pipe open.
    struct pollfd p = {fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 200);
    if (ready == 0) {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_reading_) break;
      continue;
    }
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      RAY_CPP_LOG(kDebug) << "ray start: " << line;
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
      tail_.push_back(line);
      if (tail_.size() > 30) tail_.pop_front();
      if (ParseStartLine(line, &output_) && !have_address_) {
        have_address_ = true;
        cv_.notify_all();
      }
    }
  }
  ::close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  output_closed_ = true;
  cv_.notify_all();
}

std::string LocalCluster::Tail() const {
  std::string text;
  for (const auto &line : tail_) text += line + "\n";
  return text;
}

void LocalCluster::Stop(double timeout_s) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGTERM);
      if (!cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return exited_; })) {
        RAY_CPP_LOG(kWarning) << "the local cluster (pid " << pid_ << ") did not stop within "
                              << timeout_s << " s of SIGTERM; killing it";
        ::kill(pid_, SIGKILL);
        cv_.wait(lock, [&] { return exited_; });
      }
    }
  }
  if (waiter_.joinable()) waiter_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_reading_ = true;
  }
  if (stdin_write_fd_ >= 0) {
    ::close(stdin_write_fd_);
    stdin_write_fd_ = -1;
  }
  if (reader_.joinable()) reader_.join();
}

LocalCluster::~LocalCluster() { Stop(Constants::ProcessStopTimeoutS()); }

}  // namespace internal
}  // namespace ray
