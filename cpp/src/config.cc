#include "config.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "ray/api/ray_exception.h"

namespace ray {
namespace internal {

EnvLookup ProcessEnv() {
  return [](const std::string &name) -> std::optional<std::string> {
    const char *value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

CommandLineFlags ParseCommandLineFlags(int argc, char **argv) {
  CommandLineFlags flags;
  struct Known {
    const char *name;
    std::optional<std::string> *slot;
  };
  const Known known[] = {
      {"ray_address", &flags.ray_address},
      {"ray_code_search_path", &flags.ray_code_search_path},
      {"ray_node_ip_address", &flags.ray_node_ip_address},
      {"ray_job_namespace", &flags.ray_job_namespace},
  };
  for (int i = 1; i < argc && argv != nullptr; ++i) {
    if (argv[i] == nullptr) continue;
    std::string arg = argv[i];
    if (arg == "--") break;  // the rest belongs to the program
    size_t dashes = arg.rfind("--", 0) == 0 ? 2 : (arg.rfind("-", 0) == 0 ? 1 : 0);
    if (dashes == 0) continue;
    std::string body = arg.substr(dashes);
    size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    for (const auto &k : known) {
      if (name != k.name) continue;
      if (eq != std::string::npos) {
        *k.slot = body.substr(eq + 1);
      } else if (i + 1 < argc && argv[i + 1] != nullptr) {
        *k.slot = argv[++i];
      } else {
        throw RayException(std::string("the flag --") + k.name + " needs a value");
      }
    }
  }
  return flags;
}

std::vector<std::string> SplitPath(const std::string &text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos) end = text.size();
    if (end > start) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

ResolvedConfig ResolveConfig(const RayConfig &config, const CommandLineFlags &flags,
                             const EnvLookup &env) {
  if (config.local_mode) {
    throw RayException(
        "RayConfig::local_mode is not supported: run against a cluster (ray::Init() starts a "
        "local one when no address is given)");
  }
  ResolvedConfig resolved;
  if (flags.ray_address) {
    resolved.address = *flags.ray_address;
  } else if (!config.address.empty()) {
    resolved.address = config.address;
  } else if (auto value = env("RAY_ADDRESS"); value && !value->empty()) {
    resolved.address = *value;
  }
  if (resolved.address.rfind("ray://", 0) == 0) resolved.address = resolved.address.substr(6);

  std::vector<std::string> paths =
      flags.ray_code_search_path ? SplitPath(*flags.ray_code_search_path) : config.code_search_path;
  for (const auto &path : paths) {
    if (path.empty()) continue;
    std::error_code ec;
    auto absolute = std::filesystem::absolute(path, ec);
    resolved.code_search_path.push_back(ec ? path : absolute.lexically_normal().string());
  }
  if (flags.ray_node_ip_address) resolved.node_ip_address = *flags.ray_node_ip_address;
  resolved.ray_namespace = flags.ray_job_namespace ? *flags.ray_job_namespace : config.ray_namespace;
  resolved.head_args = config.head_args;
  resolved.default_detached = config.default_actor_lifetime == ActorLifetime::DETACHED;
  return resolved;
}

}  // namespace internal
}  // namespace ray
