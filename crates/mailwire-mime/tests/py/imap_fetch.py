"""FETCH through Python's imaplib, for tests/dovecot_views.rs.

Usage: imap_fetch.py HOST PORT USER PASSWORD

Logs in, selects INBOX and prints the number of messages on one line. Then reads
requests from stdin, one per line: `SEQ ITEMS` (ITEMS is a parenthesized FETCH item
list). For each it prints one line: the hex of the FETCH response as the server sent
it, rebuilt from imaplib's pieces (`{n}` CRLF literal), without the leading "* ".
"""

import binascii
import imaplib
import sys


def main():
    host, port, user, password = sys.argv[1:5]
    imap = imaplib.IMAP4(host, int(port))
    imap.login(user, password)
    typ, data = imap.select("INBOX", readonly=True)
    if typ != "OK":
        raise SystemExit("SELECT failed: %r" % (data,))
    print(int(data[0]), flush=True)
    for line in sys.stdin:
        line = line.rstrip("\r\n")
        if not line:
            continue
        seq, items = line.split(" ", 1)
        typ, data = imap.fetch(seq, items)
        if typ != "OK":
            raise SystemExit("FETCH failed: %r" % (data,))
        raw = b""
        for piece in data:
            if isinstance(piece, tuple):
                # imaplib splits at each literal: (text up to "{n}", literal).
                raw += piece[0] + b"\r\n" + piece[1]
            elif piece is not None:
                raw += piece
        print(binascii.hexlify(raw).decode(), flush=True)
    imap.logout()


if __name__ == "__main__":
    main()
