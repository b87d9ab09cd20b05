"""Image data through the facade, streamed: python-openstackclient, unmodified, uploads an
image larger than ``TENANTFUSION_MAX_BODY_BYTES`` into a region's Glance and downloads the
same bytes; bodies over ``TENANTFUSION_MAX_IMAGE_BYTES`` are refused with 413 and leave an
image Glance still holds as ``queued`` (no data), which uploads or deletes as usual."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat.conftest import Facade, Tenant, new_tenant, served_facade

pytestmark = pytest.mark.pools

BODY_LIMIT = 64 * 1024
IMAGE_LIMIT = 1024 * 1024
FORMATS = ("--disk-format", "raw", "--container-format", "bare")
OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def small_facade(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Facade]:
    """A served tenantfusion whose body limit is far below any image."""
    with served_facade(
        tmp_path_factory.mktemp("upload"),
        TENANTFUSION_MAX_BODY_BYTES=str(BODY_LIMIT),
        TENANTFUSION_MAX_IMAGE_BYTES=str(IMAGE_LIMIT),
    ) as made:
        yield made


@pytest.fixture
def tenant(small_facade: Facade) -> Iterator[Tenant]:
    with new_tenant(small_facade) as made:
        yield made


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def images(tenant: Tenant, region: str) -> dict[str, str]:
    """Name → status of the tenant's images in ``region`` (the pools' public ones left out)."""
    listed = tenant.openstack(region, "image", "list", "--private", "--long")
    return {i["Name"]: i["Status"] for i in listed}


def test_cli_uploads_and_downloads_an_image_past_the_body_limit(
    tenant: Tenant, tmp_path: Path
) -> None:
    region = "east"
    data = os.urandom(512 * 1024)  # 8 times the body limit
    disk = tmp_path / "disk.raw"
    disk.write_bytes(data)
    made = tenant.openstack(region, "image", "create", "--file", str(disk), *FORMATS, "big")
    shown = tenant.openstack(region, "image", "show", made["id"])
    assert shown["status"] == "active"
    assert shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()  # noqa: S324  Glance's checksum
    saved = tmp_path / "saved.raw"
    tenant.run(region, "image", "save", "--file", str(saved), made["id"])
    assert sha256(saved.read_bytes()) == sha256(data)
    # audited like any other facade call that changes something
    with tenant.facade.api() as c:
        r = c.get("/v1/audit", headers=tenant.facade.admin, params={"action": "api.forward"})
    assert r.status_code == 200, r.text
    uploads = [
        e["detail"]
        for e in r.json()["items"]
        if e["detail"]["path"] == f"/image/{region}/v2/images/{made['id']}/file"
    ]
    assert uploads == [{"method": "PUT", "path": uploads[0]["path"], "status": 204}]
    tenant.run(region, "image", "delete", made["id"])
    assert "big" not in images(tenant, region)


def test_cli_imports_an_image_staged_past_the_body_limit(tenant: Tenant, tmp_path: Path) -> None:
    """``--import``: the data goes to ``.../stage``, then Glance imports it (glance-direct)."""
    region = "west"
    data = os.urandom(256 * 1024)
    disk = tmp_path / "disk.raw"
    disk.write_bytes(data)
    made = tenant.openstack(
        region, "image", "create", "--import", "--file", str(disk), *FORMATS, "staged"
    )
    deadline = time.monotonic() + 120
    while (shown := tenant.openstack(region, "image", "show", made["id"]))["status"] != "active":
        assert shown["status"] in ("uploading", "importing"), shown
        assert time.monotonic() < deadline, shown
        time.sleep(1)
    assert shown["size"] == len(data)
    saved = tmp_path / "saved.raw"
    tenant.run(region, "image", "save", "--file", str(saved), made["id"])
    assert sha256(saved.read_bytes()) == sha256(data)
    tenant.run(region, "image", "delete", made["id"])


def facade_glance(tenant: Tenant, region: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{tenant.facade.url}/image/{region}/v2",
        headers=tenant.headers(),
        timeout=120,
        trust_env=False,
    )


def chunks(size: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """``size`` random bytes, chunk by chunk (httpx sends them chunked)."""
    for start in range(0, size, chunk):
        yield os.urandom(min(chunk, size - start))


def refused(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text
    error = r.json()["error"]
    assert error["code"] == 413 and str(IMAGE_LIMIT) in error["message"]


def new_image(glance: httpx.Client, name: str) -> str:
    r = glance.post(
        "/images", json={"name": name, "disk_format": "raw", "container_format": "bare"}
    )
    assert r.status_code == 201, r.text
    image: str = r.json()["id"]
    return image


def upload_once_settled(glance: httpx.Client, image: str, data: bytes) -> dict[str, Any]:
    """Upload ``data`` (chunked) to ``image`` once Glance is done with a broken upload.
    Until it noticed the cut body and put the image back to ``queued`` (a moment after the
    facade answered), another upload races the broken one in Glance and is refused: 409
    (``saving to saving``), or 410 when both read ``queued`` first. The image as Glance
    shows it after."""
    deadline = time.monotonic() + 60
    while True:
        r = glance.put(f"/images/{image}/file", headers=OCTETS, content=iter([data]))
        if r.status_code not in (409, 410) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert r.status_code == 204, r.text
    shown: dict[str, Any] = glance.get(f"/images/{image}").json()
    return shown


def test_image_data_over_the_limit_is_refused(tenant: Tenant, tmp_path: Path) -> None:
    region = "east"
    # announced: the CLI's Content-Length is over the limit, refused before Glance sees it;
    # openstacksdk deletes the image whose upload failed
    disk = tmp_path / "huge.raw"
    disk.write_bytes(os.urandom(IMAGE_LIMIT + 1))
    out = tenant.openstack(
        region, "image", "create", "--file", str(disk), *FORMATS, "huge", check=False
    )
    assert out.returncode != 0 and "413" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr
    assert images(tenant, region) == {}
    with facade_glance(tenant, region) as glance:
        # streamed (chunked, no length): cut off at the first byte past the limit
        image = new_image(glance, "cut")
        r = glance.put(f"/images/{image}/file", headers=OCTETS, content=chunks(2 * IMAGE_LIMIT))
        refused(r)
        # Glance keeps none of the cut body: the image is back to queued, without data,
        # and an upload within the limit goes (chunked too); it deletes as usual
        shown = glance.get(f"/images/{image}").json()
        assert shown["status"] in ("queued", "saving") and shown["size"] is None, shown
        data = b"".join(chunks(300 * 1024))
        shown = upload_once_settled(glance, image, data)
        assert shown["status"] == "active" and shown["size"] == len(data), shown
        assert shown["os_hash_value"] == hashlib.sha512(data).hexdigest()
        assert glance.delete(f"/images/{image}").status_code == 204
    assert images(tenant, region) == {}


def test_a_client_breaking_off_leaves_the_image_queued(tenant: Tenant) -> None:
    """A client that announces 512 KiB and hangs up after half of it: Glance gets the
    same cut body (never a shorter image) and puts the image back to queued."""
    region = "east"
    with facade_glance(tenant, region) as glance:
        image = new_image(glance, "broken")
        url = httpx.URL(tenant.facade.url)
        head = (
            f"PUT /image/{region}/v2/images/{image}/file HTTP/1.1\r\n"
            f"Host: {url.host}:{url.port}\r\n"
            f"X-Auth-Token: {glance.headers['x-auth-token']}\r\n"
            "Content-Type: application/octet-stream\r\n"
            f"Content-Length: {512 * 1024}\r\n\r\n"
        )
        with socket.create_connection((url.host, url.port or 80)) as s:
            s.sendall(head.encode() + os.urandom(256 * 1024))
            time.sleep(0.5)  # the half reaches Glance before the hang-up
        data = os.urandom(100 * 1024)
        shown = upload_once_settled(glance, image, data)
        assert shown["status"] == "active" and shown["size"] == len(data), shown
        assert glance.delete(f"/images/{image}").status_code == 204
