"""Actors (placeholder while the task path is brought up)."""

from __future__ import annotations


def get_actor(name, namespace=None):  # noqa: ANN001, ANN201
    raise NotImplementedError


def kill(actor, *, no_restart=True):  # noqa: ANN001, ANN201
    raise NotImplementedError


def method(*args, **kwargs):  # noqa: ANN002, ANN003, ANN201
    raise NotImplementedError
