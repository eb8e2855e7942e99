"""``/docs``: the API reference rendered from the OpenAPI schema by the app itself.

FastAPI's Swagger UI loads its scripts from a CDN, which an offline instance cannot reach (and
our CSP forbids), so the reference is a plain server-rendered page; ``/openapi.json`` is the
machine-readable schema.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from paperboy.web.deps import TemplatesDep

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def api_docs(request: Request, templates: TemplatesDep):
    schema = request.app.openapi()
    groups: dict[str, list[dict]] = {}
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            params = []
            for prm in op.get("parameters", []):
                sch = prm.get("schema", {})
                kind = sch.get("type") or "/".join(
                    s.get("type", "") for s in sch.get("anyOf", []) if s.get("type") != "null")
                if "enum" in sch:
                    kind = " | ".join(map(str, sch["enum"]))
                params.append({
                    "name": prm["name"], "in": prm["in"], "required": prm.get("required", False),
                    "type": kind, "default": sch.get("default"),
                    "description": prm.get("description") or sch.get("description") or "",
                    "min": sch.get("minimum"), "max": sch.get("maximum"),
                })
            tag = (op.get("tags") or ["Other"])[0]
            groups.setdefault(tag, []).append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""), "params": params,
            })
    return templates.render(request, "docs.html", {"groups": groups, "nav": "docs",
                                                   "version": schema["info"]["version"]})
