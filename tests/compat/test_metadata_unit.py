"""Which facade paths touch a server's metadata, and how create bodies, metadata bodies and
answers are rewritten so the record mark stays on the server and out of sight."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tenantfusion.compat import marks, metadata

MARK = {"tf_record": "tenantfusion rec-1"}


def test_metadata_paths_of_servers() -> None:
    one = metadata.match(service="compute", path="v2.1/servers/s1/metadata/tf_record")
    assert one == metadata.MetadataRequest(server="v2.1/servers/s1", key="tf_record")
    assert metadata.hides_one(one)
    every = metadata.match(service="compute", path="v2.1/servers/s1/metadata")
    assert every is not None and every.collection == "v2.1/servers/s1/metadata"
    assert not metadata.hides_one(every)
    action = metadata.match(service="compute", path="v2.1/servers/s1/action")
    assert action == metadata.MetadataRequest(server="v2.1/servers/s1", is_action=True)
    theirs = metadata.match(service="compute", path="v2.1/servers/s1/metadata/color")
    assert theirs is not None and not metadata.hides_one(theirs)
    for service, path in (
        ("compute", "v2.1/servers/s1"),
        ("compute", "v2.1/servers/detail"),
        ("compute", "v2.1/servers"),
        ("volume", "v3/volumes/v1/metadata"),
        ("image", "v2/images/i1/metadata"),
    ):
        assert metadata.match(service=service, path=path) is None, path


def test_a_create_is_marked_with_metadata_and_from_2_52_the_tag() -> None:
    server: dict[str, Any] = {"name": "vm", "metadata": {"a": "1", "tf_record": "spoofed"}}
    metadata.mark_create(server=server, record_id="rec-1", with_tag=False)
    assert server == {"name": "vm", "metadata": {"a": "1", **MARK}}
    tagged: dict[str, Any] = {"name": "vm", "tags": ["red", "tf-rec-spoofed"]}
    metadata.mark_create(server=tagged, record_id="rec-1", with_tag=True)
    assert tagged["metadata"] == MARK and tagged["tags"] == ["red", "tf-rec-rec-1"]
    invalid: dict[str, Any] = {"metadata": ["not", "a", "dict"]}
    metadata.mark_create(server=invalid, record_id="rec-1", with_tag=False)
    assert invalid == {"metadata": ["not", "a", "dict"]}  # Nova refuses it as sent


def test_tags_go_in_a_create_from_microversion_2_52() -> None:
    takes = metadata.takes_tags
    assert not takes({})  # 2.1
    assert not takes({"openstack-api-version": "compute 2.51"})
    assert takes({"openstack-api-version": "compute 2.52"})
    assert takes({"openstack-api-version": "volume 3.0, compute latest"})
    assert not takes({"openstack-api-version": "volume 3.60"})
    assert takes({"x-openstack-nova-api-version": "2.79"})
    assert not takes({"x-openstack-nova-api-version": "2.9"})
    assert not takes(
        {"openstack-api-version": "compute 2.1", "x-openstack-nova-api-version": "2.60"}
    )
    assert not takes({"openstack-api-version": "compute junk"})


def _rewritten(path: str, method: str, body: Any, kept: dict[str, str]) -> Any:
    request = metadata.match(service="compute", path=path)
    assert request is not None
    replaces = metadata.replaces(request=request, method=method, body=body)
    return replaces, metadata.rewriting(request=request, method=method, body=body, kept=kept)


def test_replacing_metadata_keeps_the_mark_and_merging_cannot_overwrite_it() -> None:
    meta = "v2.1/servers/s1/metadata"
    replaced = _rewritten(meta, "PUT", {"metadata": {"a": "1", "tf_record": "x"}}, MARK)
    assert replaced == (True, {"metadata": {"a": "1", **MARK}})
    assert _rewritten(meta, "PUT", {"metadata": {}}, MARK) == (True, {"metadata": MARK})
    assert _rewritten(meta, "PUT", {"metadata": {"a": "1"}}, {}) == (True, None)  # unmarked
    merged = _rewritten(meta, "POST", {"metadata": {"a": "1", "tf_record": "x"}}, {})
    assert merged == (False, {"metadata": {"a": "1"}})
    assert _rewritten(meta, "POST", {"metadata": {"a": "1"}}, {}) == (False, None)
    assert _rewritten(meta, "PUT", {"nope": 1}, MARK) == (False, None)
    action = "v2.1/servers/s1/action"
    rebuilt = _rewritten(action, "POST", {"rebuild": {"imageRef": "i", "metadata": {}}}, MARK)
    assert rebuilt == (True, {"rebuild": {"imageRef": "i", "metadata": MARK}})
    assert _rewritten(action, "POST", {"rebuild": {"imageRef": "i"}}, MARK) == (False, None)
    assert _rewritten(action, "POST", {"reboot": {"type": "HARD"}}, MARK) == (False, None)
    assert metadata.held({"metadata": {"a": "1", **MARK}}) == MARK
    assert metadata.held({"metadata": {"a": "1"}}) == {}
    assert metadata.held(None) == {}


def test_compute_answers_lose_the_mark_and_keep_the_rest() -> None:
    answer = {
        "servers": [
            {"id": "s1", "metadata": {"a": "1", **MARK}, "tags": ["red", "tf-rec-rec-1"]},
            {"id": "s2", "metadata": {}},
        ]
    }
    hidden = json.loads(marks.hide(json.dumps(answer).encode(), service="compute"))
    assert hidden["servers"] == [
        {"id": "s1", "metadata": {"a": "1"}, "tags": ["red"]},
        {"id": "s2", "metadata": {}},
    ]
    alone = json.loads(marks.hide(json.dumps({"metadata": MARK}).encode(), service="compute"))
    assert alone == {"metadata": {}}
    volume = json.dumps({"volume": {"metadata": MARK}}).encode()
    assert marks.hide(volume, service="volume") is volume  # Cinder's are not Nova's
    plain = b'{"metadata": {"a": "1"}}'
    assert marks.hide(plain, service="compute") is plain  # not parsed: nothing to hide


def _strings(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(v, str) for v in value.values())
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _reference(value: Any, service: str) -> Any:
    """What hiding means, on the parsed answer: every ``tags`` list of strings loses the
    platform tags, every (Nova) ``metadata`` object of strings loses the mark, wherever
    they stand (as Nova and Neutron answer: tags and metadata hold strings only)."""
    if isinstance(value, list):
        return [_reference(v, service) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k == "tags" and isinstance(v, list) and _strings(v):
            out[k] = [t for t in v if not (isinstance(t, str) and t.startswith("tf-rec-"))]
        elif k == "metadata" and service == "compute" and isinstance(v, dict) and _strings(v):
            out[k] = {mk: mv for mk, mv in v.items() if mk != "tf_record"}
        else:
            out[k] = _reference(v, service)
    return out


_TEXT = st.sampled_from(
    [
        "tags",
        "metadata",
        'x"tags',
        'x "metadata',
        "tf_record",
        "tf-rec-r1",
        'q"uote',
        "b\\",
        "é",
        "",
    ]
) | st.text(max_size=6)
_STRINGS = st.lists(_TEXT, max_size=4)
_DOCS = st.recursive(
    st.none() | st.integers() | _TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_TEXT, inner, max_size=3)
        | st.fixed_dictionaries({"tags": _STRINGS})
        | st.fixed_dictionaries({"metadata": st.dictionaries(_TEXT, _TEXT, max_size=3)})
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@example(  # keys that end in "tags" or "metadata" are not those fields
    doc={'x"tags': ["tf-rec-r1"], 'y "metadata': {"tf_record": "t"}},
    service="compute",
    indent=None,
    ascii_only=True,
)
@given(
    doc=_DOCS,
    service=st.sampled_from(["compute", "network", "volume"]),
    indent=st.sampled_from([None, 2]),
    ascii_only=st.booleans(),
)
def test_hiding_in_place_equals_hiding_the_parsed_answer(
    doc: Any, service: str, indent: int | None, ascii_only: bool
) -> None:
    raw = json.dumps(doc, indent=indent, ensure_ascii=ascii_only).encode()
    assert json.loads(marks.hide(raw, service=service)) == _reference(doc, service)
