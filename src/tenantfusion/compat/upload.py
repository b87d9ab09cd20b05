"""Image data through the facade: streamed to Glance as it arrives, never held whole.

``PUT /image/<region>/v2/images/<id>/file`` (an image's data) and ``.../stage`` (data for
an interoperable import), with any content type but JSON, are the facade's only requests
whose bodies ``GuardMiddleware`` lets through unread (``streams``): ``max_body_bytes``
(1 MiB) would refuse any real image. ``max_image_bytes`` bounds them instead: a larger
Content-Length is refused before anything reaches the pool, and a chunked body is cut
off with the same 413 (OpenStack's shape) at its first byte past the limit.

A body with a Content-Length goes to Glance with it; a chunked one goes chunked, which
Glance takes on its data paths under any WSGI server (under uwsgi with
``uwsgi.chunked_read``; python-glanceclient uploads every image that way).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from starlette.requests import ClientDisconnect, Request
from starlette.types import Scope

from tenantfusion.errors import BodyTooLarge, InvalidInput
from tenantfusion.pools.aio import Upload

#: A facade path to Glance's image data (the region and image id are any one segment).
_DATA_PATH = re.compile(r"/image/[^/]+/v2/images/[^/]+/(?:file|stage)")


def streams(scope: Scope) -> bool:
    """Whether a request is an image data upload, whose body the facade streams (the
    guard passes it unread; ``proxy.forward`` sends it on with ``body``)."""
    if scope.get("method") != "PUT" or not _DATA_PATH.fullmatch(scope.get("path", "")):
        return False
    content_type = next((v for k, v in scope.get("headers") or () if k == b"content-type"), b"")
    return b"json" not in content_type.lower()


def body(request: Request, *, limit: int) -> Upload:
    """The request's body for ``aio.send``, read only as the pool takes it. Raises
    BodyTooLarge for a Content-Length over ``limit`` and InvalidInput for a malformed
    one; once sending, BodyTooLarge past ``limit`` and InvalidInput for a body the client
    broke off."""
    declared = request.headers.get("content-length")
    length = _length(declared) if declared is not None else None
    if length is not None and length > limit:
        raise BodyTooLarge(f"image data of {length} bytes exceeds the limit of {limit} bytes")
    return Upload(_chunks(request, limit), length=length)


def _length(declared: str) -> int:
    if not declared.isdigit():
        raise InvalidInput(f"invalid Content-Length {declared[:32]!r}")
    return int(declared)


async def _chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"image data exceeds the limit of {limit} bytes")
            if chunk:
                yield chunk
    except ClientDisconnect as e:
        raise InvalidInput(f"the client broke off the image data after {size} bytes") from e
