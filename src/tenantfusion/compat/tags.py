"""The platform's record tags (``tf-rec-<record id>``) belong to the platform, not to the
tenant: the facade hides them and keeps them.

Objects created through ``/v1`` or the facade carry their routing record's tag (Neutron
objects; servers too, facade ones when created at compute microversion 2.52 or later),
which is how an interrupted create is found again. Through
the facade:

- answers show no platform tag (``tags`` lists of objects and of ``.../tags``; hidden by
  ``marks.hide`` with the servers' record metadata);
- replacing all tags (``PUT .../tags``) keeps the object's platform tags, and deleting all
  (``DELETE .../tags``) leaves only them (answered 204, as the pool would);
- a platform tag cannot be added, removed or checked one by one (404, as if absent).

So clients that compare an object's tags with the ones they set (Tempest's tag tests,
declarative tools) see only theirs, and the record tag survives them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from tenantfusion.pools.drivers.remote import record_tag

PREFIX = record_tag("")
MARK = json.dumps(PREFIX)[:-1].encode()  # '"tf-rec-' in a JSON answer
_PATH = re.compile(
    r"^(?:v2(?:\.1)?/servers|v2\.0/[a-z_-]+)/(?P<id>[^/]+)/tags(?:/(?P<tag>[^/]+))?/?$"
)


def is_platform(tag: Any) -> bool:
    return isinstance(tag, str) and tag.startswith(PREFIX)


@dataclass(frozen=True)
class TagRequest:
    """A request on an object's tags: all of them (``tag`` None) or one."""

    collection: str  # the path of the object's tags, e.g. ``v2.0/networks/<id>/tags``
    tag: str | None


def match(*, service: str, path: str) -> TagRequest | None:
    """The tag request ``path`` makes on a Nova or Neutron object, or None."""
    if service not in ("compute", "network"):
        return None
    m = _PATH.match(path)
    if m is None:
        return None
    tag = m["tag"]
    collection = path[: m.start("tag") - 1] if tag is not None else path.rstrip("/")
    return TagRequest(collection=collection, tag=tag)


def hides_one(request: TagRequest) -> bool:
    """A single-tag request naming a platform tag (answered 404 here)."""
    return request.tag is not None and is_platform(request.tag)


def platform_tags(answer: Any) -> list[str]:
    """The platform tags in a ``GET .../tags`` answer (``{"tags": [...]}``)."""
    tags = answer.get("tags") if isinstance(answer, dict) else None
    return [t for t in tags if is_platform(t)] if isinstance(tags, list) else []


def replacing(body: Any, keep: list[str]) -> bytes | None:
    """The body of a ``PUT .../tags`` with the object's platform tags ``keep`` added (and
    any the client named dropped); None when the body is not ``{"tags": [...]}``."""
    tags = body.get("tags") if isinstance(body, dict) else None
    if not isinstance(tags, list):
        return None
    return json.dumps({**body, "tags": [t for t in tags if not is_platform(t)] + keep}).encode()


def theirs(value: Any) -> Any:
    """A ``tags`` value of an answer without platform tags (anything but a list as it is)."""
    return [t for t in value if not is_platform(t)] if isinstance(value, list) else value
