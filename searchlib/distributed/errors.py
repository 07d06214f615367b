"""What a sharded index raises: every error names the shard (and, for a build, the
document) it is about, as a user of a cluster needs to find it."""

from __future__ import annotations

from dataclasses import dataclass

from searchlib.errors import SearchlibError


class ShardError(SearchlibError):
    """A shard failed or did not answer in time during a search or a check.

    ``shard`` is its number, ``path`` its directory; ``cause`` the underlying error
    (None for a timeout)."""

    def __init__(self, shard: int, path: str, message: str, cause: BaseException | None = None) -> None:
        super().__init__(f"shard {shard} ({path}): {message}")
        self.shard = shard
        self.path = path
        self.cause = cause


@dataclass(frozen=True)
class DocumentFailure:
    """One shard's failure while a batch of changes was applied: the shard, the
    document (its position among the documents the writer was given, counted from 0,
    and its ID) when one document caused it, and the message."""

    shard: int
    message: str
    position: int | None = None
    document_id: str | None = None

    def describe(self) -> str:
        where = f"shard {self.shard}"
        if self.position is not None:
            where += f", document {self.position}" + (f" (id {self.document_id!r})" if self.document_id else "")
        return f"{where}: {self.message}"


class ShardBuildError(SearchlibError):
    """A sharded commit failed. ``failures`` says where; ``committed`` lists the shards
    whose part of the batch was committed anyway (empty unless a shard failed in the
    last step, the commits themselves, which cannot be undone on the others)."""

    def __init__(self, failures: list[DocumentFailure], committed: list[int]) -> None:
        lines = "; ".join(failure.describe() for failure in failures)
        if committed:
            done = ", ".join(map(str, committed))
            tail = f"; shards {done} committed their part before the failure (add the batch again: updates replace)"
        else:
            tail = "; no shard was changed"
        super().__init__(f"the sharded commit failed: {lines}{tail}")
        self.failures = failures
        self.committed = committed
