#!/usr/bin/env python3
"""pgpcraft.py: OpenPGP packets gpg 2.2 cannot make, for tests.

    pgpcraft.py sha3 FPR     an armored v4 signature over SHA3-256 "by" FPR
    pgpcraft.py v6 FPR       an armored version 6 signature "by" FPR
    pgpcraft.py v6msg        an armored v6 PKESK + v2 SEIPD message
    pgpcraft.py armor FILE   binary OpenPGP data in FILE, armored as a
                             PGP MESSAGE
    pgpcraft.py flood KEY N  the binary key in file KEY with N made-up
                             certifications on its first user ID

Only the packet headers are real: gpg must name what it cannot read
(RFC 9580 sections 5.1, 5.2, 5.13.2) before it would check any math.
"""
import base64
import struct
import sys
import time


def packet(tag, body):
    """A packet with a new-format header (RFC 9580 section 4.2.1)."""
    n = len(body)
    if n < 192:
        head = bytes([0xC0 | tag, n])
    elif n < 8384:
        head = bytes([0xC0 | tag, ((n - 192) >> 8) + 192, (n - 192) & 0xFF])
    else:
        head = bytes([0xC0 | tag, 255]) + struct.pack(">I", n)
    return head + body


def subpacket(kind, data):
    return bytes([len(data) + 1, kind]) + data


def crc24(data):
    crc = 0xB704CE
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def armor(kind, data):
    b = base64.b64encode(data).decode()
    lines = "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
    crc = base64.b64encode(struct.pack(">I", crc24(data))[1:]).decode()
    return "-----BEGIN PGP %s-----\n\n%s\n=%s\n-----END PGP %s-----\n" % (
        kind, lines, crc, kind)


def signature(version, hashalgo, fpr):
    hashed = subpacket(2, struct.pack(">I", int(time.time())))
    hashed += subpacket(33, bytes([4]) + fpr)
    unhashed = subpacket(16, fpr[-8:])
    if version == 6:
        return packet(2, bytes([6, 0, 27, hashalgo]) +
                      struct.pack(">I", len(hashed)) + hashed +
                      struct.pack(">I", len(unhashed)) + unhashed +
                      b"\x12\x34" + bytes([16]) + bytes(16) + bytes(64))
    return packet(2, bytes([4, 0, 22, hashalgo]) +
                  struct.pack(">H", len(hashed)) + hashed +
                  struct.pack(">H", len(unhashed)) + unhashed +
                  b"\x12\x34" + b"\x01\x00" + bytes(32) + b"\x01\x00" +
                  bytes(32))


def packets(data):
    """(tag, whole packet) for each packet, old or new format headers."""
    i = 0
    while i < len(data):
        b = data[i]
        if b & 0x40:
            tag, n = b & 0x3F, data[i + 1]
            if n < 192:
                hl, ln = 2, n
            elif n < 224:
                hl, ln = 3, ((n - 192) << 8) + data[i + 2] + 192
            else:
                hl, ln = 6, struct.unpack(">I", data[i + 2:i + 6])[0]
        else:
            tag, lt = (b >> 2) & 0x0F, b & 3
            hl = {0: 2, 1: 3, 2: 5}[lt]
            ln = int.from_bytes(data[i + 1:i + hl], "big")
        yield tag, data[i:i + hl + ln]
        i += hl + ln


def flood(path, n):
    """Certifications (0x10) by issuers that do not exist, as a flooded
    key on a keyserver carries them (CVE-2019-13050)."""
    out, done, after_uid = b"", False, False
    for tag, pkt in packets(open(path, "rb").read()):
        if after_uid and tag != 2 and not done:
            for k in range(n):
                fpr = struct.pack(">I", k) * 5
                hashed = subpacket(2, struct.pack(">I", int(time.time())))
                hashed += subpacket(33, bytes([4]) + fpr)
                unhashed = subpacket(16, fpr[-8:])
                out += packet(2, bytes([4, 0x10, 22, 8]) +
                              struct.pack(">H", len(hashed)) + hashed +
                              struct.pack(">H", len(unhashed)) + unhashed +
                              b"\x12\x34" + b"\x01\x00" + bytes(32) +
                              b"\x01\x00" + bytes(32))
            done = True
        after_uid = after_uid or tag == 13
        out += pkt
    return out


def main():
    what = sys.argv[1]
    if what == "armor":
        with open(sys.argv[2], "rb") as f:
            sys.stdout.write(armor("MESSAGE", f.read()))
        return
    if what == "flood":
        sys.stdout.buffer.write(flood(sys.argv[2], int(sys.argv[3])))
        return
    fpr = bytes.fromhex(sys.argv[2]) if len(sys.argv) > 2 else bytes(20)
    if what == "sha3":
        out = armor("SIGNATURE", signature(4, 12, fpr))
    elif what == "v6":
        out = armor("SIGNATURE", signature(6, 8, fpr))
    elif what == "v6msg":
        pkesk = packet(1, bytes([6, 0, 25]) + bytes(32) + bytes([16]) +
                       bytes(16))
        seipd = packet(18, bytes([2, 9, 2, 16]) + bytes(32) + bytes(64))
        out = armor("MESSAGE", pkesk + seipd)
    else:
        sys.exit("usage: pgpcraft.py sha3|v6 FPR | v6msg | armor FILE | "
                 "flood KEY N")
    sys.stdout.write(out)


if __name__ == "__main__":
    main()
