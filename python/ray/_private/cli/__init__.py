"""The `ray` command line (`ray start`, `ray stop`, `ray status`, `ray version`)."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)
