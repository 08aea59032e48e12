#!/usr/bin/env python3
"""Outbound relay throughput of the example mail-server: queue → remote 250.

See README.md next to this file. In one run, on loopback, with all state in a temp dir,
for each sink mode of our server B (durable Maildir with fsync, and --discard):

1. baseline: `smtp-source -s S -d -m N -l 4096` straight into B; rate = N / wall time;
2. relay: server A (`--route example.test=B --relay-net 127.0.0.1/32`) is filled with
   the same N messages by smtp-source while B is down (every first attempt is refused, so
   all N wait in A's durable queue with a one-hour back-off); then B is started,
   `mail-server queue flush` is run, and the clock runs until A's queue directory holds no
   message; rate = N / that time. B's Maildir (or its log, with --discard) and A's log
   are checked: every message delivered exactly once.

The ratio relay / baseline is the figure (goal: >= 0.8, "within 20%"). A delivers with
--max-per-destination S (default 4, the server's default), so the baseline uses the same
S parallel smtp-source sessions.

Python 3 standard library only. Run as root (like benches/smtp-load). Everything started
is stopped, and the temp dir removed, on exit, also on failure and on SIGINT/SIGTERM.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FROM = "a@src.test"
TO = "u@example.test"

CLEANUPS = []


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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_greeting(port, timeout=30.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                data = s.recv(512)
                if data.startswith(b"220"):
                    s.sendall(b"QUIT\r\n")
                    return
                last = data
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise RuntimeError(f"no 220 greeting on port {port}: {last}")


def count_files(path, suffix=""):
    try:
        return sum(1 for name in os.listdir(path) if name.endswith(suffix))
    except FileNotFoundError:
        return 0


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime


class OurServer:
    """The example mail-server in the foreground, logging to a file; every listener on a
    free loopback port (the SMTP one fixed at construction, so that A can be told it
    before B runs)."""

    def __init__(self, binary, workdir, name, domain, extra):
        self.name = name
        self.port = free_port()
        self.data = os.path.join(workdir, name + "-data")
        self.log_path = os.path.join(workdir, name + ".log")
        self.args = [
            binary,
            "--data", self.data,
            "--smtp", f"127.0.0.1:{self.port}",
            "--pop3", f"127.0.0.1:{free_port()}",
            "--domain", domain,
            "--user", "u:secret-pw",
        ] + list(extra)
        self.proc = None

    def start(self):
        os.makedirs(self.data, exist_ok=True)
        self.logfile = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.logfile, stderr=subprocess.STDOUT)
        CLEANUPS.append(self.stop)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            with open(self.log_path, "rb") as f:
                if b"SMTP listening on" in f.read():
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{self.name} did not start: {self.tail()}")
        wait_greeting(self.port)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def stored(self):
        return count_files(os.path.join(self.data, "u", "new"))

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def log_count(self, *words):
        return sum(1 for line in self.log_text().splitlines() if all(w in line for w in words))

    def tail(self, n=8):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logfile.close()
        if self.stop in CLEANUPS:
            CLEANUPS.remove(self.stop)


def smtp_source(port, messages, sessions):
    cmd = ["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", "4096", "-d",
           "-f", FROM, "-t", TO, f"127.0.0.1:{port}"]
    start = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}: {r.stdout[-2000:]}")
    return cmd, wall


def sink_flags(mode):
    return ["--discard"] if mode == "discard" else []


def sink_received(server, mode):
    """How many messages B took: files in its Maildir, or (--discard) its log lines."""
    if mode == "discard":
        return server.log_count("message accepted")
    return server.stored()


def baseline(opts, binary, workdir, mode, rnd):
    b = OurServer(binary, workdir, f"base-{mode}-r{rnd}", "example.test", sink_flags(mode)).start()
    try:
        cpu0 = proc_cpu_seconds(b.pid)
        cmd, wall = smtp_source(b.port, opts.messages, opts.sessions)
        cpu = proc_cpu_seconds(b.pid) - cpu0
        got = sink_received(b, mode)
    finally:
        b.stop()
    if got != opts.messages:
        raise RuntimeError(f"baseline {mode}: B took {got} of {opts.messages}")
    rate = opts.messages / wall
    log(f"  round {rnd + 1} {mode:8} baseline smtp-source -> B   {wall:7.2f} s {rate:7.0f} msg/s"
        f"  (B cpu {cpu:.1f} s)")
    return rate, cmd


def queue_messages(a):
    return count_files(os.path.join(a.data, "queue", "msg"), ".env")


def relay(opts, binary, workdir, mode, rnd):
    n = opts.messages
    b = OurServer(binary, workdir, f"relay-b-{mode}-r{rnd}", "example.test", sink_flags(mode))
    s = str(opts.sessions)
    a = OurServer(binary, workdir, f"relay-a-{mode}-r{rnd}", "relay.test", [
        "--route", f"example.test=127.0.0.1:{b.port}",
        "--relay-net", "127.0.0.1/32",
        "--retry-initial", "1h", "--retry-max", "1h",
        "--max-per-destination", s, "--max-deliveries", s,
    ]).start()
    try:
        # Fill A's queue while B is down.
        _, fill_wall = smtp_source(a.port, n, opts.fill_sessions)
        queued = queue_messages(a)
        # Let every first attempt fail (connection refused) so that nothing is in flight.
        deadline = time.monotonic() + opts.settle_timeout
        last, still = -1, time.monotonic()
        while time.monotonic() < deadline:
            deferred = a.log_count("deferred")
            if deferred >= n:
                break
            if deferred != last:
                last, still = deferred, time.monotonic()
            elif time.monotonic() - still > 5:
                break
            time.sleep(0.2)
        deferred = a.log_count("deferred")
        log(f"  round {rnd + 1} {mode:8} fill smtp-source -> A (B down) {fill_wall:7.2f} s "
            f"{n / fill_wall:7.0f} msg/s; {queued} in A's queue, {deferred} first attempts deferred")
        if queued != n:
            raise RuntimeError(f"A's queue holds {queued} messages, {n} sent")
        b.start()
        tracer = None
        if opts.strace:
            # Count A's system calls during the drain (slows A down: not for the figures).
            tracer = subprocess.Popen(["strace", "-f", "-c", "-o", f"{opts.strace}.{mode}.r{rnd}",
                                       "-p", str(a.pid)], stderr=subprocess.DEVNULL)
            time.sleep(1)
        cpu_a0, cpu_b0 = proc_cpu_seconds(a.pid), proc_cpu_seconds(b.pid)
        t0 = time.monotonic()
        t0_utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        subprocess.run([binary, "queue", "flush", "--data", a.data], check=True,
                       stdout=subprocess.DEVNULL)
        deadline = t0 + opts.drain_timeout
        while queue_messages(a) > 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        wall = time.monotonic() - t0
        if tracer:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(30)
        cpu_a, cpu_b = proc_cpu_seconds(a.pid) - cpu_a0, proc_cpu_seconds(b.pid) - cpu_b0
        left = queue_messages(a)
        time.sleep(1)
        got = sink_received(b, mode)
        delivered = a.log_count("delivered", "rcpt=")
        text = b.log_text()
        # Connection reuse: the distinct connections B took the messages on.
        conns = {}
        for m in re.finditer(r"connection\{listener=smtp id=(\d+)[^}]*\}: \S+ message accepted", text):
            conns[m.group(1)] = conns.get(m.group(1), 0) + 1
        sessions = list(conns.values())
        first_last = span(a.log_text(), "delivered", "rcpt=")
        # When B answered its last 250 (B's log), counted from the flush.
        b_stamps = stamps(text, "message accepted")
        to_last_250 = (max(b_stamps) - t0_utc).total_seconds() if b_stamps else None
    finally:
        a.stop()
        b.stop()
    if left:
        raise RuntimeError(f"relay {mode}: {left} messages still queued after {opts.drain_timeout} s")
    if got != n or delivered != n:
        raise RuntimeError(f"relay {mode}: B took {got}, A logged {delivered} deliveries, {n} sent")
    rate = n / wall
    rate_250 = n / to_last_250 if to_last_250 else float("nan")
    per_session = f"{sum(sessions) / len(sessions):.0f}" if sessions else "?"
    first_last_text = f"; first-to-last 'delivered' log line {first_last:.2f} s = {n / first_last:.0f} msg/s" \
        if first_last else ""
    log(f"  round {rnd + 1} {mode:8} relay A queue -> B             {wall:7.2f} s {rate:7.0f} msg/s"
        f"  (flush to empty queue; A cpu {cpu_a:.1f} s, B cpu {cpu_b:.1f} s; {len(sessions)} "
        f"sessions on B, {per_session} messages each{first_last_text})")
    log(f"  round {rnd + 1} {mode:8} relay A queue -> B's last 250  {to_last_250 or 0:7.2f} s {rate_250:7.0f} msg/s"
        f"  (flush to the last 'message accepted' in B's log)")
    return rate, rate_250


TIMESTAMP = re.compile(r"^(\S*?)(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z")


def stamps(text, *words):
    """The (UTC, naive) timestamps of the log lines that have all of `words`."""
    out = []
    for line in text.splitlines():
        if all(w in line for w in words):
            m = TIMESTAMP.match(line)
            if m:
                out.append(datetime.datetime.fromisoformat(m.group(2)[:26]))
    return out


def span(text, *words):
    """Seconds between the first and the last log line with all of `words`."""
    found = stamps(text, *words)
    if len(found) < 2:
        return None
    return (max(found) - min(found)).total_seconds()


def machine():
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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=10000, help="messages per run (default 10000)")
    p.add_argument("--sessions", type=int, default=4,
                   help="A's --max-per-destination and the baseline's smtp-source -s (default 4)")
    p.add_argument("--fill-sessions", type=int, default=20, help="smtp-source -s filling A's queue (default 20)")
    p.add_argument("--rounds", type=int, default=1, help="rounds; rates are the median (default 1)")
    p.add_argument("--modes", default="durable,discard", help="B's modes, comma separated (default durable,discard)")
    p.add_argument("--settle-timeout", type=int, default=300, help="seconds to wait for the first attempts to fail (default 300)")
    p.add_argument("--drain-timeout", type=int, default=600, help="seconds to wait for A's queue to empty (default 600)")
    p.add_argument("--strace", metavar="FILE", help="count A's system calls during each drain into FILE.MODE.rN (slows A: diagnosis only)")
    p.add_argument("--no-build", action="store_true", help="use the binary already built")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, Maildirs, queues)")
    opts = p.parse_args()
    modes = [m for m in opts.modes.split(",") if m]
    if any(m not in ("durable", "discard") for m in modes):
        sys.exit("--modes: durable and/or discard")

    if os.geteuid() != 0:
        sys.exit("run as root (as benches/smtp-load does)")
    for tool in ("smtp-source", "cargo"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install postfix; Rust toolchain)")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    binary = os.path.join(target_dir, "release", "examples", "mail-server")
    if not opts.no_build:
        log("building the release example ...")
        subprocess.run(["cargo", "build", "--release", "--example", "mail-server"], cwd=REPO, check=True)
    env_log = os.environ.setdefault("RUST_LOG", "info")

    workdir = tempfile.mkdtemp(prefix="relay-load-")
    os.chmod(workdir, 0o755)
    if not opts.keep:
        CLEANUPS.insert(0, lambda: shutil.rmtree(workdir, ignore_errors=True))
    try:
        ok = run(opts, modes, binary, workdir, env_log)
    finally:
        run_cleanups()
        if opts.keep:
            log(f"kept {workdir}")
    sys.exit(0 if ok else 1)


def run(opts, modes, binary, workdir, env_log):
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    log(f"{date}; {machine()}; RUST_LOG={env_log}; load average at start {os.getloadavg()[0]:.1f}")
    results = {}
    commands = set()
    for rnd in range(opts.rounds):
        for mode in modes:
            base, cmd = baseline(opts, binary, workdir, mode, rnd)
            commands.add(" ".join("127.0.0.1:PORT" if c.startswith("127.0.0.1:") else c for c in cmd))
            rel, rel_250 = relay(opts, binary, workdir, mode, rnd)
            results.setdefault(mode, {"base": [], "relay": [], "relay250": []})
            results[mode]["base"].append(base)
            results[mode]["relay"].append(rel)
            results[mode]["relay250"].append(rel_250)
    ok = True
    summary = [
        f"- Date: {date}",
        f"- Machine: {machine()}",
        f"- Command: `{' '.join(['benches/relay-load/run.py'] + sys.argv[1:])}` (RUST_LOG={env_log})",
        f"- Load average at the end: {os.getloadavg()[0]:.1f} (other work on the machine competes for the cores)",
        "- Baseline: " + ", ".join(f"`{c}`" for c in sorted(commands)),
        "",
        "| B (sink) | smtp-source → B (msg/s) | A: flush → queue empty (msg/s) | ratio | A: flush → B's last 250 (msg/s) | ratio | goal ≥ 0.8 (queue empty) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for mode in modes:
        base = statistics.median(results[mode]["base"])
        rel = statistics.median(results[mode]["relay"])
        rel_250 = statistics.median(results[mode]["relay250"])
        ratio = rel / base
        met = ratio >= 0.8
        ok = ok and met
        summary.append(f"| {mode} | {base:.0f} | {rel:.0f} | {ratio:.2f} | {rel_250:.0f} | {rel_250 / base:.2f} | {'met' if met else 'MISSED'} |")
    log("\n## Summary\n")
    log("\n".join(summary))
    return ok


if __name__ == "__main__":
    main()
