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

import datetime
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in benches/ by the import below
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from loadkit import (count_files, free_port, log, proc_cpu_seconds)  # noqa: E402
import loadkit  # noqa: E402

FROM = "a@src.test"
TO = "u@example.test"


class OurServer(loadkit.OurServer):
    """The example mail-server in the foreground, logging to a file; every listener on a
    free loopback port (the SMTP one fixed at construction, so that A can be told it
    before B runs)."""

    log_mode = "ab"
    tail_lines = 8
    stop_timeout = 20

    def __init__(self, binary, workdir, name, domain, extra):
        super().__init__(workdir, name, free_port())
        self.args = [
            binary,
            "--data", self.data,
            "--smtp", f"127.0.0.1:{self.port}",
            "--pop3", f"127.0.0.1:{free_port()}",
            "--domain", domain,
            "--user", "u:secret-pw",
        ] + list(extra)


def smtp_source(port, messages, sessions):
    cmd, wall, _cpu = loadkit.smtp_source(port, messages, sessions, FROM, TO)
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


def main():
    p = loadkit.parser(__doc__)
    p.add_argument("--messages", type=int, default=10000, help="messages per run (default 10000)")
    p.add_argument("--sessions", type=int, default=4,
                   help="A's --max-per-destination and the baseline's smtp-source -s (default 4)")
    p.add_argument("--fill-sessions", type=int, default=20, help="smtp-source -s filling A's queue (default 20)")
    p.add_argument("--rounds", type=int, default=1, help="rounds; rates are the median (default 1)")
    p.add_argument("--modes", default="durable,discard", help="B's modes, comma separated (default durable,discard)")
    p.add_argument("--settle-timeout", type=int, default=300, help="seconds to wait for the first attempts to fail (default 300)")
    p.add_argument("--drain-timeout", type=int, default=600, help="seconds to wait for A's queue to empty (default 600)")
    p.add_argument("--strace", metavar="FILE", help="count A's system calls during each drain into FILE.MODE.rN (slows A: diagnosis only)")
    loadkit.add_common_flags(p, "logs, Maildirs, queues")
    opts = p.parse_args()
    modes = [m for m in opts.modes.split(",") if m]
    if any(m not in ("durable", "discard") for m in modes):
        sys.exit("--modes: durable and/or discard")

    if os.geteuid() != 0:
        sys.exit("run as root (as benches/smtp-load does)")
    for tool in ("smtp-source", "cargo"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install postfix; Rust toolchain)")
    binary, env_log = loadkit.prepare(opts)
    ok = loadkit.in_workdir("relay-load-", opts.keep, lambda workdir: run(opts, modes, binary, workdir, env_log))
    sys.exit(0 if ok else 1)


def run(opts, modes, binary, workdir, env_log):
    date = loadkit.date_utc()
    log(f"{date}; {loadkit.machine()}; RUST_LOG={env_log}; load average at start {os.getloadavg()[0]:.1f}")
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
        f"- Machine: {loadkit.machine()}",
        f"- Command: `{loadkit.command_line('benches/relay-load/run.py')}` (RUST_LOG={env_log})",
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
    loadkit.show_summary(summary)
    return ok


if __name__ == "__main__":
    main()
