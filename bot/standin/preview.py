"""A Block Kit preview: replies as a Slack-like HTML page, to look at them rendered.

`coe-bot try --html FILE` writes one; open it in a browser (or screenshot it headless)
to see what a person sees: mrkdwn bold, italics, code, links and emoji, sections,
context lines, buttons (primary in green), dividers and modals. Only what coe-bot sends is
covered; it is a reading aid, not Slack's renderer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

EMOJI = {
    "rotating_light": "🚨",
    "no_entry": "⛔",
    "large_orange_diamond": "🔶",
    "white_check_mark": "✅",
    "question": "❓",
    "+1": "👍",
    "-1": "👎",
    "memo": "📝",
    "warning": "⚠️",
    "test_tube": "🧪",
    "bulb": "💡",
    "tada": "🎉",
    "wave": "👋",
}
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
_STRIKE = re.compile(r"(?<![\w~])~([^~\n]+)~(?![\w~])")
_EMOJI = re.compile(r":([a-z0-9_+-]+):")

STYLE = """
body { font: 15px/1.46 -apple-system, "Segoe UI", Lato, Helvetica, Arial, sans-serif;
       background: #f8f8f8; color: #1d1c1d; margin: 24px; }
.message { background: #fff; border: 1px solid #ddd; border-radius: 8px; padding: 12px 16px;
           max-width: 720px; margin-bottom: 20px; }
.who { font-weight: 700; margin-bottom: 6px; } .who small { color: #616061; font-weight: 400; }
.section { margin: 4px 0 8px; white-space: pre-wrap; }
.context { color: #616061; font-size: 12px; margin: 6px 0; white-space: pre-wrap; }
.header { font-size: 18px; font-weight: 900; margin: 6px 0; }
.actions button { font: 600 13px/1 inherit; border: 1px solid #ccc; border-radius: 4px;
                  background: #fff; padding: 8px 12px; margin: 4px 8px 4px 0; }
.actions button.primary { background: #007a5a; color: #fff; border-color: #007a5a; }
.actions button.danger { background: #e01e5a; color: #fff; border-color: #e01e5a; }
hr { border: 0; border-top: 1px solid #ddd; }
code { background: #f6f6f6; border: 1px solid #e1e1e1; border-radius: 3px; padding: 0 3px;
       color: #e01e5a; font-size: 12px; }
a { color: #1264a3; } .mention { background: #e8f5fa; color: #1264a3; border-radius: 3px; }
.modal { border: 2px solid #1d1c1d; } .modal .title { font-weight: 900; font-size: 18px; }
"""


_TOKEN = re.compile(r"<([^<>]+)>")  # Slack's own markup: <@U…>, <url|label>, <!here>


def mrkdwn(text: str) -> str:
    """Slack mrkdwn as HTML. Only Slack's real `<…>` tokens become mentions and links;
    text that was escaped (`&lt;@U1&gt;`, what a user typed) stays text, as in Slack."""
    parts: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        parts.append(_plain(text[last : match.start()]))
        parts.append(_token(match.group(1)))
        last = match.end()
    parts.append(_plain(text[last:]))
    return "".join(parts)


def _plain(text: str) -> str:
    raw = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    out = html.escape(raw, quote=False)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _BOLD.sub(r"<b>\1</b>", out)
    out = _ITALIC.sub(r"<i>\1</i>", out)
    out = _STRIKE.sub(r"<s>\1</s>", out)
    return _emoji(out)


def _emoji(text: str) -> str:
    return _EMOJI.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def _token(inner: str) -> str:
    if inner.startswith("@"):
        return f'<span class="mention">@{html.escape(inner[1:].split("|")[0])}</span>'
    if inner.startswith("!"):
        return f'<span class="mention">@{html.escape(inner[1:].split("^")[0])}</span>'
    if inner.startswith("#"):
        label = inner.split("|", 1)[1] if "|" in inner else inner[1:]
        return f'<span class="mention">#{html.escape(label)}</span>'
    url, _, label = inner.partition("|")
    return f'<a href="{html.escape(url)}">{html.escape(label or url)}</a>'


def _text(obj: Any) -> str:
    if not isinstance(obj, dict):
        return ""
    raw = str(obj.get("text", ""))
    if obj.get("type") == "plain_text":
        return _emoji(html.escape(raw))
    return mrkdwn(raw)


def _button(element: dict[str, Any]) -> str:
    style = element.get("style")
    css = f' class="{html.escape(style)}"' if style else ""
    return f"<button{css}>{_text(element.get('text'))}</button>"


def blocks_html(blocks: Iterable[dict[str, Any]]) -> str:
    parts: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            body = _text(block.get("text"))
            fields = "<br>".join(_text(f) for f in block.get("fields", []))
            accessory = block.get("accessory", {})
            button = _button(accessory) if accessory.get("type") == "button" else ""
            parts.append(f'<div class="section">{body}{fields}{button}</div>')
        elif kind == "header":
            parts.append(f'<div class="header">{_text(block.get("text"))}</div>')
        elif kind == "context":
            items = " ".join(_text(e) for e in block.get("elements", []) if "text" in e)
            parts.append(f'<div class="context">{items}</div>')
        elif kind == "actions":
            buttons = "".join(_button(e) for e in block.get("elements", []))
            parts.append(f'<div class="actions">{buttons}</div>')
        elif kind == "divider":
            parts.append("<hr>")
        elif kind == "input":
            parts.append(f'<div class="section"><b>{_text(block.get("label"))}</b> ____</div>')
    return "\n".join(parts)


def page(replies: Iterable[tuple[str, dict[str, Any]]], *, title: str) -> str:
    """One HTML page: each (caption, message or modal view) as Slack would show it."""
    items: list[str] = []
    for caption, reply in replies:
        modal = reply.get("type") == "modal"
        heading = (
            f'<div class="title">{_text(reply.get("title"))}</div>'
            if modal
            else f'<div class="who">coe-bot <small>{html.escape(caption)}</small></div>'
        )
        body = blocks_html(reply.get("blocks") or []) or mrkdwn(str(reply.get("text", "")))
        css = "message modal" if modal else "message"
        items.append(f'<div class="{css}">{heading}{body}</div>')
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{''.join(items)}</body></html>"
    )
