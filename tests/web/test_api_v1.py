"""The native JSON API."""

from __future__ import annotations


def test_feed_endpoint(client):
    r = client.get("/api/v1/feed", params={"date": "2024-10-24", "sort": "upvotes", "limit": 5})
    body = r.json()
    assert r.status_code == 200 and body["count"] == 12 and len(body["data"]) == 5
    votes = [p["upvotes"] for p in body["data"]]
    assert votes == sorted(votes, reverse=True)
    assert body["period"] == {"kind": "day", "label": "2024-10-24", "start": "2024-10-24",
                              "end": "2024-10-24"}
    assert (body["prev"], body["next"]) == ("2024-10-23", "2024-10-25")
    latest = client.get("/api/v1/feed").json()
    assert latest["period"]["label"] == "2024-10-25"
    week = client.get("/api/v1/feed", params={"week": "2024-W43"}).json()
    assert week["count"] == 38 and week["prev"] is None


def test_paper_similar_author_org_trending(client):
    p = client.get("/api/v1/papers/2410.29999").json()
    assert p["title"].startswith("<script>") and p["abstract"].startswith("We prove")
    assert p["listings"][0]["listed_on"] == "2024-10-25" and p["upvotes"] == 99
    assert client.get("/api/v1/papers/arXiv:2410.29999v3").json()["id"] == "2410.29999"
    assert client.get("/api/v1/papers/1234.5678").status_code == 404
    sim = client.get("/api/v1/papers/2410.29999/similar").json()
    assert sim == {"data": [], "count": 0, "indexed": False}
    a = client.get("/api/v1/authors/grace hopper", params={"limit": 3}).json()
    assert a["name"] == "Grace Hopper" and a["count"] > 3 and len(a["data"]) == 3
    o = client.get("/api/v1/organizations/Google").json()
    assert o["count"] == 9 and all(x["organization"] == "Google" for x in o["data"])
    t = client.get("/api/v1/trending", params={"days": 3}).json()
    assert t["data"][0]["id"] == "2410.29999"


def test_search_endpoint_fallback_and_errors(client):
    r = client.get("/api/v1/search", params={"q": "diffusion", "limit": 3})
    body = r.json()
    assert r.status_code == 200 and body["indexed"] is False
    assert "not ready" in body["message"] and len(body["data"]) == 3
    assert client.get("/api/v1/search").status_code == 422
    bad = client.get("/api/v1/search", params={"q": "x", "since": "2024-10-30",
                                               "until": "2024-10-01"})
    assert bad.status_code == 422 and bad.json()["error"].startswith("since")
    assert client.get("/api/v1/search", params={"q": "x", "mode": "magic"}).status_code == 422


def test_openapi_and_docs(client):
    schema = client.get("/openapi.json").json()
    assert "/api/daily_papers" in schema["paths"] and "/api/v1/search" in schema["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/v1/search" in docs.text
    assert "cdn" not in docs.text.lower()
