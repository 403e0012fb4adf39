"""Session directories, cluster tokens and the files that let drivers find a running cluster."""

from __future__ import annotations

import datetime
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ray._private import constants

logger = logging.getLogger(__name__)

CURRENT_CLUSTER_FILE = "ray_current_cluster"


@dataclass(frozen=True)
class Session:
    """A session directory: token, logs and spill files of one cluster."""

    session_dir: Path

    @property
    def name(self) -> str:
        return self.session_dir.name

    @property
    def logs_dir(self) -> Path:
        return self.session_dir / "logs"

    @property
    def token_file(self) -> Path:
        return self.session_dir / "token"

    def spill_dir(self, node_id: bytes) -> Path:
        """Spill directory of a node's object store (the name the node manager uses)."""
        return self.session_dir / "spill" / node_id.hex()[:12]

    def shm_dir(self, node_id: bytes) -> Path:
        """Shared-memory directory of a node's object store (the name the node manager uses)."""
        return Path("/dev/shm") / f"ray_{self.name[-26:]}_{node_id.hex()[:8]}"

    def read_token(self) -> str:
        return self.token_file.read_text().strip()


def create_session(temp_dir: str | None = None) -> tuple[Session, str]:
    """Creates a fresh session directory with a random token (mode 0600).

    Args:
        temp_dir: Where sessions go (`ray start --temp-dir`); default RAY_TMPDIR.

    Returns:
        The session and its token.
    """
    root = Path(temp_dir or constants.TEMP_DIR)
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S_%f")
    session_dir = root / f"session_{stamp}_{os.getpid()}"
    session_dir.mkdir(mode=0o700)
    session = Session(session_dir)
    session.logs_dir.mkdir()
    token = secrets.token_hex(16)
    fd = os.open(session.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    latest = root / "session_latest"
    try:
        tmp = root / f".session_latest.{os.getpid()}"
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(session_dir)
        tmp.replace(latest)
    except OSError as err:
        logger.debug("could not update %s: %s", latest, err)
    return session, token


def join_session(session_name: str, token: str, temp_dir: str | None = None) -> Session:
    """The local session directory of a node joining an existing cluster, created if missing.

    A node started with `ray start --address` uses the cluster's session name, so on
    the head's machine it shares the head's directory and elsewhere it gets its own
    copy (logs, spill files and the token, mode 0600).

    Args:
        session_name: The cluster's session name (`GetClusterInfo`).
        token: The cluster token, written to the directory if it has none.
        temp_dir: Where sessions go (`ray start --temp-dir`); default RAY_TMPDIR.

    Returns:
        The session.

    Raises:
        ValueError: `session_name` is not a plain session directory name.
    """
    if (
        not session_name.startswith("session_")
        or "/" in session_name
        or session_name in (".", "..")
    ):
        raise ValueError(f"not a session name: {session_name!r}")
    root = Path(temp_dir or constants.TEMP_DIR)
    root.mkdir(parents=True, exist_ok=True)
    session = Session(root / session_name)
    session.session_dir.mkdir(mode=0o700, exist_ok=True)
    session.logs_dir.mkdir(exist_ok=True)
    try:
        fd = os.open(session.token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return session
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return session


def write_current_cluster(gcs_address: str, session: Session) -> None:
    """Records a long-lived cluster so `ray.init(address="auto")` and `ray stop` find it."""
    path = Path(constants.TEMP_DIR) / CURRENT_CLUSTER_FILE
    tmp = path.with_suffix(f".{os.getpid()}")
    tmp.write_text(f"{gcs_address}\n{session.session_dir}\n")
    tmp.replace(path)


def read_current_cluster() -> tuple[str, Session] | None:
    """The cluster started by `ray start` on this machine, if any."""
    path = Path(constants.TEMP_DIR) / CURRENT_CLUSTER_FILE
    try:
        address, session_dir = path.read_text().split("\n")[:2]
    except (OSError, ValueError):
        return None
    if not address.strip() or not session_dir.strip():
        return None  # not ours (upstream Ray writes only an address here)
    return address.strip(), Session(Path(session_dir.strip()))


def clear_current_cluster(gcs_address: str | None = None) -> None:
    path = Path(constants.TEMP_DIR) / CURRENT_CLUSTER_FILE
    current = read_current_cluster()
    if current is not None and (gcs_address is None or current[0] == gcs_address):
        path.unlink(missing_ok=True)


def _registry_dir() -> Path:
    """This user's record of the clusters started on this machine (one file per cluster)."""
    return Path(constants.TEMP_DIR) / f"clusters-{os.getuid()}"


def _registry_file(gcs_address: str) -> Path:
    host, _, port = gcs_address.rpartition(":")
    return _registry_dir() / f"{host.replace('/', '_')}_{port}"


def register_cluster(gcs_address: str, session: Session) -> None:
    """Records a cluster this user started (mode 0600), so its token can be found from its
    address alone, whatever temp dir the cluster uses."""
    directory = _registry_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = _registry_file(gcs_address)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{gcs_address}\n{session.session_dir}\n")
    tmp.replace(path)


def unregister_cluster(gcs_address: str) -> None:
    _registry_file(gcs_address).unlink(missing_ok=True)


def registered_session(gcs_address: str) -> Session | None:
    """The session of a cluster this user started on this machine, by its GCS address."""
    try:
        address, session_dir = _registry_file(gcs_address).read_text().split("\n")[:2]
    except (OSError, ValueError):
        return None
    return Session(Path(session_dir)) if address == gcs_address else None


def find_token(gcs_address: str) -> str | None:
    """Finds the token of the cluster at `gcs_address`: the env var, else this user's record of
    the clusters started on this machine."""
    token = os.environ.get(constants.TOKEN_ENV)
    if token:
        return token
    for session in (registered_session(gcs_address), _current_session(gcs_address)):
        if session is not None:
            try:
                return session.read_token()
            except OSError:
                continue
    return None


def _current_session(gcs_address: str) -> Session | None:
    current = read_current_cluster()
    return current[1] if current is not None and current[0] == gcs_address else None
