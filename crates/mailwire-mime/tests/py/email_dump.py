"""Dump what Python's email package sees in a message, one fact per line.

Usage: python3 email_dump.py FILE
Lines (values hex-encoded UTF-8 or bytes, so no quoting is needed):
  PART <path> <content-type>
  BODY <path> <hex of transfer-decoded payload>      (non-multipart parts)
  FILENAME <path> <hex>                             (when the part has one)
  HDR <path> <lowercase name> <hex of decoded value>
  ADDR <path> <field> <hex display name> <hex addr-spec>
  GROUP <path> <field> <hex group name> <member count>
Paths: "r" for the message, then ".N" (0-based) per child; the message inside a
message/rfc822 part is child 0 of that part.
"""
import sys
import email
import email.policy

def h(s):
    if isinstance(s, str):
        s = s.encode("utf-8", "surrogateescape")
    return s.hex() or "-"

def dump(part, path, out):
    out.append("PART %s %s" % (path, part.get_content_type()))
    for name, value in part.items():
        try:
            v = str(value)
        except Exception:
            v = ""
        out.append("HDR %s %s %s" % (path, name.lower(), h(v)))
    for field in ("from", "to", "cc", "reply-to", "sender", "bcc"):
        value = part.get(field)
        if value is None or not hasattr(value, "groups"):
            continue
        for g in value.groups:
            if g.display_name is not None:
                out.append("GROUP %s %s %s %d" % (path, field, h(g.display_name), len(g.addresses)))
            for a in g.addresses:
                out.append("ADDR %s %s %s %s" % (path, field, h(a.display_name), h(a.addr_spec)))
    fn = part.get_filename()
    if fn is not None:
        out.append("FILENAME %s %s" % (path, h(fn)))
    if part.is_multipart():
        for i, c in enumerate(part.get_payload()):
            dump(c, "%s.%d" % (path, i), out)
    else:
        payload = part.get_payload(decode=True)
        if payload is None:
            payload = b""
        out.append("BODY %s %s" % (path, payload.hex() or "-"))

with open(sys.argv[1], "rb") as f:
    data = f.read()
msg = email.message_from_bytes(data, policy=email.policy.default)
out = []
dump(msg, "r", out)
sys.stdout.write("\n".join(out) + "\n")
