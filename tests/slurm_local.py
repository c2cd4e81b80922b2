"""A real one-node Slurm on this machine, for tests: munged, slurmctld and slurmd as root.

Everything lives in one folder (config, munge key and socket, state, logs, pid files), so
it neither needs nor touches a system Slurm; ``SLURM_CONF`` points the client commands
(sinfo, sbatch, squeue, scancel, which dask-jobqueue calls) at it. Debian's packages
``slurm-wlm`` and ``munge`` provide the binaries (``.ci/run`` installs them in CI).

Run by hand: ``python tests/slurm_local.py`` starts it, waits for the node, prints
``sinfo`` and the time taken, and stops it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

BINARIES = ("munged", "slurmctld", "slurmd", "sinfo", "sbatch")
SBIN = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def missing() -> str | None:
    """Why a local Slurm cannot start here (None if it can)."""
    if os.geteuid() != 0:
        return "needs root (slurmd and munged run as root)"
    absent = [b for b in BINARIES if _which(b) is None]
    if absent:
        return f"{', '.join(absent)} not installed (apt-get install slurm-wlm munge)"
    return None


def _which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))


def _memory_mb() -> int:
    """What slurmd reports for this host (RealMemory must not exceed it, or the node is drained)."""
    out = subprocess.run([_which("slurmd") or "slurmd", "-C"], capture_output=True, text=True, timeout=30).stdout
    for word in out.split():
        if word.startswith("RealMemory="):
            return int(word.split("=", 1)[1])
    return 2048


def _free_port() -> int:
    """A port nobody listens on now: parallel test runs on one machine must not share daemons."""
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def write_config(root: Path, cpus: int = 2) -> Path:
    """A minimal slurm.conf for this host: one node, one partition, no cgroups, no accounting."""
    host = socket.gethostname().split(".")[0]
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=d11test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root / "munge.socket"}
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
StateSaveLocation={root / "state"}
SlurmdSpoolDir={root / "spool"}
SlurmctldPidFile={root / "slurmctld.pid"}
SlurmdPidFile={root / "slurmd.pid"}
SlurmctldLogFile={root / "slurmctld.log"}
SlurmdLogFile={root / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
NodeName={host} CPUs={cpus} RealMemory={_memory_mb()} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    return conf


@contextlib.contextmanager
def local_slurm(root: Path | None = None, timeout: float = 120) -> Iterator[dict[str, str]]:
    """Start munged, slurmctld and slurmd; yield the environment for client commands; stop them all."""
    problem = missing()
    if problem:
        raise RuntimeError(f"cannot start Slurm: {problem}")
    own = root is None
    root = Path(tempfile.mkdtemp(prefix="d11-slurm-")) if own else Path(root)
    for sub in ("state", "spool"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    conf = write_config(root)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run([_which("munged"), "--force", f"--key-file={key}", f"--socket={root / 'munge.socket'}",
                        f"--pid-file={root / 'munged.pid'}", f"--log-file={root / 'munged.log'}",
                        f"--seed-file={root / 'munged.seed'}"], check=True, env=env, timeout=30)
        for daemon in ("slurmctld", "slurmd"):
            log = open(root / f"{daemon}.out", "w")
            procs.append(subprocess.Popen([_which(daemon), "-D", "-f", str(conf)], env=env, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        wait_idle(env, timeout, procs, root)
        yield env
    finally:
        for proc in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        _stop_munged(root / "munged.pid")
        if own:
            shutil.rmtree(root, ignore_errors=True)


def _stop_munged(pid_file: Path, timeout: float = 10) -> None:
    """munged daemonizes itself: stop it by pid and wait, as it writes its seed file on the way out."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError):
        return
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def wait_idle(env: dict[str, str], timeout: float, procs: list[subprocess.Popen], root: Path) -> None:
    """Until ``sinfo`` shows the node idle; a daemon that died ends the wait with its log."""
    deadline = time.time() + timeout
    state = ""
    while time.time() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                logs = " | ".join((root / f"{d}.out").read_text()[-500:] for d in ("slurmctld", "slurmd"))
                raise RuntimeError(f"a Slurm daemon exited ({proc.args[0]}, status {proc.returncode}): {logs}")
        res = subprocess.run([_which("sinfo"), "-h", "-o", "%t"], env=env, capture_output=True, text=True, timeout=30)
        state = res.stdout.strip()
        if state == "idle":
            return
        time.sleep(0.5)
    raise RuntimeError(f"Slurm node not idle after {timeout:.0f} s (state {state!r}); logs in {root}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    with local_slurm() as environment:
        print(f"up in {time.perf_counter() - t0:.1f} s")
        print(subprocess.run([_which("sinfo")], env=environment, capture_output=True, text=True).stdout)
    print(f"up and down in {time.perf_counter() - t0:.1f} s")
