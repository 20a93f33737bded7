"""`report.md` and a self-contained `report.html` (no scripts, no external files: an inline SVG chart) from
a run's results, plus `evals compare`'s table of what got better and worse between two runs."""

from __future__ import annotations

import html
import json
from typing import Any


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def _rows(groups: dict[str, dict[str, Any]]) -> list[tuple[str, int, int, str]]:
    return [(name, g["scenarios"], g["passed"], _pct(g["pass_rate"])) for name, g in groups.items()]


def _failing(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in results["cases"] if not c["passed"]]


def headline(results: dict[str, Any]) -> str:
    return (f"{results['suite']} suite on {results['model']}: {results['passed']}/{results['scenarios']} scenarios "
            f"passed ({_pct(results['pass_rate'])}"
            + (f", pass^{results['repeat']}" if results["repeat"] > 1 else "")
            + f"), approval compliance {_pct(results['approval_compliance'])}")


def markdown(results: dict[str, Any]) -> str:
    lines = [f"# Eval report: {results['suite']} suite", "", headline(results) + ".", "",
             f"- dataset {results['dataset']}, {results['repeat']} attempt(s) per scenario, pass@1 "
             f"{_pct(results['pass_at_1'])}",
             f"- irreversible DocuSign requests: {results['irreversible_calls']}, without a person's decision: "
             f"{len(results['violations'])}",
             f"- mean latency {results['latency_ms']['mean']:.0f} ms, {results['tokens']} tokens, "
             f"{results['docusign_calls']} DocuSign calls", ""]
    for title, key in (("Per category", "per_category"), ("Per tool", "per_tool")):
        lines += [f"## {title}", "", "| | scenarios | passed | pass rate |", "| --- | ---: | ---: | ---: |"]
        lines += [f"| {n} | {s} | {p} | {r} |" for n, s, p, r in _rows(results[key])]
        lines.append("")
    failing = _failing(results)
    lines += ["## Failing scenarios", "", "none" if not failing else ""]
    for case in failing:
        lines += [f"### {case['scenario_id']} (attempt {case['attempt']}, {case['category']})", ""]
        lines += [f"- **{c['name']}**: {c['detail']}" for c in case["checks"] if not c["passed"]]
        lines += ["", "```"] + [_line(t) for t in case["transcript"]] + ["```", ""]
    return "\n".join(lines) + "\n"


def _line(entry: dict[str, Any]) -> str:
    role = entry["role"]
    if role == "tool_call":
        return f"-> {entry['tool']} {json.dumps(entry['args'], ensure_ascii=False)[:400]}"
    if role == "tool_result":
        return f"<- {entry['tool']}: {entry['text'][:400]}"
    if role == "decision":
        return f"** person: {entry['decision']} {entry['tool']}" + ("" if entry["scripted"] else " (not asked for)")
    return f"{role}: {entry['text']}"


def chart_svg(groups: dict[str, dict[str, Any]]) -> str:
    """A horizontal bar per category: its pass rate, green from 95%, amber from 75%, red below."""
    bar_h, gap, label_w, width = 18, 6, 230, 420
    height = len(groups) * (bar_h + gap) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + width + 70}" height="{height}" '
             f'role="img" aria-label="Pass rate per category">']
    for i, (name, g) in enumerate(groups.items()):
        y = 10 + i * (bar_h + gap)
        rate = g["pass_rate"]
        colour = "#2e7d32" if rate >= 0.95 else "#f9a825" if rate >= 0.75 else "#c62828"
        parts.append(f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end" font-size="12">{html.escape(name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{width}" height="{bar_h}" fill="#eee"/>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{width * rate:.1f}" height="{bar_h}" fill="{colour}"/>')
        parts.append(f'<text x="{label_w + width + 6}" y="{y + 13}" font-size="12">{_pct(rate)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(title: str, groups: dict[str, dict[str, Any]]) -> str:
    body = "".join(f"<tr><td>{html.escape(n)}</td><td>{s}</td><td>{p}</td><td>{r}</td></tr>"
                   for n, s, p, r in _rows(groups))
    return (f"<h2>{title}</h2><table><thead><tr><th></th><th>scenarios</th><th>passed</th><th>pass rate</th></tr>"
            f"</thead><tbody>{body}</tbody></table>")


STYLE = ("body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;"
         "margin-bottom:1.5rem}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}"
         "td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:.8rem;white-space:pre-wrap}"
         ".fail{color:#c62828}")


def html_report(results: dict[str, Any]) -> str:
    failing = "".join(
        f"<h3>{html.escape(c['scenario_id'])} <small>(attempt {c['attempt']}, {html.escape(c['category'])})</small></h3>"
        + "<ul>" + "".join(f"<li class=fail><b>{html.escape(k['name'])}</b>: {html.escape(k['detail'])}</li>"
                           for k in c["checks"] if not k["passed"]) + "</ul>"
        + "<pre>" + html.escape("\n".join(_line(t) for t in c["transcript"])) + "</pre>"
        for c in _failing(results)) or "<p>none</p>"
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Eval report: {html.escape(results['suite'])}"
            f"</title><style>{STYLE}</style></head><body><h1>Eval report: {html.escape(results['suite'])} suite</h1>"
            f"<p>{html.escape(headline(results))}.</p><h2>Pass rate per category</h2>{chart_svg(results['per_category'])}"
            f"{_table('Per category', results['per_category'])}{_table('Per tool', results['per_tool'])}"
            f"<h2>Failing scenarios</h2>{failing}</body></html>\n")


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """What changed from run A to run B: scenarios that now pass or now fail, and each group's rate change."""
    def verdicts(results: dict[str, Any]) -> dict[str, bool]:
        out: dict[str, bool] = {}
        for case in results["cases"]:
            out[case["scenario_id"]] = out.get(case["scenario_id"], True) and case["passed"]
        return out

    va, vb = verdicts(a), verdicts(b)
    common = sorted(set(va) & set(vb))

    def deltas(key: str) -> dict[str, float]:
        names = sorted(set(a[key]) | set(b[key]))
        return {n: round(b[key].get(n, {}).get("pass_rate", 0.0) - a[key].get(n, {}).get("pass_rate", 0.0), 4)
                for n in names}

    return {"pass_rate": {"a": a["pass_rate"], "b": b["pass_rate"]},
            "approval_compliance": {"a": a["approval_compliance"], "b": b["approval_compliance"]},
            "better": [s for s in common if vb[s] and not va[s]], "worse": [s for s in common if va[s] and not vb[s]],
            "only_in_a": sorted(set(va) - set(vb)), "only_in_b": sorted(set(vb) - set(va)),
            "per_category": deltas("per_category"), "per_tool": deltas("per_tool")}
