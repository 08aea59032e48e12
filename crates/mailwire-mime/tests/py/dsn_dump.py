"""Dump what Python's email package sees in a delivery status notification.

Usage: python3 dsn_dump.py FILE
Output: one fact per line, values hex-encoded UTF-8 ("-" when empty):
  CT <content type>              REPORT-TYPE <hex of the report-type parameter>
  DEFECT <class name>            (message and part defects)
  HDR <lowercase name> <hex>     (top-level From, To, Subject, Date, Message-ID,
                                  Auto-Submitted, MIME-Version)
  PART <content type>            (the report's parts, in order)
  TEXT <hex>                     (the decoded text of part 1)
  BLOCK <n>                      (a message/delivery-status block starts; Python
  FIELD <n> <name> <hex>          parses that type as a list of header blocks)
  RETURNED <content type> <hex subject> <hex body>   (part 3: the returned message's
                                  body, or the decoded text/rfc822-headers text)
"""
import email
import email.policy
import sys


def h(s):
    if s is None:
        return "-"
    if isinstance(s, str):
        s = s.encode("utf-8", "surrogateescape")
    return s.hex() or "-"


def main():
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    msg = email.message_from_bytes(data, policy=email.policy.default)
    out = []
    out.append("CT " + msg.get_content_type())
    out.append("REPORT-TYPE " + h(msg.get_param("report-type")))
    defects = list(msg.defects)
    for name in ("from", "to", "subject", "date", "message-id", "auto-submitted", "mime-version"):
        v = msg.get(name)
        if v is not None:
            out.append("HDR %s %s" % (name, h(str(v))))
    parts = msg.get_payload() if msg.is_multipart() else []
    for p in parts:
        out.append("PART " + p.get_content_type())
        defects += list(p.defects)
    if len(parts) >= 1:
        out.append("TEXT " + h(parts[0].get_content()))
    if len(parts) >= 2:
        blocks = parts[1].get_payload()
        if isinstance(blocks, list):
            for n, b in enumerate(blocks):
                out.append("BLOCK %d" % n)
                defects += list(b.defects)
                for k, v in b.items():
                    out.append("FIELD %d %s %s" % (n, k, h(str(v))))
    if len(parts) >= 3:
        r = parts[2]
        ct = r.get_content_type()
        if ct == "message/rfc822":
            inner = r.get_payload()[0]
            defects += list(inner.defects)
            body = inner.get_payload(decode=True) or b""
            out.append("RETURNED %s %s %s" % (ct, h(inner.get("subject")), h(body)))
        else:
            text = (r.get_payload(decode=True) or b"").decode("utf-8", "surrogateescape")
            hdr = email.message_from_string(text, policy=email.policy.default)
            out.append("RETURNED %s %s %s" % (ct, h(hdr.get("subject")), h(text)))
    for d in defects:
        out.append("DEFECT " + type(d).__name__)
    sys.stdout.write("\n".join(out) + "\n")


main()
