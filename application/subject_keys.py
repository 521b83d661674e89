"""A key per data subject (crypto-shredding): personal data is stored encrypted with its
person's key, so destroying that one key erases the person everywhere while every stored
byte — and so the audit hash chain — stays as it was.

- Each data subject (a customer; a member of staff in a training) gets a random 256-bit data
  key the first time personal data about them is stored. Data keys are kept *wrapped*
  (AES-256-GCM) by the master key from configuration (``KEHU_MASTER_KEY``), in the table
  ``kehu_subject_keys`` beside the events.
- Personal values in events and snapshots are AES-256-GCM ciphertexts under the data key,
  bound to the subject (associated data), written as text tokens ``kehu-pii:1:<subject>:<b64>``.
- **Erasure** destroys the wrapped key (the row keeps only the fact that the subject was
  erased). Tokens of an erased subject then read as :data:`ERASED`.
- **Restriction** of processing (PIPL art. 44) is a status on the same row; the command
  pipeline refuses to process a restricted subject's data.
- **Rotation** of the master key: set the new key as ``KEHU_MASTER_KEY`` and the old one in
  ``KEHU_MASTER_KEYS_RETIRED``; ``kehu privacy rotate-master-key`` re-wraps every data key under
  the new one, after which the old key may be dropped.

Other processes cache data keys for ``KEHU_SUBJECT_KEY_CACHE_SECONDS`` (10 s): an erasure or a
restriction reaches them within that time; the process that records it applies it at once.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.audit import write_new_secret
from application.settings import Settings
from projections.base import reclaim_space

log = logging.getLogger("kehu.privacy")

TOKEN_PREFIX = "kehu-pii:1:"  # noqa: S105 (a marker, not a secret)
MASTER_KEY_FILE = "master.key"

ACTIVE, RESTRICTED, ERASED_STATUS = "active", "restricted", "erased"


class KeyStoreError(Exception):
    """The key store cannot do what was asked (no master key, an unknown master key)."""


# -- the master key ---------------------------------------------------------------------------


def _derive(secret: str) -> bytes:
    return hashlib.sha256(b"kehu-master-key/1\x00" + secret.strip().encode("utf-8")).digest()


@dataclass(frozen=True)
class MasterKeys:
    """The current master key (wraps new and rotated data keys) and retired ones (still
    unwrap keys not yet rotated). A key's id is a short hash of it, stored with each row."""

    current_id: str
    keys: dict[str, bytes]

    @classmethod
    def from_secrets(cls, current: str, retired: Iterable[str] = ()) -> MasterKeys:
        if len(current.strip()) < 16:
            raise KeyStoreError("the master key must be at least 16 characters long")
        keys = {}
        for secret in (current, *retired):
            if secret.strip():
                derived = _derive(secret)
                keys[hashlib.sha256(derived).hexdigest()[:12]] = derived
        return cls(hashlib.sha256(_derive(current)).hexdigest()[:12], keys)

    def wrap(self, subject: UUID, data_key: bytes) -> bytes:
        return _seal(self.keys[self.current_id], data_key, subject.bytes)

    def unwrap(self, key_id: str, subject: UUID, wrapped: bytes) -> bytes:
        key = self.keys.get(key_id)
        if key is None:
            raise KeyStoreError(
                f"data keys are wrapped by master key {key_id}, which is not configured"
                " (set it in KEHU_MASTER_KEYS_RETIRED and rotate)"
            )
        return _open(key, wrapped, subject.bytes)


def master_key_file(data_dir: Path, *, create: bool) -> str | None:
    """On SQLite without ``KEHU_MASTER_KEY``: a key kept in ``<data_dir>/master.key``
    (development and demos only: whoever reads the data directory can read the data)."""
    path = Path(data_dir) / MASTER_KEY_FILE
    if not path.exists():
        if not create:
            return None
        write_new_secret(path)
        log.warning(
            "generated a master key in %s to encrypt personal data; set KEHU_MASTER_KEY in"
            " production and keep it away from the database",
            path,
        )
    return path.read_text(encoding="utf-8").strip()


def _seal(key: bytes | AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM with a random 96-bit nonce, stored in front of the ciphertext."""
    cipher = key if isinstance(key, AESGCM) else AESGCM(key)
    nonce = secrets.token_bytes(12)
    return nonce + cipher.encrypt(nonce, plaintext, aad)


def _open(key: bytes | AESGCM, sealed: bytes, aad: bytes) -> bytes:
    cipher = key if isinstance(key, AESGCM) else AESGCM(key)
    return cipher.decrypt(sealed[:12], sealed[12:], aad)


# -- where the wrapped keys live ------------------------------------------------------------------


@dataclass
class KeyRow:
    subject: UUID
    key_id: str | None
    wrapped: bytes | None
    status: str


class KeyTable:
    """``kehu_subject_keys`` in the event store's database (SQLite or PostgreSQL), reached
    through the library's datastore. On SQLite ``secure_delete`` is on for these
    statements, so a destroyed key's bytes are overwritten, not merely unlinked."""

    NAME = "kehu_subject_keys"

    def __init__(self, recorder: Any) -> None:
        self.datastore: Any = recorder.datastore
        self.is_postgres = hasattr(self.datastore, "schema")
        if self.is_postgres:
            self.table = f'"{self.datastore.schema}"."{self.NAME}"'
            blob = "bytea"
        else:
            self.table = f'"{self.NAME}"'
            blob = "BLOB"
        self.ddl = (
            f"CREATE TABLE IF NOT EXISTS {self.table} (subject_id TEXT PRIMARY KEY,"
            f" key_id TEXT, wrapped {blob}, status TEXT NOT NULL, changed_at TEXT NOT NULL)"
        )

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.is_postgres else statement

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as cursor:
            if not self.is_postgres:
                cursor.execute("PRAGMA secure_delete = ON")
            yield cursor

    def create(self) -> None:
        with self._cursor() as cursor:
            cursor.execute(self.ddl)

    def get(self, subjects: Iterable[UUID]) -> dict[UUID, KeyRow]:
        wanted = sorted({s.hex for s in subjects})
        found: dict[UUID, KeyRow] = {}
        with self._cursor() as cursor:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                cursor.execute(
                    self._sql(
                        f"SELECT subject_id, key_id, wrapped, status FROM {self.table}"
                        f" WHERE subject_id IN ({marks})"
                    ),
                    chunk,
                )
                for row in cursor.fetchall():
                    subject = UUID(row["subject_id"])
                    wrapped = row["wrapped"]
                    found[subject] = KeyRow(
                        subject,
                        row["key_id"],
                        bytes(wrapped) if wrapped is not None else None,
                        row["status"],
                    )
        return found

    def insert(self, rows: list[KeyRow]) -> set[UUID]:
        """Insert new keys; a subject another process keyed first keeps that key. Returns
        the subjects whose keys were inserted here."""
        now = datetime.now(UTC).isoformat()
        inserted: set[UUID] = set()
        with self._cursor() as cursor:
            for row in rows:
                cursor.execute(
                    self._sql(
                        f"INSERT INTO {self.table} (subject_id, key_id, wrapped, status,"
                        " changed_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (subject_id) DO NOTHING"
                        " RETURNING subject_id"
                    ),
                    (row.subject.hex, row.key_id, row.wrapped, row.status, now),
                )
                if cursor.fetchone() is not None:
                    inserted.add(row.subject)
        return inserted

    def set_status(self, subject: UUID, status: str) -> None:
        now = datetime.now(UTC).isoformat()
        with self._cursor() as cursor:
            if status == ERASED_STATUS:
                # The key goes; the row stays so that the subject reads as erased, not unknown.
                cursor.execute(
                    self._sql(
                        f"INSERT INTO {self.table} (subject_id, key_id, wrapped, status,"
                        " changed_at) VALUES (?, NULL, NULL, ?, ?) ON CONFLICT (subject_id)"
                        " DO UPDATE SET key_id = NULL, wrapped = NULL, status = excluded.status,"
                        " changed_at = excluded.changed_at"
                    ),
                    (subject.hex, status, now),
                )
            else:
                cursor.execute(
                    self._sql(
                        f"UPDATE {self.table} SET status = ?, changed_at = ?"
                        " WHERE subject_id = ? AND status <> ?"
                    ),
                    (status, now, subject.hex, ERASED_STATUS),
                )

    def rewrap(self, rewrap: Any) -> int:
        """Re-wrap every live key with ``rewrap(row) -> (key_id, wrapped)``; returns how many."""
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT subject_id, key_id, wrapped, status FROM {self.table}"
                " WHERE wrapped IS NOT NULL"
            )
            rows = cursor.fetchall()
            changed = 0
            for row in rows:
                key_row = KeyRow(
                    UUID(row["subject_id"]), row["key_id"], bytes(row["wrapped"]), row["status"]
                )
                key_id, wrapped = rewrap(key_row)
                if key_id != key_row.key_id:
                    cursor.execute(
                        self._sql(
                            f"UPDATE {self.table} SET key_id = ?, wrapped = ? WHERE subject_id = ?"
                        ),
                        (key_id, wrapped, key_row.subject.hex),
                    )
                    changed += 1
        return changed

    def vacuum(self) -> None:
        """Make the destroyed key's bytes leave the database files too."""
        reclaim_space(self.datastore, [self.table])


class MemoryKeyTable:
    """The key table of the in-memory store used by the application tests."""

    def __init__(self) -> None:
        self.rows: dict[UUID, KeyRow] = {}

    def create(self) -> None:
        return None

    def get(self, subjects: Iterable[UUID]) -> dict[UUID, KeyRow]:
        return {s: self.rows[s] for s in subjects if s in self.rows}

    def insert(self, rows: list[KeyRow]) -> set[UUID]:
        inserted = {row.subject for row in rows if row.subject not in self.rows}
        for row in rows:
            self.rows.setdefault(row.subject, row)
        return inserted

    def set_status(self, subject: UUID, status: str) -> None:
        row = self.rows.get(subject)
        if status == ERASED_STATUS:
            self.rows[subject] = KeyRow(subject, None, None, status)
        elif row is not None and row.status != ERASED_STATUS:
            row.status = status

    def rewrap(self, rewrap: Any) -> int:
        changed = 0
        for row in self.rows.values():
            if row.wrapped is not None:
                key_id, wrapped = rewrap(row)
                if key_id != row.key_id:
                    row.key_id, row.wrapped = key_id, wrapped
                    changed += 1
        return changed

    def vacuum(self) -> None:
        return None


# -- the keys -------------------------------------------------------------------------------------


class SubjectKeys:
    """Encrypts and decrypts personal values with their subject's key."""

    def __init__(
        self, table: KeyTable | MemoryKeyTable, master: MasterKeys, cache_seconds: float = 10.0
    ) -> None:
        self.table = table
        self.master = master
        self.cache_seconds = cache_seconds
        self._cache: dict[UUID, tuple[float, KeyRow, AESGCM | None]] = {}
        self._lock = threading.Lock()

    # -- keys and statuses --------------------------------------------------------------

    def _rows(self, subjects: Iterable[UUID]) -> dict[UUID, tuple[KeyRow, AESGCM | None]]:
        now = time.monotonic()
        result: dict[UUID, tuple[KeyRow, AESGCM | None]] = {}
        missing = []
        with self._lock:
            for subject in set(subjects):
                cached = self._cache.get(subject)
                if cached is not None and now - cached[0] < self.cache_seconds:
                    result[subject] = (cached[1], cached[2])
                else:
                    missing.append(subject)
        if missing:
            fetched = self.table.get(missing)
            with self._lock:
                for subject, row in fetched.items():
                    key = (
                        AESGCM(self.master.unwrap(row.key_id, subject, row.wrapped))
                        if row.wrapped is not None and row.key_id is not None
                        else None
                    )
                    self._cache[subject] = (now, row, key)
                    result[subject] = (row, key)
        return result

    def ensure(self, subjects: Iterable[UUID]) -> None:
        """Make sure every subject has a key (or is known to be erased)."""
        wanted = set(subjects)
        if not wanted:
            return
        known = self._rows(wanted)
        new: dict[UUID, bytes] = {s: secrets.token_bytes(32) for s in wanted - set(known)}
        if not new:
            return
        rows = [
            KeyRow(s, self.master.current_id, self.master.wrap(s, key), ACTIVE)
            for s, key in new.items()
        ]
        inserted = self.table.insert(rows)
        now = time.monotonic()
        with self._lock:
            for row in rows:
                if row.subject in inserted:
                    self._cache[row.subject] = (now, row, AESGCM(new[row.subject]))
        self._rows(set(new) - inserted)  # keyed by another process first: take that key

    def statuses(self, subjects: Iterable[UUID]) -> dict[UUID, str]:
        """Each known subject's status (``active``, ``restricted`` or ``erased``)."""
        return {subject: row.status for subject, (row, _) in self._rows(subjects).items()}

    def forget(self, subjects: Iterable[UUID]) -> None:
        with self._lock:
            for subject in subjects:
                self._cache.pop(subject, None)

    def restrict(self, subject: UUID, restricted: bool) -> None:
        self.ensure([subject])
        self.table.set_status(subject, RESTRICTED if restricted else ACTIVE)
        self.forget([subject])

    def destroy(self, subject: UUID) -> None:
        """Crypto-shredding: the subject's key is gone for good."""
        self.table.set_status(subject, ERASED_STATUS)
        self.forget([subject])
        self.table.vacuum()

    def rotate(self) -> int:
        """Re-wrap every data key under the current master key."""

        def rewrap(row: KeyRow) -> tuple[str | None, bytes | None]:
            if row.key_id == self.master.current_id or row.wrapped is None:
                return row.key_id, row.wrapped
            assert row.key_id is not None
            data_key = self.master.unwrap(row.key_id, row.subject, row.wrapped)
            return self.master.current_id, self.master.wrap(row.subject, data_key)

        changed = self.table.rewrap(rewrap)
        with self._lock:
            self._cache.clear()
        return changed

    # -- values ---------------------------------------------------------------------------

    def encrypt(self, subject: UUID, plaintext: bytes) -> str:
        row = self._rows([subject]).get(subject)
        if row is None:
            self.ensure([subject])
            row = self._rows([subject]).get(subject)
        if row is None or row[1] is None:
            raise SubjectErasedError(f"the personal data of {subject} was erased")
        sealed = _seal(row[1], plaintext, subject.bytes)
        return f"{TOKEN_PREFIX}{subject.hex}:{base64.urlsafe_b64encode(sealed).decode('ascii')}"

    def decrypt(self, token: str) -> bytes | None:
        """The plaintext, or None when the subject's key was destroyed."""
        subject, sealed = parse_token(token)
        row = self._rows([subject]).get(subject)
        if row is None or row[1] is None:
            return None
        return _open(row[1], sealed, subject.bytes)


class SubjectErasedError(Exception):
    """Personal data about an erased subject cannot be stored again under the old key."""


def is_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(TOKEN_PREFIX)


def parse_token(token: str) -> tuple[UUID, bytes]:
    subject_hex, _, body = token[len(TOKEN_PREFIX) :].partition(":")
    return UUID(hex=subject_hex), base64.urlsafe_b64decode(body.encode("ascii"))


def master_keys_for(settings: Settings, *, create: bool) -> MasterKeys:
    """``KEHU_MASTER_KEY`` (and the retired ones); on SQLite without it, the data
    directory's ``master.key``. PostgreSQL has no fallback."""
    retired = (
        settings.master_keys_retired.get_secret_value().split(",")
        if settings.master_keys_retired is not None
        else []
    )
    if settings.master_key is not None:
        return MasterKeys.from_secrets(settings.master_key.get_secret_value(), retired)
    if settings.store == "sqlite":
        secret = master_key_file(settings.data_dir, create=True)
        assert secret is not None
        return MasterKeys.from_secrets(secret, retired)
    raise KeyStoreError(
        "KEHU_MASTER_KEY is required with PostgreSQL: personal data is encrypted with keys"
        ' it wraps (e.g. python -c "import secrets; print(secrets.token_urlsafe(32))")'
    )
