"""Small HTML helpers: escaping, tables, the page shell with its inline stylesheet.

The page is self-contained: the stylesheet is inline, there is no JavaScript,
fonts are the reader's system fonts, and images are PNG files beside
``index.html`` referenced by relative paths, so the report opens offline, from
a file share, or behind a plain static web server. Links to the data sources
are ordinary hyperlinks; nothing is fetched to display the page.
"""

from __future__ import annotations

import html
import urllib.parse
from collections.abc import Iterable, Sequence

__all__ = ["esc", "link", "page", "table"]

STYLE = """
:root { --ink:#1d2430; --muted:#5b6573; --line:#dde2e8; --bg:#ffffff; --soft:#f5f7fa;
        --red:#b3261e; --redbg:#fdecea; --green:#1b5e20; --greenbg:#e8f5e9;
        --amber:#8a5a00; --amberbg:#fff4e0; --accent:#3b6ea8; }
* { box-sizing: border-box; }
body { margin:0; font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       "Noto Sans", "Liberation Sans", sans-serif; color:var(--ink); background:var(--bg);
       line-height:1.45; font-size:15px; }
main { max-width: 1240px; margin: 0 auto; padding: 0 24px 48px; }
header.top { background:#1f2d3d; color:#fff; padding:22px 0 14px; margin-bottom:18px; }
header.top .inner { max-width:1240px; margin:0 auto; padding:0 24px; }
header.top h1 { margin:0 0 6px; font-size:24px; font-weight:650; }
header.top p { margin:0 0 8px; color:#c9d3de; font-size:14px; }
nav a { color:#e3ebf3; margin-right:14px; font-size:13px; text-decoration:none;
        border-bottom:1px dotted #8fa3b8; }
h2 { font-size:20px; margin:34px 0 8px; padding-bottom:4px; border-bottom:2px solid var(--line); }
h3 { font-size:16px; margin:18px 0 6px; }
p.note, .note { color:var(--muted); font-size:13px; }
.box { border-radius:6px; padding:12px 16px; margin:12px 0; border:1px solid; }
.box.fail { background:var(--redbg); border-color:var(--red); color:var(--red); }
.box.fail strong { color:var(--red); }
.box.ok { background:var(--greenbg); border-color:#7cb342; color:var(--green); }
.box.info { background:var(--soft); border-color:var(--line); }
.box.warn { background:var(--amberbg); border-color:#e0a030; color:var(--amber); }
.cards { display:flex; gap:14px; flex-wrap:wrap; margin:10px 0; }
.card { flex:1 1 300px; border:1px solid var(--line); border-radius:8px; padding:12px 16px;
        background:var(--soft); }
.card .window { font-size:13px; color:var(--muted); text-transform:uppercase;
                letter-spacing:.04em; }
.card .prob { font-size:38px; font-weight:700; line-height:1.1; margin:4px 0; }
.card .what { font-size:15px; font-weight:600; }
.card .more { font-size:13px; color:var(--muted); margin-top:6px; }
.prob.high { color:#b3261e; } .prob.mid { color:#c25e00; } .prob.low { color:var(--muted); }
table { border-collapse:collapse; margin:8px 0 12px; font-size:13.5px; }
th, td { border-bottom:1px solid var(--line); padding:5px 10px; text-align:left; vertical-align:top;
         overflow-wrap:break-word; }
th { background:var(--soft); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
table.kv td:first-child { color:var(--muted); }
span.nw { white-space:nowrap; }
td small, .small { color:var(--muted); font-size:12px; }
td.pass { color:var(--green); font-weight:600; } td.fail { color:var(--red); font-weight:600; }
tr.stale td { color:var(--amber); }
img.fig { max-width:100%; height:auto; border:1px solid var(--line); border-radius:4px;
          margin:6px 0; }
details { margin:8px 0; border:1px solid var(--line); border-radius:6px; padding:6px 12px; }
details summary { cursor:pointer; font-weight:600; }
ul.changes li { margin:2px 0; }
code, .hash { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
              font-size:12.5px; }
footer { margin-top:40px; color:var(--muted); font-size:12px; }
"""


def esc(value: object) -> str:
    """Escape any value for HTML text or attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def link(url: str, text: str | None = None, *, max_chars: int = 70) -> str:
    """Return a hyperlink when ``url`` looks like one, else the escaped text.

    Without ``text`` the link shows the address without its scheme, shortened
    to ``max_chars`` characters (the full address stays in ``href``).
    """
    if url.startswith(("http://", "https://")):
        if text is None:
            text = url.split("://", 1)[1]
            text = urllib.parse.unquote(text)
            if len(text) > max_chars:
                text = text[: max_chars - 1] + "…"
        return f'<a href="{esc(url)}">{esc(text)}</a>'
    return esc(text or url)


def table(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    row_classes: Sequence[str] | None = None,
    raw: bool = False,
) -> str:
    """Build an HTML table.

    Parameters
    ----------
    header : sequence of str or None
        Column titles (escaped); None for a key/value table without a header row.
    rows : iterable of sequences of str
        Cell contents; escaped unless ``raw`` is true (then they are HTML).
    numeric : iterable of int, optional
        Column indexes aligned right.
    row_classes : sequence of str, optional
        A CSS class per row.
    raw : bool, default False
        Cells are already HTML.

    Returns
    -------
    str
    """
    num = set(numeric)
    head = "".join(
        f'<th class="num">{esc(h)}</th>' if i in num else f"<th>{esc(h)}</th>"
        for i, h in enumerate(header or ())
    )
    thead = f"<thead><tr>{head}</tr></thead>" if header else ""
    body = []
    for r, cells in enumerate(rows):
        cls = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        tds = "".join(
            ('<td class="num">' if i in num else "<td>") + (c if raw else esc(c)) + "</td>"
            for i, c in enumerate(cells)
        )
        body.append(f"<tr{cls}>{tds}</tr>")
    cls = ' class="kv"' if not header else ""
    return f"<table{cls}>{thead}<tbody>{''.join(body)}</tbody></table>"


def page(title: str, header: str, body: str, footer: str) -> str:
    """Return the whole document: doctype, inline stylesheet, header band, main, footer."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header class="top"><div class="inner">{header}</div></header>\n'
        f"<main>\n{body}\n<footer>{footer}</footer>\n</main>\n</body>\n</html>\n"
    )
