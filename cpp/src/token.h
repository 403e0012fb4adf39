#pragma once

// Finding the cluster token and the cluster `ray start` recorded on this machine
// (python/ray/_private/session.py): `$RAY_TMPDIR` (default /tmp/openray) `/ray_current_cluster`
// holds two lines, the GCS address and the session directory, whose `token` file holds the
// token. `RAY_CLUSTER_TOKEN` wins over the record.

#include <optional>
#include <string>

#include "config.h"

namespace ray {
namespace internal {

struct CurrentCluster {
  std::string gcs_address;
  std::string session_dir;
};

// $RAY_TMPDIR or /tmp/openray.
std::string TempDir(const EnvLookup &env);

// The record of `ray start`, if any (both lines non-empty).
std::optional<CurrentCluster> ReadCurrentCluster(const std::string &temp_dir);

// The token of the session directory, trimmed.
std::optional<std::string> ReadSessionToken(const std::string &session_dir);

// RAY_CLUSTER_TOKEN, else the record's token when the record names gcs_address.
std::optional<std::string> FindToken(const std::string &gcs_address, const EnvLookup &env);

// "auto" becomes the recorded address; throws RayException when there is no record.
std::string ResolveAutoAddress(const std::string &address, const EnvLookup &env);

}  // namespace internal
}  // namespace ray
