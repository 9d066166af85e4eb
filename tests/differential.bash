# The differential check of issue 9, shared by tests/differential.bats
# and tests/differential-early.bats: every message the other test files
# gave hdpgp-verify and hdpgp-decrypt (kept in $HDPGP_COLLECT by
# helpers.bash), or, when the file runs alone, the vectors of
# tests/vectors.bash, is read by Python's email module and Ruby's mail
# gem (Zammad's parser), and hdpgp's verdicts are judged by what they see
# (tests/diffcheck.py):
#   (a) no parser sees an X-Hdpgp-* field in the output that hdpgp did not
#       write, and no top-level field holds a bare CR or a NUL;
#   (b) good with coverage=full: every text each parser sees is inside
#       what the signature covers, for stock gpg;
#   (c) decrypted with coverage=full: every text each parser sees comes
#       from the plaintext stock gpg decrypts.
# One pass of each program over all messages: hdpgp-verify and
# hdpgp-decrypt in each mode, 40 messages a process (verify and decrypt
# side by side), one ruby, one python.
#
# make check splits the collection in two, so that most of it is judged
# while the last test files still run, not after them: the messages of
# hdpgp-verify.bats, hdpgp-decrypt.bats and forgery.bats (nine in ten),
# by differential-early.bats as soon as those three end; the rest by
# differential.bats, last.  Each file sets DIFF_PART, early or rest.

# Its own calls are not collected.
unset -f hdpgp-verify hdpgp-decrypt

setup() {
	hd_setup
	D=$HD/d
	mkdir -p "$D/in" "$D/vout" "$D/dout"
}

teardown() {
	fv_kill_unknown
	hd_teardown
}

# Every test key into the store with its passphrase, and into stock gpg
# (the two homes filled side by side).
all_keys() {
	local k pid
	(
		for k in alice bob carol expired revoked revuid; do
			sgpg --passphrase-file "$HD/$k.pass" --import "$KEYS/$k.sec.asc" 2>/dev/null
		done
		sgpg --import "$KEYS/plain.sec.asc" 2>/dev/null
		for k in noemail dup-old dup-new; do
			sgpg --import "$KEYS/$k.pub.asc" 2>/dev/null
		done
	) &
	pid=$!
	for k in alice bob carol expired revoked revuid; do
		hdpgp-key --passphrase-file "$HD/$k.pass" import "$KEYS/$k.sec.asc" >/dev/null 2>&1
	done
	hdpgp-key import "$KEYS/plain.sec.asc" >/dev/null 2>&1
	for k in noemail dup-old dup-new; do
		hdpgp-key import "$KEYS/$k.pub.asc" >/dev/null 2>&1
	done
	wait "$pid"
	return 0
}

# The test files whose messages differential-early.bats judges: the three
# that give nine in ten of them.  Makefile.am runs it as they end.
DIFF_EARLY="hdpgp-verify.bats hdpgp-decrypt.bats forgery.bats"

# The messages, once each, named by their SHA-256, into $D/in: the
# collected ones (up to 1 MiB each) of part DIFF_PART (early: those the
# files in DIFF_EARLY gave; rest: all the others), or the vectors.
# helpers.bash names a collected message after its test file:
# FILE.bats.PID.RANDOM.
gather() {
	local n=0 f sel=()
	for f in $DIFF_EARLY; do
		sel+=(${sel[0]+-o} -name "$f.*")
	done
	sel=(\( "${sel[@]}" \))
	[ "$DIFF_PART" = early ] || sel=(! "${sel[@]}")
	if [ -d "${HDPGP_COLLECT:-}" ]; then
		find "$HDPGP_COLLECT" -type f -size -1025k "${sel[@]}" -print0 |
		    keep_unique
	fi
	n=$(find "$D/in" -type f | wc -l)
	if [ "$n" -lt 2 ]; then
		fv_all "$HD/vec"
		find "$HD/vec" -type f -print0 | keep_unique
	fi
}

# The files named on stdin (NUL after each) into $D/in, named by the first
# 24 hex digits of their SHA-256, once each: one process for them all,
# not a cp per file (thousands are collected).
keep_unique() {
	python3 -c '
import hashlib, os, sys
top = sys.argv[1]
for name in sys.stdin.buffer.read().split(b"\0"):
    if not name:
        continue
    with open(name, "rb") as f:
        data = f.read()
    path = os.path.join(top, hashlib.sha256(data).hexdigest()[:24])
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
' "$D/in"
}

# batches TOOL ARGS...: TOOL ARGS on every file of the current directory,
# 40 files a process, never one alone (its verdicts would not be prefixed
# by its name).  One process for all of them grows to 400 MB in the
# sanitizer build (freed memory waits in ASan's quarantine), and gpgme
# forks gpg from it for every message: copying its page tables took a
# third of the time.
batches() {
	local files=(*) i n=40
	for ((i = 0; i < ${#files[@]}; i += n)); do
		[ $((${#files[@]} - i - n)) -ne 1 ] || n=41
		"$@" "${files[@]:i:n}" || :
	done
}

# The test: gather, run the tools, read, judge.
differential_check() {
	all_keys
	gather
	local n
	n=$(find "$D/in" -type f | wc -l)
	echo "# $n messages" >&3
	(
		cd "$D/in" || exit 1
		{ batches hdpgp-verify -c >"$D/verify.c" 2>"$D/verify.err"
		  batches hdpgp-verify -o "$D/vout" 2>>"$D/verify.err"; } &
		{ batches hdpgp-decrypt -c >"$D/decrypt.c" 2>"$D/decrypt.err"
		  batches hdpgp-decrypt -o "$D/dout" 2>>"$D/decrypt.err"; } &
		wait
		exit 0
	)
	# every message has its verdicts
	run -0 bash -c 'cut -d: -f1 "$1" | sort -u | wc -l' _ "$D/verify.c"
	[ "$output" -gt 0 ]
	# Ruby's reading in two halves side by side (Ruby takes one core).
	local files=("$D"/in/* "$D"/vout/* "$D"/dout/*) half pid
	half=$((${#files[@]} / 2))
	ruby "$HDPGP_SRCDIR/tests/diffcheck.rb" "${files[@]:0:half}" >"$D/rb.1" &
	pid=$!
	ruby "$HDPGP_SRCDIR/tests/diffcheck.rb" "${files[@]:half}" >"$D/rb.2"
	wait "$pid"
	cat "$D/rb.1" "$D/rb.2" >"$D/rb.jsonl"
	run python3 "$HDPGP_SRCDIR/tests/diffcheck.py" judge "$D" "$EXT" \
	    "$HD/bob.pass" "$HD/alice.pass" "$HD/carol.pass" "$HD/expired.pass" \
	    "$HD/revoked.pass" "$HD/revuid.pass"
	sed 's/^/# note: /' "$D/notes" | head -n 40 >&3
	# the messages of the findings, kept for a look
	if [ "$status" -ne 0 ] && [ -n "${HDPGP_BUILDDIR:-}" ]; then
		local keep=$HDPGP_BUILDDIR/tests/${BATS_TEST_FILENAME##*/}
		keep=${keep%.bats}.out
		rm -rf "$keep"
		cp -r "$D" "$keep" 2>/dev/null || :
	fi
	assert_success
}
