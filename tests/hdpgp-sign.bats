#!/usr/bin/env bats
# hdpgp-sign: outgoing MIME to RFC 3156 multipart/signed.  Every output is
# read by Python's email module and verified by stock gpg, not by hdpgp.

bats_require_minimum_version 1.5.0
load helpers

# alice's secret key in the store, her public key with the outside party:
# imported once for the file (helpers.bash: fixtures).
import_alice() {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	sgpg --import "$KEYS/alice.pub.asc" 2>/dev/null
}

alice_signs() {
	hd_restore alice
}

setup_file() {
	hd_file_setup
	hd_fixture alice import_alice
}

hd_plain_hooks

@test "sign: a plain message without MIME headers" {
	alice_signs
	mkmail plain >"$HD/msg"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	assert_equal "$stderr" ""
	check_signed "$HD/msg" "$HD/out"
}

@test "sign: UTF-8 text in 8bit is made 7-bit safe" {
	alice_signs
	mkmail utf8 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
	run -0 mimecheck header "$HD/v/part1" Content-Transfer-Encoding
	assert_output --regexp '^(quoted-printable|base64)$'
}

@test "sign: quoted-printable text" {
	alice_signs
	mkmail qp >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
}

@test "sign: base64 text" {
	alice_signs
	mkmail base64 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
}

@test "sign: trailing white space and a line starting \"From \" survive" {
	alice_signs
	mkmail spaces >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	# mimecheck refuses trailing white space in part 1; the content
	# comparison proves it was encoded, not dropped
	check_signed "$HD/msg" "$HD/out"
	# an mbox would turn "From " into ">From " (RFC 3156 section 3)
	run -1 grep -c '^From ' "$HD/v/part1"
	assert_output 0
}

@test "sign: multipart/mixed with a binary attachment, byte for byte" {
	alice_signs
	mkmail mixed >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
	run -0 mimecheck leaves "$HD/v/part1"
	assert_line "application/octet-stream trace.bin $(sha256sum <"$HD/att.bin" | cut -d' ' -f1)"
}

@test "sign: multipart/alternative" {
	alice_signs
	mkmail alternative >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
	run -0 mimecheck leaves "$HD/v/part1"
	assert_line -n 0 --partial "text/plain "
	assert_line -n 1 --partial "text/html "
}

@test "sign: a forwarded mail with 8bit, a 2000-character line, no final newline" {
	alice_signs
	mkforward >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
	run -0 mimecheck leaves "$HD/v/part1"
	assert_equal "${#lines[@]}" 2
}

@test "sign: a body without a final newline" {
	alice_signs
	mkmail utf8 | head -c -1 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
	mkmail plain | head -c -1 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
}

@test "sign: LF input gives LF output outside the signed part" {
	alice_signs
	mkmail utf8 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign <"$HD/msg"
	check_signed "$HD/msg" "$HD/out"
	# the header block and the signature part have no CR
	run -1 grep -c $'\r' <(sed '/^$/q' "$HD/out")
	run -1 grep -c $'\r' "$HD/v/sig.asc"
}

@test "sign: CRLF input gives CRLF output throughout" {
	alice_signs
	mkmail mixed | crlf >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign <"$HD/msg"
	check_signed "$HD/msg" "$HD/out"
	run -1 grep -c -v $'\r$' "$HD/out"
	assert_output 0
}

@test "sign: micalg is the digest of alice's ed25519 signature" {
	alice_signs
	mkmail utf8 >"$HD/msg"
	hdpgp-sign "$HD/msg" >"$HD/out"
	run -0 mimecheck param "$HD/out" micalg
	assert_output --regexp '^pgp-sha(256|384|512)$'
	mimecheck signed "$HD/out" "$HD/v" >/dev/null
	assert_equal "$output" "$(sig_micalg "$HD/v/sig.asc")"
}

@test "sign: micalg is the digest of carol's RSA signature" {
	hdpgp-key --passphrase-file "$HD/carol.pass" import "$KEYS/carol.sec.asc" >/dev/null
	sgpg --import "$KEYS/carol.pub.asc" 2>/dev/null
	mkmail utf8 | sed 's/^From: .*/From: Carol RSA <carol@example.net>/' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out" "$CAROL_FPR"
	run -0 mimecheck param "$HD/out" micalg
	assert_output --regexp '^pgp-sha(256|384|512)$'
}

@test "sign: -u picks the signer by fingerprint, key ID or address" {
	alice_signs
	hdpgp-key --passphrase-file "$HD/carol.pass" import "$KEYS/carol.sec.asc" >/dev/null
	sgpg --import "$KEYS/carol.pub.asc" 2>/dev/null
	mkmail utf8 >"$HD/msg"
	local u
	for u in "$CAROL_FPR" "${CAROL_FPR: -16}" carol@example.net; do
		run -0 stdout_to "$HD/out" hdpgp-sign -u "$u" "$HD/msg"
		check_signed "$HD/msg" "$HD/out" "$CAROL_FPR"
	done
}

@test "sign: a domain alias signs for an address without a key" {
	alice_signs
	hdpgp-key alias alice@example.com helpdesk.example
	mkmail utf8 | sed 's/^From: .*/From: Support <support@helpdesk.example>/' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
}

@test "sign: -g signs with the address of the group" {
	alice_signs
	tdbtool "$HDPGP_HOME/state.tdb" store group:sales '{"address":"alice@example.com"}' >/dev/null
	mkmail utf8 | sed 's/^From: .*/From: Sales <sales@nokey.example>/' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign -g sales "$HD/msg"
	check_signed "$HD/msg" "$HD/out"
	run -69 stdout_to "$HD/out" hdpgp-sign -g nosuch "$HD/msg"
	assert_output --partial nosuch
	[ ! -s "$HD/out" ]
}

@test "sign: a signed or encrypted message passes through unchanged, -q quietly" {
	alice_signs
	mkmail alternative >"$HD/msg"
	hdpgp-sign "$HD/msg" >"$HD/out1"
	run -0 stdout_to "$HD/out2" hdpgp-sign "$HD/out1"
	cmp "$HD/out1" "$HD/out2"
	run -0 --separate-stderr stdout_to "$HD/out2" hdpgp-sign -q "$HD/out1"
	assert_equal "$stderr" ""
	cmp "$HD/out1" "$HD/out2"
	# an encrypted message, made by stock gpg and Python
	sgpg --import "$KEYS/bob.pub.asc" 2>/dev/null
	sgpg --trust-model always -r "$BOB_FPR" -a -e -o "$HD/body.asc" "$HD/msg"
	{
		sed '/^$/Q' "$HD/msg" | grep -v -i -e '^content-' -e '^mime-version'
		printf 'MIME-Version: 1.0\nContent-Type: multipart/encrypted;\n'
		printf ' protocol="application/pgp-encrypted"; boundary="enc"\n\n'
		printf -- '--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
		printf -- '--enc\nContent-Type: application/octet-stream; name="encrypted.asc"\n\n'
		cat "$HD/body.asc"
		printf -- '\n--enc--\n'
	} | crlf >"$HD/enc"
	run -0 mimecheck encrypted "$HD/enc" "$HD/check.asc"
	run -0 stdout_to "$HD/out3" hdpgp-sign "$HD/enc"
	cmp "$HD/enc" "$HD/out3"
}

@test "sign: no secret key for the signer" {
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	mkmail utf8 | sed 's/^From: .*/From: Nobody <nobody@example.com>/' >"$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 1
	[[ $output == *nobody@example.com*"no secret key"* ]]
	# a public key alone does not sign
	run -69 stdout_to "$HD/out" hdpgp-sign -u bob@example.org "$HD/msg"
	[ ! -s "$HD/out" ]
	[[ $output == *bob@example.org*"secret key"* ]]
}

@test "sign: an expired signer key is refused with its expiry" {
	hdpgp-key import "$KEYS/expired.pub.asc" >/dev/null
	mkmail utf8 | sed 's/^From: .*/From: <expired@example.org>/' >"$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	[ ! -s "$HD/out" ]
	[[ $output == *expired@example.org* ]]
	# with the secret key in the store, the reason is the expiry
	run -0 hdpgp-key --passphrase-file "$HD/expired.pass" import "$KEYS/expired.sec.asc"
	run -69 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 1
	[[ $output == *expired@example.org*expired*2021-01-01* ]]
}

@test "sign: a revoked signer key is refused as revoked" {
	hdpgp-key import "$KEYS/revoked.pub.asc" >/dev/null
	mkmail utf8 | sed 's/^From: .*/From: <revoked@example.org>/' >"$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	[ ! -s "$HD/out" ]
	[[ $output == *revoked@example.org* ]]
	run -0 hdpgp-key --passphrase-file "$HD/revoked.pass" import "$KEYS/revoked.sec.asc"
	run -69 stdout_to "$HD/out" hdpgp-sign "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 1
	[[ $output == *revoked@example.org*revoked* ]]
}

@test "sign: a secret key without a stored passphrase is refused" {
	alice_signs
	tdbtool "$HDPGP_HOME/state.tdb" delete "pass:$ALICE_FPR" >/dev/null
	mkmail utf8 >"$HD/msg"
	run -69 stdout_to "$HD/out" notty hdpgp-sign "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 1
	assert_output --partial passphrase
}

@test "sign: exit codes for usage, bad input and a missing file" {
	alice_signs
	run -64 stdout_to "$HD/out" hdpgp-sign --bogus
	[ ! -s "$HD/out" ]
	run -64 hdpgp-sign "$HD/a" "$HD/b"
	# not a mail message
	run -65 stdout_to "$HD/out" hdpgp-sign </dev/null
	[ ! -s "$HD/out" ]
	printf 'this is not a mail message\n' >"$HD/junk"
	run -65 stdout_to "$HD/out" hdpgp-sign "$HD/junk"
	[ ! -s "$HD/out" ]
	run -64 stdout_to "$HD/out" hdpgp-sign -u alice@example.com -g sales "$HD/junk"
	[ ! -s "$HD/out" ]
	run -66 stdout_to "$HD/out" hdpgp-sign "$HD/missing"
	[ ! -s "$HD/out" ]
	assert_output --partial "$HD/missing"
	run -0 --separate-stderr hdpgp-sign -h
	assert_output --partial "usage: hdpgp-sign"
	run -0 hdpgp-sign -V
	assert_output --regexp '^hdpgp-sign [0-9.]+$'
}

@test "sign: a message without From, and no -u, is bad input" {
	alice_signs
	mkmail utf8 | grep -v '^From: ' >"$HD/nofrom"
	run -65 stdout_to "$HD/out" hdpgp-sign "$HD/nofrom"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 1
	assert_output --partial From
	# -u names the signer
	run -0 stdout_to "$HD/out" hdpgp-sign -u alice@example.com "$HD/nofrom"
	check_signed "$HD/nofrom" "$HD/out"
}

@test "sign: -d names the state directory" {
	hdpgp-key -d "$HD/other" --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	sgpg --import "$KEYS/alice.pub.asc" 2>/dev/null
	mkmail utf8 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-sign -d "$HD/other" "$HD/msg"
	gpgconf --homedir "$HD/other/gnupg" --kill gpg-agent
	check_signed "$HD/msg" "$HD/out"
}

@test "sign: log records for success, skipped and failed" {
	alice_signs
	mkmail utf8 >"$HD/msg"
	hdpgp-sign "$HD/msg" >"$HD/out"
	hdpgp-sign "$HD/out" >/dev/null
	sed 's/^From: .*/From: <nobody@example.com>/' "$HD/msg" >"$HD/nobody"
	run -69 hdpgp-sign "$HD/nobody"
	run -0 --separate-stderr hd_log
	jq -e -s --arg f "$ALICE_FPR" '[.[] | select(.action == "sign")] |
	    length == 3 and all(.direction == "out") and
	    (map(.result) == ["success", "skipped", "failed"]) and
	    (.[0].keys | tostring | contains($f)) and
	    (.[0].message_id | tostring | contains("utf8.42@helpdesk.example.com")) and
	    (.[0].from | tostring | contains("alice@example.com")) and
	    (.[2].from | tostring | contains("nobody@example.com"))' <<<"$output"
	# from -> to, as for every outgoing action
	jq -e -s '[.[] | select(.action == "sign")][0].to |
	    tostring | contains("bob@example.org")' <<<"$output"
}

@test "sign: the passphrase is in no child's argv or environment" {
	alice_signs
	start_agent
	mkmail utf8 >"$HD/msg"
	trace_execs "$HD/trace" hdpgp-sign "$HD/msg" >"$HD/out"
	check_signed "$HD/msg" "$HD/out"
	grep -q 'execve("/usr/bin/gpg' "$HD/trace"
	run -1 grep -c -e "$ALICE_PASS" "$HD/trace"
	assert_output 0
}

@test "sign: at most 3 programs per message, never gpgconf or gpgsm" {
	alice_signs
	start_agent
	mkmail mixed >"$HD/msg"
	run -0 count_execs hdpgp-sign "$HD/msg"
	[ "$output" -le 3 ]
	run -1 grep -E 'execve\("[^"]*(gpgconf|gpgsm)"' "$HD/strace.out"
	# none for a message passed through or refused for want of a key
	hdpgp-sign "$HD/msg" >"$HD/signed"
	run -0 count_execs hdpgp-sign "$HD/signed"
	assert_output 0
	run -0 count_execs hdpgp-sign -u nobody@example.com "$HD/msg"
	assert_output 0
}

@test "interop: the RT corpus's PGP/MIME signed and encrypted mails pass through" {
	[ -d "$CORPUS" ] || skip "../shared/corpus is absent"
	alice_signs
	local f
	for f in "$CORPUS"/emails/{1,2,3,6,7,8,9,13,14,15,20}-*.txt; do
		run -0 stdout_to "$HD/out" hdpgp-sign "$f"
		cmp "$f" "$HD/out"
	done
}
