"""Helpers shared by the load scripts benches/{smtp,pop3,relay}-load/run.py.

Python 3 standard library only. The scripts run as `python3 benches/X/run.py` and import
this module after putting benches/ on sys.path:

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import loadkit

What is here: logging, the cleanup stack (CLEANUPS, run_cleanups, forget) and signal
handling, free loopback ports, /proc readers, greeting waits, the machine line, smtp-source,
the start/stop of the example mail-server (`OurServer`, subclassed by each script for its
command line), and main()'s scaffolding (common flags, build, temp dir, cleanup).
"""

import argparse
import datetime
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CLEANUPS = []  # callables, run in reverse order at exit


def log(*parts):
    print(*parts, flush=True)


def on_signal(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")


def run_cleanups():
    while CLEANUPS:
        fn = CLEANUPS.pop()
        try:
            fn()
        except Exception as e:  # cleanup must go on
            log(f"  cleanup: {e}")


def forget(fn):
    """Takes `fn` off CLEANUPS (after it was run by hand), if it is there."""
    if fn in CLEANUPS:
        CLEANUPS.remove(fn)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------
# /proc readers.

_RAISE = object()


def proc_status(pid, field, default=_RAISE):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), in KiB. Without `default`, a missing
    field raises RuntimeError (and a gone process OSError); with it, both give `default`."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        if default is _RAISE:
            raise
        return default
    if default is _RAISE:
        raise RuntimeError(f"{field} not in /proc/{pid}/status")
    return default


def proc_cpu_seconds(pid):
    """User plus system CPU seconds of a process (clock-tick resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


def count_files(path, suffix=""):
    try:
        return sum(1 for name in os.listdir(path) if name.endswith(suffix))
    except FileNotFoundError:
        return 0


# ------------------------------------------------------------------------------------
# Servers.


def wait_greeting(port, timeout=30.0, ok=b"220", read_quit_reply=False):
    """Waits until a connection to `port` is greeted with `ok` (220 for SMTP, +OK for
    POP3), then sends QUIT (and reads its reply when `read_quit_reply`)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                data = s.recv(512)
                if data.startswith(ok):
                    s.sendall(b"QUIT\r\n")
                    if read_quit_reply:
                        s.recv(512)
                    return
                last = data
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise RuntimeError(f"no {ok.decode()} greeting on port {port}: {last}")


def stop_process(proc, timeout=10, sig=signal.SIGTERM):
    """Sends `sig` to a still running `proc`, waits up to `timeout` seconds, then kills it."""
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class OurServer:
    """The example mail-server in the foreground, logging to a file.

    A subclass calls this __init__ and then sets `args`, the command line (with `data` as
    --data and a listener on `port`, the one waited on); the class attributes below say
    how it starts and stops.
    """

    ready = b"SMTP listening on"  # the log line that says the listener is up
    log_mode = "wb"               # "ab": a restart appends to the same log
    tail_lines = 5                # log lines shown when it fails to start
    stop_timeout = 10             # seconds after SIGTERM before SIGKILL

    def __init__(self, workdir, name, port):
        self.name = name
        self.port = port
        self.data = os.path.join(workdir, name + "-data")
        self.log_path = os.path.join(workdir, name + ".log")
        self.args = None
        self.proc = None

    @property
    def label(self):
        """Its name in error messages."""
        return self.name

    def wait_ready(self):
        wait_greeting(self.port)

    def start(self):
        os.makedirs(self.data, exist_ok=True)
        self.logfile = open(self.log_path, self.log_mode)
        self.proc = subprocess.Popen(self.args, stdout=self.logfile, stderr=subprocess.STDOUT)
        CLEANUPS.append(self.stop)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited: {self.tail()}")
            with open(self.log_path, "rb") as f:
                if self.ready in f.read():
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{self.label} did not start: {self.tail()}")
        self.wait_ready()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stored(self):
        """Messages in user u's Maildir `new`."""
        return count_files(os.path.join(self.data, "u", "new"))

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def log_count(self, *words):
        """How many log lines have all of `words`."""
        return sum(1 for line in self.log_text().splitlines() if all(w in line for w in words))

    def tail(self, n=None):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-(n or self.tail_lines):]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        stop_process(self.proc, self.stop_timeout)
        if self.proc:
            self.logfile.close()
        forget(self.stop)


def smtp_source(port, messages, sessions, sender, rcpt, reuse=True):
    """Runs `smtp-source -s SESSIONS -m MESSAGES -l 4096 [-d]` against 127.0.0.1:PORT;
    returns (command, wall seconds, smtp-source's CPU seconds)."""
    cmd = ["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", "4096"]
    if reuse:
        cmd.append("-d")
    cmd += ["-f", sender, "-t", rcpt, f"127.0.0.1:{port}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: {r.stdout[-2000:]}")
    return cmd, wall, cpu


# ------------------------------------------------------------------------------------
# The environment line and main()'s scaffolding.


def machine():
    """CPUs, RAM, kernel and Postfix version."""
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    pf = subprocess.run(["postconf", "-d", "-h", "mail_version"], stdout=subprocess.PIPE,
                        stderr=subprocess.DEVNULL, text=True).stdout.strip()
    return f"{os.cpu_count()} × {cpu}, {mem} MiB RAM, Linux {platform.release()}, Postfix {pf}"


def show_summary(summary, title="## Summary"):
    """Prints the summary lines (Markdown) under `title`."""
    log(f"\n{title}\n")
    log("\n".join(summary))


def date_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def command_line(script):
    """The command as run, for the summary (`script` is the path shown)."""
    return " ".join([script] + sys.argv[1:])


def parser(doc):
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_common_flags(p, kept):
    """--no-build and --keep (`kept` says what the temp dir holds)."""
    p.add_argument("--no-build", action="store_true", help="use the binary already built")
    p.add_argument("--keep", action="store_true", help=f"keep the temp dir ({kept})")


def prepare(opts, idle_sessions=None):
    """SIGTERM/SIGHUP handlers, the open-file limit raised (checked against
    `idle_sessions` when given), the release example built unless --no-build.
    Returns (binary, RUST_LOG)."""
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    if idle_sessions is not None:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = max(soft, min(hard, 65536))
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        if want < 3 * idle_sessions:
            sys.exit(f"open-file limit {want} too low for {idle_sessions} idle sessions")

    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    binary = os.path.join(target_dir, "release", "examples", "mail-server")
    if not opts.no_build:
        log("building the release example ...")
        subprocess.run(["cargo", "build", "--release", "--example", "mail-server"], cwd=REPO, check=True)
    env_log = os.environ.setdefault("RUST_LOG", "info")
    return binary, env_log


def in_workdir(prefix, keep, body):
    """Calls body(workdir) with a new temp dir; afterwards (also on failure) runs every
    cleanup and removes the dir unless `keep`. Returns what body returned."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    os.chmod(workdir, 0o755)
    if not keep:
        CLEANUPS.insert(0, lambda: shutil.rmtree(workdir, ignore_errors=True))
    try:
        return body(workdir)
    finally:
        run_cleanups()
        if keep:
            log(f"kept {workdir}")
