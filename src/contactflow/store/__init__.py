"""Store layer: settings, the embedded SecantusDB server, the typed ContactStore and jobflow's JobStore."""

from contactflow.store.client import KINDS, ContactStore, DocKind, kind_of, open_store, register_kind
from contactflow.store.settings import StoreSettings, load_settings, redact_uri

__all__ = [
    "KINDS", "ContactStore", "DocKind", "StoreSettings", "kind_of", "load_settings", "open_store",
    "redact_uri", "register_kind",
]
