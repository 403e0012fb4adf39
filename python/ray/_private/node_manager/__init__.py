"""The per-node manager: resources, worker pool, leases and the object store."""
