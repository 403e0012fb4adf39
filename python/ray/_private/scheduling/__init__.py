"""Scheduling, sans-IO: resource arithmetic (`resources`), the cluster's resource view and the
placement policy (`policy`), and a node's lease queue (`node_scheduler`). The node managers
grant leases with it and the GCS places actors with it (DESIGN.md section 6)."""
