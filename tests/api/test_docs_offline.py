"""``/docs`` and ``/redoc`` load nothing from the internet: every asset is the package's."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from crmsync.api.docs import ASSETS


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_assets_served_by_crmsync(client: TestClient, page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200
    assert not re.search(r"https?://", html.text)  # no CDN, no web fonts
    referenced = re.findall(r'(?:src|href)="([^"]+)"', html.text)
    assert any(url.endswith(".js") for url in referenced)
    for url in referenced:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content == (ASSETS / url.rsplit("/", 1)[1]).read_bytes()


def test_the_vendored_assets_ship_with_their_licences() -> None:
    names = {path.name for path in ASSETS.iterdir()}
    assert {"swagger-ui-dist.LICENSE", "swagger-ui-dist.NOTICE", "redoc.LICENSE"} <= names
