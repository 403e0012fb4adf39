"""Runtime environments: `env_vars`, `working_dir` and `py_modules` per job, task and actor.

- `validation`: which fields are supported, their checks, and how a task's env is merged
  over its parent's (the job's, or the env of the worker that submits it);
- `packaging`: the driver zips local directories and files, names them by content hash
  (`gcs://_ray_pkg_<hash>.zip`) and uploads each once to the GCS key-value store;
- `worker_setup`: a worker started for an env unpacks its packages once per node (under the
  session's `runtime_resources/`), then enters its working_dir and extends `sys.path`.
"""

# Where packages live: the GCS KV namespace of uploaded packages, and their URI scheme.
KV_NAMESPACE = "runtime_env_packages"
URI_PREFIX = "gcs://"
# The env a worker process was started for, set by its node manager (JSON; unset for none).
RUNTIME_ENV_VAR = "RAY_RUNTIME_ENV_SERIALIZED"
