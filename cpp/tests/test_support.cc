#include "test_support.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace ray_test {

namespace {

using Clock = std::chrono::steady_clock;

std::string ReadFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// fork + exec in a new process group; stdout/stderr go to `out_fd` (if >= 0).
pid_t SpawnProcess(const std::vector<std::string> &argv, const std::vector<std::string> &extra_env,
                   int out_fd, int close_fd) {
  std::vector<char *> args;
  for (const auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_copy = extra_env;
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);
    // If the test binary dies, its children do not outlive it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (out_fd >= 0) {
      ::dup2(out_fd, STDOUT_FILENO);
      ::dup2(out_fd, STDERR_FILENO);
    }
    if (close_fd >= 0) ::close(close_fd);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    for (auto &entry : env_copy) ::putenv(entry.data());
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  return pid;
}

}  // namespace

bool WaitFor(const std::function<bool()> &done, double timeout_s) {
  auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  while (true) {
    if (done()) return true;
    if (Clock::now() > deadline) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::string MakeTempDir(const std::string &prefix) {
  std::string pattern = "/tmp/" + prefix + "XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  return buffer.data();
}

void RemoveTree(const std::string &path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

// ---- Child ---------------------------------------------------------------------------------

std::unique_ptr<Child> Child::Spawn(const std::vector<std::string> &argv,
                                    const std::vector<std::string> &extra_env) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::unique_ptr<Child> child(new Child());
  child->pid_ = SpawnProcess(argv, extra_env, fds[1], fds[0]);
  ::close(fds[1]);
  child->reader_ = std::thread([c = child.get(), fd = fds[0]] { c->Read(fd); });
  return child;
}

void Child::Read(int fd) {
  char buffer[4096];
  while (true) {
    // Polls, so a grandchild that kept the pipe open (a daemon) never blocks the destructor.
    struct pollfd p = {fd, POLLIN, 0};
    int ready = ::poll(&p, 1, 100);
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
    std::lock_guard<std::mutex> lock(mu_);
    output_.append(buffer, static_cast<size_t>(n));
    cv_.notify_all();
  }
  ::close(fd);
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

std::string Child::WaitForLine(const std::string &needle, double timeout_s) {
  std::unique_lock<std::mutex> lock(mu_);
  size_t at = std::string::npos;
  bool found = cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] {
    at = output_.find(needle);
    if (at == std::string::npos) return closed_;
    return output_.find('\n', at) != std::string::npos || closed_;
  });
  if (!found || at == std::string::npos) {
    throw std::runtime_error("pid " + std::to_string(pid_) + " printed no line with '" + needle +
                             "' within " + std::to_string(timeout_s) + " s; its output:\n" +
                             output_);
  }
  size_t begin = output_.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  size_t end = output_.find('\n', at);
  return output_.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

int Child::Wait(double timeout_s) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (reaped_) return status_;
  }
  bool exited = WaitFor(
      [&] {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
          std::lock_guard<std::mutex> lock(mu_);
          reaped_ = true;
          status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
          return true;
        }
        return r < 0;  // not our child any more
      },
      timeout_s);
  std::lock_guard<std::mutex> lock(mu_);
  return exited ? status_ : -1;
}

void Child::Signal(int signal) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!reaped_) ::kill(pid_, signal);
}

std::string Child::FinalOutput(double timeout_s) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [&] { return closed_; });
  return output_;
}

std::string Child::Output() const {
  std::lock_guard<std::mutex> lock(mu_);
  return output_;
}

Child::~Child() {
  bool reaped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reaped = reaped_;
  }
  if (!reaped) {
    ::kill(-pid_, SIGKILL);  // its process group: the child and what it started in it
    Wait(10.0);
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return closed_; });
    stop_reading_ = true;
  }
  if (reader_.joinable()) reader_.join();
}

RunResult Run(const std::vector<std::string> &argv, const std::vector<std::string> &extra_env,
              double timeout_s) {
  auto child = Child::Spawn(argv, extra_env);
  RunResult result;
  result.status = child->Wait(timeout_s);
  if (result.status < 0) {
    ::kill(-child->pid(), SIGKILL);
    child->Wait(10.0);
  }
  result.output = child->FinalOutput(2.0);
  return result;
}

// ---- processes and shared memory ------------------------------------------------------------

bool Alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
  return stat[paren + 2] != 'Z' && stat[paren + 2] != 'X';
}

std::vector<pid_t> TaggedProcesses(const std::string &tag) {
  const std::string needle = "RAY_CPP_TEST_TAG=" + tag;
  std::vector<pid_t> out;
  DIR *proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (dirent *entry = ::readdir(proc)) {
    char *end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid == ::getpid()) continue;
    std::string environ = ReadFile("/proc/" + std::string(entry->d_name) + "/environ");
    size_t at = 0;
    while ((at = environ.find(needle, at)) != std::string::npos) {
      bool starts = at == 0 || environ[at - 1] == '\0';
      size_t after = at + needle.size();
      bool ends = after == environ.size() || environ[after] == '\0';
      if (starts && ends) {
        if (Alive(static_cast<pid_t>(pid))) out.push_back(static_cast<pid_t>(pid));
        break;
      }
      at = after;
    }
  }
  ::closedir(proc);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SessionNames(const std::string &root) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 1) {
      it.disable_recursion_pending();
      continue;
    }
    const std::string name = it->path().filename().string();
    if (it->is_directory() && name.rfind("session_", 0) == 0 && name != "session_latest") {
      names.push_back(name);
      it.disable_recursion_pending();
    }
  }
  return names;
}

std::vector<std::string> ShmEntriesOf(const std::vector<std::string> &session_names) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto &entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string name = entry.path().filename().string();
    for (const auto &session : session_names) {
      std::string tail = session.size() > 26 ? session.substr(session.size() - 26) : session;
      if (name.rfind("ray_" + tail + "_", 0) == 0) out.push_back(name);
    }
  }
  return out;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port");
  }
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

int64_t NumberAfter(const std::string &text, const std::string &label) {
  size_t at = text.find(label + " ");
  if (at == std::string::npos) throw std::runtime_error("no '" + label + "' in: " + text);
  return std::stoll(text.substr(at + label.size() + 1));
}

std::string Join(const std::vector<pid_t> &pids) {
  std::string out;
  for (pid_t pid : pids) out += (out.empty() ? "" : " ") + std::to_string(pid);
  return out;
}

// ---- IsolatedRayEnv ---------------------------------------------------------------------------

IsolatedRayEnv::IsolatedRayEnv() {
  temp_dir_ = MakeTempDir("ray_cpp_cluster_");
  std::random_device random;
  tag_ = std::to_string(::getpid()) + "-" + std::to_string(random());
  ::setenv("RAY_TMPDIR", temp_dir_.c_str(), 1);
  ::setenv("RAY_CPP_TEST_TAG", tag_.c_str(), 1);
}

IsolatedRayEnv::~IsolatedRayEnv() { RemoveTree(temp_dir_); }

void IsolatedRayEnv::ExpectNothingLeft(double timeout_s, const std::vector<pid_t> &allowed) const {
  std::vector<pid_t> left;
  std::vector<std::string> shm;
  const auto sessions = SessionNames(temp_dir_);
  bool clean = WaitFor(
      [&] {
        left.clear();
        for (pid_t pid : TaggedProcesses(tag_)) {
          if (std::find(allowed.begin(), allowed.end(), pid) == allowed.end()) left.push_back(pid);
        }
        shm = ShmEntriesOf(sessions);
        return left.empty() && shm.empty();
      },
      timeout_s);
  EXPECT_TRUE(clean) << "left behind after " << timeout_s << " s: processes [" << Join(left)
                     << "], /dev/shm entries [" << shm.size() << "]"
                     << (shm.empty() ? "" : " first " + shm.front());
  EXPECT_FALSE(sessions.empty()) << "no session directory under " << temp_dir_
                                 << ": the check looked at nothing";
}

}  // namespace ray_test
