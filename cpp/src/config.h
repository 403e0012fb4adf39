#pragma once

// What ray::Init connects to and how: RayConfig, command-line flags and the environment,
// resolved into one plain struct.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ray/api/ray_config.h"

namespace ray {
namespace internal {

// Reads an environment variable (std::getenv in production; a map in tests).
using EnvLookup = std::function<std::optional<std::string>(const std::string &)>;
EnvLookup ProcessEnv();

// Upstream's command-line flags (`--name=value` or `--name value`); others are ignored.
struct CommandLineFlags {
  std::optional<std::string> ray_address;
  std::optional<std::string> ray_code_search_path;
  std::optional<std::string> ray_node_ip_address;
  std::optional<std::string> ray_job_namespace;
};

CommandLineFlags ParseCommandLineFlags(int argc, char **argv);

struct ResolvedConfig {
  // HOST:PORT of the GCS, "auto", or "" (start a local cluster).
  std::string address;
  // Absolute directories or files.
  std::vector<std::string> code_search_path;
  std::string node_ip_address;
  std::string ray_namespace;
  std::vector<std::string> head_args;
  bool default_detached = false;
};

// Precedence: flags, then the config, then the environment (RAY_ADDRESS).
// Throws RayException for local_mode.
ResolvedConfig ResolveConfig(const RayConfig &config, const CommandLineFlags &flags,
                             const EnvLookup &env);

// Splits "a:b:c" (empty parts dropped).
std::vector<std::string> SplitPath(const std::string &text, char separator = ':');

}  // namespace internal
}  // namespace ray
