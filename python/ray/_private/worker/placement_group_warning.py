"""The warning for tasks that wait for a placement group that will never be created."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ray._private.generated import gcs_pb2
from ray._private.rpc import errors as rpc_errors

logger = logging.getLogger(__name__)


def removed_warning(gcs: Any, resources: Mapping[str, float], num_tasks: int) -> str:
    """The warning for tasks that wait for a placement group: empty while the group may
    still be created, else what to do (the group was removed or never existed)."""
    from ray._private.scheduling import bundles  # loaded by the first placement group use

    name = next(n for n in resources if bundles.is_group_resource(n))
    pg_hex = name.rsplit("_", 1)[-1]
    try:
        info = gcs.get_placement_group(bytes.fromhex(pg_hex))
    except (ValueError, rpc_errors.RpcFailure) as err:
        logger.debug("cannot read placement group %s: %s", pg_hex, err)
        return ""
    if info is not None and info.state != gcs_pb2.PLACEMENT_GROUP_STATE_REMOVED:
        logger.debug("%d task(s) wait for placement group %s", num_tasks, pg_hex)
        return ""
    return (
        f"{num_tasks} task(s) were submitted to placement group {pg_hex}, which was removed "
        "(or never existed); they can never run. Submit them to a live placement group."
    )
