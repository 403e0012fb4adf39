"""Owner-based reference counting (sans-IO: callbacks instead of RPCs)."""

from __future__ import annotations

from ray._private.generated import common_pb2
from ray._private.worker.reference_counter import ReferenceCounter

OWNER = common_pb2.Address(ip_address="127.0.0.1", port=1, worker_id=b"owner")
BORROWER = common_pb2.Address(ip_address="127.0.0.1", port=2, worker_id=b"borrower")
ME = b"me"


class Recorder:
    def __init__(self) -> None:
        self.freed: list[bytes] = []
        self.released: list[bytes] = []
        self.rc = ReferenceCounter(
            lambda items: self.freed.extend(oid for oid, _ in items),
            lambda items: self.released.extend(oid for _, oid in items),
        )


def test_owned_object_freed_when_last_local_ref_goes() -> None:
    r = Recorder()
    r.rc.add_owned(b"a")
    r.rc.add_local(b"a", None)
    r.rc.add_local(b"a", None)
    r.rc.remove_local(b"a")
    assert r.freed == []
    r.rc.remove_local(b"a")
    assert r.freed == [b"a"]
    assert not r.rc.has(b"a")


def test_pending_task_keeps_argument_alive() -> None:
    r = Recorder()
    r.rc.add_owned(b"a")
    r.rc.add_local(b"a", None)
    r.rc.add_submitted([b"a"])
    r.rc.remove_local(b"a")
    assert r.freed == []
    r.rc.remove_submitted([b"a"])
    assert r.freed == [b"a"]


def test_borrowers_keep_owned_object_alive() -> None:
    r = Recorder()
    r.rc.add_owned(b"a")
    r.rc.add_local(b"a", None)
    assert r.rc.add_borrower(b"a", BORROWER)
    r.rc.remove_local(b"a")
    assert r.freed == []
    r.rc.remove_borrower(b"a", BORROWER.worker_id)
    assert r.freed == [b"a"]
    assert not r.rc.add_borrower(b"a", BORROWER)  # gone: the borrower learns it is unknown


def test_dead_borrowers_are_forgotten() -> None:
    r = Recorder()
    r.rc.add_owned(b"a")
    r.rc.add_borrower(b"a", BORROWER)
    r.rc.remove_borrowers_on({BORROWER.worker_id})
    assert r.freed == [b"a"]


def test_borrowed_ref_released_to_owner() -> None:
    r = Recorder()
    assert r.rc.add_local(b"x", OWNER)  # first borrow: the owner must be told
    assert not r.rc.add_local(b"x", OWNER)
    r.rc.mark_registered([b"x"])
    r.rc.remove_local(b"x")
    r.rc.remove_local(b"x")
    assert r.released == [b"x"]
    assert r.freed == []


def test_unregistered_borrow_is_not_released() -> None:
    r = Recorder()
    r.rc.add_local(b"x", OWNER)  # registration failed (owner gone)
    r.rc.remove_local(b"x")
    assert r.released == []


def test_nested_refs_live_as_long_as_their_container() -> None:
    r = Recorder()
    r.rc.add_owned(b"inner")
    r.rc.add_local(b"inner", None)
    r.rc.add_owned(b"outer")
    r.rc.add_local(b"outer", None)
    r.rc.set_nested(b"outer", [(b"inner", None), (b"x", OWNER)])
    r.rc.remove_local(b"inner")
    assert r.freed == []
    r.rc.remove_local(b"outer")
    assert sorted(r.freed) == [b"inner", b"outer"]
    assert r.released == [b"x"]


def test_returned_container_drops_the_self_borrow() -> None:
    r = Recorder()
    r.rc.add_owned(b"inner")
    r.rc.add_borrower(b"inner", common_pb2.Address(worker_id=ME))  # added by the worker for us
    r.rc.add_owned(b"ret")
    r.rc.add_local(b"ret", None)
    r.rc.set_nested(b"ret", [(b"inner", None)], my_worker_id=ME)
    assert r.rc.counts(b"inner") == (1, 0, 0)
    r.rc.remove_local(b"ret")
    assert sorted(r.freed) == [b"inner", b"ret"]


def test_container_gone_before_reply_releases_contents() -> None:
    r = Recorder()
    r.rc.set_nested(b"dropped", [(b"x", OWNER)])
    assert r.released == [b"x"]
