"""ContactStore: the typed result store on pymongo, plus the jobflow ``JobStore`` on the same server.

Each document kind lives in one collection with a unique key; writes are idempotent upserts, so
running the same job twice leaves one document. Writes use ``j=True`` (acknowledged means journaled)
on any server; the embedded server additionally fsyncs on commit.
"""

from collections.abc import Iterable
from contextlib import contextmanager
from typing import Any

import bson
import pymongo
from bson.errors import InvalidDocument
from monty.json import jsanitize
from pydantic import BaseModel
from pymongo.errors import (
    ConfigurationError, ConnectionFailure, InvalidURI, OperationFailure, PyMongoError, ServerSelectionTimeoutError,
)

from contactflow.errors import ConfigError, ContactflowError, StoreUnavailableError
from contactflow.schemas import AdhesionDoc, InterfaceDoc, PreparedInterfaceDoc
from contactflow.schemas.barrier import BarrierDoc, LiAdsorptionDoc
from contactflow.schemas.traction import TractionSeparationDoc
from contactflow.schemas.md import DescriptorDoc, DiffusionDoc, LithiationDoc, MDDoc, PullOffDoc
from contactflow.schemas.screening import ScreeningDoc
from contactflow.schemas.training import ActiveLearningRoundDoc, LabelledConfigDoc, ModelDoc
from contactflow.schemas.validation import ValidationDoc
from contactflow.store import embedded
from contactflow.store.settings import StoreSettings, load_settings, redact_text, redact_uri


class DocKind:
    """One document type: its collection, unique key and query indexes.

    ``derived``: the collection is written only by :func:`contactflow.store.views.sync_views` from job
    records (every task result); ``False`` for the training kinds whose long-running Makers still
    write each document as it is made (resumable labelling).
    """

    def __init__(self, name: str, model: type[BaseModel], key: str, indexes: Iterable[str], derived: bool = True):
        self.name, self.model, self.key, self.indexes = name, model, key, tuple(indexes)
        self.derived = derived


KINDS: dict[str, DocKind] = {
    "interfaces": DocKind("interfaces", InterfaceDoc, "interface_id", ["recipe_name", "system"]),
    "prepared": DocKind("prepared", PreparedInterfaceDoc, "doc_key",
                        ["interface_id", "recipe_name", "engine", "system", "state"]),
    "adhesion": DocKind(
        "adhesion", AdhesionDoc, "doc_key",
        ["interface_id", "recipe_name", "engine", "system", "state", "w_sep_J_per_m2"],
    ),
    "barriers": DocKind("barriers", BarrierDoc, "doc_key", ["interface_id", "recipe_name", "engine", "system", "label", "state"]),
    "li_adsorption": DocKind("li_adsorption", LiAdsorptionDoc, "doc_key", ["interface_id", "recipe_name", "engine", "label", "state"]),
    "traction_separation": DocKind("traction_separation", TractionSeparationDoc, "doc_key", ["interface_id", "recipe_name", "engine", "system", "state", "w_sep_J_per_m2"]),
    "md": DocKind("md", MDDoc, "doc_key", ["interface_id", "recipe_name", "engine", "system", "task", "state", "temperature_K"]),
    "pull_off": DocKind("pull_off", PullOffDoc, "doc_key", ["interface_id", "recipe_name", "engine", "system", "state"]),
    "lithiation": DocKind("lithiation", LithiationDoc, "doc_key", ["interface_id", "recipe_name", "engine", "system", "state"]),
    "diffusion": DocKind("diffusion", DiffusionDoc, "doc_key", ["interface_id", "recipe_name", "engine", "system", "species", "state"]),
    "descriptors": DocKind("descriptors", DescriptorDoc, "doc_key", ["interface_id", "recipe_name", "engine", "system", "source"]),
    "labels": DocKind("labels", LabelledConfigDoc, "doc_key", ["dataset", "system", "source", "state", "split"],
                      derived=False),
    "models": DocKind("models", ModelDoc, "doc_key", ["name", "dataset", "state"], derived=False),
    "validation": DocKind("validation", ValidationDoc, "doc_key", ["case_id", "engine", "status", "system"]),
    "al_rounds": DocKind("al_rounds", ActiveLearningRoundDoc, "doc_key", ["campaign", "round", "dataset"],
                         derived=False),
    # the screening loop's campaign state, written after every proposal/evaluation (resumable)
    "screening": DocKind("screening", ScreeningDoc, "doc_key", ["name", "space_hash"], derived=False),
}
_BY_MODEL = {k.model: k for k in KINDS.values()}


def register_kind(kind: DocKind) -> None:
    """Add a document kind (used by later packages: traction–separation, barriers, MD …)."""
    KINDS[kind.name] = kind
    _BY_MODEL[kind.model] = kind


def kind_of(doc_or_name: "BaseModel | type[BaseModel] | str") -> DocKind:
    """Look up the DocKind of a document, model class or collection name."""
    if isinstance(doc_or_name, str):
        if doc_or_name not in KINDS:
            raise ContactflowError(f"unknown document kind {doc_or_name!r}; valid: {', '.join(KINDS)}")
        return KINDS[doc_or_name]
    cls = doc_or_name if isinstance(doc_or_name, type) else type(doc_or_name)
    try:
        return _BY_MODEL[cls]
    except KeyError:
        raise ContactflowError(f"{cls.__name__} is not a stored document type") from None


class ContactStore:
    """Connection to the contactflow database.

    Parameters
    ----------
    settings
        Resolved settings; default :func:`load_settings` (env, config file, embedded).
    timeout_ms
        Server selection timeout; an unreachable server fails after this long.
    """

    def __init__(self, settings: StoreSettings | None = None, timeout_ms: int = 5000):
        self.settings = settings or load_settings()
        if self.settings.embedded:
            self.uri = embedded.start_server().uri
        else:
            self.uri = self.settings.uri
        self.display_uri = redact_uri(self.uri)
        try:
            self.client = pymongo.MongoClient(
                self.uri, serverSelectionTimeoutMS=timeout_ms, journal=True, tz_aware=True,
                appname="contactflow",
            )
            self.client.admin.command("ping")
        except (InvalidURI, ValueError, TypeError, OSError) as exc:  # OSError: a TLS file option names no file
            # pymongo's URI parser (bad port, unescaped '@', bad IPv6 literal …); its message may quote
            # parts of the URI, so the password is scrubbed from it
            raise ConfigError(
                f"invalid MongoDB URI {self.display_uri} (from {self.settings.source}): "
                f"{redact_text(str(exc), self.uri)}; expected mongodb://[user:password@]host[:port][/?options] "
                "with user and password escaped by urllib.parse.quote_plus"
            ) from None
        except (ServerSelectionTimeoutError, ConfigurationError) as exc:
            raise StoreUnavailableError(
                f"cannot reach MongoDB at {self.display_uri} (from {self.settings.source}): "
                f"{type(exc).__name__}; check the host/port, or unset CONTACTFLOW_MONGO_URI to use the "
                "embedded store"
            ) from None
        except OperationFailure as exc:
            raise StoreUnavailableError(
                f"MongoDB at {self.display_uri} refused the connection: {exc.code} {exc.details.get('errmsg', '') if exc.details else ''}"
            ) from None
        self.db = self.client[self.settings.database]
        self._colls: dict[str, Any] = {}  # pymongo Collection objects cost ~8 µs each to create
        self.ensure_indexes()

    def __enter__(self) -> "ContactStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the client (the embedded server keeps running for the next command)."""
        self.client.close()

    def ensure_indexes(self) -> None:
        """Create the unique key and query indexes of every kind (idempotent)."""
        with self._errors("creating the indexes"):
            for kind in KINDS.values():
                coll = self.db[kind.name]
                coll.create_index(kind.key, unique=True, name=f"{kind.key}_unique")
                for field in kind.indexes:
                    coll.create_index(field, name=f"{field}_1")
            self.db["jobs"].create_index("completed_at", name="completed_at_1")  # the views' sync watermark

    def collection(self, kind: str):
        """The pymongo collection of a document kind (handles are cached)."""
        name = kind_of(kind).name
        coll = self._colls.get(name)
        if coll is None:
            coll = self._colls[name] = self.db[name]
        return coll

    @staticmethod
    def to_mongo(doc: BaseModel) -> dict[str, Any]:
        """Serialise a pydantic document to BSON-safe types (numpy → python; datetimes kept).

        Most documents are BSON-ready after ``model_dump`` (str, float, int, datetime); checking that
        with the C encoder (~5 µs) is much cheaper than walking every leaf with ``jsanitize`` (~30 µs),
        which is applied only to documents BSON cannot encode (numpy scalars/arrays, paths, sets …).
        """
        data = doc.model_dump()
        try:
            bson.encode(data)
        except InvalidDocument:
            return jsanitize(data, strict=False, allow_bson=True)
        return data

    def upsert(self, doc: BaseModel) -> str:
        """Insert or replace one document by its unique key; returns the key value."""
        kind = kind_of(doc)
        data = self.to_mongo(doc)
        key = data[kind.key]
        with self._errors(f"writing {kind.name} document {key}"):
            self.collection(kind.name).replace_one({kind.key: key}, data, upsert=True)
        return key

    def upsert_many(self, docs: Iterable[BaseModel]) -> int:
        """Upsert many documents of possibly mixed kinds with one bulk write per kind."""
        ops: dict[str, list] = {}
        for doc in docs:
            kind = kind_of(doc)
            data = self.to_mongo(doc)
            ops.setdefault(kind.name, []).append(pymongo.ReplaceOne({kind.key: data[kind.key]}, data, upsert=True))
        n = 0
        for name, batch in ops.items():
            with self._errors(f"writing {len(batch)} {name} documents"):
                self.collection(name).bulk_write(batch, ordered=False)
            n += len(batch)
        return n

    def find(
        self,
        kind: str,
        filter: dict | None = None,
        sort: list[tuple[str, int]] | None = None,
        limit: int = 0,
        projection: dict | None = None,
        skip: int = 0,
    ) -> list[dict]:
        """Documents of one kind matching a filter (``_id`` removed); ``skip`` pages through a sort."""
        proj = {"_id": 0, **(projection or {})}
        cur = self.collection(kind).find(filter or {}, proj)
        if sort:
            cur = cur.sort(sort)
        if skip:
            cur = cur.skip(skip)
        if limit:
            cur = cur.limit(limit)
        with self._errors(f"querying {kind}"):
            return list(cur)

    def get(self, kind: str, key: str) -> dict | None:
        """One document by its unique key, or ``None``."""
        k = kind_of(kind)
        with self._errors(f"reading {kind} document {key}"):
            return self.collection(kind).find_one({k.key: key}, {"_id": 0})

    def count(self, kind: str, filter: dict | None = None) -> int:
        """Number of documents of a kind matching a filter."""
        with self._errors(f"counting {kind}"):
            return self.collection(kind).count_documents(filter or {})

    @contextmanager
    def _errors(self, what: str):
        """Turn pymongo errors into one-line contactflow errors (password scrubbed): a server that stops
        answering → StoreUnavailableError; a rejected query or write → ContactflowError with the server's
        reason."""
        try:
            yield
        except ConnectionFailure as exc:  # includes ServerSelectionTimeoutError, AutoReconnect
            detail = redact_text(str(exc), self.uri).split(" (configured timeouts")[0]
            raise StoreUnavailableError(
                f"store at {self.display_uri} stopped answering while {what}: {type(exc).__name__}: {detail[:200]}"
            ) from None
        except OperationFailure as exc:
            reason = (exc.details or {}).get("errmsg") or str(exc)
            raise ContactflowError(f"store rejected {what}: {redact_text(str(reason), self.uri)[:300]}") from None
        except PyMongoError as exc:  # write errors (BulkWriteError, DuplicateKeyError …)
            raise ContactflowError(
                f"{what} failed: {type(exc).__name__}: {redact_text(str(exc), self.uri)[:300]}"
            ) from None

    def jobstore(self):
        """A jobflow ``JobStore`` on the same database: job outputs in ``jobs``, large data in GridFS."""
        from jobflow import JobStore
        from maggma.stores import GridFSStore, MongoStore

        db = self.settings.database
        docs = MongoStore(db, "jobs", uri=self.uri)
        data = GridFSStore(db, "jobflow_data", uri=self.uri)
        return JobStore(docs, additional_stores={"data": data})


def open_store(timeout_ms: int = 5000, sync: bool = True) -> ContactStore:
    """Open the configured store (starting the embedded server when no URI is configured).

    With ``sync`` the typed collections first catch up with job records completed since the last sync
    (see :mod:`contactflow.store.views`): a command killed between a job and its sync is repaired here.
    """
    store = ContactStore(timeout_ms=timeout_ms)
    if sync:
        from contactflow.store.views import sync_views

        sync_views(store)
    return store
