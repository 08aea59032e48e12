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

import argparse
import datetime
import os
import platform
import resource
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
DOVECOT = "/usr/sbin/dovecot"
NOBODY = 65534
LOAD_USER = "u"
PASSWORD = "secret-pw"

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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


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
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                data = s.recv(512)
                if data.startswith(b"+OK"):
                    s.sendall(b"QUIT\r\n")
                    s.recv(512)
                    return
                last = data
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise RuntimeError(f"no +OK greeting on port {port}: {last}")


class OurServer:
    """The example mail-server in the foreground, logging to a file."""

    name = "ours"

    def __init__(self, binary, workdir, users):
        self.port = free_port()
        self.data = os.path.join(workdir, "ours-data")
        self.log_path = os.path.join(workdir, "ours.log")
        self.args = [binary, "--data", self.data,
                     "--smtp", f"127.0.0.1:{free_port()}",
                     "--pop3", f"127.0.0.1:{self.port}",
                     "--domain", "example.test",
                     "--max-connections", str(len(users) + 100)]
        for user in users:
            self.args += ["--user", f"{user}:{PASSWORD}"]
        self.proc = None
        os.makedirs(self.data, exist_ok=True)

    def maildir(self, user):
        return os.path.join(self.data, user)

    def start(self):
        self.logfile = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=self.logfile, stderr=subprocess.STDOUT)
        CLEANUPS.append(self.stop)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"our server exited: {self.tail()}")
            with open(self.log_path, "rb") as f:
                if b"POP3 listening on" in f.read():
                    break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"our server did not start: {self.tail()}")
        wait_pop3(self.port)
        return self

    def pids(self):
        return [self.proc.pid]

    def tail(self, n=5):
        try:
            with open(self.log_path, "rb") as f:
                return b"".join(f.readlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logfile.close()


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
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


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
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=1000, help="messages in the maildrop (default 1000)")
    p.add_argument("--size", type=int, default=4096, help="octets per message, as stored (default 4096)")
    p.add_argument("--rounds", type=int, default=5, help="load rounds; rates are the median (default 5)")
    p.add_argument("--idle", type=int, default=500, help="idle authenticated sessions (default 500)")
    p.add_argument("--only", choices=["load", "idle"], action="append", help="run only these phases")
    p.add_argument("--no-build", action="store_true", help="use the binary already built")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, maildirs)")
    opts = p.parse_args()
    phases = opts.only or ["idle", "load"]

    if os.geteuid() != 0:
        sys.exit("run as root: Dovecot's master needs it")
    if not os.path.exists(DOVECOT) or not os.path.exists("/usr/lib/dovecot/pop3"):
        sys.exit("dovecot not found (apt-get install dovecot-pop3d)")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, 65536))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 3 * opts.idle:
        sys.exit(f"open-file limit {want} too low for {opts.idle} idle sessions")

    target_dir = os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target"))
    binary = os.path.join(target_dir, "release", "examples", "mail-server")
    if not opts.no_build:
        log("building the release example ...")
        subprocess.run(["cargo", "build", "--release", "--example", "mail-server"], cwd=REPO, check=True)
    env_log = os.environ.setdefault("RUST_LOG", "info")

    workdir = tempfile.mkdtemp(prefix="pop3-load-")
    os.chmod(workdir, 0o755)
    if not opts.keep:
        CLEANUPS.insert(0, lambda: shutil.rmtree(workdir, ignore_errors=True))
    try:
        ok = run(opts, phases, binary, workdir, env_log)
    finally:
        run_cleanups()
        if opts.keep:
            log(f"kept {workdir}")
    sys.exit(0 if ok else 1)


def run(opts, phases, binary, workdir, env_log):
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
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
               f"- Command: `{' '.join(['benches/pop3-load/run.py'] + sys.argv[1:])}` (RUST_LOG={env_log})"]
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
    log("\n## Summary\n")
    log("\n".join(summary))
    return ok


if __name__ == "__main__":
    main()
