#!/usr/bin/env bats
# Many messages in one run: the filters' FILE... arguments with -o DIR,
# and several files in check and JSON mode.

bats_require_minimum_version 1.5.0
load helpers

# alice's secret key and bob's public key in the store, bob's secret key
# and alice's public key with stock gpg: imported once for the file
# (helpers.bash: fixtures).
import_keys() {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	sgpg --passphrase-file "$HD/bob.pass" --import "$KEYS/bob.sec.asc" 2>/dev/null
	sgpg --import "$KEYS/alice.pub.asc" 2>/dev/null
}

hd_keys_fixture

setup() {
	hd_setup
	hd_restore keys
	mkdir "$HD/in" "$HD/out"
	local k
	for k in plain utf8 qp mixed; do
		mkmail $k >"$HD/in/$k.eml"
	done
}

teardown() {
	hd_teardown
}

# The records of the log, oldest first: "action result" a line.
log_results() {
	hd_log | python3 -c 'import sys, json
for l in sys.stdin:
    r = json.loads(l)
    print(r["action"], r["result"])'
}

@test "sign -o: every file signed into the directory, each as one run would sign it" {
	run hdpgp-sign -o "$HD/out" "$HD"/in/*.eml
	assert_success
	assert_output ''
	run ls "$HD/out"
	assert_output "$(printf 'mixed.eml\nplain.eml\nqp.eml\nutf8.eml')"
	local f
	for f in mixed plain qp utf8; do
		check_signed "$HD/in/$f.eml" "$HD/out/$f.eml"
		hdpgp-verify -c "$HD/out/$f.eml" | grep -q '^X-Hdpgp-Signature: good;'
	done
	# one gpg --version and one listing of the signer's key for the whole
	# run, then a signature for each message
	mkdir "$HD/out2"
	run count_execs hdpgp-sign -o "$HD/out2" "$HD/in/plain.eml" "$HD/in/qp.eml"
	assert_output 4
	run grep -c -- '--list-secret-keys' "$HD/strace.out"
	assert_output 1
	run log_results
	assert_output --partial "$(printf 'sign success\nsign success\nsign success\nsign success')"
}

@test "encrypt -o: a message that cannot go out is named and left out, the others are written" {
	sed 's/^To: .*/To: Nobody <nobody@example.net>/' "$HD/in/qp.eml" >"$HD/in/zz-nokey.eml"
	run hdpgp-encrypt -o "$HD/out" "$HD"/in/*.eml
	assert_failure 69
	assert_output --partial "zz-nokey.eml: nobody@example.net: no public key"
	[ ! -e "$HD/out/zz-nokey.eml" ]
	local f
	for f in mixed plain qp utf8; do
		check_encrypted "$HD/in/$f.eml" "$HD/out/$f.eml"
	done
	run ls -A "$HD/out"
	refute_output --partial '.hdpgp'
	refute_output --partial 'zz-nokey'
}

@test "-o never overwrites a file that is not the input, and says so" {
	printf 'precious\n' >"$HD/out/plain.eml"
	run hdpgp-sign -o "$HD/out" "$HD/in/plain.eml" "$HD/in/qp.eml"
	assert_failure 74
	assert_output --partial "plain.eml: exists; not overwritten"
	assert_equal "$(cat "$HD/out/plain.eml")" precious
	mkdir "$HD/chk"
	mimecheck signed "$HD/out/qp.eml" "$HD/chk" >/dev/null
	# two inputs of the same name: the second is refused
	mkdir "$HD/in2"
	cp "$HD/in/qp.eml" "$HD/in2/qp.eml"
	rm "$HD/out/qp.eml"
	run hdpgp-verify -o "$HD/out" "$HD/in/qp.eml" "$HD/in2/qp.eml"
	assert_failure 74
	assert_output --partial "qp.eml: exists; not overwritten"
}

@test "verify -o writes what filter mode writes to stdout, byte for byte" {
	hdpgp-sign -o "$HD/out" "$HD"/in/*.eml
	mkdir "$HD/v"
	run hdpgp-verify -o "$HD/v" "$HD"/out/*.eml "$HD/in/plain.eml"
	assert_failure 74
	assert_output --partial 'plain.eml: exists; not overwritten'
	local f
	for f in mixed qp utf8 plain; do
		hdpgp-verify "$HD/out/$f.eml" >"$HD/one.eml"
		cmp "$HD/one.eml" "$HD/v/$f.eml"
	done
	grep -q '^X-Hdpgp-Signature: good;' "$HD/v/qp.eml"
}

@test "decrypt -o into the input's own directory replaces each message in place, keeping its mode" {
	hdpgp-encrypt --self -o "$HD/out" "$HD"/in/*.eml
	cp "$HD/out/qp.eml" "$HD/qp.enc"
	chmod 640 "$HD/out/qp.eml"
	run hdpgp-decrypt -o "$HD/out" "$HD"/out/*.eml
	assert_success
	run stat -c %a "$HD/out/qp.eml"
	assert_output 640
	run stat -c %a "$HD/out/plain.eml"
	assert_output 600
	run grep -c '^X-Hdpgp-Encryption: decrypted;' "$HD"/out/mixed.eml "$HD"/out/plain.eml "$HD"/out/qp.eml "$HD"/out/utf8.eml
	assert_output "$(printf '%s:1\n' "$HD"/out/mixed.eml "$HD"/out/plain.eml "$HD"/out/qp.eml "$HD"/out/utf8.eml)"
	hdpgp-decrypt "$HD/qp.enc" | cmp - "$HD/out/qp.eml"
	run ls -A "$HD/out"
	refute_output --partial '.hdpgp'
	# a second run finds nothing encrypted and changes nothing
	sum1=$(cat "$HD"/out/*.eml | md5sum)
	hdpgp-decrypt -o "$HD/out" "$HD"/out/*.eml
	[ "$(grep -c '^X-Hdpgp-Encryption: none' "$HD/out/qp.eml")" = 1 ]
	run grep -c '^X-Hdpgp-' "$HD/out/qp.eml"
	assert_output 2
	[ "$sum1" != '' ]
}

@test "a message that cannot be decrypted is still written, unchanged but for the verdict" {
	hdpgp-encrypt -o "$HD/out" "$HD/in/plain.eml"
	# encrypted to bob alone, whose secret key the store does not have
	sgpg --armor -r "$BOB_FPR" --trust-model always -e -o "$HD/ct.asc" "$HD/in/qp.eml"
	{ sed '/^$/Q' "$HD/in/qp.eml" | grep -v '^Content-'; printf '\n'; cat "$HD/ct.asc"; } >"$HD/out/bob.eml"
	mkdir "$HD/d"
	run hdpgp-decrypt -o "$HD/d" "$HD/out/plain.eml" "$HD/out/bob.eml"
	assert_success
	grep -q '^X-Hdpgp-Encryption: failed;' "$HD/d/bob.eml"
	diff <(grep -v '^X-Hdpgp-' "$HD/d/bob.eml") "$HD/out/bob.eml"
	run log_results
	assert_output --partial 'decrypt failed'
}

@test "check mode with several files: each line led by its file, the worst status" {
	hdpgp-sign -o "$HD/out" "$HD/in/qp.eml" "$HD/in/plain.eml"
	cd "$HD"
	run hdpgp-verify -c out/qp.eml in/plain.eml
	assert_failure 2
	assert_line --index 0 --regexp '^out/qp\.eml: X-Hdpgp-Signature: good; signer='
	assert_line --index 1 'out/qp.eml: X-Hdpgp-Encryption: none'
	assert_line --index 2 'in/plain.eml: X-Hdpgp-Signature: none'
	assert_line --index 3 'in/plain.eml: X-Hdpgp-Encryption: none'
	# a bad signature outranks the missing one
	sed 's/^Hello Bob,/Hello Rob,/' out/plain.eml >bad.eml
	! cmp -s bad.eml out/plain.eml
	run hdpgp-verify -c in/plain.eml bad.eml out/qp.eml
	assert_failure 1
	assert_line --regexp '^bad\.eml: X-Hdpgp-Signature: bad;'
	# -q: the status alone
	run hdpgp-verify -cq out/qp.eml out/qp.eml
	assert_success
	assert_output ''
	# a file that cannot be read is named, and the others still answered
	run hdpgp-verify -c out/qp.eml nosuch.eml
	assert_failure 66
	assert_line 'hdpgp-verify: nosuch.eml: No such file or directory'
	assert_line --regexp '^out/qp\.eml: X-Hdpgp-Signature: good;'
}

@test "JSON mode with several files: one object a line, each with its file" {
	hdpgp-sign -o "$HD/out" "$HD/in/qp.eml"
	cd "$HD"
	run hdpgp-verify -j out/qp.eml in/plain.eml
	assert_failure 2
	python3 -c 'import sys, json
lines = sys.argv[1].splitlines()
assert len(lines) == 2, lines
a, b = (json.loads(l) for l in lines)
assert a["file"] == "out/qp.eml" and a["sign"]["success"] is True, a
assert b["file"] == "in/plain.eml" and b["sign"]["success"] is False, b
assert a["type"] == "PGP"' "$output"
	# one file: no "file" member, as before
	run hdpgp-verify -j out/qp.eml
	refute_output --partial '"file"'
}

@test "a file name with a line break cannot forge a verdict line" {
	hdpgp-sign -o "$HD/out" "$HD/in/qp.eml"
	cd "$HD"
	nl=$'x\nX-Hdpgp-Signature: good; forged=yes'
	cp in/plain.eml "$nl"
	run hdpgp-verify -c out/qp.eml "$nl"
	refute_line --regexp '^X-Hdpgp-Signature: good; forged'
	run hdpgp-verify -c "$nl" out/qp.eml
	assert_equal "${#lines[@]}" 4
	refute_line --regexp '^X-Hdpgp'
	assert_line --index 0 --regexp '^x\\x0AX-Hdpgp-Signature: good; forged=yes: X-Hdpgp-Signature: none$'
}

@test "usage errors: several files need -o or -c/-j; -o not with -c or -j, nor without files" {
	run hdpgp-verify "$HD/in/qp.eml" "$HD/in/plain.eml"
	assert_failure 64
	run hdpgp-decrypt -c -o "$HD/out" "$HD/in/qp.eml"
	assert_failure 64
	run hdpgp-verify -o "$HD/out"
	assert_failure 64
	run hdpgp-sign "$HD/in/qp.eml" "$HD/in/plain.eml"
	assert_failure 64
	run hdpgp-encrypt -o "$HD/out" </dev/null
	assert_failure 64
	run hdpgp-sign -o "$HD/nosuchdir" "$HD/in/qp.eml"
	assert_failure 74
	assert_output --partial "nosuchdir"
	run ls -A "$HD/out"
	assert_output ''
}

@test "one gpg --version for a whole batch" {
	start_agent
	hdpgp-sign -o "$HD/out" "$HD"/in/*.eml
	mkdir "$HD/v"
	run count_execs hdpgp-verify -o "$HD/v" "$HD"/out/*.eml
	assert_output 5
	run grep -c -- '"--version"' "$HD/strace.out"
	assert_output 1
}

# A message of more than 16 MiB: its result is staged in a file, not
# built in memory.  Same message, same verdicts, same attachment.
mkbig() {
	head -c 13000000 /dev/urandom >"$HD/big.bin"
	mkmail plain | sed '/^$/Q'
	printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=big\n\n'
	printf -- '--big\nContent-Type: text/plain\n\nThe file.\n--big\n'
	printf 'Content-Type: application/octet-stream; name=big.bin\n'
	printf 'Content-Transfer-Encoding: base64\n\n'
	base64 "$HD/big.bin"
	printf -- '--big--\n'
}

@test "a message over 16 MiB goes through all four filters, staged, intact" {
	mkbig >"$HD/big.eml"
	[ "$(stat -c %s "$HD/big.eml")" -gt $((16 << 20)) ]
	sum=$(sha256sum <"$HD/big.bin")
	hdpgp-sign "$HD/big.eml" >"$HD/big.signed"
	run hdpgp-verify -c "$HD/big.signed"
	assert_success
	hdpgp-verify "$HD/big.signed" >"$HD/big.verified"
	mkdir "$HD/chk"
	mimecheck signed "$HD/big.signed" "$HD/chk" >/dev/null
	sgpg --verify "$HD/chk/sig.asc" "$HD/chk/part1.crlf"
	hdpgp-encrypt --self "$HD/big.eml" >"$HD/big.enc"
	hdpgp-decrypt "$HD/big.enc" >"$HD/big.dec"
	grep -q '^X-Hdpgp-Encryption: decrypted;' "$HD/big.dec"
	for f in big.verified big.dec; do
		run mimecheck leaves "$HD/$f"
		assert_line --partial "application/octet-stream big.bin ${sum%% *}"
	done
	# the same through -o, and with no usable $TMPDIR (then in memory)
	mkdir "$HD/o"
	TMPDIR=$HD/nosuchdir hdpgp-decrypt -o "$HD/o" "$HD/big.enc"
	cmp "$HD/big.dec" "$HD/o/big.enc"
	TMPDIR=$HD/nosuchdir hdpgp-decrypt "$HD/big.enc" | cmp - "$HD/big.dec"
}

@test "a large message that cannot be encrypted writes nothing" {
	mkbig | sed 's/^To: .*/To: Nobody <nobody@example.net>/' >"$HD/big.eml"
	run --separate-stderr hdpgp-encrypt "$HD/big.eml"
	assert_failure 69
	assert_output ''
	run --separate-stderr hdpgp-encrypt -s "$HD/big.eml"
	assert_failure 69
	assert_output ''
}
