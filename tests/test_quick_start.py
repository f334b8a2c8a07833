"""README.rst's Quick start, followed step by step in a fresh ``startproject``.

The code blocks are read from the README itself, so the test follows the README
as it is written: shell blocks run line by line, file blocks are written (or
appended, for ``# add to``) where their first line says. The project is then
served by ``runserver`` and by the README's uvicorn command (with ``DEBUG`` on,
then off after ``collectstatic``), and the page, open in two browser contexts,
must follow creates, updates and deletes made by separate ``manage.py shell``
processes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_support import OpenTab, Tab
from tests.servers import ROOT, free_port

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

README = (ROOT / "README.rst").read_text()
QUICK_START = README.split("Quick start\n===========\n", 1)[1].split("\n=====", 1)[0]
VENV_BIN = Path(sys.executable).parent
_DIRECTIVE = re.compile(r"^(?P<indent> *)\.\. code-block:: (?P<language>\S+)\s*$")
_FILE_HEADER = re.compile(r"^(?:# (?P<add>add to )?(?P<py>\S+\.py)|\{# (?P<html>\S+\.html) #\})$")


@dataclasses.dataclass
class Block:
    language: str
    text: str


def code_blocks(section: str) -> list[Block]:
    """Every ``.. code-block::`` of an RST section, dedented, in order."""
    blocks: list[Block] = []
    lines = section.splitlines()
    for index, line in enumerate(lines):
        directive = _DIRECTIVE.match(line)
        if directive is None:
            continue
        indent = len(directive.group("indent"))
        body: list[str] = []
        for following in lines[index + 1 :]:
            if following.strip() and len(following) - len(following.lstrip()) <= indent:
                break
            body.append(following)
        blocks.append(Block(directive.group("language"), textwrap.dedent("\n".join(body)).strip()))
    return blocks


@dataclasses.dataclass
class QuickStart:
    """The project the Quick start built, and the commands it left for later."""

    project: Path
    env: dict[str, str]
    servers: list[str] = dataclasses.field(default_factory=list)
    live_steps: list[str] = dataclasses.field(default_factory=list)
    collectstatic: str = ""
    check_output: str = ""

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["bash", "-c", command],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
        return result


def commands(block: Block) -> list[str]:
    return [line.strip() for line in block.text.splitlines() if line.strip()]


def follow_the_quick_start(folder: Path) -> QuickStart:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TURBO_CABLE"))}
    env["PATH"] = f"{VENV_BIN}:{env['PATH']}"
    steps = QuickStart(folder, env)
    for block in code_blocks(QUICK_START):
        if block.language == "sh":
            for command in commands(block):
                _shell_line(steps, command)
            continue
        header, _, content = block.text.partition("\n")
        path = _FILE_HEADER.match(header)
        assert path is not None, f"a Quick start block does not say where it goes:\n{block.text}"
        target = steps.project / (path.group("py") or path.group("html"))
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.group("add"):
            with target.open("a") as file:
                file.write(f"\n{content}\n")
        else:
            target.write_text(block.text if path.group("py") else content + "\n")
    return steps


def _shell_line(steps: QuickStart, command: str) -> None:
    words = shlex.split(command)
    if words[:2] == ["pip", "install"]:
        # This run's virtualenv has the package installed from the work tree, with its extras.
        for module in ("turbo_cable", "daphne", "uvicorn", "whitenoise"):
            steps.run(f"python -c 'import {module}'")
    elif words[0] == "cd":
        steps.project = steps.project / words[1]
    elif words[0] == "export":
        name, _, value = words[1].partition("=")
        assert name == "TURBO_CABLE_BROADCAST_URL"
        assert value.endswith("/_broadcast")  # set per server below, with its real port
    elif "runserver" in words or words[0] == "uvicorn":
        steps.servers.append(command)
    elif "collectstatic" in words:
        steps.collectstatic = command
    elif "shell" in words and steps.servers:
        steps.live_steps.append(command)
    elif words[-1] == "check":
        checked = steps.run(command)
        steps.check_output = checked.stdout + checked.stderr
    else:
        steps.run(command)


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory: pytest.TempPathFactory) -> QuickStart:
    return follow_the_quick_start(tmp_path_factory.mktemp("quick-start"))


@contextlib.contextmanager
def serving(steps: QuickStart, command: str, port: int) -> Iterator[str]:
    """The README's server command, told to listen on ``port``."""
    if "runserver" in command:
        command = f"{command} 127.0.0.1:{port}"
    else:
        command = f"{command} --host 127.0.0.1 --port {port}"
    log = steps.project / f"server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=steps.project,
            env=steps.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not _answers(port):
            assert process.poll() is None, f"{command} exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"{command} did not start:\n{log.read_text()}"
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)


def _answers(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status > 0
    except OSError:
        return False
    finally:
        connection.close()


def page_path() -> str:
    found = re.search(r"http://127\.0\.0\.1:8000(/rooms/\d+/)", QUICK_START)
    assert found is not None, "the Quick start no longer says which page to open"
    return found.group(1)


async def changes_from_a_shell_reach_both_pages(
    steps: QuickStart, url: str, open_tab: OpenTab
) -> None:
    tabs = [await open_tab(url + page_path(), wait_connected=1) for _ in range(2)]
    for tab in tabs:
        assert await tab.page.evaluate("typeof window.Turbo") == "object", "Turbo did not load"
    create, update, delete = steps.live_steps
    port = url.rsplit(":", 1)[1]
    steps.env["TURBO_CABLE_BROADCAST_URL"] = f"http://127.0.0.1:{port}/_broadcast"
    try:
        for step in (create, update):
            written = re.findall(r"body\s*=\s*'([^']*)'", step)[-1]
            shell = steps.run(step)
            assert "broadcast to stream" not in shell.stderr, shell.stderr
            for tab in tabs:
                await wait_for_message(tab, written)
        shell = steps.run(delete)
        assert "broadcast to stream" not in shell.stderr, shell.stderr
        for tab in tabs:
            await tab.page.wait_for_function(
                "() => !document.querySelector('#messages [id^=message_]')"
            )
    finally:
        del steps.env["TURBO_CABLE_BROADCAST_URL"]


async def wait_for_message(tab: Tab, text: str) -> None:
    await tab.page.wait_for_function(
        "text => [...document.querySelectorAll('#messages [id^=message_]')]"
        ".some(element => element.textContent.trim() === text)",
        arg=text,
    )


async def test_the_quick_start_builds_a_project_that_passes_its_checks(
    quick_start: QuickStart,
) -> None:
    assert "System check identified no issues" in quick_start.check_output
    assert [command.split()[0:3] for command in quick_start.servers] == [
        ["python", "manage.py", "runserver"],
        ["uvicorn", "mysite.asgi:application", "--ws"],
    ]
    assert len(quick_start.live_steps) == 3
    deployment = README.split("Deployment\n==========\n", 1)[1]
    [uvicorn] = [b.text for b in code_blocks(deployment) if b.text.startswith("uvicorn")]
    assert " ".join(uvicorn.replace("\\\n", " ").split()) == quick_start.servers[1]


async def test_runserver_pages_follow_changes_made_in_a_shell(
    quick_start: QuickStart, open_tab: OpenTab
) -> None:
    with serving(quick_start, quick_start.servers[0], free_port()) as url:
        await changes_from_a_shell_reach_both_pages(quick_start, url, open_tab)


async def test_uvicorn_pages_follow_changes_made_in_a_shell_with_debug_on(
    quick_start: QuickStart, open_tab: OpenTab
) -> None:
    with serving(quick_start, quick_start.servers[1], free_port()) as url:
        await changes_from_a_shell_reach_both_pages(quick_start, url, open_tab)


async def test_uvicorn_pages_follow_changes_made_in_a_shell_with_debug_off(
    quick_start: QuickStart, open_tab: OpenTab
) -> None:
    settings = quick_start.project / "mysite" / "settings.py"
    production = settings.read_text() + '\nDEBUG = False\nALLOWED_HOSTS = ["127.0.0.1"]\n'
    settings.write_text(production)
    quick_start.run(quick_start.collectstatic)
    assert (quick_start.project / "staticfiles" / "turbo_cable").is_dir()
    with serving(quick_start, quick_start.servers[1], free_port()) as url:
        await changes_from_a_shell_reach_both_pages(quick_start, url, open_tab)
