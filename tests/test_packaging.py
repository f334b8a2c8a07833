"""The sdist and wheel as users get them: built, installed in a bare venv, serving a page."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import django
import pytest

from tests.servers import ROOT, free_port
from turbo_cable.management.layout import SHIPPED_CLIENT

CLIENT = "turbo_cable/static/turbo_cable/turbo_streams_controller.js"
SETTINGS = """
SECRET_KEY = "packaging-test"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["django.contrib.staticfiles", "turbo_cable"]
MIDDLEWARE = ["whitenoise.middleware.WhiteNoiseMiddleware"]
ROOT_URLCONF = "site_urls"
ASGI_APPLICATION = "site_asgi.application"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": ["."]}]
STATIC_URL = "static/"
STATIC_ROOT = "collected"
"""
URLS = """
from django.urls import path
from django.views.generic import TemplateView

urlpatterns = [path("", TemplateView.as_view(template_name="page.html"))]
"""
ASGI = """
import os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_settings")
from turbo_cable.asgi import get_asgi_application
application = get_asgi_application()
"""
PAGE = """{% load static turbo_cable %}
<script type="module" src="{% static 'turbo_cable/turbo_streams_controller.js' %}"></script>
<body data-controller="turbo-streams">{% turbo_stream_from "packaged" %}</body>
"""


def _clean_env() -> dict[str, str]:
    """The environment without this test run's Django settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TURBO_CABLE"))}


def run(*command: str | Path, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    dist = tmp_path_factory.mktemp("dist")
    log = run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", dist, ROOT)
    [sdist] = dist.glob("*.tar.gz")
    [wheel] = dist.glob("*.whl")
    return sdist, wheel, log


def test_building_says_nothing_about_packages_it_would_ignore(
    built: tuple[Path, Path, str],
) -> None:
    _, _, log = built
    assert "is absent from the `packages` configuration" not in log


def test_the_sdist_and_the_wheel_carry_the_licence_and_the_client(
    built: tuple[Path, Path, str],
) -> None:
    sdist, wheel, _ = built
    with tarfile.open(sdist) as archive:
        names = [name.split("/", 1)[1] for name in archive.getnames() if "/" in name]
    assert "LICENSE" in names
    assert CLIENT in names
    with zipfile.ZipFile(wheel) as archive:
        wheel_names = archive.namelist()
        licence = next(name for name in wheel_names if name.endswith("/LICENSE"))
        assert "MIT License" in archive.read(licence).decode()
        metadata = archive.read(next(n for n in wheel_names if n.endswith("/METADATA")))
        assert archive.read(CLIENT) == SHIPPED_CLIENT.read_bytes()
    requirements = [
        line for line in metadata.decode().splitlines() if line.startswith("Requires-Dist:")
    ]
    assert 'Requires-Dist: uvicorn[standard]>=0.35; extra == "uvicorn"' in requirements
    assert 'Requires-Dist: whitenoise>=6.6; extra == "uvicorn"' in requirements


@pytest.fixture(scope="module")
def installed(built: tuple[Path, Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with nothing but the wheel (with its uvicorn extra) and this run's Django."""
    _, wheel, _ = built
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", venv)
    run(
        venv / "bin" / "pip",
        "install",
        "-q",
        "--no-compile",
        f"{wheel}[uvicorn]",
        f"django=={django.__version__}",
    )
    return venv


def test_the_installed_wheel_serves_a_page_its_client_and_broadcasts(
    installed: Path, tmp_path: Path
) -> None:
    python = installed / "bin" / "python"
    where = run(python, "-c", "import turbo_cable; print(turbo_cable.__file__)", cwd=tmp_path)
    assert where.strip().startswith(str(installed)), "turbo_cable must come from the wheel"
    for name, text in {
        "site_settings.py": SETTINGS,
        "site_urls.py": URLS,
        "site_asgi.py": ASGI,
        "page.html": PAGE,
    }.items():
        (tmp_path / name).write_text(text)
    run(
        python,
        "-c",
        "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'site_settings'; "
        "django.setup(); from django.core.management import call_command; "
        "call_command('collectstatic', '--noinput', verbosity=0)",
        cwd=tmp_path,
    )
    port = free_port()
    uvicorn = [
        installed / "bin" / "uvicorn", "site_asgi:application", "--port", str(port),
        "--ws", "turbo_cable.uvicorn_protocol:WebSocketProtocol",
        "--ws-per-message-deflate", "false", "--ws-ping-interval", "0", "--no-access-log",
    ]  # fmt: skip
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            uvicorn, cwd=tmp_path, env=_clean_env(), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        page, client_status, client_size, broadcast_status = _visit(port, server, log)
    finally:
        server.terminate()
        server.wait(15)
    assert "<turbo-cable-stream " in page
    assert (client_status, client_size) == (200, SHIPPED_CLIENT.stat().st_size)
    assert broadcast_status == 200


def _visit(port: int, server: subprocess.Popen[bytes], log: Path) -> tuple[str, int, int, int]:
    """The page, the client's status and size, and a broadcast's status, over one connection."""
    deadline = time.monotonic() + 30
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/")
            page = connection.getresponse().read().decode()
            break
        except OSError:
            connection.close()
            assert server.poll() is None, f"uvicorn exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.1)
    with contextlib.closing(connection):
        connection.request("GET", "/static/turbo_cable/turbo_streams_controller.js")
        client = connection.getresponse()
        client_size = len(client.read())
        body = json.dumps({"stream": "packaged", "data": "<p>"})
        connection.request("POST", "/_broadcast", body, {"Content-Type": "application/json"})
        broadcast = connection.getresponse()
        broadcast.read()
    return page, client.status, client_size, broadcast.status
