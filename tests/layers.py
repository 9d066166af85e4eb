#!/usr/bin/env python3
"""
The library's structure, checked: the layer order written at the top of
lib/hdpgp.h, the tools' one header, no printing or exiting below bin/, and
no decision on an error's text.  Prints one line per violation and exits 1
if there is any; with --graph, prints who calls whom.
"""
import glob
import os
import re
import sys

SRC = os.environ.get('HDPGP_SRCDIR', os.path.join(os.path.dirname(__file__), '..'))

# Each lib/ file's layer (lowest first) and unit: a file calls only files
# of lower layers, or files of its own unit.
LAYERS = [
    ('util', ['util.c']),
    ('state', ['state.c', 'log.c', 'json.c']),
    ('gpg', ['keyring*.c', 'packet.c']),
    ('mime', ['mime*.c']),
    ('http', ['http.c']),
    ('keys', ['keystore*.c', 'key-*.c', 'origin.c', 'wkd*.c']),
    ('policy', ['policy.c']),
    ('incoming', ['incoming.c']),
    ('outgoing', ['outgoing.c']),
    ('group', ['group.c']),
    ('apply', ['apply.c']),
    ('batch', ['batch.c']),
]
# Units of one rank may not call each other either way.
RANK = {'util': 0, 'state': 1, 'gpg': 2, 'mime': 2, 'http': 2,
        'keys': 3, 'policy': 4, 'incoming': 5, 'outgoing': 5,
        'group': 5, 'apply': 6, 'batch': 6}


def unit_of(name):
    import fnmatch
    for unit, pats in LAYERS:
        if any(fnmatch.fnmatch(name, p) for p in pats):
            return unit
    return None


def strip(s):
    s = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), s,
               flags=re.S)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', s)


def main():
    bad = []
    srcs, defs = {}, {}
    for f in sorted(glob.glob(os.path.join(SRC, 'lib', '*.c'))):
        name = os.path.basename(f)
        srcs[name] = open(f).read()
        code = strip(srcs[name])
        for m in re.finditer(r'^(hd_[a-z0-9_]+)\(', code, re.M):
            defs[m.group(1)] = name
        for m in re.finditer(r'^const struct \w+ (hd_[a-z0-9_]+)', code, re.M):
            defs[m.group(1)] = name
        if unit_of(name) is None:
            bad.append(f'lib/{name}: in no layer (tests/layers.py)')
    edges = {}
    for name, s in srcs.items():
        code = strip(s)
        for m in re.finditer(r'\b(hd_[a-z0-9_]+)\b', code):
            d = defs.get(m.group(1))
            if d is None or d == name:
                continue
            edges.setdefault(name, {}).setdefault(d, set()).add(m.group(1))
        # Nothing below bin/ prints or exits.
        for n, line in enumerate(code.split('\n'), 1):
            if re.search(r'\b(v?f?printf|puts|fputs|putchar|warnx?|errx?|'
                         r'exit|_exit|abort|getprogname|g_print|g_printerr)'
                         r'\s*\(|\b(stdout|stderr)\b', line):
                bad.append(f'lib/{name}:{n}: prints or exits: '
                           f'{line.strip()}')
            # No decision on an error's text.
            if re.search(r'(strstr|strcmp|strncmp|g_str_has_prefix|'
                         r'g_str_has_suffix|strcasecmp)\s*\([^;]*'
                         r'(->text|\.text|hd_error_text|->whole)', line):
                bad.append(f'lib/{name}:{n}: decides on an error text: '
                           f'{line.strip()}')
    for a, targets in sorted(edges.items()):
        ua = unit_of(a)
        for b, fns in sorted(targets.items()):
            ub = unit_of(b)
            if ua is None or ub is None or ua == ub:
                continue
            if RANK[ub] >= RANK[ua]:
                bad.append(f'lib/{a} ({ua}) calls lib/{b} ({ub}): '
                           + ' '.join(sorted(fns)))
    # No file reaches itself through others.
    def cycle_from(start):
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, {}):
                if nxt == start:
                    return path + [start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + [nxt]))
        return None
    for a in sorted(edges):
        c = cycle_from(a)
        if c and a == min(c[:-1]):
            bad.append('a cycle: ' + ' -> '.join(f'lib/{x}' for x in c))
    # The tools see the public header alone.
    for f in sorted(glob.glob(os.path.join(SRC, 'bin', '*.[ch]'))):
        for n, line in enumerate(open(f), 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if m and m.group(1) not in ('config.h', 'hdpgp.h') and \
                    not os.path.exists(os.path.join(SRC, 'bin', m.group(1))):
                bad.append(f'bin/{os.path.basename(f)}:{n}: includes '
                           f'{m.group(1)}')
            if m and m.group(1).endswith('.c'):
                bad.append(f'bin/{os.path.basename(f)}:{n}: includes a .c')
    if '--graph' in sys.argv:
        for a in sorted(edges):
            print(f'{a} ({unit_of(a)}) -> ' + ', '.join(sorted(edges[a])))
    for b in bad:
        print(b)
    return 1 if bad else 0


sys.exit(main())
