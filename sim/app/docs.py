"""Documents made from the code's own tables: ``docs/mechanisms.md`` from the mechanism registry.

Regenerate after changing ``sim/model/mechanisms.py``: ``python -m sim.app.docs`` (a test fails
while the shipped file differs from what this writes).
"""

from __future__ import annotations

from pathlib import Path

from sim.model.mechanisms import MECHANISMS, Mechanism

MECHANISMS_MD = Path(__file__).resolve().parents[2] / "docs" / "mechanisms.md"


def source(ref: str) -> str:
    """``sim.model.market:Market.offer`` -> ``sim/model/market.py:Market.offer``."""
    module, _, name = ref.partition(":")
    return f"{module.replace('.', '/')}.py:{name}"


def code_path(ref: str) -> str:
    path, _, name = source(ref).partition(":")
    return f"`{path}` (`{name}`)"


def test_name(ref: str) -> str:
    return f"`{ref}`"


def mechanisms_markdown() -> str:
    lines = [
        "# Mechanisms",
        "",
        "Generated from `sim/model/mechanisms.py` by `python -m sim.app.docs`; do not edit.",
        "",
        "Each mechanism can be switched off (`--set mechanisms.NAME=false`): off means absent, not",
        "weakened, which is how the ablations (`docs/ablations.md`) and `--explain` measure what each",
        "one causes. The first place listed under *code* is where its switch is read, the only one.",
        "",
        "## Where to change what",
        "",
    ]
    for m in MECHANISMS:
        lines.append(f"- To change how consumers or the market react to {m.reacts_to}, open "
                     f"{code_path(m.code[1] if len(m.code) > 1 else m.code[0])}; its switch is "
                     f"`mechanisms.{m.switch}`; its test is {test_name(m.tests[0])}.")
    lines += ["", "## Each mechanism", ""]
    for m in MECHANISMS:
        lines += _section(m)
    return "\n".join(lines).rstrip() + "\n"


def _section(m: Mechanism) -> list[str]:
    scope = "within a season" if m.scope == "season" else "between the seasons of a multi-year run"
    lines = [f"### `mechanisms.{m.switch}`", "", f"{m.description[0].upper()}{m.description[1:]} (acts {scope}).", "",
             "- Parameters: " + ", ".join(f"`{p}`" for p in m.parameters),
             "- Code: " + "; ".join(code_path(c) for c in m.code),
             "- Ablation: " + (f"\"{m.ablation}\" (`sim/experiments/ablations.py`)" if m.ablation else
                               "none in the season ablations (multi-year: `docs/long_run.md`)"
                               if m.scope == "years" else "none"),
             "- Tests: " + ", ".join(test_name(t) for t in m.tests), ""]
    return lines


def mechanisms_text() -> str:
    """The registry as ``run.py params`` prints it after the parameters."""
    width = max(len(m.switch) for m in MECHANISMS) + len("mechanisms.")
    lines = ["", "Mechanisms (switch off with --set mechanisms.NAME=false; details in docs/mechanisms.md):"]
    for m in MECHANISMS:
        lines.append(f"  {('mechanisms.' + m.switch).ljust(width)}  {m.description}")
        lines.append(f"  {''.ljust(width)}  parameters: {', '.join(m.parameters)}")
        lines.append(f"  {''.ljust(width)}  code: {', '.join(source(c) for c in m.code)}")
    return "\n".join(lines)


def main() -> None:
    MECHANISMS_MD.write_text(mechanisms_markdown())
    print(f"wrote {MECHANISMS_MD}")


if __name__ == "__main__":
    main()
