#!/usr/bin/env python3
"""Captures what Dovecot answers to a varied IMAP session, for the corpus test.

Starts a private Dovecot on loopback (all state in a temp dir, see /work/shared/PEERS.md),
fills a mailbox with varied messages (APPEND), runs commands that return BODYSTRUCTURE,
ENVELOPE, BODY[], LIST, STATUS, SEARCH and more, and writes everything the server sent to
`dovecot_responses.txt` next to this script, or to the path given as first argument (raw
bytes, CRLF line ends, literals included).

Run as root: python3 capture_dovecot.py [OUTPUT]
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "dovecot_responses.txt")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(tmp):
    port = free_port()
    mail = os.path.join(tmp, "mail")
    os.makedirs(mail)
    shutil.chown(mail, "nobody", "nogroup")
    with open(os.path.join(tmp, "passwd"), "w") as f:
        f.write("demo:{PLAIN}demo::::::\n")
    conf = f"""
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
instance_name = mailwire-capture
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
default_internal_user = dovecot
default_login_user = dovenull
mail_location = maildir:{mail}/%u
passdb {{
  driver = passwd-file
  args = {tmp}/passwd
}}
userdb {{
  driver = passwd-file
  args = {tmp}/passwd
  default_fields = uid=nobody gid=nogroup home={mail}/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = create
  }}
}}
mail_plugins = quota
plugin {{
  quota = maildir:User quota
  quota_rule = *:storage=1G
}}
protocol imap {{
  mail_plugins = $mail_plugins imap_quota
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    path = os.path.join(tmp, "dovecot.conf")
    with open(path, "w") as f:
        f.write(conf)
    proc = subprocess.Popen(["/usr/sbin/dovecot", "-c", path, "-F"])
    for _ in range(100):
        try:
            return proc, socket.create_connection(("127.0.0.1", port), timeout=10)
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("dovecot did not start")


class Session:
    def __init__(self, sock):
        self.sock = sock
        self.log = bytearray()
        self.n = 0
        self.buf = bytearray()

    def read_until(self, pattern):
        while True:
            m = re.search(pattern, self.buf)
            if m:
                out = bytes(self.buf[: m.end()])
                del self.buf[: m.end()]
                self.log += out
                return out
            chunk = self.sock.recv(65536)
            if not chunk:
                sys.exit("connection closed")
            self.buf += chunk

    def cmd(self, text, literal=None):
        self.n += 1
        tag = f"c{self.n}".encode()
        if literal is None:
            self.sock.sendall(tag + b" " + text + b"\r\n")
        else:
            self.sock.sendall(tag + b" " + text + b" {%d}\r\n" % len(literal))
            self.read_until(rb"(^|\r\n)\+ [^\r\n]*\r\n")
            self.sock.sendall(literal + b"\r\n")
        return self.read_until(rb"(^|\r\n)" + tag + rb" (OK|NO|BAD)[^\r\n]*\r\n")


def crlf(s):
    return s.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


MESSAGES = [
    crlf("""From: Fred Foobar <foobar@Blurdybloop.example>
To: mooch@owatagu.example, "Joe Q. Public" <john.q.public@example.com>
Cc: Undisclosed recipients:;
Subject: afternoon meeting
Date: Mon, 7 Feb 1994 21:52:25 -0800
Message-ID: <B27397-0100000@Blurdybloop.example>
MIME-Version: 1.0
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

Hello Joe, do you think we can meet at 3:30 tomorrow?
"""),
    crlf("""From: =?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?= <jm@example.de>
To: A Group: a@example.com, b@example.com;, "Quote \\" Man" <q@example.com>
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=
Date: Tue, 1 Oct 2024 08:00:00 +0200
Message-ID: <utf8-1@example.de>
In-Reply-To: <B27397-0100000@Blurdybloop.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt-1"

--alt-1
Content-Type: text/plain; charset=utf-8; format=flowed
Content-Transfer-Encoding: quoted-printable

Gr=C3=BC=C3=9Fe!
--alt-1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<p>Grüße!</p>
--alt-1--
"""),
    crlf("""From: sender@example.com
To: rcpt@example.com
Subject: report with attachment
Date: Wed, 2 Oct 2024 12:00:00 +0000
Message-ID: <att-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: text/plain; charset=us-ascii
Content-Language: en, de
Content-Location: http://example.com/report

See attached.
--mix
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"; size=16
Content-Transfer-Encoding: base64
Content-ID: <part2@example.com>
Content-Description: The report
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==

JVBERi0xLjQKJcfsj6IK
--mix
Content-Type: message/rfc822

From: inner@example.com
To: rcpt@example.com
Subject: the forwarded one
Date: Thu, 3 Oct 2024 09:30:00 -0400
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=us-ascii

<img src="cid:img1">
--rel
Content-Type: image/png
Content-ID: <img1>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
--mix--
"""),
    crlf("""From: nobody@example.com
Subject: 
Date: Fri, 4 Oct 2024 23:59:59 -1130

Just a body, no MIME, and an empty subject.
"""),
    crlf("""From: list@example.org
Sender: owner-list@example.org
Reply-To: list@example.org
To: subscribers@example.org
Bcc: hidden@example.org
Subject: [list] a very long subject line that goes on and on and on and on and on and on and on
Date: Sat, 5 Oct 2024 10:00:00 +0000
Message-ID: <list-1@example.org>
References: <a@x> <b@y>
In-Reply-To: <b@y>
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable

Caf=E9
"""),
]


def main():
    if os.geteuid() != 0:
        sys.exit("run as root")
    tmp = tempfile.mkdtemp(prefix="mailwire-dovecot-")
    os.chmod(tmp, 0o755)
    proc, sock = start(tmp)
    try:
        s = Session(sock)
        s.read_until(rb"\* OK[^\r\n]*\r\n")
        s.cmd(b"CAPABILITY")
        s.cmd(b"LOGIN demo demo")
        s.cmd(b"ID (\"name\" \"mailwire-capture\")")
        s.cmd(b"ENABLE CONDSTORE")
        s.cmd(b"NAMESPACE")
        for name in [b"Archive", b"Archive/2024", b"Archive/2024/Q3", b"\"Entw&APw-rfe\"", b"\"with space\"", b"\"[Gmail]\""]:
            s.cmd(b"CREATE " + name)
        s.cmd(b"SUBSCRIBE Archive")
        for i, m in enumerate(MESSAGES):
            flags = [b"(\\Seen)", b"(\\Flagged $Label1)", b"()", b"(\\Answered \\Draft)", b"(\\Seen \\Deleted)"][i]
            s.cmd(b"APPEND INBOX " + flags + b" \"17-Jul-1996 02:44:25 -0700\"", m)
        s.cmd(b"APPEND Archive/2024 (\\Seen)", MESSAGES[0])
        s.cmd(b"LIST \"\" \"*\"")
        s.cmd(b"LIST \"\" \"%\"")
        s.cmd(b"LSUB \"\" \"*\"")
        s.cmd(b"LIST (SPECIAL-USE) \"\" \"*\"")
        s.cmd(b"LIST \"\" \"*\" RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))")
        s.cmd(b"LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"*\" RETURN (CHILDREN)")
        s.cmd(b"STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)")
        s.cmd(b"STATUS Archive/2024 (MESSAGES SIZE)")
        s.cmd(b"GETQUOTAROOT INBOX")
        s.cmd(b"SELECT INBOX")
        s.cmd(b"FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ)")
        s.cmd(b"FETCH 1:* BODY")
        s.cmd(b"UID FETCH 1:* (BODY.PEEK[])")
        s.cmd(b"FETCH 3 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3.HEADER] BODY.PEEK[3.1.2] BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)] BODY.PEEK[TEXT]<0.100>)")
        s.cmd(b"FETCH 1:2 (RFC822.HEADER RFC822.TEXT)")
        s.cmd(b"FETCH 3 (BINARY.PEEK[2] BINARY.SIZE[2])")
        s.cmd(b"SEARCH ALL")
        s.cmd(b"UID SEARCH UNSEEN")
        s.cmd(b"SEARCH OR FROM foobar SUBJECT report NOT DELETED")
        s.cmd(b"SEARCH RETURN (MIN MAX COUNT ALL) ALL")
        s.cmd(b"UID SEARCH MODSEQ 1")
        s.cmd(b"SORT (REVERSE DATE) UTF-8 ALL")
        s.cmd(b"THREAD REFERENCES UTF-8 ALL")
        s.cmd(b"STORE 2 +FLAGS (\\Seen)")
        s.cmd(b"UID STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Flagged)")
        s.cmd(b"COPY 1:2 Archive")
        s.cmd(b"UID MOVE 4 Trash")
        s.cmd(b"EXPUNGE")
        s.cmd(b"NOOP")
        s.cmd(b"FROB")
        s.cmd(b"LOGOUT")
    except SystemExit:
        with open(os.path.join(tmp, "dovecot.log"), errors="replace") as f:
            sys.stderr.write(f.read()[-3000:])
        sys.stderr.write(s.log[-2000:].decode(errors="replace"))
        raise
    finally:
        sock.close()
        proc.terminate()
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    with open(OUT, "wb") as f:
        f.write(bytes(s.log))
    print(f"wrote {len(s.log)} bytes to {OUT}")


if __name__ == "__main__":
    main()
