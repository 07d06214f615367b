"""What ``searchlib check`` and ``info`` say of a sharded index: every shard checked as
one index is (:func:`searchlib.check.check_index`), plus what holds the shards together:
the manifest, each shard's schema (the manifest's and the order column), and the
routing of every ID to the shard that holds it.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from searchlib.check import CheckReport, Problem, check_index, index_info
from searchlib.distributed.manifest import MANIFEST_NAME, ORDER_FIELD, read_manifest, route
from searchlib.errors import CorruptIndexError, SearchlibError


@dataclass
class ShardedCheckReport:
    """What :func:`check_sharded` found: the manifest's problems and each shard's report."""

    index: str
    shards: list[CheckReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(shard.ok for shard in self.shards)

    @property
    def documents(self) -> int:
        return sum(shard.documents for shard in self.shards)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "sharded": True, "documents": self.documents,
                "shards": [shard.to_json() for shard in self.shards],
                "problems": [asdict(problem) for problem in self.problems], "ok": self.ok}


def check_sharded(path: str | os.PathLike[str]) -> ShardedCheckReport:
    """Check every shard of the sharded index at ``path``, its schema and its routing;
    damage is reported, never raised (a missing directory raises, as for one index)."""
    report = ShardedCheckReport(str(path))
    try:
        manifest = read_manifest(path)
    except CorruptIndexError as exc:
        report.problems.append(Problem(exc.path, exc.problem))
        return report
    from searchlib.schema import Schema

    expected = Schema.from_json(manifest.schema).to_json()
    for number, shard_path in enumerate(manifest.shard_paths(path)):
        try:
            shard = check_index(shard_path)
        except SearchlibError as exc:
            report.problems.append(Problem(str(shard_path), f"shard {number}: {exc}"))
            continue
        report.shards.append(shard)
        if not shard.ok:
            continue
        from searchlib.index import Index

        index, readers = Index.open_snapshot(shard_path)
        schema = index.schema.to_json()
        if ORDER_FIELD not in schema or {k: v for k, v in schema.items() if k != ORDER_FIELD} != expected:
            report.problems.append(Problem(str(shard_path), f"shard {number}: its schema is not the one "
                                           f"{MANIFEST_NAME} names (with the {ORDER_FIELD} column)"))
        for reader in readers:  # every ID routes here, deleted ones too: they were written here
            dictionary = reader.dictionary(manifest.id_field)
            if dictionary is None:
                continue
            for i in range(len(dictionary)):
                key = dictionary[i].decode("utf-8", "surrogatepass")
                if route(key, manifest.shards) != number:
                    report.problems.append(Problem(
                        str(shard_path), f"shard {number}: document {key!r} belongs to shard "
                                         f"{route(key, manifest.shards)} by its ID's hash"))
                    break
    return report


def sharded_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``searchlib info`` of a sharded index: the totals, the fields (terms summed over
    the shards), and each shard's own summary."""
    manifest = read_manifest(path)
    shards = [index_info(shard_path) for shard_path in manifest.shard_paths(path)]
    fields: dict[str, Any] = {}
    for shard in shards:
        for name, entry in shard["fields"].items():
            if name == ORDER_FIELD:
                continue
            if name not in fields:
                fields[name] = dict(entry)
            elif "terms" in entry:
                fields[name]["terms"] = fields[name].get("terms", 0) + entry["terms"]
    return {
        "index": str(path), "sharded": True, "shard_count": manifest.shards,
        "routing": {"hash": "blake2b-64", "field": manifest.id_field},
        "format_version": shards[0]["format_version"] if shards else None,
        "documents": sum(shard["documents"] for shard in shards),
        "deleted_documents": sum(shard["deleted_documents"] for shard in shards),
        "segments": [segment for shard in shards for segment in shard["segments"]],
        "fields": fields,
        "size_bytes": sum(shard["size_bytes"] for shard in shards),
        "shards": [{"index": shard["index"], "generation": shard["generation"], "documents": shard["documents"],
                    "deleted_documents": shard["deleted_documents"], "segments": len(shard["segments"]),
                    "size_bytes": shard["size_bytes"]} for shard in shards],
    }
