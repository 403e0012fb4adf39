#pragma once

// Finding the cluster token and the cluster `ray start` recorded on this machine
// (python/ray/_private/session.py). `ray start` no longer prints the token; a client on the
// same machine finds it by the cluster's address:
//   1. `RAY_CLUSTER_TOKEN`, if set;
//   2. this user's record of the clusters started here, one file per cluster:
//      `$RAY_TMPDIR/clusters-<uid>/<host>_<port>` (RAY_TMPDIR defaults to /tmp/openray), whose
//      lines are the GCS address and the session directory; that directory's `token` file
//      (mode 0600) holds the token;
//   3. `$RAY_TMPDIR/ray_current_cluster` (the cluster `address="auto"` finds), same two lines,
//      when it names the same address.

#include <sys/types.h>

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

// The session directory this user's record `clusters-<uid>/<host>_<port>` gives for the
// cluster at gcs_address (its first line must be that address).
std::optional<std::string> RegisteredSessionDir(const std::string &temp_dir, uid_t uid,
                                                const std::string &gcs_address);

// RAY_CLUSTER_TOKEN, else the token of the session the records above give for gcs_address.
std::optional<std::string> FindToken(const std::string &gcs_address, const EnvLookup &env);

// "auto" becomes the recorded address; throws RayException when there is no record.
std::string ResolveAutoAddress(const std::string &address, const EnvLookup &env);

}  // namespace internal
}  // namespace ray
