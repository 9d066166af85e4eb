#!/usr/bin/env python3
"""Check hdpgp's PGP/MIME output with Python's own email module.

  mimecheck.py signed MSG DIR     MSG must be RFC 3156 multipart/signed; writes
                                  DIR/part1 (the exact raw bytes of the first
                                  part), DIR/part1.crlf (the same with CRLF line
                                  ends, what the signature covers) and
                                  DIR/sig.asc; prints the micalg parameter
  mimecheck.py encrypted MSG OUT  MSG must be RFC 3156 multipart/encrypted;
                                  writes part 2's armored message to OUT
  mimecheck.py leaves MSG         one line per leaf part: content type, file
                                  name and SHA-256 of the decoded content (of
                                  text with LF line ends)
  mimecheck.py headers MSG        the top-level headers other than Content-*
                                  and MIME-Version, unfolded, one a line
  mimecheck.py header MSG NAME    the values of header NAME, RFC 2047 decoded,
                                  one a line
  mimecheck.py param MSG NAME     the Content-Type parameter NAME
  mimecheck.py multi DIR LABEL=COMMAND ARGS... [+ LABEL=COMMAND ARGS...]...
                                  the commands above in turn, in one
                                  process, the output of each in DIR/LABEL;
                                  the first that fails ends the run

A failed check prints the reason on stderr and exits 1.
"""
import contextlib
import email
import email.header
import email.policy
import hashlib
import os
import re
import sys


def fail(why):
    sys.exit("mimecheck: " + why)


def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    return raw, email.message_from_bytes(raw, policy=email.policy.compat32)


def check_multipart(msg, subtype, protocol):
    if msg.get_content_type() != "multipart/" + subtype:
        fail("not multipart/%s but %s" % (subtype, msg.get_content_type()))
    if (msg.get_param("protocol") or "").lower() != protocol:
        fail("protocol is %r" % msg.get_param("protocol"))
    parts = msg.get_payload()
    if len(parts) != 2:
        fail("%d parts, not 2" % len(parts))
    if msg.defects or any(p.defects for p in parts):
        fail("defects: %r" % (msg.defects + [d for p in parts for d in p.defects]))
    return parts


def part_name(part):
    return part.get_filename() or part.get_param("name")


def first_part(raw, boundary):
    """RFC 3156 section 5: the bytes after the CRLF that ends the first
    boundary line, up to the CRLF that precedes the next boundary line
    (LF accepted for CRLF, as stored mail may have either)."""
    b = re.escape(b"--" + boundary.encode())
    start = re.search(rb"(?:^|\n)" + b + rb"[ \t]*\r?\n", raw)
    if not start:
        fail("no first boundary line")
    end = re.compile(rb"\r?\n" + b).search(raw, start.end())
    if not end:
        fail("no second boundary line")
    return raw[start.end():end.start()]


def signed(path, outdir):
    raw, msg = load(path)
    parts = check_multipart(msg, "signed", "application/pgp-signature")
    micalg = msg.get_param("micalg")
    if not micalg:
        fail("no micalg parameter")
    sig = parts[1]
    if sig.get_content_type() != "application/pgp-signature":
        fail("part 2 is %s" % sig.get_content_type())
    if part_name(sig) != "signature.asc":
        fail("part 2 is named %r" % part_name(sig))
    part1 = first_part(raw, msg.get_boundary())
    # 7-bit safe and canonical (RFC 3156 section 3 and 5)
    for n, line in enumerate(re.split(rb"\r?\n", part1), 1):
        if any(c >= 0x80 or c == 0 for c in line):
            fail("part 1 line %d is not 7-bit: %r" % (n, line))
        if len(line) > 998:
            fail("part 1 line %d is longer than 998 octets" % n)
        if line.endswith((b" ", b"\t")):
            fail("part 1 line %d ends in white space: %r" % (n, line))
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "part1"), "wb") as f:
        f.write(part1)
    with open(os.path.join(outdir, "part1.crlf"), "wb") as f:
        f.write(re.sub(rb"\r?\n", b"\r\n", part1))
    with open(os.path.join(outdir, "sig.asc"), "wb") as f:
        f.write(sig.get_payload(decode=True))
    print(micalg)


def encrypted(path, out):
    raw, msg = load(path)
    parts = check_multipart(msg, "encrypted", "application/pgp-encrypted")
    ver, data = parts
    if ver.get_content_type() != "application/pgp-encrypted":
        fail("part 1 is %s" % ver.get_content_type())
    if not re.match(rb"\s*Version: 1\s*$", ver.get_payload(decode=True)):
        fail("part 1 is %r" % ver.get_payload())
    if data.get_content_type() != "application/octet-stream":
        fail("part 2 is %s" % data.get_content_type())
    if part_name(data) != "encrypted.asc":
        fail("part 2 is named %r" % part_name(data))
    body = data.get_payload(decode=True)
    if not body.lstrip().startswith(b"-----BEGIN PGP MESSAGE-----"):
        fail("part 2 is not an armored OpenPGP message")
    with open(out, "wb") as f:
        f.write(body)


def leaves(path):
    for part in load(path)[1].walk():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        if part.get_content_maintype() == "text":
            data = data.replace(b"\r\n", b"\n")
        print(part.get_content_type(), part_name(part) or "-",
              hashlib.sha256(data).hexdigest())


def unfold(value):
    return re.sub(r"\r?\n[ \t]+", " ", str(value))


def headers(path):
    for name, value in load(path)[1].items():
        if not name.lower().startswith("content-") and name.lower() != "mime-version":
            print("%s: %s" % (name, unfold(value)))


def header(path, name):
    for value in load(path)[1].get_all(name, []):
        print(email.header.make_header(email.header.decode_header(unfold(value))))


def param(path, name):
    print(load(path)[1].get_param(name) or "")


CMDS = {"signed": (signed, 2), "encrypted": (encrypted, 2),
        "leaves": (leaves, 1), "headers": (headers, 1),
        "header": (header, 2), "param": (param, 2)}


def run(argv):
    if not argv or argv[0] not in CMDS or len(argv) != 1 + CMDS[argv[0]][1]:
        sys.exit(__doc__)
    CMDS[argv[0]][0](*argv[1:])


def multi(outdir, argv):
    """Each command's output to a file of its own, written as the command
    alone would write it to stdout: one Python start for a whole check."""
    cmds, cmd = [], []
    for a in argv + ["+"]:
        if a != "+":
            cmd.append(a)
            continue
        label, eq, first = cmd[0].partition("=") if cmd else ("", "", "")
        if not eq or not label or "/" in label:
            sys.exit(__doc__)
        cmds.append((label, [first] + cmd[1:]))
        cmd = []
    os.makedirs(outdir, exist_ok=True)
    for label, _ in cmds:
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(outdir, label))
    for label, cmd in cmds:
        with open(os.path.join(outdir, label), "w",
                  encoding=sys.stdout.encoding, errors=sys.stdout.errors) as f, \
                contextlib.redirect_stdout(f):
            run(cmd)


def main(argv):
    if len(argv) >= 3 and argv[1] == "multi":
        multi(argv[2], argv[3:])
    else:
        run(argv[1:])


if __name__ == "__main__":
    main(sys.argv)
