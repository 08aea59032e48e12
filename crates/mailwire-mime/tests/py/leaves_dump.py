"""Dump the leaf parts Python's email package sees in a message.

Usage: python3 leaves_dump.py FILE
Output: one line per non-multipart part, in walk order:
  LEAF <content type> <hex of the decoded payload, "-" when empty>
(an attached message/rfc822 is walked into, as its parts are leaves of their own).
"""
import email
import email.policy
import sys


def main():
    with open(sys.argv[1], "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.compat32)
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        print("LEAF", part.get_content_type(), (payload or b"").hex() or "-")


main()
