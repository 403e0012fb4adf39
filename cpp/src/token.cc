#include "token.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

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

}  // namespace

std::string TempDir(const EnvLookup &env) {
  auto value = env("RAY_TMPDIR");
  return (value && !value->empty()) ? *value : "/tmp/openray";
}

std::optional<CurrentCluster> ReadCurrentCluster(const std::string &temp_dir) {
  std::ifstream in(temp_dir + "/ray_current_cluster");
  if (!in) return std::nullopt;
  std::string address, session_dir;
  std::getline(in, address);
  std::getline(in, session_dir);
  address = Trim(address);
  session_dir = Trim(session_dir);
  if (address.empty() || session_dir.empty()) return std::nullopt;  // e.g. upstream's record
  return CurrentCluster{address, session_dir};
}

std::optional<std::string> ReadSessionToken(const std::string &session_dir) {
  std::ifstream in(session_dir + "/token");
  if (!in) return std::nullopt;
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string token = Trim(buffer.str());
  if (token.empty()) return std::nullopt;
  return token;
}

std::optional<std::string> RegisteredSessionDir(const std::string &temp_dir, uid_t uid,
                                                const std::string &gcs_address) {
  // session.py: `host.replace('/', '_')` + "_" + port, for host, _, port = rpartition(':').
  size_t colon = gcs_address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = gcs_address.substr(0, colon);
  for (auto &c : host) {
    if (c == '/') c = '_';
  }
  std::string name = host + "_" + gcs_address.substr(colon + 1);
  std::ifstream in(temp_dir + "/clusters-" + std::to_string(uid) + "/" + name);
  if (!in) return std::nullopt;
  std::string address, session_dir;
  std::getline(in, address);
  std::getline(in, session_dir);
  if (Trim(address) != gcs_address || Trim(session_dir).empty()) return std::nullopt;
  return Trim(session_dir);
}

std::optional<std::string> FindToken(const std::string &gcs_address, const EnvLookup &env) {
  if (auto token = env("RAY_CLUSTER_TOKEN"); token && !token->empty()) return *token;
  const std::string temp_dir = TempDir(env);
  if (auto session_dir = RegisteredSessionDir(temp_dir, ::getuid(), gcs_address)) {
    if (auto token = ReadSessionToken(*session_dir)) return token;
  }
  auto current = ReadCurrentCluster(temp_dir);
  if (current && current->gcs_address == gcs_address) {
    return ReadSessionToken(current->session_dir);
  }
  return std::nullopt;
}

std::string ResolveAutoAddress(const std::string &address, const EnvLookup &env) {
  if (address != "auto") return address;
  auto current = ReadCurrentCluster(TempDir(env));
  if (!current) {
    throw RayException("address \"auto\": no cluster was started with `ray start --head` on this "
                       "machine (no record in " +
                       TempDir(env) + "/ray_current_cluster)");
  }
  return current->gcs_address;
}

}  // namespace internal
}  // namespace ray
