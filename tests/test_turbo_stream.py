"""The ``<turbo-stream>`` builder: exact HTML for every action, and escaping."""

from __future__ import annotations

import pytest
from django.utils.safestring import SafeString, mark_safe

from turbo_cable.turbo_stream import ACTIONS, refresh_tag, turbo_stream_tag


@pytest.mark.parametrize("action", ["append", "prepend", "replace", "update", "before", "after"])
def test_content_actions_wrap_their_content_in_a_template(action: str) -> None:
    html = turbo_stream_tag(action, target="messages", content=mark_safe("<p>hi</p>"))
    assert html == (
        f'<turbo-stream action="{action}" target="messages">'
        "<template><p>hi</p></template></turbo-stream>"
    )


def test_remove_carries_no_template() -> None:
    assert turbo_stream_tag("remove", target="message_1") == (
        '<turbo-stream action="remove" target="message_1"></turbo-stream>'
    )


def test_refresh_carries_no_template_and_its_request_id() -> None:
    assert refresh_tag(request_id="abc-123") == (
        '<turbo-stream action="refresh" request-id="abc-123"></turbo-stream>'
    )
    assert refresh_tag() == '<turbo-stream action="refresh"></turbo-stream>'


def test_every_turbo_8_action_is_known() -> None:
    assert set(ACTIONS) == {
        "append", "prepend", "replace", "update", "remove", "before", "after", "refresh",
    }  # fmt: skip


def test_targets_takes_a_css_selector() -> None:
    html = turbo_stream_tag("update", targets=".unread > li", content="x")
    assert html == (
        '<turbo-stream action="update" targets=".unread &gt; li"><template>x</template>'
        "</turbo-stream>"
    )


def test_extra_attributes_follow_the_target() -> None:
    html = turbo_stream_tag(
        "replace",
        target="card",
        content="",
        attributes={"method": "morph", "data-x": 'a"b', "hidden": True, "skip": None},
    )
    assert html == (
        '<turbo-stream action="replace" target="card" method="morph" data-x="a&quot;b" hidden>'
        "<template></template></turbo-stream>"
    )


def test_hostile_targets_are_escaped() -> None:
    html = turbo_stream_tag("remove", target='x"><script>alert(1)</script>')
    assert html == (
        '<turbo-stream action="remove" target="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">'
        "</turbo-stream>"
    )


def test_hostile_request_ids_are_escaped() -> None:
    assert refresh_tag(request_id="'><img src=x>") == (
        '<turbo-stream action="refresh" request-id="&#x27;&gt;&lt;img src=x&gt;"></turbo-stream>'
    )


def test_plain_string_content_is_escaped() -> None:
    html = turbo_stream_tag("append", target="log", content="<script>alert('x')</script> & co")
    assert "<script>" not in html
    assert "<template>&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co</template>" in html


def test_safe_content_is_kept_as_is() -> None:
    content = SafeString("<b>bold</b>")
    html = turbo_stream_tag("append", target="t", content=content)
    assert "<template><b>bold</b></template>" in html


def test_the_result_is_safe_to_put_in_a_template() -> None:
    assert isinstance(turbo_stream_tag("remove", target="x"), SafeString)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "replace"}, "needs a target"),
        ({"action": "replace", "target": "a", "targets": ".b"}, "not both"),
        ({"action": "refresh", "target": "a"}, "no target"),
        ({"action": "remove", "target": "a", "content": "x"}, "no content"),
        ({"action": "replace", "target": "  "}, "non-blank"),
        ({"action": 'replace" onclick="x', "target": "a"}, "not a Turbo Stream action"),
        ({"action": "replace", "target": "a", "attributes": {"on click": 1}}, "attribute name"),
        ({"action": "replace", "target": "a", "attributes": {"target": "b"}}, "own argument"),
    ],
)
def test_impossible_elements_are_refused_with_a_reason(kwargs: dict, message: str) -> None:
    action = kwargs.pop("action")
    with pytest.raises(ValueError, match=message):
        turbo_stream_tag(action, **kwargs)


def test_custom_actions_are_allowed() -> None:
    assert turbo_stream_tag("console_log", content="hi") == (
        '<turbo-stream action="console_log"><template>hi</template></turbo-stream>'
    )
