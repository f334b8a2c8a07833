"""Editing a base layout's text so it loads the client: pure string work, no I/O.

Layouts are Django templates, so a ``<body>`` tag may hold template tags
(``{% if %}``, ``{{ classes }}``); the patterns below step over them whole.
"""

from __future__ import annotations

import re
from pathlib import Path

CONTROLLER = "turbo-streams"
CLIENT = "turbo_streams_controller.js"
CLIENT_PATH = f"turbo_cable/{CLIENT}"  # for {% static %}
SHIPPED_CLIENT = Path(__file__).resolve().parents[1] / "static" / CLIENT_PATH

_TEMPLATE_PIECE = r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}"
_BODY = re.compile(
    rf"<body\b(?P<attributes>(?:{_TEMPLATE_PIECE}|[^>])*)>", re.IGNORECASE | re.DOTALL
)
_DATA_CONTROLLER = re.compile(
    r"(?P<name>(?<=\s)data-controller)(?![\w-])"
    r"(?:\s*=\s*(?:\"(?P<double>[^\"]*)\"|'(?P<single>[^']*)'|(?P<bare>[^\s\"'=<>`]+)))?",
    re.IGNORECASE,
)
_HEAD_END = re.compile(r"^[ \t]*</head\s*>|</head\s*>", re.IGNORECASE | re.MULTILINE)
_LOAD_STATIC = re.compile(r"\{%\s*load\s+(?:[\w.]+\s+)*static(?:\s+[\w.]+)*\s*%\}")
_EXTENDS = re.compile(r"\{%\s*extends\s.*?%\}\n?", re.DOTALL)


class LayoutError(Exception):
    """The layout cannot be edited safely; the message says what to add by hand."""


def script_tag(static_path: str) -> str:
    return f'<script type="module" src="{{% static \'{static_path}\' %}}"></script>'


def has_controller(layout: str) -> bool:
    body = _find_body(layout)
    found = _DATA_CONTROLLER.search(body.group("attributes"))
    return found is not None and CONTROLLER in _controller_value(found).split()


def add_controller(layout: str) -> str:
    """``layout`` with ``turbo-streams`` in its ``<body>``'s ``data-controller``."""
    body = _find_body(layout)
    attributes = body.group("attributes")
    found = _DATA_CONTROLLER.search(attributes)
    if found is None:
        stripped = attributes.rstrip()
        trailing = attributes[len(stripped) :]
        attributes = f'{stripped} data-controller="{CONTROLLER}"{trailing}'
    else:
        value = _controller_value(found)
        if CONTROLLER in value.split():
            return layout
        merged = f"{value} {CONTROLLER}" if value.strip() else CONTROLLER
        quote = "'" if found.group("single") is not None else '"'
        replacement = f"{found.group('name')}={quote}{merged}{quote}"
        attributes = attributes[: found.start()] + replacement + attributes[found.end() :]
    return f"{layout[: body.start()]}<body{attributes}>{layout[body.end() :]}"


def has_script(layout: str) -> bool:
    return CLIENT in layout


def add_script(layout: str, static_path: str) -> str:
    """``layout`` loading the client: in ``<head>``, else first thing in ``<body>``."""
    if has_script(layout):
        return layout
    tag = script_tag(static_path)
    head_end = _HEAD_END.search(layout)
    at = head_end.start() if head_end is not None else -1
    # </head> opening its line gives the tag a line of its own, indented like the one above.
    if head_end is not None and (at == 0 or layout[at - 1] == "\n"):
        layout = f"{layout[:at]}{_indent_before(layout, at)}{tag}\n{layout[at:]}"
    elif head_end is not None:
        layout = f"{layout[:at]}{tag}{layout[at:]}"
    else:
        body = _find_body(layout)
        layout = f"{layout[: body.end()]}\n{tag}{layout[body.end() :]}"
    return _load_static(layout)


def _load_static(layout: str) -> str:
    if _LOAD_STATIC.search(layout):
        return layout
    extends = _EXTENDS.match(layout.lstrip())
    if extends is not None:  # {% extends %} must stay the first tag
        at = layout.index(extends.group(0)) + len(extends.group(0))
        return f"{layout[:at]}{{% load static %}}\n{layout[at:]}"
    return "{% load static %}\n" + layout


def _indent_before(layout: str, at: int) -> str:
    """The indentation of the last non-blank line before offset ``at``."""
    for line in reversed(layout[:at].splitlines()):
        if line.strip():
            return line[: len(line) - len(line.lstrip())]
    return ""


def _find_body(layout: str) -> re.Match[str]:
    body = _BODY.search(layout)
    if body is None:
        raise LayoutError("it has no <body> tag")
    return body


def _controller_value(found: re.Match[str]) -> str:
    for group in ("double", "single", "bare"):
        if found.group(group) is not None:
            return found.group(group)
    return ""
