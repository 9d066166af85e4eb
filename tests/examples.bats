#!/usr/bin/env bats
# The scripts in examples/, run for real.

bats_require_minimum_version 1.5.0
load helpers

# alice's secret key and bob's public key in the store; the outside party
# holds bob's secret key and alice's public key.  Imported once for the
# file (helpers.bash: fixtures).
import_keys() {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	sgpg --import "$KEYS/alice.pub.asc" 2>/dev/null
	sgpg --import "$KEYS/bob.sec.asc" 2>/dev/null
}

hd_keys_fixture

setup() {
	hd_setup
	hd_restore keys
	export TMPDIR=$HD/tmp
	mkdir "$TMPDIR"
	# A fake sendmail: the message to $HD/sent, one argument a line to
	# $HD/argv.
	cat >"$HD/sendmail" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$@" >"$HD/argv"
	cat >"$HD/sent"
	EOF
	chmod +x "$HD/sendmail"
	export SENDMAIL="$HD/sendmail -t -oi"
}

teardown() {
	hd_teardown
}

@test "send-reply: the reply goes out signed and encrypted" {
	mkmail utf8 >"$HD/reply"
	cp "$HD/reply" "$HD/reply.orig"
	run -0 --separate-stderr "$HDPGP_SRCDIR/examples/send-reply" --self <"$HD/reply"
	assert_output ""
	assert_equal "$stderr" ""
	run -0 cat "$HD/argv"
	assert_output $'-t\n-oi'
	# RFC 3156 multipart/encrypted, the headers outside as they were
	run -0 mimecheck encrypted "$HD/sent" "$HD/sent.asc"
	assert_equal "$(mimecheck headers "$HD/sent")" "$(mimecheck headers "$HD/reply")"
	# to bob and, --self, to alice
	run -0 enc_keyids "$HD/sent.asc"
	assert_output "$(printf '%s\n' "${ALICE_SUB_FPR: -16}" "${BOB_SUB_FPR: -16}" | sort)"
	# stock gpg decrypts it with bob's key, and alice's signature is good
	run -0 sgpg --status-fd 1 --passphrase-file "$HD/bob.pass" \
	    -o "$HD/inner" -d "$HD/sent.asc"
	assert_output --partial "[GNUPG:] DECRYPTION_OKAY"
	assert_output --regexp "VALIDSIG $ALICE_FPR "
	assert_output --partial "[GNUPG:] GOODSIG"
	refute_output --partial "BADSIG"
	assert_equal "$(mimecheck leaves "$HD/inner")" "$(mimecheck leaves "$HD/reply")"
	# the reply was not changed, and no temporary file is left
	cmp "$HD/reply" "$HD/reply.orig"
	run -0 ls -A "$TMPDIR"
	assert_output ""
}

@test "send-reply: a recipient without a key: exit 69, nothing sent" {
	mkmail utf8 | sed 's/^To: .*/To: Bob <bob@example.org>, <nokey@example.org>/' >"$HD/reply"
	cp "$HD/reply" "$HD/reply.orig"
	run -69 --separate-stderr "$HDPGP_SRCDIR/examples/send-reply" -g nosuch "$HD/reply"
	assert_output ""
	# every problem at once, one line each
	assert_equal "$stderr" "hdpgp-encrypt: group nosuch: no such group
hdpgp-encrypt: nokey@example.org: no public key"
	run -69 --separate-stderr "$HDPGP_SRCDIR/examples/send-reply" "$HD/reply"
	assert_output ""
	assert_equal "$stderr" "hdpgp-encrypt: nokey@example.org: no public key"
	# the fake sendmail never ran, the reply is kept, nothing is left over
	[ ! -e "$HD/argv" ]
	[ ! -e "$HD/sent" ]
	cmp "$HD/reply" "$HD/reply.orig"
	run -0 ls -A "$TMPDIR"
	assert_output ""
}
