# Shared setup for the bats suite: a short throw-away state directory per
# test (gpg-agent's socket path must stay short), the project's INSECURE
# test keys, stock gpg in a home of its own as the independent party.

bats_load_library bats-support 2>/dev/null || load /usr/lib/bats/bats-support/load
bats_load_library bats-assert 2>/dev/null || load /usr/lib/bats/bats-assert/load

: "${HDPGP_SRCDIR:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
: "${HDPGP_BIN:=$HDPGP_SRCDIR/bin}"
KEYS=$HDPGP_SRCDIR/tests/keys
CORPUS=$HDPGP_SRCDIR/../shared/corpus/rt
# shellcheck source=keys/keys.env
. "$KEYS/keys.env"

hd_setup() {
	export LC_ALL=C TZ=UTC
	unset DISPLAY GPG_TTY GNUPGHOME XDG_STATE_HOME
	PATH=$HDPGP_BIN:$PATH
	HD=$(mktemp -d /tmp/hdpgp.XXXXXX)
	export HDPGP_HOME=$HD/s
	EXT=$HD/ext
	mkdir -m 700 "$EXT"
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
		[ -d "$h" ] && gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null
	done
	rm -rf "$HD"
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

# How many programs a command starts (strace -f: exact).
count_execs() {
	local out=$HD/strace.out
	trace_execs "$out" "$@" >/dev/null 2>&1
	grep -E 'execve\(.*= 0$' "$out" | awk 'END { print NR - 1 }'
}
