#pragma once

/// \file
/// `ray::RayConfig`: what `ray::Init(config)` connects to and how the job runs.

#include <ray/api/ray_exception.h>

#include <boost/optional.hpp>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ray {

/// How long actors created by the job live by default.
enum class ActorLifetime {
  /// The actor dies with the job (the driver's session).
  NON_DETACHED,
  /// The actor outlives the job.
  DETACHED,
};

/// Settings of `ray::Init(config)`. Command-line flags (`ray::Init(config, argc, argv)`) and
/// environment variables override them (see `ray::Init`).
class RayConfig {
 public:
  /// HOST:PORT of the cluster (its GCS) to join; "auto" for the cluster `ray start` recorded
  /// on this machine. Empty: `RAY_ADDRESS`, else a new local cluster started for this driver.
  std::string address = "";

  /// Upstream's single-process debug mode: not supported (Init throws when set).
  bool local_mode = false;

  /// Directories or shared libraries where workers find the job's code (C++ libraries with
  /// RAY_REMOTE functions, Python modules, Java classes).
  std::vector<std::string> code_search_path;

  /// Extra arguments for `ray start` when Init starts a local cluster.
  std::vector<std::string> head_args = {};

  /// Default lifetime of the job's actors.
  ActorLifetime default_actor_lifetime = ActorLifetime::NON_DETACHED;

  /// Namespace of the job's named actors; empty: a fresh one.
  std::string ray_namespace = "";

  /// Extra metadata of the job (kept for source compatibility; not sent yet).
  std::unordered_map<std::string, std::string> job_config_metadata;

  /* Unstable parameters, kept for source compatibility with upstream; unused. */
  boost::optional<std::string> redis_password_;
  boost::optional<std::string> redis_username_;
};

}  // namespace ray
