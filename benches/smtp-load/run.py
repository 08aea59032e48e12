#!/usr/bin/env python3
"""End-to-end SMTP load benchmark and hostile-peer checks for the example mail-server.

See README.md next to this file. In one run, on loopback, with all state in a temp dir:

1. load: `smtp-source` against our mail-server (durable Maildir, fsync), our mail-server
   with --discard, smtp-sink (no storage) and a private Postfix instance (durable queue);
   messages/s from wall time, stored-message counts, our peak RSS;
2. idle: 1,000 sessions held open after EHLO, memory per session, a new session still
   served, everything back after they close;
3. hostile: a slow-drip client (command and DATA phase), a client that never reads its
   replies, a 100 MB line without CRLF, while a normal client keeps sending mail.

Python 3 standard library only. Run as root (smtp-sink -u, Postfix). Everything started is
stopped, and the temp dir removed, on exit, also on failure and on SIGINT/SIGTERM.
"""

import os
import re
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ left in benches/ by the import below
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from loadkit import (CLEANUPS, count_files, forget, free_port, log, proc_cpu_seconds,  # noqa: E402
                     proc_status, wait_greeting)
import loadkit  # noqa: E402

FROM = "a@example.test"
TO = "u@example.test"


def server_inodes(pid):
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    return inodes


def connections(server):
    """How many TCP connections on its SMTP port the server process holds open."""
    inodes = server_inodes(server.pid)
    local = f":{server.port:04X}"
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            cols = row.split()
            if cols[1].endswith(local) and cols[3] != "0A" and cols[9] in inodes:
                n += 1
    return n


def server_holds(pid, server_port, client_port):
    """Whether process `pid` still has an open socket for this loopback connection."""
    inodes = server_inodes(pid)
    want_local, want_remote = f":{server_port:04X}", f":{client_port:04X}"
    with open("/proc/net/tcp") as f:
        next(f)
        for row in f:
            cols = row.split()
            if cols[1].endswith(want_local) and cols[2].endswith(want_remote) and cols[9] in inodes:
                return True
    return False


# ------------------------------------------------------------------------------------
# The servers.


_HELP = {}


def listener_flags(binary):
    """Other plain listeners the example has (--pop3, --imap), each on a free port so
    that the default ports (1110, 1143) never clash with anything else on the machine."""
    if binary not in _HELP:
        _HELP[binary] = subprocess.run([binary, "--help"], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True).stdout
    flags = []
    for name in ("--pop3", "--imap"):
        if re.search(rf"^\s*{name} <", _HELP[binary], re.M):
            flags += [name, f"127.0.0.1:{free_port()}"]
    return flags


class OurServer(loadkit.OurServer):
    """The example mail-server, in the foreground, logging to a file."""

    def __init__(self, binary, workdir, name, extra):
        super().__init__(workdir, name, free_port())
        self.args = [
            binary,
            "--data", self.data,
            "--smtp", f"127.0.0.1:{self.port}",
            "--domain", "example.test",
            "--user", "u:secret-pw",
        ] + listener_flags(binary) + list(extra)


class SmtpSink:
    def __init__(self, workdir):
        self.name = "smtp-sink"
        self.port = free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["smtp-sink", "-u", "nobody", f"127.0.0.1:{self.port}", "1000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        CLEANUPS.append(self.stop)
        wait_greeting(self.port)
        return self

    def stop(self):
        loadkit.stop_process(self.proc)


class Postfix:
    """A private Postfix instance: own config, queue and log; virtual mailbox delivery."""

    def __init__(self, workdir):
        self.name = "postfix"
        self.port = free_port()
        self.dir = os.path.join(workdir, "postfix")
        self.etc = os.path.join(self.dir, "etc")
        self.vmail = os.path.join(self.dir, "vmail")
        self.started = False

    def configure(self):
        d, etc = self.dir, self.etc
        os.makedirs(etc)
        for name in ("master.cf", "dynamicmaps.cf", "postfix-files"):
            shutil.copy(os.path.join("/etc/postfix", name), etc)
        for name in ("dynamicmaps.cf.d", "postfix-files.d"):
            src = os.path.join("/etc/postfix", name)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(etc, name))
        # Our listener instead of port 25; no chroot (the private queue has no etc/ copies).
        out = []
        with open(os.path.join(etc, "master.cf")) as f:
            for line in f:
                fields = line.split()
                if line[:1] in ("#", " ", "\t", "\n") or len(fields) < 8:
                    out.append(line)
                    continue
                if fields[0] == "smtp" and fields[1] == "inet":
                    out.append(f"127.0.0.1:{self.port} inet n - n - - smtpd\n")
                    continue
                fields[4] = "n"
                out.append(" ".join(fields) + "\n")
        with open(os.path.join(etc, "master.cf"), "w") as f:
            f.writelines(out)
        os.makedirs(os.path.join(d, "spool"))
        os.makedirs(os.path.join(d, "data"))
        shutil.chown(os.path.join(d, "data"), "postfix", "postfix")
        os.makedirs(self.vmail)
        shutil.chown(self.vmail, "nobody", "nogroup")
        main_cf = f"""\
compatibility_level = 3.6
config_directory = {etc}
meta_directory = {etc}
queue_directory = {d}/spool
data_directory = {d}/data
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.bench.test
mydomain = bench.test
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relayhost =
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_peername_lookup = no
virtual_mailbox_domains = example.test
virtual_mailbox_base = {self.vmail}
virtual_mailbox_maps = inline:{{ {TO}=example.test/u/ }}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
# Not artificially throttled: enough smtpd processes for -s 100, no anvil limits, and no
# inflow delay (cleanup would otherwise pause up to 1 s per message whenever arrivals
# outrun deliveries; 0 is the setting most favourable to Postfix's acceptance rate).
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
in_flow_delay = 0s
"""
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write(main_cf)

    def postfix(self, *cmd, check=True):
        r = subprocess.run(["postfix", "-c", self.etc, *cmd],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check and r.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(cmd)} failed: {r.stdout}\n{self.tail()}")
        return r

    def start(self):
        self.configure()
        CLEANUPS.append(self.stop)
        self.postfix("post-install", "create-missing")
        self.postfix("start")
        self.started = True
        wait_greeting(self.port)
        return self

    def master_pid(self):
        try:
            with open(os.path.join(self.dir, "spool", "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stored(self):
        return count_files(os.path.join(self.vmail, "example.test", "u", "new"))

    def queued(self):
        n = 0
        for sub in ("incoming", "active", "deferred", "maildrop", "hold"):
            for _root, _dirs, files in os.walk(os.path.join(self.dir, "spool", sub)):
                n += len(files)
        return n

    def tail(self, n=8):
        try:
            with open(os.path.join(self.dir, "maillog")) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if not self.started:
            return
        self.started = False
        pid = self.master_pid()
        self.postfix("stop", check=False)
        deadline = time.monotonic() + 15
        while pid and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# ------------------------------------------------------------------------------------
# 1. Load.


def smtp_source(port, messages, sessions, reuse):
    return loadkit.smtp_source(port, messages, sessions, FROM, TO, reuse)


WORKLOADS = [
    ("s20-d", 20, True),    # -s 20 -d: 20 sessions, connections reused
    ("s100", 100, False),   # -s 100: one connection per message
]


def load_phase(opts, binary, workdir):
    n = opts.messages
    # results[target][workload] = list of rates (one per round)
    results = {}
    notes = []
    peak_rss = {"ours-durable": 0, "ours-discard": 0}
    peak_threads = {"ours-durable": 0, "ours-discard": 0}
    ours_cpu = {}
    commands = set()
    for rnd in range(opts.rounds):
        for target in ("ours-durable", "ours-discard", "smtp-sink", "postfix"):
            if target == "ours-durable":
                server = OurServer(binary, workdir, f"durable-r{rnd}", []).start()
            elif target == "ours-discard":
                server = OurServer(binary, workdir, f"discard-r{rnd}", ["--discard"]).start()
            elif target == "smtp-sink":
                server = SmtpSink(workdir).start()
            else:
                server = Postfix(os.path.join(workdir, f"pf-r{rnd}"))
                os.makedirs(server.dir)
                server.start()
            sampler = None
            if target.startswith("ours"):
                sampler = RssSampler(server.pid, every=0.1)
                sampler.start()
            try:
                expected = 0
                for wname, sessions, reuse in WORKLOADS:
                    cpu0 = proc_cpu_seconds(server.pid) if target.startswith("ours") else None
                    cmd, wall, src_cpu = smtp_source(server.port, n, sessions, reuse)
                    commands.add(" ".join(c if not c.startswith("127.0.0.1:") else "127.0.0.1:PORT"
                                          for c in cmd))
                    rate = n / wall
                    results.setdefault(target, {}).setdefault(wname, []).append(rate)
                    line = f"  round {rnd + 1} {target:13} {wname:6} {wall:7.2f} s {rate:8.0f} msg/s  (smtp-source cpu {src_cpu:.1f} s"
                    if cpu0 is not None:
                        scpu = proc_cpu_seconds(server.pid) - cpu0
                        ours_cpu.setdefault((target, wname), []).append(scpu / n * 1e6)
                        line += f", server cpu {scpu:.1f} s = {scpu / n * 1e6:.0f} us/msg"
                    line += ")"
                    expected += n
                    if target == "ours-durable":
                        got = server.stored()
                        line += f"  stored {got}/{expected}"
                        if got != expected:
                            notes.append(f"round {rnd + 1} ours-durable {wname}: {got} stored, {expected} expected")
                    if target == "postfix":
                        t0 = time.monotonic()
                        while server.stored() < expected and time.monotonic() - t0 < opts.drain_timeout:
                            time.sleep(0.5)
                        got = server.stored()
                        line += f"  delivered {got}/{expected} after a further {time.monotonic() - t0:.1f} s drain"
                        if got != expected:
                            notes.append(f"round {rnd + 1} postfix {wname}: {got} delivered after {opts.drain_timeout} s, {expected} expected (queue: {server.queued()})")
                    log(line)
                if target.startswith("ours"):
                    sampler.stop()
                    hwm = proc_status(server.pid, "VmHWM")
                    peak_rss[target] = max(peak_rss[target], hwm)
                    peak_threads[target] = max(peak_threads[target], sampler.threads)
                    log(f"  round {rnd + 1} {target:13} peak RSS (VmHWM) {hwm / 1024:.1f} MiB, "
                        f"most threads {sampler.threads}")
            finally:
                server.stop()
                forget(server.stop)
    return results, (peak_rss, peak_threads), ours_cpu, notes, sorted(commands)


# ------------------------------------------------------------------------------------
# SMTP helpers on raw sockets.



def read_reply(sock, buf=b""):
    """Reads one complete (possibly multi-line) reply; returns (reply, rest)."""
    while True:
        m = re.search(rb"(?:^|\n)(\d{3}) [^\r\n]*\r\n", buf)
        if m:
            end = m.end()
            return buf[:end], buf[end:]
        data = sock.recv(65536)
        if not data:
            raise ConnectionError(f"closed after {buf[-200:]!r}")
        buf += data


def transaction(port, timeout=10):
    """One complete mail transaction with smtplib; returns the latency in seconds."""
    start = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout) as s:
        s.ehlo("normal.example")
        refused = s.sendmail(FROM, [TO], b"Subject: normal\r\n\r\nhello\r\n")
        if refused:
            raise RuntimeError(f"refused: {refused}")
    return time.monotonic() - start


# ------------------------------------------------------------------------------------
# 2. Idle sessions.


def idle_phase(opts, binary, workdir):
    server = OurServer(binary, workdir, "idle", ["--max-connections", str(opts.idle * 2)]).start()
    out = {}
    try:
        # Warm up: the runtime's threads, the allocator's arenas, the first deliveries.
        for _ in range(20):
            transaction(server.port)
        time.sleep(1)
        base_fds = connections(server)
        before = proc_status(server.pid, "VmRSS")
        socks = []
        t0 = time.monotonic()
        for i in range(opts.idle):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            socks.append(s)
            greeting, rest = read_reply(s)
            if not greeting.startswith(b"220"):
                raise RuntimeError(f"idle session {i}: greeting {greeting!r}")
            s.sendall(b"EHLO idle%d.example\r\n" % i)
            reply, rest = read_reply(s, rest)
            if not reply.startswith(b"250"):
                raise RuntimeError(f"idle session {i}: EHLO reply {reply!r}")
        open_time = time.monotonic() - t0
        time.sleep(1)
        after = proc_status(server.pid, "VmRSS")
        fds_open = connections(server)
        # A new session while they are open.
        try:
            latency = transaction(server.port)
            new_ok = True
        except Exception as e:
            latency, new_ok = None, f"{e}"
        still_open = 0
        for s in socks:
            s.setblocking(False)
            try:
                if s.recv(1) == b"":
                    pass
                else:
                    still_open += 1
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
        for s in socks:
            s.close()
        t1 = time.monotonic()
        while connections(server) > base_fds and time.monotonic() - t1 < 30:
            time.sleep(0.1)
        drain = time.monotonic() - t1
        time.sleep(1)
        closed_fds = connections(server)
        rss_closed = proc_status(server.pid, "VmRSS")
        try:
            transaction(server.port)
            after_ok = True
        except Exception as e:
            after_ok = f"{e}"
        out = dict(
            sessions=opts.idle, open_time=open_time, rss_before=before, rss_after=after,
            per_session=(after - before) / opts.idle, base_fds=base_fds, fds_open=fds_open,
            still_open=still_open, new_ok=new_ok, new_latency=latency, drain=drain,
            closed_fds=closed_fds, rss_closed=rss_closed, after_ok=after_ok,
            hwm=proc_status(server.pid, "VmHWM"),
        )
    finally:
        server.stop()
        forget(server.stop)
    return out


# ------------------------------------------------------------------------------------
# 3. Hostile peers.


class NormalClient(threading.Thread):
    """Sends a message every 0.5 s for the whole hostile phase."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.stop_flag = threading.Event()
        self.ok = 0
        self.failures = []
        self.latencies = []

    def run(self):
        while not self.stop_flag.is_set():
            try:
                self.latencies.append(transaction(self.port))
                self.ok += 1
            except Exception as e:
                self.failures.append(f"{time.strftime('%H:%M:%S')} {type(e).__name__}: {e}")
            self.stop_flag.wait(0.5)


class RssSampler(threading.Thread):
    """The largest VmRSS and thread count of a process, sampled every `every` seconds."""

    def __init__(self, pid, every=0.02):
        super().__init__(daemon=True)
        self.pid = pid
        self.every = every
        self.stop_flag = threading.Event()
        self.peak = 0
        self.threads = 0

    def run(self):
        while not self.stop_flag.is_set():
            try:
                self.peak = max(self.peak, proc_status(self.pid, "VmRSS"))
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("Threads:"):
                            self.threads = max(self.threads, int(line.split()[1]))
            except (OSError, RuntimeError, ValueError):
                return
            time.sleep(self.every)

    def stop(self):
        self.stop_flag.set()
        self.join()


def drip(s, received, limit, data=None):
    """Sends one byte a second on `s` (the bytes of `data`, then nothing more; b"X" for
    ever when `data` is None) and collects what the server says, until it closes the
    connection or `limit` seconds pass; then closes `s`. Returns (seconds until closed or
    None, bytes sent, bytes received after `received`)."""
    t0 = time.monotonic()
    closed_at = None
    sent = 0
    try:
        while time.monotonic() - t0 < limit:
            if data is None or sent < len(data):
                try:
                    s.sendall(b"X" if data is None else data[sent:sent + 1])
                    sent += 1
                except OSError:
                    closed_at = time.monotonic() - t0
                    break
            s.settimeout(1.0)
            try:
                chunk = s.recv(4096)
                if not chunk:
                    closed_at = time.monotonic() - t0
                    break
                received += chunk
            except socket.timeout:
                pass
            except OSError:
                closed_at = time.monotonic() - t0
                break
    finally:
        s.close()
    return closed_at, sent, received


def drip_command(port, limit, timeout_s):
    """Sends 'EHLO drip.example\\r\\n' one byte per second; the command timeout must cut it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    greeting, rest = read_reply(s)
    closed_at, sent, received = drip(s, rest, limit, b"EHLO drip.example\r\n")
    ok = closed_at is not None and received.startswith(b"421 4.4.2") and closed_at <= timeout_s + 3
    return dict(ok=ok, closed_at=closed_at, bytes_sent=sent, reply=received.decode(errors="replace").strip())


def drip_data(port, limit):
    """After DATA, sends one byte per second; reports whether the server cuts it off."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    _, rest = read_reply(s)
    for cmd in (b"EHLO drip.example", b"MAIL FROM:<" + FROM.encode() + b">",
                b"RCPT TO:<" + TO.encode() + b">", b"DATA"):
        s.sendall(cmd + b"\r\n")
        reply, rest = read_reply(s, rest)
    if not reply.startswith(b"354"):
        raise RuntimeError(f"DATA: {reply!r}")
    closed_at, sent, received = drip(s, rest, limit)
    return dict(ok=closed_at is not None, closed_at=closed_at, bytes_sent=sent,
                reply=received.decode(errors="replace").strip())


class NeverReader(threading.Thread):
    """Sends EHLO commands and never reads a byte of the replies.

    `commands=None`: floods until cut off. Otherwise sends that many commands (as far as
    back-pressure lets it) and then only waits. The end is seen either as an error on the
    client's socket or as the server logging the end of this connection.
    """

    UNIT = b"EHLO never-reads.example\r\n"

    def __init__(self, server, limit, commands=None):
        super().__init__(daemon=True)
        self.server = server
        self.limit = limit
        self.commands = commands
        self.result = None

    def server_end(self):
        tag = f"peer=127.0.0.1:{self.local_port}"
        lines = [l for l in self.server.log_text().splitlines() if tag in l]
        ended = [l for l in lines if "session ended" in l or "session closed" in l]
        return [re.sub(r"^\S+\s+\w+\s+connection\{[^}]*\}:\s+", "", l) for l in ended]

    def run(self):
        import select
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # no receive autotuning
        s.connect(("127.0.0.1", self.server.port))
        self.local_port = s.getsockname()[1]
        s.setblocking(False)
        flood = self.UNIT * 256
        total = None if self.commands is None else len(self.UNIT) * self.commands
        sent = 0
        t0 = time.monotonic()
        last_progress = 0.0
        held = False
        cut_at = None
        how = None
        while time.monotonic() - t0 < self.limit:
            pending = total is None or sent < total
            if pending:
                data = flood if total is None else (self.UNIT * 256)[: total - sent]
                try:
                    sent += s.send(data)
                    last_progress = time.monotonic() - t0
                    continue
                except BlockingIOError:
                    pass
                except OSError as e:
                    cut_at, how = time.monotonic() - t0, f"client saw {type(e).__name__}: {e}"
                    break
            holds = server_holds(self.server.pid, self.server.port, self.local_port)
            held = held or holds
            if held and not holds:  # accepted, then dropped
                cut_at = time.monotonic() - t0
                how = "server dropped the socket; server log: " + " / ".join(self.server_end())
                break
            select.select([], [s] if pending else [], [s], 0.5)
        if cut_at is not None and "server log" not in how:
            time.sleep(0.5)
            ended = self.server_end()
            if ended:
                how += "; server log: " + " / ".join(ended)
        s.close()
        self.result = dict(ok=cut_at is not None, cut_at=cut_at, last_send_progress=last_progress,
                           bytes_sent=sent, commands_sent=sent // len(self.UNIT), how=how)


def long_line(port, pid, megabytes):
    """Sends MEGABYTES of 'A' without CRLF after EHLO, then CRLF and QUIT."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    _, rest = read_reply(s)
    s.sendall(b"EHLO long.example\r\n")
    _, rest = read_reply(s, rest)
    time.sleep(0.5)
    base = proc_status(pid, "VmRSS")
    hwm0 = proc_status(pid, "VmHWM")
    sampler = RssSampler(pid)
    sampler.start()
    replies = []
    reader_error = []

    def reader():
        buf = rest
        try:
            while True:
                reply, buf2 = read_reply(s, buf)
                buf = buf2
                replies.append((time.monotonic() - t0, reply.decode(errors="replace").strip()))
                if reply.startswith(b"221") or reply.startswith(b"421"):
                    return
        except Exception as e:
            reader_error.append(f"{type(e).__name__}: {e}")

    t0 = time.monotonic()
    rt = threading.Thread(target=reader, daemon=True)
    rt.start()
    chunk = b"A" * (1 << 20)
    sent_error = None
    try:
        for _ in range(megabytes):
            s.sendall(chunk)
        send_time = time.monotonic() - t0
        s.sendall(b"\r\nQUIT\r\n")
    except OSError as e:
        send_time = time.monotonic() - t0
        sent_error = f"{type(e).__name__}: {e}"
    rt.join(30)
    sampler.stop()
    s.close()
    first = replies[0] if replies else (None, "")
    hwm = proc_status(pid, "VmHWM")
    ok = (first[1].startswith("500 5.5.2") and any(r.startswith("221") for _, r in replies)
          and sampler.peak - base < 16 * 1024 and hwm - hwm0 < 16 * 1024)
    return dict(ok=ok, replies=replies, send_time=send_time, sent_error=sent_error,
                reader_error=reader_error, rss_base=base, rss_peak=sampler.peak,
                hwm_before=hwm0, hwm_after=hwm)


def hostile_phase(opts, binary, workdir):
    server = OurServer(binary, workdir, "hostile",
                       ["--command-timeout", "5s", "--data-timeout", "5s",
                        "--max-connections", "2000"]).start()
    out = {}
    try:
        transaction(server.port)
        time.sleep(0.5)
        base_fds = connections(server)
        hwm0 = proc_status(server.pid, "VmHWM")
        normal = NormalClient(server.port)
        normal.start()
        flood = NeverReader(server, opts.never_read_limit)
        flood.start()
        never = NeverReader(server, opts.never_read_limit, commands=5000)
        never.start()
        log("  slow drip, command phase (1 byte/s, --command-timeout 5s) ...")
        out["drip_command"] = drip_command(server.port, 30, 5)
        log(f"    {out['drip_command']}")
        log("  slow drip, DATA phase (1 byte/s, --data-timeout 5s), watched for 20 s ...")
        out["drip_data"] = drip_data(server.port, 20)
        log(f"    {out['drip_data']}")
        log(f"  line without end ({opts.long_line_mb} MB of 'A') ...")
        out["long_line"] = long_line(server.port, server.pid, opts.long_line_mb)
        log(f"    {out['long_line']}")
        log(f"  clients that never read (waiting up to {opts.never_read_limit} s) ...")
        for key, thread in (("never_reads_flood", flood), ("never_reads_5000", never)):
            thread.join(opts.never_read_limit + 30)
            out[key] = dict(thread.result or {"ok": False})
            log(f"    {key}: {out[key]}")
        out["rss_after_never_readers"] = proc_status(server.pid, "VmRSS")
        normal.stop_flag.set()
        normal.join(15)
        t1 = time.monotonic()
        while connections(server) > base_fds and time.monotonic() - t1 < 15:
            time.sleep(0.2)
        try:
            transaction(server.port)
            final_ok = True
        except Exception as e:
            final_ok = f"{e}"
        out["normal"] = dict(ok=normal.ok, failures=normal.failures,
                             max_latency=max(normal.latencies) if normal.latencies else None,
                             median_latency=statistics.median(normal.latencies) if normal.latencies else None)
        leftover = subprocess.run(["ss", "-tanp"], stdout=subprocess.PIPE, text=True).stdout
        leftover = [l for l in leftover.splitlines() if f"pid={server.pid}," in l]
        out["after"] = dict(final_ok=final_ok, base_fds=base_fds, fds=connections(server), sockets=leftover,
                            hwm_before=hwm0, hwm=proc_status(server.pid, "VmHWM"))
    finally:
        server.stop()
        forget(server.stop)
    return out


# ------------------------------------------------------------------------------------


def yes(b):
    return "PASS" if b is True else "FAIL"


def main():
    p = loadkit.parser(__doc__)
    p.add_argument("--messages", type=int, default=20000, help="messages per smtp-source run (default 20000)")
    p.add_argument("--rounds", type=int, default=3, help="rounds of the load phase; rates are the median (default 3)")
    p.add_argument("--idle", type=int, default=1000, help="idle sessions to hold open (default 1000)")
    p.add_argument("--long-line-mb", type=int, default=100, help="size of the line without end (default 100)")
    p.add_argument("--never-read-limit", type=int, default=150, help="seconds to wait for the never-reading client to be cut (default 150)")
    p.add_argument("--drain-timeout", type=int, default=600, help="seconds to wait for Postfix to deliver its queue (default 600)")
    p.add_argument("--only", choices=["load", "idle", "hostile"], action="append", help="run only these phases (repeatable)")
    loadkit.add_common_flags(p, "logs, Maildirs, Postfix queue")
    opts = p.parse_args()
    phases = opts.only or ["load", "idle", "hostile"]

    if os.geteuid() != 0:
        sys.exit("run as root: smtp-sink needs -u nobody and Postfix a root master")
    for tool in ("smtp-source", "smtp-sink", "postfix", "cargo"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install postfix; Rust toolchain)")
    binary, env_log = loadkit.prepare(opts, idle_sessions=opts.idle)
    loadkit.in_workdir("smtp-load-", opts.keep, lambda workdir: run(opts, phases, binary, workdir, env_log))


def run(opts, phases, binary, workdir, env_log):
    date = loadkit.date_utc()
    log(f"{date}; {loadkit.machine()}; RUST_LOG={env_log}; temp dir {workdir}")
    summary = [f"- Date: {date}", f"- Machine: {loadkit.machine()}",
               f"- Command: `{loadkit.command_line('benches/smtp-load/run.py')}` (RUST_LOG={env_log})"]
    failed = []
    load0 = f"{os.getloadavg()[0]:.1f}"

    if "load" in phases:
        log(f"\n== load: {opts.messages} messages per run, {opts.rounds} round(s) ==")
        results, (peak, threads), ours_cpu, notes, commands = load_phase(opts, binary, workdir)
        med = {t: {w: statistics.median(v) for w, v in ws.items()} for t, ws in results.items()}
        summary.append("- smtp-source commands (PORT = each target's port):")
        summary += [f"  - `{c}`" for c in commands]
        summary.append("")
        summary.append("| target | -s 20 -d (msg/s) | -s 100, new connection per message (msg/s) |")
        summary.append("|---|---:|---:|")
        for t in ("ours-durable", "postfix", "ours-discard", "smtp-sink"):
            summary.append(f"| {t} | {med[t]['s20-d']:.0f} | {med[t]['s100']:.0f} |")
        summary.append("")
        summary.append("| ratio | -s 20 -d | -s 100 | goal |")
        summary.append("|---|---:|---:|---|")
        for a, b, goal in (("ours-durable", "postfix", 2.0), ("ours-discard", "smtp-sink", 1.0)):
            r = [med[a][w] / med[b][w] for w in ("s20-d", "s100")]
            verdict = "met" if min(r) >= goal else "MISSED"
            if min(r) < goal:
                failed.append(f"{a}/{b} ratio {min(r):.2f} < {goal}")
            summary.append(f"| {a} / {b} | {r[0]:.2f} | {r[1]:.2f} | ≥ {goal:g}: {verdict} |")
        summary.append("")
        summary.append(f"- Our peak RSS (VmHWM): durable {peak['ours-durable'] / 1024:.1f} MiB, "
                       f"discard {peak['ours-discard'] / 1024:.1f} MiB; most threads seen (sampled every 0.1 s): "
                       f"durable {threads['ours-durable']}, discard {threads['ours-discard']}")
        summary.append("- Our server's CPU per message (user+sys): " + ", ".join(
            f"{t} {w} {statistics.median(v):.0f} µs" for (t, w), v in sorted(ours_cpu.items())))
        for n in notes:
            summary.append(f"- NOTE: {n}")
        if notes:
            failed += notes

    if "idle" in phases:
        log(f"\n== idle: {opts.idle} sessions after EHLO ==")
        r = idle_phase(opts, binary, workdir)
        log(f"  {r}")
        ok = (r["per_session"] < 64 and r["new_ok"] is True and r["after_ok"] is True
              and r["still_open"] == opts.idle and r["closed_fds"] <= r["base_fds"])
        if not ok:
            failed.append("idle sessions")
        summary.append("")
        summary.append(f"- Idle sessions: {r['sessions']} opened with EHLO in {r['open_time']:.2f} s, "
                       f"all {r['still_open']} still open when counted; RSS {r['rss_before'] / 1024:.1f} → "
                       f"{r['rss_after'] / 1024:.1f} MiB = **{r['per_session']:.1f} KiB per idle session** "
                       f"(goal < 64 KiB: {'met' if r['per_session'] < 64 else 'MISSED'}); server connections "
                       f"{r['base_fds']} → {r['fds_open']}.")
        summary.append(f"- New session while they were open: {yes(r['new_ok'])}"
                       + (f" (220, EHLO, MAIL, RCPT, DATA, 250 in {r['new_latency'] * 1000:.0f} ms)" if r['new_latency'] else ""))
        summary.append(f"- After closing them all: connections back to {r['closed_fds']} (baseline {r['base_fds']}) "
                       f"in {r['drain']:.2f} s; RSS {r['rss_closed'] / 1024:.1f} MiB; a new transaction: {yes(r['after_ok'])}; "
                       f"VmHWM {r['hwm'] / 1024:.1f} MiB")

    if "hostile" in phases:
        log("\n== hostile peers (server with --command-timeout 5s --data-timeout 5s) ==")
        h = hostile_phase(opts, binary, workdir)
        summary.append("")
        summary.append("| hostile peer | result | details |")
        summary.append("|---|---|---|")
        d = h["drip_command"]
        summary.append(f"| slow drip in a command, 1 byte/s | {yes(d['ok'])} | cut after {d['closed_at'] and round(d['closed_at'], 1)} s, "
                       f"{d['bytes_sent']} bytes sent; reply `{d['reply'][:60]}` |")
        d = h["drip_data"]
        summary.append(f"| slow drip after DATA, 1 byte/s (watched 20 s) | {yes(d['ok'])} | "
                       + (f"cut after {d['closed_at']:.1f} s; reply `{d['reply'][:60]}` |" if d["ok"]
                          else f"not cut: {d['bytes_sent']} bytes in 20 s, connection still open |"))
        for key, label in (("never_reads_flood", "never reads, floods EHLO without end"),
                           ("never_reads_5000", "never reads, sends 5,000 EHLO then waits")):
            d = h[key]
            summary.append(f"| {label} | {yes(d['ok'])} | "
                           + (f"cut after {d['cut_at']:.1f} s; its sends stopped making progress at "
                              f"{d['last_send_progress']:.1f} s after {d['bytes_sent'] / 1024:.0f} KiB ≈ {d['commands_sent']} commands "
                              f"(back-pressure); {d['how'][:300]} |"
                              if d["ok"] else f"not cut within {opts.never_read_limit} s: {d} |"))
        d = h["long_line"]
        first = d["replies"][0] if d["replies"] else (0, "none")
        summary.append(f"| {opts.long_line_mb} MB line without CRLF | {yes(d['ok'])} | first reply `{first[1]}` after "
                       f"{first[0]:.2f} s (sending took {d['send_time']:.2f} s); then {', '.join(r.split()[0] for _, r in d['replies'][1:])}; "
                       f"server RSS {d['rss_base'] / 1024:.1f} → peak {d['rss_peak'] / 1024:.1f} MiB (sampled every 20 ms), "
                       f"VmHWM {d['hwm_before'] / 1024:.1f} → {d['hwm_after'] / 1024:.1f} MiB |")
        n = h["normal"]
        normal_ok = not n["failures"] and n["ok"] > 0
        summary.append(f"| normal client meanwhile (a message every 0.5 s) | {yes(normal_ok)} | {n['ok']} transactions, "
                       f"{len(n['failures'])} failures, median {n['median_latency'] * 1000:.0f} ms, max {n['max_latency'] * 1000:.0f} ms |")
        summary.append(f"| server RSS after the never-readers | — | {h['rss_after_never_readers'] / 1024:.1f} MiB |")
        a = h["after"]
        summary.append(f"| after all of them | {yes(a['final_ok'] is True and a['fds'] <= a['base_fds'])} | new transaction "
                       f"{'ok' if a['final_ok'] is True else a['final_ok']}; server connections {a['fds']} (baseline {a['base_fds']}); "
                       f"VmHWM {a['hwm_before'] / 1024:.1f} → {a['hwm'] / 1024:.1f} MiB"
                       + (f"; still open: {' / '.join(' '.join(l.split()[:5]) for l in a['sockets'])}" if a['fds'] > a['base_fds'] else "")
                       + " |")
        for key in ("drip_command", "drip_data", "never_reads_flood", "never_reads_5000", "long_line"):
            if not h[key]["ok"]:
                failed.append(key)
        if not normal_ok:
            failed.append(f"normal client: {n['failures'][:3]}")

    summary.append("")
    summary.append(f"- Load average at the start: {load0}; at the end: {os.getloadavg()[0]:.1f} "
                   "(other work on the machine shares the 2 cores)")
    loadkit.show_summary(summary, "== summary (Markdown) ==")
    if failed:
        log("\nMISSED: " + "; ".join(failed))
        sys.exit(1)


if __name__ == "__main__":
    main()
