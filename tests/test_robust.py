"""Nothing lost, nothing hung: Ctrl-C, resume, output folders checked first, meaningless input refused.

The interrupt test runs the real command line in its own session and sends SIGINT to the
whole process group, as a terminal's Ctrl-C does, at seeded random moments.
"""

from __future__ import annotations

import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT, TINY, fake_run
from sim.app.cli import main
from sim.model.params import Festival
from sim.app.report.manifest import COMMON_KEYS
from sim.app.sweeps import run_sweep

# `none` reuses its arm's baseline run, so a replication costs two simulations, not three
STUDY = ["formats", "--arms", "single_day,none", "--reps", "6", "--workers", "2", "--no-progress", *TINY]
SWEEP_FILE = ('name = "t"\nreplications = 1\ncounterfactual = false\noutcomes = ["gmv_festival"]\n'
              '[base]\n"consumers.n" = 300\n[vary."festival.discount"]\nrange = [0.1, 0.5]\nsteps = 3\n')


def _session_processes(sid: int) -> list[int]:
    """Live processes of a session (the command, its workers, the forkserver), zombies excluded."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _start(args: list[str], tmp: Path, cwd: Path, **env_vars: str) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmp), **env_vars}  # multiprocessing's pymp-* folders land here, where we can see them
    # A shell's background job (nohup ... &) ignores SIGINT, and children inherit that: give the
    # command the default disposition a user's terminal gives it.
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), *args], cwd=cwd, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.slow  # many interrupted runs
def test_sigint_at_random_moments_exits_130_keeps_results_and_resumes_identically(tmp_path):
    """One Ctrl-C: exit 130 within seconds, no traceback, no stray process or temp folder, finished runs kept;
    the command the message prints finishes the study with runs.csv byte-identical to an uninterrupted one."""
    rng = random.Random(20261111)
    sweep_file = _sweep_spec(tmp_path)
    commands = [STUDY, ["sweep", str(sweep_file), "--workers", "2", "--chunk-size", "1", "--no-progress"], STUDY]
    tries, kept, seen = len(commands), [], []
    for k, command in enumerate(commands):
        tmp = tmp_path / f"tmp{k}"
        tmp.mkdir()
        out = tmp_path / f"study{k}"
        proc = _start([*command, "--out", str(out)], tmp, tmp_path)
        if k == tries - 1:  # the last try is interrupted after the first chunk landed, so something is kept
            deadline = time.time() + 120
            while not list((out / "chunks").glob("runs-*.parquet")) and time.time() < deadline:
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 1.0))  # the last replication's chunk is still running
        else:  # anywhere from loading the package to writing the report
            time.sleep(rng.uniform(0.3, 6.0))
        rc, err = _interrupt(proc, f"try {k}")
        seen.append((k, rc, err[-160:]))
        if rc == 0:  # the study finished before the signal: nothing to check about interrupts
            continue
        assert not list(tmp.glob("pymp-*")), f"try {k}: temp folders left"
        for chunk in (out / "chunks").glob("runs-*.parquet"):  # whole chunks only (a scenario's: one replication)
            assert len(pd.read_parquet(chunk)) == (1 if command[0] == "sweep" else 2)
        assert not (out / ".lock").exists()
        if "finish the job with: " in err and command is STUDY:
            kept.append((len(list((out / "chunks").glob("runs-*.parquet"))), out, err))
    assert kept, f"no try was interrupted after its folder existed: {seen}"
    n_kept, out, err = max(kept, key=lambda item: item[0])
    assert n_kept >= 1
    command = shlex.split(err.split("finish the job with: ", 1)[1].strip())
    assert command[:2] == ["python", "run.py"] and command[-2:] == ["--resume", str(out)]
    resumed = subprocess.run([sys.executable, str(ROOT / "run.py"), *command[2:]], cwd=tmp_path, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{n_kept * 2} already done" in resumed.stdout
    full = subprocess.run([sys.executable, str(ROOT / "run.py"), *STUDY, "--out", str(tmp_path / "full")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert full.returncode == 0, full.stderr
    assert (out / "runs.csv").read_bytes() == (tmp_path / "full" / "runs.csv").read_bytes()
    assert not (out / ".lock").exists() and not (tmp_path / "full" / ".lock").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "finished" and manifest["kind"] == "scenario"


def _interrupt(proc: subprocess.Popen, what: str) -> tuple[int, str]:
    """Ctrl-C to the whole process group; its exit status and stderr, after checking it ended within
    seconds, with no traceback and no process left."""
    sent = time.time()
    os.killpg(proc.pid, signal.SIGINT)
    try:
        rc = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"{what}: still running 30 s after SIGINT (hang)")
    err = proc.stderr.read()
    assert rc in (0, 130), (what, rc, err)
    assert time.time() - sent < 10 and "Traceback" not in err, (what, time.time() - sent, err)
    deadline = time.time() + 10
    while _session_processes(proc.pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not _session_processes(proc.pid), f"{what}: stray processes"
    return rc, err


@pytest.mark.slow  # a busy machine and seven interrupted studies
def test_sigint_under_load_at_every_stage_of_start_up_ends_within_seconds(tmp_path):
    """With a CPU-bound process on each core beside it, one Ctrl-C while the command imports, compiles
    (an empty kernel cache), starts workers or runs ends it within seconds: exit 130, no traceback, no
    process left; the folder it names resumes to the uninterrupted study's runs.csv, byte for byte."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    try:
        kept = []
        moments = [(0.1, False), (0.5, False), (1.5, False), (3.0, False), (5.0, False), (8.0, False), (6.0, True)]
        for k, (delay, cold) in enumerate(moments):
            tmp, out = tmp_path / f"tmp{k}", tmp_path / f"study{k}"
            tmp.mkdir()
            cache = {"NUMBA_CACHE_DIR": str(tmp / "numba")} if cold else {}  # compiles every kernel again
            proc = _start([*STUDY, "--out", str(out)], tmp, tmp_path, **cache)
            time.sleep(delay)
            rc, err = _interrupt(proc, f"SIGINT {delay} s after the start{' (cold cache)' if cold else ''}")
            assert not list(tmp.glob("pymp-*")), f"try {k}: temp folders left"
            if rc == 130 and "finish the job with: " in err:
                kept.append((len(list((out / "chunks").glob("runs-*.parquet"))), out, err))
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    n_kept, out, err = max(kept, key=lambda item: item[0])
    command = shlex.split(err.split("finish the job with: ", 1)[1].strip())
    resumed = subprocess.run([sys.executable, str(ROOT / "run.py"), *command[2:]], cwd=tmp_path, capture_output=True,
                             text=True, timeout=300)
    assert resumed.returncode == 0 and f"{n_kept * 2} already done" in resumed.stdout, resumed.stderr
    full = subprocess.run([sys.executable, str(ROOT / "run.py"), *STUDY, "--out", str(tmp_path / "full")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert full.returncode == 0, full.stderr
    assert (out / "runs.csv").read_bytes() == (tmp_path / "full" / "runs.csv").read_bytes()


@pytest.mark.slow  # a Dask LocalCluster
def test_ctrl_c_on_a_local_dask_cluster_prints_no_worker_traceback(tmp_path):
    """Dask's workers are children in the terminal's process group: they must leave Ctrl-C to the command."""
    out = tmp_path / "study"
    proc = _start([*STUDY, "--cluster", "local", "--out", str(out)], tmp_path, tmp_path)
    deadline = time.time() + 120
    while not list((out / "chunks").glob("runs-*.parquet")) and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    rc, err = _interrupt(proc, "--cluster local")
    assert rc == 130 and "finish the job with: " in err, err
    assert err.count("\n") <= 2 and "distributed." not in err, err  # the progress line aside, one message


@pytest.mark.slow  # three sweeps
def test_a_ctrl_c_after_the_work_is_done_never_kills_the_exit_status(tmp_path):
    """At exit Python restores the default SIGINT action before its last clean-up (worker pools, temp
    folders): a Ctrl-C then killed the command (status -2, no message) after its results were written.
    Sent from the moment runs.csv exists to well after, it gives 130 (interrupted while finishing) or 0."""
    sweep_file = _sweep_spec(tmp_path)
    for k, delay in enumerate((0.2, 0.45, 0.7)):
        out = tmp_path / f"out{k}"
        proc = _start(["sweep", str(sweep_file), "--workers", "2", "--chunk-size", "1", "--no-progress", "--out", str(out)],
                      tmp_path, tmp_path)
        deadline = time.time() + 120
        while not (out / "runs.csv").exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.005)
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        rc = proc.wait(timeout=30)
        assert rc in (0, 130), (delay, rc, proc.stderr.read())


def _fails(argv: list[str], capsys, needle: str) -> str:
    """``run.py argv`` ends in one error line containing ``needle`` and exit 2, before any run."""
    try:
        status = main(argv)
    except SystemExit as exc:  # the sweep command exits itself
        status = exc.code
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("run.py: error: ") and needle in err, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def places(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    results = tmp_path / "old"
    results.mkdir()
    (results / "manifest.json").write_text(json.dumps({"kind": "scenario", "command": "python run.py formats"}))
    (results / "runs.csv").write_text("a\n")
    sweep = tmp_path / "s.toml"
    sweep.write_text(SWEEP_FILE)
    return {"file": str(afile), "under_file": str(afile / "sub"), "results": str(results), "proc": "/proc/nope",
            "sweep": str(sweep)}


@pytest.mark.parametrize("command", ["scenario", "once", "sweep"])
@pytest.mark.parametrize("place, needle", [
    ("file", "is a file, not a folder"), ("under_file", "afile is a file"),
    ("results", "holds the results of a scenario run; choose a new folder; to finish an interrupted study there: "
                "python run.py formats --resume"),
    ("proc", "cannot write there"),
])
def test_every_output_folder_is_checked_before_the_first_run(places, capsys, monkeypatch, command, place, needle):
    import sim.experiments.execute
    import sim.app.sweeps.runner

    for module in (sim.experiments.execute, sim.app.sweeps.runner):
        monkeypatch.setattr(module, "execute", lambda *a, **k: pytest.fail("a run started"))
    head = {"scenario": ["formats"], "once": ["once"], "sweep": ["sweep", places["sweep"]]}[command]
    _fails([*head, "--out", places[place]], capsys, needle)


@pytest.mark.parametrize("argv, needle", [
    (["once", "--seed", str(2**63)], "--seed: must be an integer from 0 to 2**63-1"),
    (["once", "--set", "consumers.n=true"], "consumers.n: must be a number, not a boolean"),
    (["once", "--set", "consumers.n=1"], "consumers.n: at least 10 consumers are needed"),
    (["formats", "--set", "festival.format=continuous"],
     "--set festival.format=continuous makes arms single_day, two_waves, continuous, none identical"),
    (["formats", "--resume", "/nonexistent/x"], "--resume /nonexistent/x: no such folder"),
    (["params", "extra"], "unrecognized arguments: extra"),
    (["validate", "any-folder", "--consumers", "5"], "--consumers: must be an integer of at least 10"),
])
def test_meaningless_input_is_refused_with_one_line(argv, needle, capsys):
    _fails(argv, capsys, needle)


@pytest.mark.parametrize("text, needle", [
    ("", "empty scenario file"),
    ("# only a comment\n", "empty scenario file"),
    ('[base]\n"consumers.n" = true\n', "base: consumers.n: must be a number, not a boolean"),
    ('[base]\n"festival.discount" = "0.3"\n', "base: festival.discount: must be a number, not text"),
    ('[base]\n"consumers.tier_shares" = [0.4, "0.35", 0.25]\n', "base: consumers.tier_shares: must be a number, not text"),
    ('[base]\n"mechanisms.presale" = 1\n', "base: mechanisms.presale: must be true or false"),
    ('name = "../../escaped"\n[base]\n"consumers.n" = 100\n', "name: names the output folder: no slashes"),
    ('name = ".hidden"\n[base]\n"consumers.n" = 100\n', "name: names the output folder: no slashes"),
    ('replications = 1000000000\n[base]\n"consumers.n" = 100\n', "replications: 1 arms x 1,000,000,000 replications is more"),
    ('seed = 100000000000000000000000\n[base]\n"consumers.n" = 100\n', "seed: must be an integer from 0 to 2**63-1"),
    (f'[[arms]]\nname = "a"\n"festival.discount" = {Festival().discount}\n[[arms]]\nname = "b"\n',
     "arms a, b have identical parameters"),  # arm a sets the default: the same run as arm b
])
def test_meaningless_scenario_files_are_refused(tmp_path, capsys, text, needle):
    path = tmp_path / "study.toml"
    path.write_text(text)
    _fails([str(path)], capsys, needle)


def test_a_name_never_writes_outside_results(tmp_path, capsys, monkeypatch):
    """The default folder is results/<name>-<time>: a name cannot climb out of results/."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "study.toml").write_text('name = "../escaped"\n[base]\n"consumers.n" = 100\n')
    (tmp_path / "sweep.toml").write_text(SWEEP_FILE.replace('name = "t"', 'name = "../escaped"'))
    _fails(["study.toml"], capsys, "name: names the output folder")
    _fails(["sweep", "sweep.toml"], capsys, "name: names the output folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study.toml", "sweep.toml"]


def test_text_on_the_command_line_is_still_read_as_toml(capsys):
    from sim.app.cli.args import parse_set

    assert parse_set(["festival.discount=0.3", "mechanisms.presale=false"]) == {"festival.discount": 0.3,
                                                                                 "mechanisms.presale": False}
    _fails(["once", "--set", "festival.discount=deep"], capsys, "--set festival.discount: must be a number, not text")


def test_a_scripts_results_say_how_to_rerun_the_script(monkeypatch):
    from sim.app.report.manifest import command_line

    monkeypatch.setattr(sys, "argv", ["scenarios/compare_formats.py", "--reps", "2"])
    assert command_line(None) == "python scenarios/compare_formats.py --reps 2"
    assert command_line(["formats", "--reps", "2"]) == "python run.py formats --reps 2"


def test_an_unreachable_scheduler_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    import sim.experiments.execute

    monkeypatch.setattr(sim.experiments.execute, "SCHEDULER_TIMEOUT_S", 1)
    _fails(["formats", "--cluster", "tcp://127.0.0.1:9", "--reps", "2", "--no-progress", "--out", str(tmp_path / "x"), *TINY], capsys,
           "cluster: no Dask scheduler answers at tcp://127.0.0.1:9")


@pytest.mark.parametrize("vary, needle", [
    ('[vary."festival.format"]\nrange = [0, 1]\nsteps = 2\n',
     "vary.festival.format: festival.format is categorical; list its levels with values = [...]"),
    ('[vary."festival.discount"]\nrange = [0.5, 1.5]\nsteps = 2\n',
     "vary.festival.discount: Input should be less than 1 (got 1.5) from range = [0.5, 1.5]"),
    ('root_seed = 100000000000000000000000\n[vary."festival.discount"]\nvalues = [0.2]\n',
     "root_seed: must be an integer from 0 to 2**63-1"),
    ('[vary."festival.discount"]\nrange = [0.1, 0.5]\nsteps = 10000000000\n',
     "vary: 10,000,000,000 design points x 1 replications is more than the 1,000,000 runs"),
])
def test_sweep_messages_quote_what_the_user_wrote(tmp_path, capsys, vary, needle):
    path = tmp_path / "s.toml"
    path.write_text(vary)
    _fails(["sweep", str(path)], capsys, needle)


@pytest.mark.parametrize("command", ["once", "list", "params", "sweep", "report", "formats"])
def test_help_on_every_command(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "-h"])
    assert exc.value.code == 0 and "usage: run.py" in capsys.readouterr().out


def test_report_rebuilds_a_sweep_folder_and_a_finished_sweep_has_no_lock(tmp_path, capsys):
    out = run_sweep(_sweep_spec(tmp_path), workers=1, out_dir=tmp_path / "sw", progress=False,
                    run_fn=fake_run)
    assert not (out / ".lock").exists()
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    text = capsys.readouterr().out
    assert (out / "report.html").is_file() and "3 runs, 0 failed" in text and "Report: " in text


def _sweep_spec(tmp_path: Path) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(SWEEP_FILE)
    return path


def test_sweep_ends_with_a_one_screen_summary(tmp_path, capsys, monkeypatch):
    import sim.app.cli.sweep

    monkeypatch.setattr(sim.app.cli.sweep, "run_sweep", lambda *a, **k: run_sweep(_sweep_spec(tmp_path), workers=1,
                        out_dir=tmp_path / "sw", progress=False, run_fn=fake_run))
    assert main(["sweep", "whatever.toml"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("sweep t (grid): 3 runs, 0 failed, 3 run now in ")
    assert any(ln.startswith("best design point by gmv_festival") for ln in lines)
    assert any(ln.strip().startswith("gmv_festival: ") for ln in lines)  # its most influential parameters
    assert lines[-1].startswith(f"Report: {tmp_path / 'sw' / 'report.html'}") and len(lines) < 25


def test_slurm_job_logs_go_under_the_output_folder(tmp_path, monkeypatch):
    import sim.app.sweeps.runner

    seen = {}

    def fake_execute(tasks, **kwargs):
        seen.update(kwargs["cluster_options"])
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.app.sweeps.runner, "execute", fake_execute)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(_sweep_spec(tmp_path), cluster="slurm", out_dir=tmp_path / "sw", progress=False)
    assert seen["log_directory"] == str((tmp_path / "sw" / "logs").absolute())


def test_every_command_writes_the_same_manifest_schema(tmp_path, result_folder_kinds=("once", "scenario", "sweep")):
    from conftest import run_cli
    from sim.app.report import write_results
    from sim.experiments.scenarios import load_scenario, run_scenario

    once = run_cli("once", *TINY, "--out", str(tmp_path / "once"))
    assert once.returncode == 0, once.stderr
    scenario = load_scenario("formats").with_options(replications=2)
    write_results(run_scenario(scenario, workers=1, run_fn=fake_run), tmp_path / "scenario")
    run_sweep(_sweep_spec(tmp_path), workers=1, out_dir=tmp_path / "sweep", progress=False, run_fn=fake_run)
    manifests = {k: json.loads((tmp_path / k / "manifest.json").read_text()) for k in result_folder_kinds}
    for kind, manifest in manifests.items():
        assert set(COMMON_KEYS) <= set(manifest), (kind, set(COMMON_KEYS) - set(manifest))
        assert manifest["kind"] == kind and manifest["status"] == "finished"
        assert {"numba", "llvmlite", "numpy", "SALib"} <= set(manifest["packages"])
    assert len({tuple(sorted(m["packages"])) for m in manifests.values()}) == 1


def test_sweep_interrupt_names_the_exact_command_that_finishes_it(capsys, monkeypatch, tmp_path):
    """The old message said "the same command plus --resume", which is refused with --out."""
    import sim.app.cli.sweep
    from sim.app.folders import Interrupted

    def interrupted(*args, **kwargs):
        raise Interrupted(tmp_path / "sw")

    monkeypatch.setattr(sim.app.cli.sweep, "run_sweep", interrupted)
    with pytest.raises(SystemExit) as exc:
        main(["sweep", "f.toml", "--out", str(tmp_path / "sw"), "--reps", "2"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 130 and len(err.splitlines()) == 1
    assert err.endswith(f"finish the job with: python run.py sweep f.toml --reps 2 --resume {tmp_path / 'sw'}"), err


def test_resume_refuses_a_folder_of_another_study_and_names_its_command(tmp_path, capsys):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"kind": "scenario", "fingerprint": "other",
                                                      "command": f"python run.py formats --reps 2 --out {folder}"}))
    _fails(["formats", "--resume", str(folder)], capsys,
           f"holds a study with other runs (another scenario, --set, --reps, --seed or --arms); finish it with: "
           f"python run.py formats --reps 2 --resume {folder}")


def test_output_piped_into_a_reader_that_stops_is_not_a_traceback():
    """`run.py params | head -2` ended in a BrokenPipeError traceback."""
    cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(ROOT / 'run.py'))} params | head -2"
    res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert len(res.stdout.splitlines()) == 2 and "Traceback" not in res.stderr and "Error" not in res.stderr, res.stderr


def test_a_file_it_may_not_write_is_one_line_naming_it(tmp_path, capsys, monkeypatch):
    """`run.py report DIR` on a folder whose report.md it may not overwrite ended in a PermissionError traceback."""
    import sim.app.report

    def refused(folder):
        raise PermissionError(13, "Permission denied", str(folder / "report.md"))
    monkeypatch.setattr(sim.app.report, "rebuild_report", refused)
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("run.py: error: ") and "report.md" in err and "\n" not in err


@pytest.mark.parametrize("damaged", ["manifest.json", "runs.csv"])
def test_report_names_the_damaged_file(tmp_path, capsys, damaged):
    """The parsers' messages ("Error tokenizing data ...") did not say which file was damaged."""
    (tmp_path / "manifest.json").write_text('{"kind": "scenario"}')
    (tmp_path / "runs.csv").write_text("arm,replication\na,0\n")
    (tmp_path / "comparison.csv").write_text("arm,metric\n")
    (tmp_path / damaged).write_text({"manifest.json": "{bad", "runs.csv": 'arm,"x\n1,2\n'}[damaged])
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"run.py: error: {tmp_path / damaged}: cannot be read") and err.count("\n") == 1


def test_a_resumed_study_records_the_command_that_started_it(tmp_path, capsys):
    """The manifest (and the report's "Reproduce" line) recorded the resume command, which cannot
    recreate the study from scratch."""
    study = tmp_path / "study"
    first = ["formats", "--arms", "single_day,none", "--reps", "1", "--workers", "1", "--no-progress", *TINY,
             "--out", str(study)]
    assert main(first) == 0
    sweep = tmp_path / "sweep"
    sweep_first = ["sweep", str(_sweep_spec(tmp_path)), "--workers", "1", "--no-progress", "--out", str(sweep)]
    assert main(sweep_first) == 0
    for folder, command in ((study, first), (sweep, sweep_first)):
        started = json.loads((folder / "manifest.json").read_text())["started"]
        assert main([command[0], "--resume", str(folder)] if command[0] == "sweep" else
                    [*command[:-2], "--resume", str(folder)]) == 0
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["command"] == shlex.join(["python", "run.py", *command]) and manifest["started"] == started
    assert shlex.join(["python", "run.py", *first]) in (study / "report.md").read_text()
