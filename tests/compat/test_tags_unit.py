"""Which facade paths are tag requests, and how answers and bodies are rewritten."""

from __future__ import annotations

import json

from tenantfusion.compat import marks, tags

MARK = "tf-rec-0f1e"


def test_tag_paths_of_nova_and_neutron_objects() -> None:
    one = tags.match(service="network", path=f"v2.0/networks/n1/tags/{MARK}")
    assert one == tags.TagRequest(collection="v2.0/networks/n1/tags", tag=MARK)
    assert tags.hides_one(one)
    every = tags.match(service="compute", path="v2.1/servers/s1/tags")
    assert every == tags.TagRequest(collection="v2.1/servers/s1/tags", tag=None)
    assert not tags.hides_one(every)
    theirs = tags.match(service="network", path="v2.0/ports/p/tags/red")
    assert theirs is not None and not tags.hides_one(theirs)
    for service, path in (
        ("network", "v2.0/networks/n1"),
        ("network", "v2.0/networks"),
        ("image", "v2/images/i1/tags/x"),
        ("compute", "v2.1/servers/detail"),
    ):
        assert tags.match(service=service, path=path) is None, path


def test_answers_lose_platform_tags_and_keep_the_rest() -> None:
    answer = {
        "networks": [
            {"id": "n1", "tags": ["red", MARK], "description": MARK},
            {"id": "n2", "tags": []},
        ]
    }
    hidden = json.loads(marks.hide(json.dumps(answer).encode(), service="network"))
    assert hidden["networks"][0] == {"id": "n1", "tags": ["red"], "description": MARK}
    assert hidden["networks"][1] == {"id": "n2", "tags": []}
    plain = b'{"tags": ["red"]}'
    assert marks.hide(plain, service="network") is plain  # not parsed when there is nothing to hide


def test_replacing_all_tags_keeps_the_platform_ones() -> None:
    body = {"tags": ["a", "tf-rec-spoofed"]}
    assert json.loads(tags.replacing(body, [MARK]) or b"") == {"tags": ["a", MARK]}
    assert tags.replacing({"nope": 1}, [MARK]) is None
    assert tags.platform_tags({"tags": ["a", MARK]}) == [MARK]
    assert tags.platform_tags(None) == []
