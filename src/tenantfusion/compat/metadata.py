"""A server's record mark (``tf_record`` metadata naming its routing record) belongs to the
platform, not to the tenant: the facade writes it, hides it and keeps it.

Servers created through ``/v1`` or the facade carry ``tf_record: tenantfusion <record
id>`` in their metadata, written by the create call itself (Nova takes metadata in a
create at every microversion; from 2.52 the create carries the record's ``tf-rec-<id>``
tag too, as ``/v1``'s does, and ``tags.py`` hides and keeps that). It is how the
reconciler adopts a server whose create answer was lost. Through the facade:

- answers show no ``tf_record`` (a server's ``metadata``, ``.../metadata``);
- replacing all metadata (``PUT .../metadata``, also how clients delete all of it, and a
  rebuild that names ``metadata``, which Nova applies as a replacement) keeps the mark;
  a client's own ``tf_record`` in a body is dropped (it cannot overwrite the mark);
- the mark cannot be read, set or removed by key (``.../metadata/tf_record``: 404, as if
  absent).

So clients that compare a server's metadata with what they set (Ansible's
openstack.cloud.server removes every key it did not ask for; Tempest's metadata tests)
see only theirs, and the mark survives them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tenantfusion.compat import tags
from tenantfusion.pools.drivers.remote import record_description, record_tag

KEY = "tf_record"
MARK = b'"tf_record"'  # the key in a JSON answer
#: Nova's first microversion taking ``tags`` in a server create.
TAGS_IN_CREATE = (2, 52)
_PATH = re.compile(
    r"^(?P<server>v2(?:\.1)?/servers/[^/]+)/(?:(?P<action>action)|metadata(?:/(?P<key>[^/]+))?)/?$"
)


@dataclass(frozen=True)
class MetadataRequest:
    """A request that can change a server's metadata: on all of it (``key`` None), on one
    key, or a server action (a rebuild may replace the metadata)."""

    server: str  # the server's path, e.g. ``v2.1/servers/<id>``
    key: str | None = None
    is_action: bool = False

    @property
    def collection(self) -> str:
        return f"{self.server}/metadata"


def match(*, service: str, path: str) -> MetadataRequest | None:
    """The metadata (or action) request ``path`` makes on a Nova server, or None."""
    m = _PATH.match(path) if service == "compute" else None
    if m is None:
        return None
    return MetadataRequest(server=m["server"], key=m["key"], is_action=m["action"] is not None)


def hides_one(request: MetadataRequest) -> bool:
    """A request naming the mark's key (answered 404 here)."""
    return request.key == KEY


def theirs(value: Any) -> Any:
    """A ``metadata`` value without the mark (anything but a dict as it is)."""
    return {k: v for k, v in value.items() if k != KEY} if isinstance(value, dict) else value


def _holder(request: MetadataRequest, body: Any) -> dict[str, Any] | None:
    """The object of ``body`` whose ``metadata`` (a dict) the request sends, or None."""
    if request.key is not None or not isinstance(body, dict):
        return None
    holder = body.get("rebuild") if request.is_action else body
    named = isinstance(holder, dict) and isinstance(holder.get("metadata"), dict)
    return holder if named else None


def replaces(*, request: MetadataRequest, method: str, body: Any) -> bool:
    """Whether the request replaces all of the server's metadata (its mark is read first,
    to be added back): ``PUT .../metadata`` or a rebuild naming ``metadata``."""
    replacing = "POST" if request.is_action else "PUT"
    return method == replacing and _holder(request, body) is not None


def rewriting(*, request: MetadataRequest, method: str, body: Any, kept: Mapping[str, Any]) -> Any:
    """The body to send instead of ``body``: the client's own ``tf_record`` dropped, and
    the server's mark ``kept`` added back when the request replaces the metadata; None to
    send the client's body as it is."""
    holder = _holder(request, body) if method in ("PUT", "POST") else None
    if holder is None:
        return None
    added = kept if replaces(request=request, method=method, body=body) else {}
    if KEY not in holder["metadata"] and not added:
        return None
    holder["metadata"] = {**theirs(holder["metadata"]), **added}
    return body


def held(answer: Any) -> dict[str, Any]:
    """The mark in a ``GET .../metadata`` answer (``{"tf_record": ...}``), or {}."""
    metadata = answer.get("metadata") if isinstance(answer, dict) else None
    if isinstance(metadata, dict) and KEY in metadata:
        return {KEY: metadata[KEY]}
    return {}


def takes_tags(headers: Mapping[str, str]) -> bool:
    """Whether a server create sent with ``headers`` may carry tags: a compute microversion
    of 2.52 or later (``latest`` too); Nova reads 2.1 when none is asked."""
    asked = headers.get("x-openstack-nova-api-version", "")
    for part in headers.get("openstack-api-version", "").split(","):
        service, _, version = part.strip().partition(" ")
        if service.lower() == "compute":
            asked = version
    asked = asked.strip().lower()
    if asked == "latest":
        return True
    major, _, minor = asked.partition(".")
    if not (major.isdigit() and minor.isdigit()):
        return False
    return (int(major), int(minor)) >= TAGS_IN_CREATE


def mark_create(*, server: dict[str, Any], record_id: str, with_tag: bool) -> None:
    """Mark a server create's ``server`` object (in place) as ``/v1`` marks its creates:
    the ``tf_record`` metadata, and the record tag when the microversion takes tags."""
    metadata, their_tags = server.get("metadata", {}), server.get("tags", [])
    if not isinstance(metadata, dict) or not isinstance(their_tags, list):
        return  # Nova refuses the body as the client sent it
    server["metadata"] = {**theirs(metadata), KEY: record_description(record_id)}
    if with_tag:
        server["tags"] = [t for t in their_tags if not tags.is_platform(t)]
        server["tags"].append(record_tag(record_id))
