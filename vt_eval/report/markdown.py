"""The scorecard's Markdown twin (for PR comments): headline tables, no drill-down, no plots."""

from __future__ import annotations

from pathlib import Path

from vt_eval.fmt import DASH, ci, pct, pp, pp_ci, pvalue
from vt_eval.report.view import BenchmarkView, CompareView, FreshnessView, Scorecard
from vt_eval.util import write_text_atomic
from vt_eval.verdict.model import ProbesDetail, Verdict
from vt_eval.verdict.text import evidence_text


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell: no pipes, newlines or raw HTML."""
    flat = " ".join(str(text).split())
    return flat.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _row(values: list[str]) -> str:
    return "| " + " | ".join(values) + " |"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def _summary(card: Scorecard) -> list[str]:
    rows = []
    for b in card.benchmarks:
        ref = b.reference
        pass_k = f"{pct(b.pass_at_k[-1][1])} ({b.pass_at_k[-1][0]})" if b.pass_at_k else DASH
        rows.append([cell(b.name) + ("" if b.complete else " (partial)"),
                     f"{b.items_scored}/{b.items_planned}", str(b.k), f"**{pct(b.avg_at_k)}**",
                     ci(b.ci95), pass_k, pct(b.maj_at_k), pct(b.clr),
                     pct(ref.score) if ref else "no published figure",
                     pp(ref.difference) if ref else DASH, pct(b.no_answer_rate),
                     pct(b.truncation_rate), pct(b.ungraded_rate)])
    return _table(["benchmark", "items", "k", "avg@k", "95% CI", "pass@k", "maj@k", "CLR",
                   f"{card.reference_model} (published)", "ours − published", "no answer",
                   "truncated", "ungraded"], rows)


def _benchmark(b: BenchmarkView) -> list[str]:
    lines = [f"### {cell(b.title)} (`{b.name}`)", ""]
    if b.references:
        lines += _table(["model", "published", "ours − published", "95% CI"],
                        [[("**" + cell(r.model) + "**") if r.ours else cell(r.model),
                          pct(r.score), pp(r.difference), pp_ci(r.difference_ci)]
                         for r in b.references])
        lines += ["", f"_{cell(b.citation)}_"]
    else:
        lines.append("No published figure for this benchmark.")
    if b.clean is not None:
        lines += ["", f"Clean subset ({cell(b.clean.label)}): {b.clean.items} items, avg@k "
                  f"{pct(b.clean.avg_at_k)} {ci(b.clean.ci95)} (all items: {pct(b.avg_at_k)}); "
                  f"excluded: {cell(', '.join(b.clean.excluded) or 'none')}"]
    if b.contamination is not None:
        c = b.contamination
        lines += ["", f"Contamination: {c.contaminated}/{c.items} items — question and answer: "
                  f"{cell(', '.join(i.item_id for i in c.question_and_answer) or 'none')}; question "
                  f"only: {cell(', '.join(i.item_id for i in c.question_only) or 'none')}"
                  + (f"; unknown: {cell(', '.join(i.item_id for i in c.unknown))}" if c.unknown else "")]
    lines += [""] + [f"- {cell(line)}" for line in b.summary + [f"warning: {w}" for w in b.warnings]]
    return lines + [""]


def _compare(view: CompareView) -> list[str]:
    lines = [f"## Compared with `{cell(view.other_run)}`", ""]
    lines += _table(["benchmark", "items", "this run", "other", "difference", "95% CI", "p"],
                    [[cell(r.benchmark), str(r.items), pct(r.ours), pct(r.other), pp(r.difference),
                      pp_ci(r.ci95), pvalue(r.p_value)] for r in view.rows])
    lines += ["", f"_{cell(view.method)}_", ""]
    lines += [f"- not compared: {cell(r)}" for r in view.refused]
    lines += [f"- differs: `{cell(d)}`" for d in view.config_differences] or ["- no config differences"]
    return lines + [""]


def _freshness(f: FreshnessView) -> list[str]:
    lines = [f"## Freshness: before vs after {cell(f.cutoff)}", ""]
    lines += _table(["items dated", "items", "accuracy"],
                    [[f"on or before {cell(f.cutoff)}", str(f.before_items), pct(f.before_accuracy)],
                     [f"after {cell(f.cutoff)}", str(f.after_items), pct(f.after_accuracy)]])
    lines += ["", f"Difference (before − after) {pp(f.difference)}, 95% CI {pp_ci(f.difference_ci)}, "
              f"p {pvalue(f.p_value)}; within difficulty strata {pp(f.adjusted)}, 95% CI "
              f"{pp_ci(f.adjusted_ci)}, p {pvalue(f.adjusted_p)}.", "", f"_{cell(f.meaning)}_", ""]
    return lines


def _verdict(verdict: Verdict) -> list[str]:
    """The panel: per benchmark one row per question, each linking to its evidence below."""
    lines = ["## Verdict: is this score real?", "",
             f"Integrity: **{cell(verdict.integrity)}**. Each line: evidence found / no evidence "
             f"found (with the check's power) / not checked (never good news).", ""]
    for bench in verdict.benchmarks:
        rows = [[f"[{line.title}](#{line.anchor})", f"**{line.state_text}**",
                 cell(evidence_text(line))] for line in bench.lines]
        lines += [f"**{cell(bench.benchmark)}**: {cell(bench.title)}", ""]
        lines += _table(["question", "state", "evidence"], rows)
        lines += ["", f"→ **{cell(bench.strongest)}**", ""]
    lines += [f"- note: {cell(note)}" for note in verdict.notes]
    return lines + ([""] if verdict.notes else [])


def _evidence(verdict: Verdict) -> list[str]:
    lines = ["## Evidence behind the verdict", ""]
    for bench in verdict.benchmarks:
        for line in bench.lines:
            lines += [f'<a id="{line.anchor}"></a>', "",
                      f"**{cell(bench.benchmark)} · {line.title}: {line.state_text}.** "
                      f"{cell(evidence_text(line))}", ""]
            examples = line.detail.examples if isinstance(line.detail, ProbesDetail) else []
            if examples:
                lines += _table(["item", "flagged by", "probe's prompt", "model's continuation",
                                 "true continuation", "score"],
                                [[cell(e.item_id), cell(", ".join(e.flagged_by)), cell(e.prompt),
                                  cell(e.continuation), cell(e.reference),
                                  cell(", ".join(f"{k} {v:.3f}" for k, v in e.scores.items()))]
                                 for e in examples]) + [""]
    return lines


def render_markdown(card: Scorecard) -> str:
    lines = [f"## vt-eval scorecard: `{cell(card.run_id)}` ({card.status})", ""]
    if card.integrity:
        lines += ["**results.json does not agree with the run's files:**", ""]
        lines += [f"- {cell(p)}" for p in card.integrity] + [""]
    if card.status == "partial":
        lines += ["**Partial run:** not every planned sample was generated.", ""]
    if card.verdict is not None:
        lines += _verdict(card.verdict)
    lines += _summary(card) + [""]
    if card.compare is not None:
        lines += _compare(card.compare)
    if card.freshness is not None:
        lines += _freshness(card.freshness)
    for bench in card.benchmarks:
        lines += _benchmark(bench)
    if card.verdict is not None:
        lines += _evidence(card.verdict)
    lines += ["<details><summary>Provenance</summary>", ""]
    lines += _table(["field", "value"], [[cell(k), cell(v)] for k, v in card.provenance])
    lines += ["", "</details>", ""]
    lines += [f"- warning: {cell(w)}" for w in card.warnings]
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(card: Scorecard, path: Path) -> None:
    write_text_atomic(path, render_markdown(card))
