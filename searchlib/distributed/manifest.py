"""The manifest of a sharded index, and the routing of documents to its shards.

A sharded index is a directory holding ``shards.json`` and one ordinary index per shard
(``shard-000``, ``shard-001``, ...). The manifest names the schema, the BM25 settings,
the number of shards and how documents are routed: by a stable hash of the ID field's
value (the first 8 bytes of its BLAKE2b digest, big-endian, modulo the shard count), so
a later update or delete of the same ID reaches the shard that holds it, from any
process or machine (Python's ``hash()`` is salted per process and could not).

This module imports nothing heavier than :mod:`json`: ``searchlib query`` asks
:func:`is_sharded` before it opens an index, and must stay quick to start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The file that makes a directory a sharded index.
MANIFEST_NAME = "shards.json"
#: The manifest's layout; a reader refuses a newer one.
MANIFEST_FORMAT = 1
#: The routing every manifest of this format names.
ROUTING = "blake2b-64"
#: A column every shard's documents carry: the order in which documents were added to
#: the sharded index as a whole. A merge of shards lists documents with equal scores in
#: that order, as one index lists them in the order they were added.
ORDER_FIELD = "searchlib_order"


def shard_name(number: int) -> str:
    """The directory of shard ``number`` inside the sharded index."""
    return f"shard-{number:03d}"


def is_sharded(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a sharded index: one ``stat`` of its manifest, cheap enough
    for every ``searchlib query`` to ask."""
    return os.path.isfile(os.path.join(path, MANIFEST_NAME))


def route(key: str, shards: int) -> int:
    """The shard a document whose ID is ``key`` belongs to."""
    from hashlib import blake2b  # only writers and checks route

    digest = blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


@dataclass
class ShardManifest:
    """What ``shards.json`` holds.

    ``schema`` and ``scoring`` are kept in their JSON form (as an index's manifest
    keeps them), so that reading the manifest builds no analyzer.
    """

    shards: int
    schema: dict[str, Any]
    scoring: dict[str, Any]
    id_field: str
    #: The order number the next added document gets (see :data:`ORDER_FIELD`).
    next_order: int = 0

    def shard_paths(self, root: str | os.PathLike[str]) -> list[Path]:
        return [Path(root) / shard_name(number) for number in range(self.shards)]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT, "shards": self.shards, "routing": {"hash": ROUTING, "field": self.id_field},
            "schema": self.schema, "scoring": self.scoring, "next_order": self.next_order,
        }

    @classmethod
    def from_json(cls, data: Any, path: str) -> ShardManifest:
        from searchlib.errors import CorruptIndexError

        try:
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            if data.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, this searchlib reads format {MANIFEST_FORMAT}")
            routing = data["routing"]
            if routing.get("hash") != ROUTING:
                raise ValueError(f"unknown routing {routing.get('hash')!r}")
            shards, next_order = data["shards"], data.get("next_order", 0)
            if not (isinstance(shards, int) and shards >= 1 and isinstance(next_order, int) and next_order >= 0):
                raise ValueError("the shard count and next order must be whole numbers")
            if not isinstance(data["schema"], dict) or not isinstance(routing["field"], str):
                raise TypeError("the schema must be an object and the routing field a name")
            return cls(shards, data["schema"], data.get("scoring") or {}, routing["field"], next_order)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CorruptIndexError(path, f"malformed sharded index manifest ({exc})") from None


def read_manifest(root: str | os.PathLike[str]) -> ShardManifest:
    """The manifest of the sharded index in ``root``."""
    from searchlib.errors import CorruptIndexError, IndexNotFoundError

    path = os.path.join(root, MANIFEST_NAME)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise IndexNotFoundError(f"{root} is not a sharded index (no {MANIFEST_NAME} in it)") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CorruptIndexError(path, f"unreadable sharded index manifest ({exc})") from None
    return ShardManifest.from_json(data, path)


def write_manifest(root: str | os.PathLike[str], manifest: ShardManifest) -> None:
    """Replace the manifest atomically: written and fsynced under a temporary name, then
    renamed, so a reader sees the old manifest or the new one, never a part."""
    from searchlib.storage import Directory

    Directory(root).write_file(MANIFEST_NAME, [json.dumps(manifest.to_json(), indent=1).encode("utf-8")])
