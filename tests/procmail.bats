#!/usr/bin/env bats
# examples/procmailrc and examples/mailfilter, run by the real procmail and
# maildrop: incoming mail decrypted and verified on delivery to a maildir.

bats_require_minimum_version 1.5.0
load helpers

# The sender's store ($HD/snd): alice's secret key, the public keys of
# bob and carol.  Ours (HDPGP_HOME): bob's secret key, alice's public key.
# Imported once for the file (helpers.bash: fixtures).
import_keys() {
	hdpgp-key -d "$HD/snd" --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-key -d "$HD/snd" import "$KEYS/bob.pub.asc" "$KEYS/carol.pub.asc" >/dev/null
	hdpgp-key --passphrase-file "$HD/bob.pass" import "$KEYS/bob.sec.asc" >/dev/null
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
}

hd_keys_fixture

setup() {
	hd_setup
	hd_restore keys
	SND=$HD/snd
	mkdir -p "$HD/Maildir/cur" "$HD/Maildir/new" "$HD/Maildir/tmp"
	mkmail plain | sed 's/answered\./answered: SECRET-7f3a./' >"$HD/msg"
}

teardown() {
	hd_agent_may_run "$SND/gnupg" && gpgconf --homedir "$SND/gnupg" --kill gpg-agent 2>/dev/null
	hd_teardown
}

# Deliver file $1 through examples/procmailrc to $HD/Maildir, with nothing
# of the test's environment but PATH (hdpgp first), HDPGP_HOME and the
# locale.
procmail_deliver() {
	command -v procmail >/dev/null || skip "procmail is not installed"
	env -i HOME="$HD" LC_ALL=C TZ=UTC procmail -m PATH="$PATH" \
	    HDPGP_HOME="$HDPGP_HOME" MAILDIR="$HD" INBOX="$HD/Maildir/" \
	    LOGFILE="$HD/procmail.log" "$HDPGP_SRCDIR/examples/procmailrc" <"$1"
}

# The same through examples/mailfilter: maildrop resets PATH, so a filter
# file of the test's own sets it and includes the example; maildrop wants
# it private and owned by the user.
maildrop_deliver() {
	command -v maildrop >/dev/null || skip "maildrop is not installed"
	cat >"$HD/mailfilter" <<-EOF
	PATH="$PATH"
	INBOX="$HD/Maildir/"
	include "$HDPGP_SRCDIR/examples/mailfilter"
	EOF
	chmod 600 "$HD/mailfilter"
	env -i HOME="$HD" LC_ALL=C TZ=UTC HDPGP_HOME="$HDPGP_HOME" \
	    maildrop "$HD/mailfilter" <"$1"
}

# OUT below its two verdict lines is IN: same_after_verdict OUT IN VIA.
# procmail ends a message it has filtered with an empty line (for mbox
# folders, even in a maildir): that line is not the filter's.
same_after_verdict() {
	if [ "$3" = procmail ]; then
		tail -n +3 "$1" | sed '${/^$/d}' | cmp - "$2"
	else
		tail -n +3 "$1" | cmp - "$2"
	fi
}

# The one message delivered, to file $1.
delivered() {
	local f
	f=$(find "$HD/Maildir/new" "$HD/Maildir/cur" -type f)
	[ -n "$f" ] && [ "$(printf '%s\n' "$f" | wc -l)" -eq 1 ] || {
		echo "delivered: not one message: $f" >&2
		return 1
	}
	cp "$f" "$1"
}

# Mail from alice to bob, encrypted to bob and signed by alice in one pass.
check_encrypted_signed() {
	local via=$1
	hdpgp-encrypt -d "$SND" -s "$HD/msg" >"$HD/in"
	run -0 --separate-stderr "${via}_deliver" "$HD/in"
	assert_output ""
	assert_equal "$stderr" ""
	delivered "$HD/out"
	run -0 sed -n 1,2p "$HD/out"
	assert_line -n 0 "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"Alice Helpdesk (INSECURE test key) <alice@example.com>\"; from-match=yes; coverage=full"
	assert_line -n 1 "X-Hdpgp-Encryption: decrypted; key=$BOB_FPR; coverage=full"
	run -0 mimecheck leaves "$HD/out"
	assert_output "$(mimecheck leaves "$HD/msg")"
	grep -q 'SECRET-7f3a' "$HD/out"
	run -1 grep -c 'BEGIN PGP MESSAGE' "$HD/out"
}

# A signed mail: the verdict on top, the message below it byte for byte.
check_signed() {
	local via=$1
	hdpgp-sign -d "$SND" "$HD/msg" >"$HD/in"
	run -0 --separate-stderr "${via}_deliver" "$HD/in"
	assert_output ""
	assert_equal "$stderr" ""
	delivered "$HD/out"
	run -0 sed -n 1,2p "$HD/out"
	assert_line -n 0 "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"Alice Helpdesk (INSECURE test key) <alice@example.com>\"; from-match=yes; coverage=full"
	assert_line -n 1 "X-Hdpgp-Encryption: none"
	same_after_verdict "$HD/out" "$HD/in" "$via"
}

# Plain mail goes through no filter: delivered unchanged.
check_plain() {
	local via=$1
	run -0 --separate-stderr "${via}_deliver" "$HD/msg"
	assert_output ""
	assert_equal "$stderr" ""
	delivered "$HD/out"
	cmp "$HD/out" "$HD/msg"
}

# Plain mail with forged verdict fields: they are removed, ours added.
check_forged() {
	local via=$1
	{
		printf 'X-Hdpgp-Signature: good; signer=%s\n' "$ALICE_FPR"
		printf 'X-HDPGP-Encryption: decrypted\n'
		cat "$HD/msg"
	} >"$HD/in"
	run -0 --separate-stderr "${via}_deliver" "$HD/in"
	assert_equal "$stderr" ""
	delivered "$HD/out"
	run -0 grep -ci '^X-Hdpgp-' "$HD/out"
	assert_output 2
	run -0 sed -n 1,2p "$HD/out"
	assert_output $'X-Hdpgp-Signature: none\nX-Hdpgp-Encryption: none'
	same_after_verdict "$HD/out" "$HD/msg" "$via"
}

# Encrypted to carol, whose secret key we lack: kept as it came, the
# verdict on top, not one byte of plaintext; decrypted later, once the key
# is imported.
check_no_key() {
	local via=$1
	sed 's/^To: .*/To: Carol <carol@example.net>/' "$HD/msg" >"$HD/msg.carol"
	hdpgp-encrypt -d "$SND" -s "$HD/msg.carol" >"$HD/in"
	run -0 --separate-stderr "${via}_deliver" "$HD/in"
	assert_output ""
	assert_equal "$stderr" ""
	delivered "$HD/out"
	run -0 sed -n 1,2p "$HD/out"
	assert_line -n 0 "X-Hdpgp-Signature: none"
	assert_line -n 1 --regexp '^X-Hdpgp-Encryption: failed; reason="[^"]+"$'
	same_after_verdict "$HD/out" "$HD/in" "$via"
	run -1 grep -c 'SECRET-7f3a' "$HD/out"
	# carol's key imported, the mail as delivered decrypts
	hdpgp-key --passphrase-file "$HD/carol.pass" import "$KEYS/carol.sec.asc" >/dev/null
	run -0 --separate-stderr hdpgp-decrypt "$HD/out"
	assert_line -n 1 --regexp "^X-Hdpgp-Encryption: decrypted; key=$CAROL_FPR; "
	assert_output --partial 'SECRET-7f3a'
}

# The filter fails (a state directory others can write to: 78): exit 75,
# so that the MTA keeps the mail; nothing is delivered.
check_tempfail() {
	local via=$1
	hdpgp-sign -d "$SND" "$HD/msg" >"$HD/in"
	mkdir -m 777 "$HD/open"
	chmod 777 "$HD/open"
	HDPGP_HOME=$HD/open run -75 "${via}_deliver" "$HD/in"
	run -0 find "$HD/Maildir" -type f
	assert_output ""
}

@test "procmailrc: encrypted and signed mail is delivered decrypted and verified" {
	check_encrypted_signed procmail
}

@test "procmailrc: signed mail is delivered with its verdict" {
	check_signed procmail
}

@test "procmailrc: plain mail is delivered unchanged" {
	check_plain procmail
}

@test "procmailrc: forged verdict fields are replaced" {
	check_forged procmail
}

@test "procmailrc: mail for a key we lack is delivered as it came, verdict failed" {
	check_no_key procmail
}

@test "procmailrc: a failing filter gives 75 and delivers nothing" {
	check_tempfail procmail
}

@test "mailfilter: encrypted and signed mail is delivered decrypted and verified" {
	check_encrypted_signed maildrop
}

@test "mailfilter: signed mail is delivered with its verdict" {
	check_signed maildrop
}

@test "mailfilter: plain mail is delivered unchanged" {
	check_plain maildrop
}

@test "mailfilter: forged verdict fields are replaced" {
	check_forged maildrop
}

@test "mailfilter: mail for a key we lack is delivered as it came, verdict failed" {
	check_no_key maildrop
}

@test "mailfilter: a failing filter gives 75 and delivers nothing" {
	check_tempfail maildrop
}
