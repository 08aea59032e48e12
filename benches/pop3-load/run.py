#!/usr/bin/env python3
"""POP3 retrieval benchmark: the example mail-server against Dovecot's pop3d, same run.

See README.md next to this file. On loopback, with all state in a temp dir:

1. idle: N sessions (default 500), each authenticated as its own user (our server allows
   one session per maildrop, like Dovecot's default lock), held open; memory growth per
   session of our process versus the sum over Dovecot's processes (it forks one pop3
   process per login), as RSS and as PSS;
2. load: the same messages (default 1,000 of 4 KiB) written as Maildir files, byte for
   byte, into both servers' maildirs; one client retrieves them all (pipelined when CAPA
   says PIPELINING, and one command at a time), several rounds; messages per second,
   ours / Dovecot, and every retrieved message compared with what was written.

Python 3 standard library only. Run as root (Dovecot's master). Everything started is
stopped, and the temp dir removed, on exit, also on failure and on SIGINT/SIGTERM.
"""

import os
import platform
import socket
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in benches/ by the import below
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from loadkit import CLEANUPS, free_port, log  # noqa: E402
import loadkit  # noqa: E402

DOVECOT = "/usr/sbin/dovecot"
NOBODY = 65534
LOAD_USER = "u"
PASSWORD = "secret-pw"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu})"


def proc_kib(pid, field):
    """A kB field of /proc/PID/status (VmRSS, VmHWM), in KiB; 0 when the process is gone."""
    return loadkit.proc_status(pid, field, default=0)


def proc_pss(pid):
    """Proportional set size (shared pages divided among their users), in KiB."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def descendants(root):
    """`root` and every process below it."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(pids):
    """CPU time summed over `pids` and all their threads, in seconds, from
    /proc/PID/task/TID/schedstat (nanoseconds; finer than utime/stime's clock ticks).
    Processes that are gone count 0."""
    total = 0
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return total / 1e9


def memory(pids):
    """(RSS, PSS, process count) summed over `pids`, in KiB."""
    rss = sum(proc_kib(p, "VmRSS") for p in pids)
    pss = sum(proc_pss(p) for p in pids)
    return rss, pss, len(pids)


# ------------------------------------------------------------------------------------
# The messages: the same bytes in both maildirs.


def make_message(i, size):
    """A message of exactly `size` octets with LF line ends (as Maildir files are
    usually stored); a few body lines start with a dot, so dot-stuffing is exercised."""
    head = (f"From: Sender <sender@example.test>\n"
            f"To: User <u@example.test>\n"
            f"Subject: benchmark message {i}\n"
            f"Message-ID: <bench-{i}@example.test>\n"
            f"Date: Mon, 23 Nov 2026 12:00:00 +0000\n"
            f"MIME-Version: 1.0\n"
            f"Content-Type: text/plain; charset=us-ascii\n\n").encode()
    body = bytearray()
    n = 0
    while len(head) + len(body) < size:
        line = (f".line {n} of message {i}\n" if n % 16 == 5
                else f"line {n} of message {i}: the quick brown fox jumps over the lazy dog\n")
        body += line.encode()
        n += 1
    data = head + bytes(body)
    data = data[: size - 1] + b"\n"
    assert len(data) == size
    return data


def as_sent(data):
    """The message as POP3 must deliver it (after un-stuffing): CRLF line ends."""
    return data.replace(b"\n", b"\r\n")


def write_maildir(root, messages, stamp):
    """Maildir files in `root/new`, named like deliveries with Dovecot's S= and W= size
    fields (both servers read sizes from the name instead of the file)."""
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    for i, data in enumerate(messages):
        name = f"{stamp + i}.M{i}P1.bench,S={len(data)},W={len(as_sent(data))}"
        with open(os.path.join(root, "new", name), "wb") as f:
            f.write(data)


def chown_tree(path, uid, gid):
    os.lchown(path, uid, gid)
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


# ------------------------------------------------------------------------------------
# The servers.


def wait_pop3(port, timeout=30.0):
    loadkit.wait_greeting(port, timeout, ok=b"+OK", read_quit_reply=True)


class OurServer(loadkit.OurServer):
    """The example mail-server in the foreground, logging to a file."""

    label = "our server"
    ready = b"POP3 listening on"

    def __init__(self, binary, workdir, users):
        super().__init__(workdir, "ours", free_port())
        self.args = [binary, "--data", self.data,
                     "--smtp", f"127.0.0.1:{free_port()}",
                     "--pop3", f"127.0.0.1:{self.port}",
                     "--domain", "example.test",
                     "--max-connections", str(len(users) + 100)]
        for user in users:
            self.args += ["--user", f"{user}:{PASSWORD}"]
        os.makedirs(self.data, exist_ok=True)

    def maildir(self, user):
        return os.path.join(self.data, user)

    def wait_ready(self):
        wait_pop3(self.port)

    def pids(self):
        return [self.proc.pid]


class Dovecot:
    """A private Dovecot (the settings of crates/mailwire-maildir/tests/support/dovecot.rs,
    with process and client limits raised for the idle sessions): its own config, state
    and log under the temp dir, POP3 on a free loopback port, users from a passwd-file,
    mail in `mail/<user>` as Maildir."""

    name = "dovecot"

    def __init__(self, workdir, users, sessions):
        self.dir = os.path.join(workdir, "dovecot")
        os.makedirs(os.path.join(self.dir, "mail"))
        self.port = free_port()
        self.imap_port = free_port()
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            for user in users:
                f.write(f"{user}:{{PLAIN}}{PASSWORD}::::::\n")
        d = self.dir
        limit = sessions + 100
        config = f"""\
instance_name = pop3bench-{os.getpid()}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = {d}/dovecot.log
listen = 127.0.0.1
protocols = imap pop3
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:{d}/mail/%u
mail_max_userip_connections = {limit}
pop3_uidl_format = %08Xu%08Xv
default_process_limit = {limit}
default_client_limit = {4 * limit}
default_vsz_limit = 0
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
  default_fields = uid=nobody gid=nogroup home={d}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""
        with open(os.path.join(d, "dovecot.conf"), "w") as f:
            f.write(config)
        self.proc = None

    def maildir(self, user):
        return os.path.join(self.dir, "mail", user)

    def start(self):
        chown_tree(os.path.join(self.dir, "mail"), NOBODY, NOBODY)
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", os.path.join(self.dir, "dovecot.conf")],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "stderr"), "wb"))
        CLEANUPS.append(self.stop)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.tail()}")
            try:
                wait_pop3(self.port, timeout=0.5)
                return self
            except RuntimeError:
                pass
        raise RuntimeError(f"dovecot did not start: {self.tail()}")

    def pids(self):
        return descendants(self.proc.pid)

    def tail(self, n=8):
        out = ""
        for name in ("stderr", "dovecot.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out += "".join(f.readlines()[-n:])
            except OSError:
                pass
        return out

    def stop(self):
        loadkit.stop_process(self.proc)


# ------------------------------------------------------------------------------------
# A small POP3 client on a raw socket: reads in large pieces, finds response ends with
# bytes.find, and can send many commands before reading their responses.


class Pop3Error(Exception):
    pass


class Client:
    def __init__(self, port, timeout=60):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0
        self.greeting = self.line()
        if not self.greeting.startswith(b"+OK"):
            raise Pop3Error(f"greeting: {self.greeting!r}")

    def _compact(self):
        # Consumed bytes are dropped now and then, not on every response.
        if self.pos > 1 << 20:
            del self.buf[: self.pos]
            self.pos = 0

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise Pop3Error("server closed the connection")
        self.buf += data

    def line(self):
        self._compact()
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                line = bytes(self.buf[self.pos:end])
                self.pos = end + 2
                return line
            self._fill()

    def ok(self):
        line = self.line()
        if not line.startswith(b"+OK"):
            raise Pop3Error(line.decode(errors="replace"))
        return line

    def multi(self):
        """A multi-line response: its status line and its body, still dot-stuffed,
        without the final `.` CRLF."""
        status = self.ok()
        self._compact()
        start = self.pos
        while True:
            if self.buf[start:start + 3] == b".\r\n":
                self.pos = start + 3
                return status, b""
            end = self.buf.find(b"\r\n.\r\n", start)
            if end >= 0:
                body = bytes(self.buf[start:end + 2])
                self.pos = end + 5
                return status, body
            self._fill()

    def send(self, data):
        self.sock.sendall(data)

    def command(self, text):
        self.send(text.encode() + b"\r\n")
        return self.ok()

    def capa(self):
        self.send(b"CAPA\r\n")
        _, body = self.multi()
        return [l.split(b" ")[0].upper().decode() for l in body.split(b"\r\n") if l]

    def login(self, user, password):
        self.command(f"USER {user}")
        self.command(f"PASS {password}")

    def stat(self):
        fields = self.command("STAT").split()
        return int(fields[1]), int(fields[2])

    def quit(self):
        try:
            self.command("QUIT")
        finally:
            self.sock.close()

    def close(self):
        self.sock.close()


def unstuff(body):
    if body.startswith(b".."):
        body = body[1:]
    return body.replace(b"\r\n..", b"\r\n.")


def retrieve_all(port, count, pipelined, server=None):
    """One session: login, STAT, RETR 1..count (all sent at once when `pipelined`, else
    one at a time), QUIT without deleting. Returns (session seconds, RETR-phase seconds,
    bodies, server CPU seconds from before the connection to before QUIT)."""
    cpu0 = {pid: cpu_seconds([pid]) for pid in server.pids()} if server else {}
    t0 = time.perf_counter()
    c = Client(port)
    c.login(LOAD_USER, PASSWORD)
    n, _size = c.stat()
    if n != count:
        raise Pop3Error(f"STAT says {n} messages, {count} expected")
    t1 = time.perf_counter()
    bodies = []
    if pipelined:
        c.send(b"".join(f"RETR {i}\r\n".encode() for i in range(1, count + 1)))
        for _ in range(count):
            bodies.append(c.multi()[1])
    else:
        for i in range(1, count + 1):
            c.send(f"RETR {i}\r\n".encode())
            bodies.append(c.multi()[1])
    t2 = time.perf_counter()
    cpu = None
    if server:
        # Before QUIT, while Dovecot's pop3 process for this session still exists; a
        # process new since the start counts in full (Dovecot's login process, gone
        # after the login, is not counted).
        cpu = sum(cpu_seconds([pid]) - cpu0.get(pid, 0) for pid in server.pids())
    c.quit()
    t3 = time.perf_counter()
    return t3 - t0, t2 - t1, bodies, cpu


# ------------------------------------------------------------------------------------
# Phases.


def idle_phase(servers, users, opts):
    """Opens `opts.idle` authenticated sessions to each server (one user each) and
    measures memory before and after. Returns {server: dict}."""
    out = {}
    for server in servers:
        # Warm-up: a few sessions opened and closed, so that one-time allocations (thread
        # pools, auth process, config) are in the baseline.
        for user in users[:5]:
            c = Client(server.port)
            c.login(user, PASSWORD)
            c.stat()
            c.quit()
        time.sleep(1.0)
        before = memory(server.pids())
        clients = []
        t0 = time.monotonic()
        try:
            for user in users[: opts.idle]:
                c = Client(server.port)
                c.send(f"USER {user}\r\nPASS {PASSWORD}\r\n".encode())
                c.ok()
                c.ok()
                clients.append(c)
            # Every session is in TRANSACTION state: STAT answered.
            for c in clients:
                c.send(b"STAT\r\n")
            for c in clients:
                c.ok()
            opened = time.monotonic() - t0
            time.sleep(1.0)
            after = memory(server.pids())
            # A new session is still served while they are all open.
            c = Client(server.port)
            c.login(LOAD_USER, PASSWORD)
            c.stat()
            c.quit()
        finally:
            for c in clients:
                try:
                    c.send(b"QUIT\r\n")
                    c.close()
                except OSError:
                    pass
        n = len(clients)
        per_rss = (after[0] - before[0]) / n
        per_pss = (after[1] - before[1]) / n
        out[server.name] = {"before": before, "after": after, "n": n, "rss": per_rss,
                            "pss": per_pss, "open_s": opened}
        log(f"  {server.name:8} {n} sessions in {opened:.2f} s; RSS {before[0]} -> {after[0]} KiB "
            f"({per_rss:.1f} KiB/session), PSS {before[1]} -> {after[1]} KiB "
            f"({per_pss:.1f} KiB/session); processes {before[2]} -> {after[2]}")
        time.sleep(1.0)
    return out


def load_phase(servers, expected, opts):
    """Rounds of: each server, pipelined then one-at-a-time. Returns
    {(server, mode): [(messages/s session, messages/s RETR phase)]}."""
    results = {}
    capas = {}
    for server in servers:
        c = Client(server.port)
        capas[server.name] = c.capa()
        c.quit()
    for rnd in range(opts.rounds):
        for server in servers:
            modes = [("pipelined", "PIPELINING" in capas[server.name]), ("one-at-a-time", False)]
            for mode, pipelined in modes:
                total, retr, bodies, cpu = retrieve_all(server.port, len(expected), pipelined, server)
                bad = [i + 1 for i, (b, e) in enumerate(zip(bodies, expected)) if unstuff(b) != e]
                if bad:
                    raise RuntimeError(f"{server.name} {mode}: {len(bad)} messages differ "
                                       f"from what was written (first: {bad[0]})")
                n = len(expected)
                results.setdefault((server.name, mode), []).append((n / total, n / retr, cpu / n * 1e6))
                log(f"  round {rnd + 1} {server.name:8} {mode:14} {total:6.3f} s session "
                    f"{n / total:8.0f} msg/s  (RETR phase {retr:6.3f} s, {n / retr:8.0f} msg/s; "
                    f"server CPU {cpu * 1e3:5.0f} ms = {cpu / n * 1e6:5.1f} us/msg)"
                    f"  {n} messages identical")
    return results, capas


def main():
    p = loadkit.parser(__doc__)
    p.add_argument("--messages", type=int, default=1000, help="messages in the maildrop (default 1000)")
    p.add_argument("--size", type=int, default=4096, help="octets per message, as stored (default 4096)")
    p.add_argument("--rounds", type=int, default=5, help="load rounds; rates are the median (default 5)")
    p.add_argument("--idle", type=int, default=500, help="idle authenticated sessions (default 500)")
    p.add_argument("--only", choices=["load", "idle"], action="append", help="run only these phases")
    loadkit.add_common_flags(p, "logs, maildirs")
    opts = p.parse_args()
    phases = opts.only or ["idle", "load"]

    if os.geteuid() != 0:
        sys.exit("run as root: Dovecot's master needs it")
    if not os.path.exists(DOVECOT) or not os.path.exists("/usr/lib/dovecot/pop3"):
        sys.exit("dovecot not found (apt-get install dovecot-pop3d)")
    binary, env_log = loadkit.prepare(opts, idle_sessions=opts.idle)
    ok = loadkit.in_workdir("pop3-load-", opts.keep, lambda workdir: run(opts, phases, binary, workdir, env_log))
    sys.exit(0 if ok else 1)


def run(opts, phases, binary, workdir, env_log):
    date = loadkit.date_utc()
    version = subprocess.run([DOVECOT, "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    log(f"{date}; {machine()}; Dovecot {version}; RUST_LOG={env_log}; temp dir {workdir}")
    idle_users = [f"i{k}" for k in range(opts.idle)] if "idle" in phases else []
    users = [LOAD_USER] + idle_users
    messages = [make_message(i, opts.size) for i in range(opts.messages)]
    expected = [as_sent(m) for m in messages]
    stamp = int(time.time()) - opts.messages - 10

    ours = OurServer(binary, workdir, users)
    dovecot = Dovecot(workdir, users, opts.idle)
    for server in (ours, dovecot):
        write_maildir(server.maildir(LOAD_USER), messages, stamp)
        # Each idle user holds one message, so that its session has a listing.
        for user in idle_users:
            write_maildir(server.maildir(user), messages[:1], stamp)
    ours.start()
    dovecot.start()
    servers = [ours, dovecot]

    summary = [f"- Date: {date}", f"- Machine: {machine()}", f"- Dovecot {version}",
               f"- Command: `{loadkit.command_line('benches/pop3-load/run.py')}` (RUST_LOG={env_log})"]
    ok = True
    if "idle" in phases:
        log(f"\n== idle: {opts.idle} authenticated sessions per server ==")
        idle = idle_phase(servers, idle_users, opts)
        o, d = idle["ours"], idle["dovecot"]
        summary += ["", "| idle sessions | ours | Dovecot | ours / Dovecot |", "|---|---|---|---|",
                    f"| RSS growth per session | {o['rss']:.1f} KiB | {d['rss']:.1f} KiB | {o['rss'] / d['rss']:.3f} |",
                    f"| PSS growth per session | {o['pss']:.1f} KiB | {d['pss']:.1f} KiB | {o['pss'] / d['pss']:.3f} |",
                    f"| processes before → after | {o['before'][2]} → {o['after'][2]} | {d['before'][2]} → {d['after'][2]} | |"]
    if "load" in phases:
        log(f"\n== load: {opts.messages} messages of {opts.size} octets, {opts.rounds} round(s) ==")
        results, capas = load_phase(servers, expected, opts)
        log(f"  CAPA: ours {capas['ours']}; dovecot {capas['dovecot']}")
        summary += ["", "| retrieval (median of rounds; best round in brackets) | ours msg/s | Dovecot msg/s | ours / Dovecot |",
                    "|---|---|---|---|"]
        for mode in ("pipelined", "one-at-a-time"):
            for k, label in ((0, "whole session"), (1, "RETR phase")):
                a = statistics.median(r[k] for r in results[("ours", mode)])
                b = statistics.median(r[k] for r in results[("dovecot", mode)])
                a_best = max(r[k] for r in results[("ours", mode)])
                b_best = max(r[k] for r in results[("dovecot", mode)])
                summary.append(f"| {mode}, {label} | {a:.0f} ({a_best:.0f}) | {b:.0f} ({b_best:.0f}) "
                               f"| {a / b:.2f} ({a_best / b_best:.2f}) |")
                if mode == "pipelined" and k == 0 and a < 2 * b:
                    ok = False
                    summary.append(f"| **goal missed**: pipelined ours < 2 × Dovecot | | | |")
            a = statistics.median(r[2] for r in results[("ours", mode)])
            b = statistics.median(r[2] for r in results[("dovecot", mode)])
            summary.append(f"| {mode}, server CPU per message (lower is better) | {a:.1f} us | {b:.1f} us | {a / b:.2f} (Dovecot / ours = {b / a:.2f}) |")
        summary.append(f"- Our server's peak RSS (VmHWM): {proc_kib(ours.proc.pid, 'VmHWM')} KiB")
    loadkit.show_summary(summary)
    return ok


if __name__ == "__main__":
    main()
