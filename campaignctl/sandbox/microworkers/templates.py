"""Templates of the Microworkers API v2 sandbox: validation, ``{{variables}}``, questions, storage.

Questions are declared in the request (``questions: [{name, type, required, options}]``) or, when
``questions`` is omitted, parsed from htmlCode's named ``input``/``textarea``/``select`` fields.
Question ids are derived from (template, name), so they survive a ``PUT`` that keeps the name.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from .model import TEMPLATE_IDS, P, digest, iso, now
from .rules import ApiError, Checker, limit, not_found

if TYPE_CHECKING:
    from ..core import Sandbox

# -- validation -------------------------------------------------------------------
VARIABLE = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
QUESTION_TYPES = ["text", "textarea", "number", "email", "url", "radio", "checkbox", "select"]
_NAME = re.compile(r"^[A-Za-z0-9_\-\[\]]{1,64}$")
_SKIPPED_INPUTS = {"hidden", "submit", "button", "reset", "image", "file"}


def variables_of(*texts: str) -> list[str]:
    seen: dict[str, None] = {}
    for text in texts:
        for m in VARIABLE.finditer(text or ""):
            seen.setdefault(m.group(1))
    return list(seen)


class _FormParser(HTMLParser):
    """Collects form fields (input/textarea/select with a name) as question declarations."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, dict[str, Any]] = {}
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v if v is not None else "") for k, v in attrs}
        name = a.get("name", "")
        if tag == "option" and self._select is not None:
            value = a.get("value", "")
            if value and value not in self._select["options"]:
                self._select["options"].append(value)
            return
        if tag not in ("input", "textarea", "select") or not name:
            return
        kind = "textarea" if tag == "textarea" else "select" if tag == "select" else a.get("type", "text").lower()
        if kind in _SKIPPED_INPUTS:
            return
        if kind not in QUESTION_TYPES:
            kind = "text"
        field = self.fields.setdefault(name, {"name": name, "type": kind, "required": False, "options": []})
        field["required"] = field["required"] or "required" in a
        if kind in ("radio", "checkbox") and a.get("value") and a["value"] not in field["options"]:
            field["options"].append(a["value"])
        if tag == "select":
            self._select = field

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def questions_from_html(html: str) -> list[dict[str, Any]]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return list(parser.fields.values())


def check_questions(c: Checker, value: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    for i, q in enumerate(c.array(value, "questions") or []):
        p = f"questions[{i}]"
        if (body := c.obj(q, p)) is None:
            continue
        c.unknown(body, {"name", "type", "required", "options"}, p + ".")
        name = body.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            c.add(p + ".name", "Must be 1-64 characters: letters, digits, _ - [ ].")
        elif name in names:
            c.add(p + ".name", f"Duplicate question name {name!r}.")
        else:
            names.add(name)
        kind = c.choice(body.get("type", "text"), p + ".type", QUESTION_TYPES)
        required = c.boolean(body.get("required", False), p + ".required")
        options = body.get("options")
        if kind in ("radio", "checkbox", "select"):
            opts = c.array(options, p + ".options")
            if opts is not None and (not opts or not all(isinstance(o, str) and o for o in opts)):
                c.add(p + ".options", "Must be a non-empty list of non-empty strings.")
            options = opts or []
        elif options not in (None, []):
            c.add(p + ".options", f"Only radio, checkbox and select questions take options, not {kind}.")
        out.append({"name": name, "type": kind, "required": required, "options": options or []})
    return out


def check_template(body: Any) -> dict[str, Any]:
    c = Checker()
    if (b := c.obj(body, "body")) is None:
        c.done()
        raise AssertionError  # unreachable
    c.unknown(b, {"title", "htmlCode", "cssSection", "jsSection", "questions"})
    out: dict[str, Any] = {
        "title": c.string(b.get("title"), "title", max_len=limit("titleLength", "max")),
        "htmlCode": c.string(b.get("htmlCode"), "htmlCode"),
        "cssSection": c.string(b.get("cssSection", ""), "cssSection", empty=True),
        "jsSection": c.string(b.get("jsSection", ""), "jsSection", empty=True),
    }
    if "questions" in b and b["questions"] is not None:
        out["questions"] = check_questions(c, b["questions"])
        out["questionsDeclared"] = True
    else:
        out["questions"] = questions_from_html(out["htmlCode"] or "")
        out["questionsDeclared"] = False
    c.done()
    return out


# -- storage -----------------------------------------------------------------------------------
def question_id(template_id: int, name: str) -> str:
    return "Q" + str(int(digest("question", template_id, name)[:12], 16) % 10**9).zfill(9)


def _template_fields(tid: int, values: dict[str, Any]) -> dict[str, Any]:
    questions = [{"id": question_id(tid, q["name"]), "name": q["name"], "required": q["required"],
                  "tag": q["type"] if q["type"] in ("textarea", "select") else "input", "type": q["type"],
                  "options": q["options"]} for q in values["questions"]]
    return {**values, "questions": questions, "variables": variables_of(values["htmlCode"])}


def _unique_title(sb: Sandbox, title: str, own: int | None) -> None:
    for t in sb.store.list(P, "template", where={"title": title}):
        if t["id"] != own:
            raise ApiError(400, "AlreadyExists", f"A template titled {title!r} already exists.",
                           [{"field": "title", "message": "Template title must be unique."}])


def create_template(sb: Sandbox, body: Any) -> dict[str, Any]:
    values = check_template(body)
    _unique_title(sb, values["title"], None)
    tid = sb.store.next_id(P, "template")
    doc = {"id": tid, **_template_fields(tid, values), "created": now(), "updated": now()}
    return sb.store.insert(P, "template", doc, id=tid)


def update_template(sb: Sandbox, doc: dict[str, Any], body: Any) -> dict[str, Any]:
    values = check_template(body)
    _unique_title(sb, values["title"], doc["id"])
    doc.update(_template_fields(doc["id"], values), updated=now())
    return sb.store.put(P, "template", doc["id"], doc)


def load_template(sb: Sandbox, ident: str) -> dict[str, Any]:
    n = TEMPLATE_IDS.decode(ident)
    doc = sb.store.get(P, "template", n) if n else None
    if doc is None:
        raise not_found("Template", ident)
    return doc


def render_template(doc: dict[str, Any]) -> dict[str, Any]:
    return {"id": TEMPLATE_IDS.encode(doc["id"]), "title": doc["title"], "htmlCode": doc["htmlCode"],
            "cssSection": doc["cssSection"], "jsSection": doc["jsSection"], "variables": doc["variables"],
            "questions": doc["questions"], "created": iso(doc["created"]),
            "updated": iso(doc["updated"])}
