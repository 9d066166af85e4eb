#!/usr/bin/env python3
"""The differential check: what Python's email module and Ruby's mail gem
see in a message, against what hdpgp says of it (issue 9).

  diffcheck.py read FILE...   Python's reading of each message, one JSON
                              object a line, the same members as
                              tests/diffcheck.rb prints (see there)
  diffcheck.py clean RBJSONL FILE...
                              property (a) below for each FILE, named
                              NAME-N, where N is the number of X-Hdpgp-*
                              fields hdpgp wrote on top: no bare CR or NUL
                              in its top-level header block; Python's
                              reading and Ruby's (RBJSONL: diffcheck.rb's
                              lines for the same FILEs) have no error and
                              see exactly N X-Hdpgp-* fields, none holding
                              "forged"; N lines of FILE start with
                              "X-Hdpgp-".  Prints one line per finding and
                              exits 1 when there is one.
  diffcheck.py judge DIR GNUPGHOME PASSFILE...
                              judge hdpgp's verdicts on the messages in
                              DIR/in, given DIR/verify.c and DIR/decrypt.c
                              (the -c lines of all of them, "ID: " before
                              each), DIR/vout and DIR/dout (filter mode's
                              output, one file per ID) and DIR/rb.jsonl
                              (diffcheck.rb's reading of DIR/in/*,
                              DIR/vout/* and DIR/dout/*).  Stock gpg in
                              GNUPGHOME, with the secret keys protected by
                              the passphrases in the PASSFILEs, is the
                              independent party.  Prints one line per
                              finding and exits 1 when there is one; what
                              the parsers disagree on without a verdict at
                              stake goes to DIR/notes.

The properties, for every message and both parsers:
  (a) no parser sees an X-Hdpgp-* field in hdpgp's output other than the
      ones hdpgp wrote (its -c lines), and no field in the top-level header
      block of the output holds a bare CR or a NUL;
  (b) when hdpgp says "good" with coverage=full, every non-blank leaf the
      parser sees lies inside what the signature covers: the parser's own
      reading of part 1 of the top-level multipart/signed verifies with
      stock gpg (the signer hdpgp names), and its leaves are part 1's; or
      every non-blank leaf is inline clearsigned text, nothing but blank
      around the armor, each block good for stock gpg;
  (c) when hdpgp-decrypt says "decrypted" with coverage=full, every
      non-blank leaf the parser sees in the output comes from a plaintext
      stock gpg decrypts from a ciphertext some parser sees in the input.
"""
import base64
import email
import email.policy
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

sys.setrecursionlimit(20000)

ARMOR = re.compile(rb"-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", re.S)
# Inline signed text: clearsigned, or an opaque signed (not encrypted)
# PGP MESSAGE, whose text is inside the armor; stock gpg verifies both.
CLEAR = re.compile(rb"-----BEGIN PGP SIGNED MESSAGE-----.*?-----END PGP SIGNATURE-----"
                   rb"|-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", re.S)
LINE = re.compile(rb"([^\r\n]*)(\r\n|\r|\n|$)")
MAX_DEPTH = 200


def b64(b):
    return base64.b64encode(b or b"").decode()


def unb64(s):
    return base64.b64decode(s or "")


# --- reading ---

def decoded(part):
    try:
        d = part.get_payload(decode=True)
    except Exception:
        d = None
    if d is None:
        p = part.get_payload()
        d = p.encode("utf-8", "surrogateescape") if isinstance(p, str) else b""
    return d


def walk(part, out, depth=0):
    if depth > MAX_DEPTH:
        raise ValueError("nesting too deep")
    ctype = part.get_content_type()
    if part.is_multipart():
        subs = part.get_payload()
        if ctype == "multipart/encrypted" and len(subs) > 1:
            out["ciphertexts"].append(decoded(subs[1]))
        for p in subs:
            walk(p, out, depth + 1)
        return
    data = decoded(part)
    try:
        name = part.get_filename()
    except Exception:
        name = None
    out["leaves"].append({"type": ctype, "filename": name, "data": b64(data)})
    out["ciphertexts"].extend(ARMOR.findall(data))
    if name and re.search(r"\.(pgp|gpg)$", name, re.I) and b"-----BEGIN PGP" not in data:
        out["ciphertexts"].append(data)


def lines_of(raw):
    """(start, end of content, end with line end) of each line, split as
    Python's feedparser splits: on CRLF, CR or LF."""
    for m in LINE.finditer(raw):
        if m.start() == len(raw):
            break
        yield m.start(), m.end(1), m.end()


def part1_bytes(raw, boundary):
    """Part 1 of a multipart/signed as Python's feedparser splits it: after
    the header block, from the line after the first boundary line up to
    the line end before the next one."""
    sep = re.compile(rb"--" + re.escape(boundary) + rb"(--)?[ \t]*$")
    in_body = False
    start = prev_end = None
    for s, e, le in lines_of(raw):
        line = raw[s:e]
        if not in_body:
            in_body = line == b""
            continue
        if sep.match(line):
            if start is None:
                start = le
            else:
                return raw[start:prev_end] if prev_end >= start else b""
        prev_end = e
        if start is not None and prev_end < start:
            prev_end = start
    return None


def read(path):
    r = {"file": path, "headers": [], "leaves": [], "signed": None,
         "ciphertexts": [], "error": None}
    try:
        with open(path, "rb") as f:
            raw = f.read()
        m = email.message_from_bytes(raw, policy=email.policy.default)
        hs = []
        for k, v in m.raw_items():
            try:
                v = str(m.policy.header_fetch_parse(k, v))
            except Exception:
                v = str(v)
            hs.append([k, v])
        r["headers"] = hs
        out = {"leaves": [], "ciphertexts": []}
        walk(m, out)
        r["leaves"] = out["leaves"]
        seen, cts = set(), []
        for c in out["ciphertexts"]:
            if c not in seen:
                seen.add(c)
                cts.append(b64(c))
        r["ciphertexts"] = cts
        if m.get_content_type() == "multipart/signed" and m.is_multipart():
            parts = m.get_payload()
            b = m.get_boundary() or ""
            p1 = part1_bytes(raw, b.encode("utf-8", "surrogateescape"))
            sub = {"leaves": [], "ciphertexts": []}
            if p1 is not None:
                walk(email.message_from_bytes(p1, policy=email.policy.default), sub)
            r["signed"] = {
                "boundary": b, "part1": b64(p1) if p1 is not None else None,
                "sig": b64(decoded(parts[1])) if len(parts) > 1 else None,
                "parts": len(parts), "part1_leaves": sub["leaves"]}
    except Exception as e:
        r["error"] = ("%s: %s" % (type(e).__name__, e))[:200]
    return r


# --- judging ---

def norm(b):
    """Text for comparison: line ends as LF, trailing white space and
    blank lines at either end dropped."""
    b = b.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    b = b"\n".join(l.rstrip(b" \t") for l in b.split(b"\n"))
    return b.strip(b"\n")


def blank(b):
    return norm(b).strip() == b""


def crlf(b):
    return re.sub(rb"(?<!\r)\n", b"\r\n", b)


def ws(s):
    return " ".join(str(s).split())


def header_block(raw):
    for s, e, le in lines_of(raw):
        if raw[s:e] == b"" and le > e and raw[e:le] != b"\r":
            return raw[:s]
    return raw


class Gpg:
    def __init__(self, home, passfiles):
        self.home, self.passfiles = home, passfiles
        self.tmp = tempfile.mkdtemp(prefix="dc.", dir=os.environ.get("TMPDIR", "/tmp"))
        self.cache = {}

    def run(self, args, data=None):
        p = subprocess.run(["gpg", "--homedir", self.home, "--batch", "--no-tty",
                            "--status-fd", "1", "--pinentry-mode", "loopback"] + args,
                           input=data, capture_output=True, timeout=120)
        return p.returncode, p.stdout

    def file(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def validsig(self, sig, data, fpr):
        """Does stock gpg find a good signature by FPR: detached SIG over
        DATA, or a clearsigned DATA when SIG is None?"""
        key = ("v", hashlib.sha256((sig or b"") + b"\0" + data).hexdigest())
        if key not in self.cache:
            d = self.file("data", data)
            args = ["--verify"] + ([self.file("sig", sig), d] if sig is not None else [d])
            _, out = self.run(args)
            self.cache[key] = [l.split()[-1].decode() for l in out.splitlines()
                               if l.startswith(b"[GNUPG:] VALIDSIG ")] + \
                [l.split()[2].decode() for l in out.splitlines()
                 if l.startswith(b"[GNUPG:] VALIDSIG ")]
        return fpr in self.cache[key]

    def decrypt(self, ct):
        """The plaintext of ciphertext CT for stock gpg, or None."""
        key = ("d", hashlib.sha256(ct).hexdigest())
        if key not in self.cache:
            self.cache[key] = None
            c = self.file("ct", ct)
            for pf in self.passfiles:
                o = os.path.join(self.tmp, "pt")
                if os.path.exists(o):
                    os.unlink(o)
                rc, out = self.run(["--passphrase-file", pf, "--yes", "-o", o,
                                    "--decrypt", c])
                if rc == 0 or b"DECRYPTION_OKAY" in out:
                    if b"DECRYPTION_OKAY" in out:
                        with open(o, "rb") as f:
                            self.cache[key] = f.read()
                    break
                if b"NO_SECKEY" in out and b"BAD_PASSPHRASE" not in out and \
                        b"MISSING_PASSPHRASE" not in out:
                    break
        return self.cache[key]


def c_lines(path):
    """The -c lines of many files: {ID: [(name, value)]}."""
    res = {}
    if not os.path.exists(path):
        return res
    with open(path, "rb") as f:
        for l in f.read().decode("utf-8", "replace").splitlines():
            m = re.match(r"^(\S+?): (X-Hdpgp-[A-Za-z]+): ?(.*)$", l)
            if m:
                res.setdefault(m.group(1), []).append((m.group(2).lower(), ws(m.group(3))))
    return res


def verdicts(lines, kind):
    return [v for n, v in lines if n == "x-hdpgp-" + kind]


def good_full(lines):
    """The signers of the good, coverage=full signatures."""
    out = []
    for v in verdicts(lines, "signature"):
        if v.startswith("good;") and re.search(r"(^|; )coverage=full(;|$)", v):
            m = re.search(r"signer=([0-9A-F]{40})", v)
            out.append(m.group(1) if m else "")
    return out


def decrypted_full(lines):
    return any(v.startswith("decrypted;") and re.search(r"(^|; )coverage=full(;|$)", v)
               for v in verdicts(lines, "encryption"))


def leaf_data(reading):
    return [unb64(l["data"]) for l in reading["leaves"]]


def check_a(raw, reading, ours, who):
    errs = []
    hb = header_block(raw)
    if b"\0" in hb:
        errs.append("NUL in the top-level header block")
    if re.search(rb"\r(?!\n)", hb):
        errs.append("bare CR in the top-level header block")
    seen = sorted((n.lower(), ws(v)) for n, v in reading["headers"]
                  if n.lower().startswith("x-hdpgp-"))
    if seen != sorted(ours):
        errs.append("%s sees X-Hdpgp fields %r, hdpgp wrote %r" % (who, seen, sorted(ours)))
    return errs


def clean(rbjsonl, paths):
    rb = {}
    with open(rbjsonl) as f:
        for line in f:
            o = json.loads(line)
            rb[o["file"]] = o
    bad = []
    for p in paths:
        n = int(p.rsplit("-", 1)[1])
        with open(p, "rb") as f:
            raw = f.read()
        hb = header_block(raw)
        if b"\0" in hb:
            bad.append("%s: NUL in the top-level header block" % p)
        if re.search(rb"\r(?!\n)", hb):
            bad.append("%s: bare CR in the top-level header block" % p)
        for who, r in (("python", read(p)), ("ruby", rb.get(p))):
            if r is None or r["error"] is not None:
                bad.append("%s: %s cannot read it: %s" % (p, who, r and r["error"]))
                continue
            xs = [v for k, v in r["headers"] if k.lower().startswith("x-hdpgp-")]
            if len(xs) != n or any("forged" in v for v in xs):
                bad.append("%s: %s sees X-Hdpgp fields %r, not the %d hdpgp wrote" %
                           (p, who, xs, n))
        if len(re.findall(rb"(?m)^X-Hdpgp-", raw)) != n:
            bad.append("%s: not %d lines start with X-Hdpgp-" % (p, n))
    for b in bad:
        print(b)
    return 1 if bad else 0


def check_b(reading, signers, gpg, who):
    """Every leaf READING sees is covered by a signature of a SIGNER."""
    s = reading["signed"]
    if s is not None:
        if s.get("part1") is None or s.get("sig") is None:
            return ["%s: multipart/signed without part 1 or signature" % who]
        p1, sig = unb64(s["part1"]), unb64(s["sig"])
        errs = []
        for fpr in signers:
            if not gpg.validsig(sig, crlf(p1), fpr):
                errs.append("%s: its part 1 (boundary %r) is not signed by %s for stock gpg"
                            % (who, s["boundary"], fpr))
        inside = [norm(unb64(l["data"])) for l in s["part1_leaves"]] + [norm(p1)]
        for d in leaf_data(reading):
            if blank(d) or d == sig:
                continue
            n = norm(d)
            if not any(n in i for i in inside):
                errs.append("%s sees text outside the signed part: %r" % (who, d[:80]))
        return errs
    errs, blocks = [], 0
    for d in leaf_data(reading):
        for b in CLEAR.findall(d):
            blocks += 1
            if not any(gpg.validsig(None, b + b"\n", fpr) for fpr in signers):
                errs.append("%s: an inline signed block is not good for stock gpg" % who)
        rest = CLEAR.sub(b"", d)
        if not blank(rest):
            errs.append("%s sees unsigned text: %r" % (who, rest.strip()[:80]))
    if blocks == 0 and not errs:
        errs.append("%s sees neither multipart/signed nor clearsigned text" % who)
    return errs


def plain_refs(plaintexts):
    refs = []
    for p in plaintexts:
        refs.append(norm(p))
        try:
            out = {"leaves": [], "ciphertexts": []}
            walk(email.message_from_bytes(p, policy=email.policy.default), out)
            refs.extend(norm(unb64(l["data"])) for l in out["leaves"])
        except Exception:
            pass
    return refs


def check_c(reading, refs, who):
    errs = []
    for d in leaf_data(reading):
        if blank(d):
            continue
        n = norm(d)
        if not any(n in r for r in refs):
            errs.append("%s sees text that is not from the plaintext: %r" % (who, d[:80]))
    return errs


def signed_structure(reading):
    return reading["signed"] is not None or any(
        CLEAR.search(d) for d in leaf_data(reading))


# What judge_one reads, set once for each worker process (judge).
J = {}


def judge_init(top, home, passfiles):
    J["top"], J["gpg"] = top, Gpg(home, passfiles)
    J["rb"] = {}
    with open(os.path.join(top, "rb.jsonl"), "rb") as f:
        for l in f:
            o = json.loads(l)
            J["rb"][o["file"]] = o
    J["vc"] = c_lines(os.path.join(top, "verify.c"))
    J["dc"] = c_lines(os.path.join(top, "decrypt.c"))


def readings(path):
    py = read(path)
    rr = J["rb"].get(path) or {"file": path, "error": "not read", "headers": [],
                               "leaves": [], "signed": None, "ciphertexts": []}
    return [("python", py), ("ruby", rr)]


def judge_one(i):
    """The findings and notes on message I, and whether hdpgp said
    good/full and decrypted/full of it."""
    top, gpg = J["top"], J["gpg"]
    findings, notes, good, dec = [], [], 0, 0
    src = os.path.join(top, "in", i)
    rin = readings(src)
    cts = {}
    for who, r in rin:
        for c in r["ciphertexts"]:
            cts[c] = 1
    for tool, lines, outdir in (("verify", J["vc"].get(i, []), "vout"),
                                ("decrypt", J["dc"].get(i, []), "dout")):
        out = os.path.join(top, outdir, i)
        if not os.path.exists(out) or not lines:
            continue
        with open(out, "rb") as f:
            raw = f.read()
        rout = readings(out)
        signers = good_full(lines)
        dfull = tool == "decrypt" and decrypted_full(lines)
        refs = None
        if dfull:
            dec += 1
            pts = [p for p in (gpg.decrypt(unb64(c)) for c in cts) if p is not None]
            refs = plain_refs(pts)
        if signers:
            good += 1
        names = []
        for who, r in rout:
            errs = []
            if r["error"]:
                if signers or dfull:
                    errs.append("%s cannot read it (%s), yet hdpgp says full" % (who, r["error"]))
                else:
                    notes.append("%s %s: %s cannot read it: %s" % (i, tool, who, r["error"]))
                findings.extend("%s %s: %s" % (i, tool, e) for e in errs)
                continue
            errs += check_a(raw, r, lines, who)
            if signers and not (dfull and not signed_structure(r)):
                errs += check_b(r, signers, gpg, who)
            if dfull:
                if not refs:
                    errs.append("decrypted, but no ciphertext any parser sees decrypts with stock gpg")
                else:
                    errs += check_c(r, refs, who)
            findings.extend("%s %s: %s" % (i, tool, e) for e in errs)
            names.append(sorted(n.lower() for n, _ in r["headers"]))
            names.append(len([d for d in leaf_data(r) if not blank(d)]))
        if len(names) == 4 and (names[0] != names[2] or names[1] != names[3]):
            notes.append("%s %s: python and ruby differ: fields %s / %s, %s / %s leaves"
                         % (i, tool, names[0], names[2], names[1], names[3]))
    return findings, notes, good, dec


def judge(top, home, passfiles):
    """Every message judged, by as many processes as there are CPUs: the
    suite waits for this file alone."""
    import multiprocessing
    ids = sorted(os.listdir(os.path.join(top, "in")))
    findings, notes = [], []
    counts = {"good-full": 0, "decrypted-full": 0, "messages": len(ids)}
    with multiprocessing.Pool(os.cpu_count() or 1, judge_init,
                              (top, home, passfiles)) as pool:
        for f, n, g, d in pool.imap(judge_one, ids, chunksize=8):
            findings += f
            notes += n
            counts["good-full"] += g
            counts["decrypted-full"] += d
    with open(os.path.join(top, "notes"), "w") as f:
        f.write("".join(n + "\n" for n in notes))
    for x in findings:
        print(x)
    print("# %(messages)d messages, %(good-full)d good/full, %(decrypted-full)d decrypted/full" % counts,
          file=sys.stderr)
    return 1 if findings else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "read":
        for p in argv[1:]:
            print(json.dumps(read(p)))
        return 0
    if len(argv) >= 3 and argv[0] == "clean":
        return clean(argv[1], argv[2:])
    if len(argv) >= 3 and argv[0] == "judge":
        return judge(argv[1], argv[2], argv[3:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
