#!/usr/bin/env bats
# hdpgp-encrypt: outgoing MIME to RFC 3156 multipart/encrypted.  Every
# output is read by Python's email module and decrypted by stock gpg with
# the recipient's secret key, not by hdpgp.

bats_require_minimum_version 1.5.0
load helpers

# The store holds alice's secret key (the helpdesk) and bob's public key
# (the customer); the outside party holds bob's secret key and alice's
# public key.  Imported once for the file (helpers.bash: fixtures).
import_keys() {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	sgpg --passphrase-file "$HD/bob.pass" --import "$KEYS/bob.sec.asc" 2>/dev/null
	sgpg --import "$KEYS/alice.pub.asc" 2>/dev/null
}

hd_keys_fixture

@test "encrypt: a plain message without MIME headers" {
	keys_in
	mkmail plain >"$HD/msg"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	assert_equal "$stderr" ""
	check_encrypted "$HD/msg" "$HD/out"
}

@test "encrypt: UTF-8 text in 8bit" {
	keys_in
	mkmail utf8 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
	run -0 mimecheck header "$HD/dec" Content-Type
	assert_output --partial "charset=utf-8"
}

@test "encrypt: quoted-printable text" {
	keys_in
	mkmail qp >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
}

@test "encrypt: base64 text" {
	keys_in
	mkmail base64 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
}

@test "encrypt: trailing white space and a line starting \"From \" survive" {
	keys_in
	mkmail spaces >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
}

@test "encrypt: multipart/mixed with a binary attachment, byte for byte" {
	keys_in
	mkmail mixed >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
	run -0 mimecheck leaves "$HD/dec"
	assert_line "application/octet-stream trace.bin $(sha256sum <"$HD/att.bin" | cut -d' ' -f1)"
}

@test "encrypt: multipart/alternative" {
	keys_in
	mkmail alternative >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
	run -0 mimecheck param "$HD/dec" boundary
	assert_output alt42
}

@test "encrypt: a forwarded mail with 8bit, a 2000-character line, no final newline" {
	keys_in
	mkforward >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
	run -0 mimecheck leaves "$HD/dec"
	assert_equal "${#lines[@]}" 2
}

@test "encrypt: LF input gives LF output" {
	keys_in
	mkmail utf8 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt <"$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
	run -1 grep -c $'\r' "$HD/out"
}

@test "encrypt: CRLF input gives CRLF output" {
	keys_in
	mkmail mixed | crlf >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt <"$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
	run -1 grep -c -v $'\r$' "$HD/out"
	assert_output 0
}

@test "encrypt: every address in To, Cc and Bcc, and -r" {
	keys_in
	hdpgp-key import "$KEYS/carol.pub.asc" "$KEYS/revuid.pub.asc" >/dev/null
	mkmail utf8 | sed -e 's/^To: .*/To: Bob Customer <bob@example.org>, "RSA, Carol" <carol@example.net>/' \
	    -e 's/^Subject: /Bcc: new@example.org\nSubject: /' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt -r alice@example.com "$HD/msg"
	decrypt "$HD/out"
	run -0 enc_keyids "$HD/enc.asc"
	# the Bcc recipient is a hidden one (tests/secrets.bats)
	assert_output "$(printf '%s\n' "${ALICE_SUB_FPR: -16}" "${BOB_SUB_FPR: -16}" \
	    "${CAROL_SUB_FPR: -16}" 0000000000000000 | sort)"
}

@test "encrypt: an address group, and an address twice, give one key once" {
	keys_in
	mkmail utf8 | sed -e 's/^To: .*/To: Customers: bob@example.org, Bob <bob@EXAMPLE.org>;/' \
	    -e 's/^Subject: /Cc: bob@example.org\nSubject: /' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt -r bob@Example.Org "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
}

@test "encrypt: --self adds the sender's own key" {
	keys_in
	mkmail utf8 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt --self "$HD/msg"
	decrypt "$HD/out"
	run -0 enc_keyids "$HD/enc.asc"
	assert_output "$(printf '%s\n' "${ALICE_SUB_FPR: -16}" "${BOB_SUB_FPR: -16}" | sort)"
}

@test "encrypt: -s signs in the same pass, verified by stock gpg" {
	keys_in
	mkmail mixed >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt -s "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
	decrypt "$HD/out"
	assert_line --regexp "^\[GNUPG:\] GOODSIG ${ALICE_FPR: -16} "
	assert_line --regexp "^\[GNUPG:\] VALIDSIG $ALICE_FPR "
}

@test "encrypt: -s -u and -s -g choose the signer" {
	keys_in
	hdpgp-key --passphrase-file "$HD/carol.pass" import "$KEYS/carol.sec.asc" >/dev/null
	sgpg --import "$KEYS/carol.pub.asc" 2>/dev/null
	mkmail utf8 | sed 's/^From: .*/From: Sales <sales@nokey.example>/' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt -s -u "$CAROL_FPR" "$HD/msg"
	decrypt "$HD/out"
	assert_line --regexp "^\[GNUPG:\] VALIDSIG $CAROL_FPR "
	tdbtool "$HDPGP_HOME/state.tdb" store group:sales '{"address":"alice@example.com"}' >/dev/null
	run -0 stdout_to "$HD/out" hdpgp-encrypt -s -g sales "$HD/msg"
	decrypt "$HD/out"
	assert_line --regexp "^\[GNUPG:\] VALIDSIG $ALICE_FPR "
	run -69 stdout_to "$HD/out" hdpgp-encrypt -s -g nosuch "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_output --partial nosuch
}

@test "encrypt: hdpgp-sign | hdpgp-encrypt, the nested form" {
	keys_in
	mkmail alternative >"$HD/msg"
	hdpgp-sign "$HD/msg" >"$HD/signed"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/signed"
	decrypt "$HD/out"
	assert_equal "$(mimecheck headers "$HD/out")" "$(mimecheck headers "$HD/msg")"
	# the decrypted entity is the multipart/signed one, and it verifies
	run -0 mimecheck signed "$HD/dec" "$HD/v"
	run -0 sgpg --status-fd 1 --verify "$HD/v/sig.asc" "$HD/v/part1.crlf"
	assert_line --regexp "^\[GNUPG:\] VALIDSIG $ALICE_FPR "
	assert_equal "$(mimecheck leaves "$HD/v/part1")" "$(mimecheck leaves "$HD/msg")"
}

@test "encrypt: --protect-subject moves the Subject inside" {
	keys_in
	mkmail utf8 >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt --protect-subject "$HD/msg"
	run -0 mimecheck header "$HD/out" Subject
	assert_output "[...]"
	diff <(mimecheck headers "$HD/out" | grep -v '^Subject: ') \
	    <(mimecheck headers "$HD/msg" | grep -v '^Subject: ')
	decrypt "$HD/out"
	run -0 mimecheck param "$HD/dec" protected-headers
	assert_output v1
	run -0 mimecheck param "$HD/dec" hp
	assert_output cipher
	run -0 mimecheck header "$HD/dec" Subject
	assert_output "Ticket #42: utf8"
	assert_equal "$(mimecheck leaves "$HD/dec")" "$(mimecheck leaves "$HD/msg")"
}

@test "encrypt: --protect-subject with an encoded, folded Subject" {
	keys_in
	mkmail mixed | sed 's/^Subject: .*/Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from\n the helpdesk/' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt --protect-subject "$HD/msg"
	run -0 mimecheck header "$HD/out" Subject
	assert_output "[...]"
	decrypt "$HD/out"
	run -0 mimecheck header "$HD/dec" Subject
	assert_output $'Gr\303\274\303\237e from the helpdesk'
	run -0 mimecheck param "$HD/dec" hp
	assert_output cipher
	assert_equal "$(mimecheck leaves "$HD/dec")" "$(mimecheck leaves "$HD/msg")"
}

@test "encrypt: --protect-subject refuses a Content-Type with 8-bit bytes, at once" {
	keys_in
	# a parameter name of raw 8-bit bytes: gmime, asked to add the hp
	# parameter to it, wrote without end (found by the fuzzer)
	mkmail utf8 | sed $'s/^Content-Type: .*/Content-Type: multipart\/mixed; b\xff\xfe=1; boundary=x/' >"$HD/msg"
	run -65 --separate-stderr hdpgp-encrypt --protect-subject "$HD/msg"
	assert_output ""
	assert_equal "$stderr" "hdpgp-encrypt: the message's Content-Type holds 8-bit bytes"
}

@test "encrypt: a recipient without a key is refused, nothing on stdout" {
	keys_in
	hdpgp-key delete bob@example.org >/dev/null
	mkmail utf8 >"$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 1
	assert_output --partial "bob@example.org"
	assert_output --partial "no public key"
	# the local part as written: Bob@ is not bob@
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	sed -i 's/^To: .*/To: <Bob@example.org>/' "$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_output --partial "Bob@example.org"
	assert_output --partial "no public key"
}

@test "encrypt: an expired recipient key is refused with its expiry" {
	keys_in
	hdpgp-key import "$KEYS/expired.pub.asc" >/dev/null
	mkmail utf8 | sed 's/^To: .*/To: <expired@example.org>/' >"$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 1
	[[ $output == *expired@example.org*expired*2021-01-01* ]]
}

@test "encrypt: a revoked recipient key is refused as revoked" {
	keys_in
	hdpgp-key import "$KEYS/revoked.pub.asc" >/dev/null
	mkmail utf8 | sed 's/^To: .*/To: <revoked@example.org>/' >"$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 1
	[[ $output == *revoked@example.org*revoked* ]]
}

@test "encrypt: every unusable recipient is named at once" {
	keys_in
	hdpgp-key import "$KEYS/expired.pub.asc" "$KEYS/revoked.pub.asc" >/dev/null
	mkmail utf8 | sed -e 's/^To: .*/To: bob@example.org, nokey1@example.net/' \
	    -e 's/^Subject: /Cc: <expired@example.org>\nBcc: revoked@example.org\nSubject: /' >"$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-encrypt -r nokey2@example.com "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 4
	assert_line --regexp 'nokey1@example.net.*no public key'
	assert_line --regexp 'nokey2@example.com.*no public key'
	assert_line --regexp 'expired@example.org.*expired'
	assert_line --regexp 'revoked@example.org.*revoked'
	refute_output --partial bob@example.org
}

@test "encrypt -s: a missing signer key and a missing recipient key, both named" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	mkmail utf8 >"$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-encrypt -s "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 2
	assert_line --regexp 'alice@example.com.*secret key'
	assert_line --regexp 'bob@example.org.*no public key'
}

@test "encrypt: a key with a revoked user ID still serves its valid address" {
	keys_in
	hdpgp-key import "$KEYS/revuid.pub.asc" >/dev/null
	mkmail utf8 | sed 's/^To: .*/To: <new@example.org>/' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	run -0 mimecheck encrypted "$HD/out" "$HD/enc.asc"
	run -0 enc_keyids "$HD/enc.asc"
	assert_output "$(enc_subkey "$KEYS/revuid.pub.asc")"
	# the revoked user ID's address selects nothing
	sed -i 's/^To: .*/To: <old@example.org>/' "$HD/msg"
	run -69 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	[ ! -s "$HD/out" ]
	assert_output --partial old@example.org
	assert_output --partial "no public key"
}

@test "encrypt: a second key for an address does not take it over; prefer does" {
	keys_in
	hdpgp-key import "$KEYS/dup-old.pub.asc" "$KEYS/dup-new.pub.asc" >/dev/null 2>&1
	mkmail utf8 | sed 's/^To: .*/To: <dup@example.org>/' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	run -0 mimecheck encrypted "$HD/out" "$HD/enc.asc"
	run -0 enc_keyids "$HD/enc.asc"
	assert_output "$(enc_subkey "$KEYS/dup-old.pub.asc")"
	[ -n "$output" ]
	hdpgp-key -q prefer "$DUPNEW_FPR" dup@example.org
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	run -0 mimecheck encrypted "$HD/out" "$HD/enc.asc"
	run -0 enc_keyids "$HD/enc.asc"
	assert_output "$(enc_subkey "$KEYS/dup-new.pub.asc")"
}

@test "encrypt: a domain alias serves an address without a key" {
	keys_in
	hdpgp-key alias "$BOB_FPR" corp.example
	mkmail utf8 | sed 's/^To: .*/To: Help <help@corp.example>/' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	check_encrypted "$HD/msg" "$HD/out"
}

@test "encrypt: an encrypted message passes through unchanged, a signed one does not" {
	keys_in
	mkmail mixed >"$HD/msg"
	hdpgp-encrypt "$HD/msg" >"$HD/out1"
	run -0 stdout_to "$HD/out2" hdpgp-encrypt "$HD/out1"
	cmp "$HD/out1" "$HD/out2"
	run -0 --separate-stderr stdout_to "$HD/out2" hdpgp-encrypt -q -s "$HD/out1"
	assert_equal "$stderr" ""
	cmp "$HD/out1" "$HD/out2"
	# signed, then encrypted: not the same message
	hdpgp-sign "$HD/msg" >"$HD/signed"
	run -0 stdout_to "$HD/out3" hdpgp-encrypt "$HD/signed"
	run -0 mimecheck encrypted "$HD/out3" "$HD/enc.asc"
}

@test "encrypt: exit codes for usage, bad input and a missing file" {
	keys_in
	run -64 stdout_to "$HD/out" hdpgp-encrypt --bogus
	[ ! -s "$HD/out" ]
	run -64 hdpgp-encrypt "$HD/a" "$HD/b"
	run -65 stdout_to "$HD/out" hdpgp-encrypt </dev/null
	[ ! -s "$HD/out" ]
	printf 'this is not a mail message\n' >"$HD/junk"
	run -65 stdout_to "$HD/out" hdpgp-encrypt "$HD/junk"
	[ ! -s "$HD/out" ]
	run -64 stdout_to "$HD/out" hdpgp-encrypt -s -u alice@example.com -g sales "$HD/junk"
	[ ! -s "$HD/out" ]
	# no recipient at all
	mkmail utf8 | grep -v '^To: ' >"$HD/norcpt"
	run -65 stdout_to "$HD/out" hdpgp-encrypt "$HD/norcpt"
	[ ! -s "$HD/out" ]
	# ... until -r names one
	run -0 stdout_to "$HD/out" hdpgp-encrypt -r bob@example.org "$HD/norcpt"
	check_encrypted "$HD/norcpt" "$HD/out"
	# without -s or --self, no From is needed
	mkmail utf8 | grep -v '^From: ' >"$HD/nofrom"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/nofrom"
	check_encrypted "$HD/nofrom" "$HD/out"
	run -66 stdout_to "$HD/out" hdpgp-encrypt "$HD/missing"
	[ ! -s "$HD/out" ]
	assert_output --partial "$HD/missing"
	run -0 --separate-stderr hdpgp-encrypt -h
	assert_output --partial "usage: hdpgp-encrypt"
	run -0 hdpgp-encrypt -V
	assert_output --regexp '^hdpgp-encrypt [0-9.]+$'
}

@test "encrypt -s: a message without From, and no -u, is bad input" {
	keys_in
	mkmail utf8 | grep -v '^From: ' >"$HD/nofrom"
	run -65 stdout_to "$HD/out" hdpgp-encrypt -s "$HD/nofrom"
	[ ! -s "$HD/out" ]
	assert_equal "${#lines[@]}" 1
	assert_output --partial From
	run -65 stdout_to "$HD/out" hdpgp-encrypt --self "$HD/nofrom"
	[ ! -s "$HD/out" ]
}

@test "encrypt: log records for success, skipped and failed" {
	keys_in
	mkmail utf8 >"$HD/msg"
	hdpgp-encrypt "$HD/msg" >"$HD/out"
	hdpgp-encrypt "$HD/out" >"$HD/out2"
	hdpgp-encrypt -s "$HD/msg" >"$HD/out3"
	sed 's/^To: .*/To: <nokey@example.net>/' "$HD/msg" >"$HD/nokey"
	run -69 hdpgp-encrypt "$HD/nokey"
	run -0 --separate-stderr hd_log
	jq -e -s --arg a "$ALICE_FPR" --arg b "$BOB_FPR" '
	    [.[] | select(.action == "encrypt" or .action == "sign+encrypt")] |
	    length == 4 and all(.direction == "out") and
	    (map([.action, .result]) == [["encrypt", "success"],
		["encrypt", "skipped"], ["sign+encrypt", "success"],
		["encrypt", "failed"]]) and
	    (.[0].keys | tostring | contains($b)) and
	    (.[0].message_id | tostring | contains("utf8.42@helpdesk.example.com")) and
	    (.[0].from | tostring | contains("alice@example.com")) and
	    (.[0].to | tostring | contains("bob@example.org")) and
	    (.[2].keys | tostring | contains($a)) and
	    (.[3].to | tostring | contains("nokey@example.net")) and
	    (.[3].comment | tostring | contains("nokey@example.net"))' <<<"$output"
}

@test "encrypt -s: the passphrase is in no child's argv or environment" {
	keys_in
	start_agent
	mkmail utf8 >"$HD/msg"
	trace_execs "$HD/trace" hdpgp-encrypt -s "$HD/msg" >"$HD/out"
	decrypt "$HD/out"
	assert_line --regexp "^\[GNUPG:\] VALIDSIG $ALICE_FPR "
	grep -q 'execve("/usr/bin/gpg' "$HD/trace"
	run -1 grep -c -e "$ALICE_PASS" "$HD/trace"
	assert_output 0
}

@test "encrypt: at most 2 programs per message, never gpgconf or gpgsm" {
	keys_in
	start_agent
	mkmail mixed >"$HD/msg"
	run -0 count_execs hdpgp-encrypt "$HD/msg"
	[ "$output" -le 2 ]
	run -1 grep -E 'execve\("[^"]*(gpgconf|gpgsm)"' "$HD/strace.out"
	# signing costs what hdpgp-sign may spend, no more
	run -0 count_execs hdpgp-encrypt -s "$HD/msg"
	[ "$output" -le 3 ]
	run -1 grep -E 'execve\("[^"]*(gpgconf|gpgsm)"' "$HD/strace.out"
	# none for a message passed through or refused for want of a key
	hdpgp-encrypt "$HD/msg" >"$HD/enc"
	run -0 count_execs hdpgp-encrypt "$HD/enc"
	assert_output 0
	run -0 count_execs hdpgp-encrypt -r nokey@example.net "$HD/msg"
	assert_output 0
}

@test "interop: the RT corpus: encrypted mails pass through, signed ones still verify inside" {
	[ -d "$CORPUS" ] || skip "../shared/corpus is absent"
	local k=$CORPUS/keys f
	hdpgp-key import "$k/rt-recipient-at-example.com.public.key" >/dev/null
	printf 'rt-test\n' >"$HD/rt.pass"
	sgpg --passphrase-file "$HD/rt.pass" --import "$k/rt-recipient-at-example.com.secret.key" 2>/dev/null
	sgpg --import "$k/rt-test-at-example.com.public.key" 2>/dev/null
	for f in "$CORPUS"/emails/{7,8,9,13,14,15,20}-*.txt; do
		run -0 stdout_to "$HD/out" hdpgp-encrypt "$f"
		cmp "$f" "$HD/out"
	done
	# a multipart/signed by Thunderbird or mutt is opaque: encrypted as
	# it is, its signature still good for stock gpg once decrypted
	for f in "$CORPUS"/emails/{1,2,3,6}-*.txt; do
		run -0 stdout_to "$HD/out" hdpgp-encrypt "$f"
		rm -rf "$HD/orig" "$HD/v" "$HD/dec"
		mimecheck signed "$f" "$HD/orig" >/dev/null
		run -0 mimecheck encrypted "$HD/out" "$HD/enc.asc"
		run -0 sgpg --passphrase-file "$HD/rt.pass" --decrypt -o "$HD/dec" "$HD/enc.asc"
		run -0 mimecheck signed "$HD/dec" "$HD/v"
		cmp "$HD/orig/part1.crlf" "$HD/v/part1.crlf"
		run -0 sgpg --status-fd 1 --verify "$HD/v/sig.asc" "$HD/v/part1.crlf"
		assert_line --regexp '^\[GNUPG:\] VALIDSIG F0CB3B482CFA485680A4A0BDD328035D84881F1B '
	done
}
