"""Static files under content-hashed URLs, cached for good, compressed; pages and JSON compressed too."""

import gzip
import re
from pathlib import Path

import brotli
import pytest

from reviewmech.core.static import hashed_name, split_hashed_name

STATIC = Path(__file__).resolve().parents[1] / "reviewmech" / "static"
LINKED = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def linked_files(client) -> list[str]:
    """The static URLs the sign-in page links to."""
    return LINKED.findall(client.get("/sign-in").get_data(as_text=True))


def test_pages_link_static_files_by_content_hash(client):
    urls = linked_files(client)
    assert any(re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", url) for url in urls), urls
    assert any(re.fullmatch(r"/static/vendor/pico-2\.1\.1/pico\.min\.[0-9a-f]{12}\.css", url) for url in urls), urls
    assert any(re.fullmatch(r"/static/js/app\.[0-9a-f]{12}\.js", url) for url in urls), urls


def test_a_hashed_url_is_cached_for_a_year_and_is_the_file(client):
    url = next(url for url in linked_files(client) if "/css/app." in url)
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.mimetype == "text/css"
    assert response.data == (STATIC / "css" / "app.css").read_bytes()


@pytest.mark.parametrize(("encoding", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_static_files_are_sent_compressed_when_the_browser_accepts_it(client, encoding, decode):
    url = next(url for url in linked_files(client) if "pico.min." in url)
    response = client.get(url, headers={"Accept-Encoding": f"{encoding}, identity"})
    original = (STATIC / "vendor" / "pico-2.1.1" / "pico.min.css").read_bytes()
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    assert len(response.data) < len(original) / 4
    assert decode(response.data) == original


def test_brotli_is_preferred_to_gzip(client):
    url = next(url for url in linked_files(client) if "/js/app." in url)
    assert client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}).headers.get("Content-Encoding") in {
        "br", None}  # None: a file too small to gain from compression is sent as it is
    url = next(url for url in linked_files(client) if "pico.min." in url)
    assert client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}).headers["Content-Encoding"] == "br"


def test_a_second_request_with_the_etag_is_answered_304(client):
    url = next(url for url in linked_files(client) if "/css/app." in url)
    first = client.get(url)
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""


def test_the_unhashed_url_still_answers_but_must_be_revalidated(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.data == (STATIC / "css" / "app.css").read_bytes()


def test_a_stale_digest_gets_the_current_file_not_cached_for_good(client):
    response = client.get("/static/css/app.000000000000.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.data == (STATIC / "css" / "app.css").read_bytes()


@pytest.mark.parametrize("url", [
    "/static/css/app.zzzzzzzzzzzz.css",  # not a digest
    "/static/css/nothing.0123456789ab.css",  # no such file
    "/static/css/app.0123456789ab",  # the suffix cut off
    "/static/../reviewmech/config.py",
    "/static/%2e%2e/config.py",
    "/static/css/app.css%00",
    "/static/css/",
    "/static/css",
])
def test_a_tampered_static_url_is_a_404_page(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "This page does not exist" in response.get_data(as_text=True)


def test_a_changed_file_gets_a_new_url(app, tmp_path):
    from reviewmech.core.static import StaticFiles

    (tmp_path / "a.css").write_text("body { color: red; }")
    files = StaticFiles(tmp_path)
    before = files.asset("a.css").digest
    (tmp_path / "a.css").write_text("body { color: blue; margin: 0; }")
    after = files.asset("a.css").digest
    assert before != after
    assert files.resolve(hashed_name("a.css", after))[1] is True
    assert files.resolve(hashed_name("a.css", before))[1] is False


def test_hashed_names_round_trip():
    assert hashed_name("vendor/pico-2.1.1/pico.min.css", "0123456789ab") == (
        "vendor/pico-2.1.1/pico.min.0123456789ab.css")
    assert hashed_name("LICENSE", "0123456789ab") == "LICENSE.0123456789ab"
    assert split_hashed_name("vendor/pico-2.1.1/pico.min.0123456789ab.css") == (
        "vendor/pico-2.1.1/pico.min.css", "0123456789ab")
    assert split_hashed_name("LICENSE.0123456789ab") == ("LICENSE", "0123456789ab")
    assert split_hashed_name("css/app.css") is None


@pytest.mark.parametrize(("encoding", "decode"), [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_pages_are_sent_compressed_when_the_browser_accepts_it(client, encoding, decode):
    plain = client.get("/sign-in", headers={"Accept-Encoding": "identity"})
    packed = client.get("/sign-in", headers={"Accept-Encoding": encoding})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    html = decode(packed.data).decode()
    assert "<h1>Sign in</h1>" in html
    assert len(packed.data) < len(plain.data) / 2


def test_json_answers_are_sent_compressed(app, person_client, monkeypatch):
    monkeypatch.setitem(app.config, "COMPRESS_MIN_SIZE", 0)  # the token's answer is smaller than the threshold
    response = person_client.get("/csrf-token", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "csrf_token" in gzip.decompress(response.data).decode()
