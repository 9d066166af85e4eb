# Shared setup for the bats suite: a short throw-away state directory per
# test (gpg-agent's socket path must stay short), the project's INSECURE
# test keys, stock gpg in a home of its own as the independent party.

# bats-support and bats-assert, as bats_load_library finds them, but their
# src/*.bash sourced here: their load.bash runs dirname(1) for every file
# it sources, fifteen programs in every test, a sixth of what a test
# costs.  The libraries' own load when they come without src/.
hd_load_library() {
	local d f
	for d in ${BATS_LIB_PATH//:/ } /usr/lib/bats /usr/local/lib/bats; do
		[ -d "$d/$1/src" ] || continue
		for f in "$d/$1"/src/*.bash; do
			# shellcheck disable=SC1090
			. "$f"
		done
		return 0
	done
	bats_load_library "$1" 2>/dev/null || load "/usr/lib/bats/$1/load"
}
hd_load_library bats-support
hd_load_library bats-assert

# mkdir, rm, mktemp and tee as bash's loadable builtins (Debian's
# bash-builtins), where they are installed: a program a test starts costs
# a fork of the bats process, about 4 ms on a 2-core VM, more than the
# program itself.  Every test makes and removes its directory, and every
# collected message is copied (hd_copy).  Without the package, the
# programs of the same names run.
HD_BUILTIN_TEE= HD_BUILTIN_MKTEMP=
hd_enable_builtins() {
	local d
	for d in ${BASH_LOADABLES_PATH//:/ } /usr/lib/bash /usr/local/lib/bash; do
		[ -f "$d/tee" ] || continue
		enable -f "$d/mkdir" mkdir 2>/dev/null || :
		enable -f "$d/rm" rm 2>/dev/null || :
		enable -f "$d/mktemp" mktemp 2>/dev/null && HD_BUILTIN_MKTEMP=1
		enable -f "$d/tee" tee 2>/dev/null && HD_BUILTIN_TEE=1
		return 0
	done
}
hd_enable_builtins

# hd_copy FROM TO: file FROM's bytes to file TO (FROM may be /dev/stdin:
# it is opened again, and the offset of fd 0 stays where it is).
hd_copy() {
	if [ -n "$HD_BUILTIN_TEE" ]; then
		tee -- "$2" <"$1" >/dev/null
	else
		cp -- "$1" "$2"
	fi
}

# hd_tmpdir VAR: a new directory /tmp/hdpgp.XXXXXX, its name in VAR.
hd_tmpdir() {
	if [ -n "$HD_BUILTIN_MKTEMP" ]; then
		mktemp -d -v "$1" /tmp/hdpgp.XXXXXX
	else
		printf -v "$1" %s "$(mktemp -d /tmp/hdpgp.XXXXXX)"
	fi
}

: "${HDPGP_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${HDPGP_BIN:=$HDPGP_SRCDIR/bin}"
KEYS=$HDPGP_SRCDIR/tests/keys
CORPUS=$HDPGP_SRCDIR/../shared/corpus/rt
# shellcheck source=keys/keys.env
. "$KEYS/keys.env"

# Python, as python3 on PATH finds it, asked once per file (exported from
# the file's own run to its tests): a version manager's shim such as
# pyenv's costs several times the interpreter's own start on every call.
if [ -z "${HD_PYTHON:-}" ]; then
	HD_PYTHON=$(command python3 -c 'import sys; print(sys.executable)' 2>/dev/null) ||
	    HD_PYTHON=python3
	[ -n "$HD_PYTHON" ] || HD_PYTHON=python3
	export HD_PYTHON
fi
python3() {
	"$HD_PYTHON" "$@"
}

hd_setup() {
	export LC_ALL=C TZ=UTC
	unset DISPLAY GPG_TTY GNUPGHOME XDG_STATE_HOME
	PATH=$HDPGP_BIN:$PATH
	hd_tmpdir HD
	export HDPGP_HOME=$HD/s
	EXT=$HD/ext
	mkdir -m 700 "$EXT"
	# Stock gpg, the other party: its agent protects the secret keys it
	# imports with a cheap S2K count, as hdpgp's own does, or every
	# signature and decryption pays a third of a second to unlock a key.
	printf 's2k-count 65536\n' >"$EXT/gpg-agent.conf"
	# The passphrases of the test keys, one file each.
	local v
	for v in ALICE BOB CAROL EXPIRED REVOKED REVUID; do
		eval "printf '%s\n' \"\$${v}_PASS\"" >"$HD/${v,,}.pass"
	done
	printf 'wrong-INSECURE\n' >"$HD/wrong.pass"
}

hd_teardown() {
	local h
	for h in "$HDPGP_HOME/gnupg" "$EXT"; do
		hd_agent_may_run "$h" && gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null
	done
	rm -rf "$HD"
}

# Can a gpg-agent serve GnuPG home $1?  Its socket is in the home, unless
# /run/user/UID/gnupg holds the sockets of every home: then ask gpgconf
# (which starts gpg-connect-agent, two programs a home in every test).
hd_agent_may_run() {
	[ -S "$1/S.gpg-agent" ] || [ -d "/run/user/$UID/gnupg" ]
}

# --- fixtures a file's tests share ---
#
# Importing keys through hdpgp-key and stock gpg costs more than most tests
# do.  A file builds what its tests start from once, in setup_file, and
# each test that asks for it gets a copy: the same files in its own $HD,
# as if it had run the imports itself.  gpg-agent keeps its sockets in
# the GnuPG home, so the builder's agents are stopped before a copy is
# made, and a copied home starts agents of its own.

# In setup_file and teardown_file: a directory for the file's fixtures.
hd_file_setup() {
	hd_tmpdir HD_FILE
	export HD_FILE
}

hd_file_teardown() {
	hd_stop_agents "$HD_FILE"
	rm -rf "$HD_FILE"
}

# Every gpg-agent with its socket under directory $1 stopped, and no
# socket left for a copy to inherit.
hd_stop_agents() {
	local s i
	while IFS= read -r s; do
		gpgconf --homedir "${s%/*}" --kill gpg-agent 2>/dev/null
	done < <(find "$1" -name S.gpg-agent -type s 2>/dev/null)
	for i in $(seq 50); do
		[ -z "$(find "$1" -name S.gpg-agent -type s 2>/dev/null)" ] && break
		sleep 0.1
	done
	find "$1" -type s -delete 2>/dev/null
	return 0
}

# hd_fixture NAME FUNCTION...: in setup_file, run FUNCTION (and the ones
# after it) in a test's environment of its own (hd_setup), and keep what
# it leaves in $HD as fixture NAME.
hd_fixture() {
	local name=$1 fn
	shift
	(
		set -e
		hd_setup
		trap '[ ! -d "$HD" ] || hd_teardown' EXIT
		for fn in "$@"; do
			"$fn"
		done
		hd_stop_agents "$HD"
		mv "$HD" "$HD_FILE/$name"
	)
}

# hd_plain_hooks: teardown_file, setup and teardown as most files have
# them; a file's own, defined after this call, win.
hd_plain_hooks() {
	teardown_file() {
		hd_file_teardown
	}
	setup() {
		hd_setup
	}
	teardown() {
		hd_teardown
	}
}

# hd_keys_fixture: the hooks of a file whose tests start from the keys
# its import_keys imports, once, as fixture "keys" (keys_in restores it
# in a test), and hd_plain_hooks.
hd_keys_fixture() {
	hd_plain_hooks
	setup_file() {
		hd_file_setup
		hd_fixture keys import_keys
	}
	keys_in() {
		hd_restore keys
	}
}

# hd_restore NAME: the test's $HD holds a copy of fixture NAME.
hd_restore() {
	cp -a "$HD_FILE/$1/." "$HD/"
}

# Stock gpg, in a home of its own: the party that did not write the output.
sgpg() {
	gpg --homedir "$EXT" --batch --no-tty --pinentry-mode loopback "$@"
}

# hdpgp's own GnuPG home, read with stock gpg.
hgpg() {
	gpg --homedir "$HDPGP_HOME/gnupg" --batch --no-tty --with-colons "$@"
}

# Run without a controlling terminal, so that no prompt can be shown.
notty() {
	setsid -w "$@" </dev/null
}

# Start the state's gpg-agent up front, so that strace -f, which follows
# every child, does not wait for the daemon it would otherwise start.
start_agent() {
	# an import of nothing fails, but leaves the state and its GnuPG home
	hdpgp-key import </dev/null >/dev/null 2>&1 || :
	gpg-connect-agent --homedir "$HDPGP_HOME/gnupg" /bye >/dev/null 2>&1
}

# Every program a command starts, with argv and environment, to file $1.
# LeakSanitizer cannot run under ptrace: leaks are checked elsewhere.
trace_execs() {
	local out=$1
	shift
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -e trace=execve -s 4096 -v -o "$out" "$@"
}

# How many programs a command starts (strace -f: exact).  A call another
# process interrupts is split over an "<unfinished ...>" line and a
# "<... execve resumed>" line, which has the result.
count_execs() {
	local out=$HD/strace.out
	trace_execs "$out" "$@" >/dev/null 2>&1
	grep -E '(execve\(.*|<\.\.\. execve resumed>.*)= 0$' "$out" |
	    awk 'END { print NR - 1 }'
}

# --- hdpgp-sign and hdpgp-encrypt ---

# Python's email module, the independent reader of PGP/MIME (mimecheck.py).
mimecheck() {
	python3 "$HDPGP_SRCDIR/tests/mimecheck.py" "$@"
}

# The micalg that names the digest algorithm of the signature in file $1.
sig_micalg() {
	local a
	a=$(sgpg --list-packets "$1" | sed -n 's/^[[:space:]]*digest algo \([0-9]*\),.*/\1/p')
	case $a in
	2) echo pgp-sha1 ;;
	8) echo pgp-sha256 ;;
	9) echo pgp-sha384 ;;
	10) echo pgp-sha512 ;;
	11) echo pgp-sha224 ;;
	*) echo "pgp-unknown-digest-$a" ;;
	esac
}

# check_signed IN OUT [FPR]: OUT is IN signed by FPR (alice by default):
# RFC 3156 form, a good signature over part 1 for stock gpg, micalg that of
# the signature, the outer headers and the content of IN unchanged.
# Leaves part 1 in $HD/v.
check_signed() {
	local in=$1 out=$2 fpr=${3:-$ALICE_FPR} r=$HD/mc
	rm -rf "$HD/v" "$r"
	run -0 --separate-stderr mimecheck multi "$r" micalg=signed "$out" "$HD/v" \
	    + hout=headers "$out" + hin=headers "$in" \
	    + version=header "$out" MIME-Version \
	    + lout=leaves "$HD/v/part1" + lin=leaves "$in"
	run -0 sgpg --status-fd 1 --verify "$HD/v/sig.asc" "$HD/v/part1.crlf"
	assert_output --regexp "VALIDSIG $fpr "
	assert_equal "$(<"$r/micalg")" "$(sig_micalg "$HD/v/sig.asc")"
	assert_equal "$(<"$r/hout")" "$(<"$r/hin")"
	assert_equal "$(<"$r/version")" "1.0"
	assert_equal "$(<"$r/lout")" "$(<"$r/lin")"
}

# Part 2 of the multipart/encrypted OUT, decrypted by stock gpg to
# $HD/dec; stock gpg's status lines in $output.  decrypt OUT + LABEL=...:
# more commands for the same mimecheck multi, their output in $HD/mc.
decrypt() {
	local out=$1
	shift
	rm -rf "$HD/enc.asc" "$HD/dec" "$HD/mc"
	run -0 mimecheck multi "$HD/mc" enc=encrypted "$out" "$HD/enc.asc" "$@"
	run -0 --separate-stderr sgpg --passphrase-file "$HD/bob.pass" --status-fd 1 \
	    --decrypt -o "$HD/dec" "$HD/enc.asc"
}

# check_encrypted IN OUT: OUT is IN encrypted to bob and to no one else:
# RFC 3156 form, the outer headers of IN, and it decrypts with stock gpg to
# IN's entity, the same content part for part.
check_encrypted() {
	local in=$1 out=$2 r=$HD/mc
	decrypt "$out" + hout=headers "$out" + hin=headers "$in" \
	    + version=header "$out" MIME-Version + lin=leaves "$in"
	assert_equal "$(enc_keyids "$HD/enc.asc")" "${BOB_SUB_FPR: -16}"
	assert_equal "$(<"$r/hout")" "$(<"$r/hin")"
	assert_equal "$(<"$r/version")" "1.0"
	assert_equal "$(mimecheck leaves "$HD/dec")" "$(<"$r/lin")"
}

# A test message from alice to bob, LF line ends: mkmail KIND >FILE.
# KIND: plain (no MIME headers), utf8 (8bit), qp, base64, spaces (trailing
# white space, "From " and "." lines), mixed (a text and a 2 KiB binary
# attachment, also left in $HD/att.bin), alternative.
mkmail() {
	local kind=$1
	printf '%s\n' 'From: Alice Helpdesk <alice@example.com>' \
	    'To: Bob Customer <bob@example.org>' "Subject: Ticket #42: $kind" \
	    'Date: Mon, 01 Jul 2024 12:00:00 +0000' \
	    "Message-ID: <$kind.42@helpdesk.example.com>" 'X-Ticket: 42,' ' folded'
	case $kind in
	plain)
		printf '\nHello Bob,\n\nyour ticket has been answered.\n\n-- \nAlice\n' ;;
	utf8)
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n\n'
		printf 'Gr\303\274\303\237e aus K\303\266ln \342\202\254 5,\n\nAlice\n' ;;
	qp)
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: quoted-printable\n\n'
		printf 'Gr=C3=BC=C3=9Fe, this is a long line that is broken by a soft line brea=\n'
		printf 'k, and a trailing space=20\nAlice\n' ;;
	base64)
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		printf 'Gr\303\274\303\237e,\nbase64 text\n' | base64 ;;
	spaces)
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n'
		printf 'Content-Transfer-Encoding: 7bit\n\n'
		printf 'Hello Bob,  \nFrom the helpdesk:\t\n   \n.\n-- \nAlice\n' ;;
	mixed)
		head -c 2048 /dev/urandom >"$HD/att.bin"
		printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="=-mix"\n\n'
		printf 'preamble\n--=-mix\nContent-Type: text/plain; charset=us-ascii\n\n'
		printf 'The log is attached.\n--=-mix\n'
		printf 'Content-Type: application/octet-stream; name="trace.bin"\n'
		printf 'Content-Disposition: attachment; filename="trace.bin"\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$HD/att.bin"
		printf '\n--=-mix--\n' ;;
	alternative)
		printf 'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=alt42\n\n'
		printf -- '--alt42\nContent-Type: text/plain; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n\nHello, r\303\251sum\303\251\n'
		printf -- '--alt42\nContent-Type: text/html; charset=utf-8\n'
		printf 'Content-Transfer-Encoding: 8bit\n\n<p>Hello, r\303\251sum\303\251</p>\n'
		printf -- '--alt42--\n' ;;
	*)
		echo "mkmail: $kind?" >&2
		return 1 ;;
	esac
}

# LF line ends to CRLF.
crlf() {
	sed 's/$/\r/' "$@"
}

# The log records of the state, oldest first, one JSON object a line (tdbdump escapes
# what is not printable, and " and \, as \XX).
# Every backslash in tdbdump's output starts a \XX, so one printf %b
# decodes them all (bash's read, a line at a time, reads a pipe a byte a
# system call).
hd_log() {
	local recs
	recs=$(tdbdump "$HDPGP_HOME/state.tdb" |
	    awk '/^key\(/ { inlog = $0 ~ /= "log:[0-9a-f]+"$/; seq = $3; next }
		/^data\(/ && inlog { sub(/^data\([0-9]+\) = "/, ""); sub(/"$/, "")
			print seq "\t" $0 }' | sort | cut -f2- |
	    sed 's/\\\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')
	[ -z "$recs" ] || printf '%b\n' "$recs"
}

# The long key IDs an OpenPGP message is encrypted to, sorted.
enc_keyids() {
	sgpg --list-only --list-packets "$1" 2>/dev/null |
	    sed -n 's/^:pubkey enc packet:.* keyid \([0-9A-F]*\).*/\1/p' | sort
}

# Run a command with its stdout to file $1 (for run: $output is then the
# command's stderr, and the file holds stdout byte for byte).
stdout_to() {
	local f=$1
	shift
	"$@" >"$f"
}

# The long key ID of the encryption subkey in key file $1.
enc_subkey() {
	sgpg --with-colons --import-options show-only --import "$1" 2>/dev/null |
	    awk -F: '$1 == "sub" && $12 ~ /e/ { print $5 }'
}

# A forwarded customer mail: multipart/mixed holding a message/rfc822 whose
# body is 8bit UTF-8 with a line of 2000 characters and no final newline.
mkforward() {
	mkmail plain | sed '/^$/Q'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=fwd\n\n'
	printf -- '--fwd\nContent-Type: text/plain; charset=utf-8\n\nForwarded, see below.\n'
	printf -- '--fwd\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n'
	printf 'From: Bob <bob@example.org>\nSubject: =?UTF-8?Q?K=C3=B6ln?=\nMIME-Version: 1.0\n'
	printf 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'
	printf 'K\303\266ln %s\nend' "$(printf 'x%.0s' {1..2000})"
	printf '\n--fwd--\n'
}

# --- the collection for the differential check (tests/differential.bash) ---

# With HDPGP_COLLECT=DIR (make check sets it), every message a test gives
# hdpgp-verify or hdpgp-decrypt (stdin, or each FILE) is also kept in DIR,
# and the real program then runs on the same input: differential*.bats
# later ask Python's and Ruby's parsers about each of them.  Calls
# through other programs (setsid, strace, xargs, bash -c) are not seen.
# The name for the next collected message, in HD_CFILE: named by the test
# file, the process and a random number, with no program started (a
# mkdir and a mktemp for every call were a tenth of the suite's programs).
hd_collect_file() {
	[ -d "$HDPGP_COLLECT" ] || mkdir -p "$HDPGP_COLLECT"
	HD_CFILE=$HDPGP_COLLECT/${BATS_TEST_FILENAME##*/}.$BASHPID.$SRANDOM$SRANDOM
}

# hd_collect TOOL ARGS...: keep the FILEs of ARGS; exit 0 when the message
# comes on stdin.
hd_collect() {
	local a skip= files=0
	shift
	for a in "$@"; do
		if [ -n "$skip" ]; then
			skip=
			continue
		fi
		case $a in
		-d | -o | --state-dir | --output-dir | --passphrase-file) skip=1 ;;
		-h | --help | -V | --version) return 1 ;;
		-) ;;
		-?*) ;;
		*)
			files=1
			[ -f "$a" ] && [ -r "$a" ] && hd_collect_file &&
			    hd_copy "$a" "$HD_CFILE" ;;
		esac
	done
	[ "$files" = 0 ]
}

hd_collect_run() {
	local tool=$1
	shift
	if hd_collect "$tool" "$@"; then
		if [ -f /dev/stdin ]; then
			# a file: copied by a reopening, the offset of fd 0 stays
			hd_collect_file
			hd_copy /dev/stdin "$HD_CFILE" 2>/dev/null
		elif [ -p /dev/stdin ]; then
			hd_collect_file
			tee -- "$HD_CFILE" | command "$tool" "$@"
			return
		fi
	fi
	command "$tool" "$@"
}

if [ -n "${HDPGP_COLLECT:-}" ]; then
	hdpgp-verify() { hd_collect_run hdpgp-verify "$@"; }
	hdpgp-decrypt() { hd_collect_run hdpgp-decrypt "$@"; }
fi
