#!/usr/bin/env bats
# hdpgp-key: the key store.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	hd_setup
}

teardown() {
	hd_teardown
}

# The fingerprints the store lists, sorted.
listed() {
	hdpgp-key list -j | jq -r '.[].fingerprint' | sort
}

# shellcheck source=keys/takeover.env
. "$KEYS/takeover.env"

# The log records of action $1, as JSON lines.
log_of() {
	hd_log | jq -c --arg a "$1" 'select(.action == $a)'
}

# The encryption key IDs of a message from alice to $1, encrypted by hdpgp.
enc_to() {
	mkmail plain | sed "s/^To: .*/To: <$1>/" >"$HD/msg"
	hdpgp-encrypt "$HD/msg" >"$HD/out" || return
	mimecheck encrypted "$HD/out" "$HD/enc.asc" >/dev/null
	enc_keyids "$HD/enc.asc"
}

# The fingerprints hdpgp's GnuPG home holds (public, or secret with -K).
in_gnupg() {
	hgpg ${1:---list-keys} 2>/dev/null |
	    awk -F: '$1 == "pub" || $1 == "sec" { p = 1; next }
		$1 == "fpr" && p { print $10; p = 0 }' | sort
}

@test "import: an armored public key" {
	run -0 hdpgp-key import "$KEYS/alice.pub.asc"
	assert_output "$ALICE_FPR imported     pub Alice Helpdesk (INSECURE test key) <alice@example.com>
$ALICE_FPR serves       alice@example.com"
	run -0 hdpgp-key list
	assert_output --regexp "^$ALICE_FPR pub valid +[0-9-]{10} never +alias=- pass=no alice@example.com$"
	run -0 in_gnupg
	assert_output "$ALICE_FPR"
}

@test "import: an armored secret key with the right passphrase" {
	run -0 hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc"
	assert_output --partial "$ALICE_FPR imported     sec"
	run -0 hdpgp-key list -j
	[ "$(jq -r '.[0].secret, .[0].passphrase_stored' <<<"$output")" = $'true\ntrue' ]
	run -0 in_gnupg -K
	assert_output "$ALICE_FPR"
	# The passphrase arrives on a descriptor just as well.
	run -0 hdpgp-key --passphrase-fd 3 import "$KEYS/bob.sec.asc" 3<"$HD/bob.pass"
	assert_output --partial "$BOB_FPR imported     sec"
}

@test "import: a secret key with a wrong passphrase changes nothing" {
	run -65 hdpgp-key --passphrase-file "$HD/wrong.pass" import "$KEYS/alice.sec.asc"
	assert_output "hdpgp-key: $KEYS/alice.sec.asc: $ALICE_FPR: passphrase is invalid"
	run -0 listed
	assert_output ""
	run -0 in_gnupg
	assert_output ""
	run -0 in_gnupg -K
	assert_output ""
	# no scratch home is left behind
	run -0 find "$HDPGP_HOME" -maxdepth 1 -name 'scratch.*'
	assert_output ""
}

@test "import: a secret key without a passphrase changes nothing" {
	run -65 notty hdpgp-key import "$KEYS/alice.sec.asc"
	assert_output "hdpgp-key: $KEYS/alice.sec.asc: $ALICE_FPR: passphrase required"
	run -0 listed
	assert_output ""
	run -0 in_gnupg -K
	assert_output ""
}

@test "import: an unprotected secret key is accepted with a warning" {
	run -0 notty hdpgp-key import "$KEYS/plain.sec.asc"
	assert_output --partial "$PLAIN_FPR imported     sec"
	assert_output --partial "warning: secret key is not protected by a passphrase"
	run -0 hdpgp-key list "$PLAIN_FPR"
	assert_output --partial " sec valid "
	assert_output --partial "pass=no"
}

@test "import: a binary key and a binary keyring of several keys" {
	run -0 hdpgp-key import "$KEYS/bob.pub.gpg"
	assert_output --partial "$BOB_FPR imported     pub"
	run -0 hdpgp-key import "$KEYS/keyring.gpg"
	assert_line --partial "$ALICE_FPR imported"
	assert_line --partial "$BOB_FPR unchanged"
	assert_line --partial "$CAROL_FPR imported"
	run -0 listed
	assert_output "$(printf '%s\n' "$ALICE_FPR" "$BOB_FPR" "$CAROL_FPR" | sort)"
}

@test "import: armor pasted on stdin with blank lines and indentation" {
	{ printf '\n\n   \n'; sed 's/^/   /; s/$/  /' "$KEYS/carol.pub.asc"; printf '\n\t\n'; } >"$HD/pasted"
	run -0 hdpgp-key import <"$HD/pasted"
	assert_output --partial "$CAROL_FPR imported     pub"
	run -0 hdpgp-key show carol@example.net
	assert_line "fingerprint  $CAROL_FPR"
}

@test "import: data without a key is refused and nothing changes" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	printf 'Hello, this is not a key.\n' >"$HD/nokey"
	run -65 hdpgp-key import "$HD/nokey"
	assert_output "hdpgp-key: $HD/nokey: no OpenPGP key found in the input"
	run -65 hdpgp-key import </dev/null
	assert_output "hdpgp-key: stdin: no OpenPGP key found in the input"
	run -66 hdpgp-key import "$HD/missing"
	assert_output "hdpgp-key: $HD/missing: No such file or directory"
	run -0 listed
	assert_output "$ALICE_FPR"
}

@test "import: a key already present says so and succeeds" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	run -0 --separate-stderr hdpgp-key import "$KEYS/alice.pub.asc"
	assert_output --partial "$ALICE_FPR unchanged    pub"
	[ "$stderr" = "hdpgp-key: $ALICE_FPR: already present" ]
	run -0 --separate-stderr hdpgp-key -q import "$KEYS/alice.pub.asc"
	[ -z "$stderr" ]
}

@test "import: the secret half upgrades a known public key" {
	hdpgp-key --domain-alias example.com import "$KEYS/alice.pub.asc" >/dev/null
	run -0 hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc"
	assert_output --partial "$ALICE_FPR secret-added sec"
	run -0 hdpgp-key list alice
	assert_output --regexp "^$ALICE_FPR sec valid .* alias=example.com pass=yes alice@example.com$"
}

@test "import: expired and revoked keys are imported and marked" {
	run -0 hdpgp-key import "$KEYS/expired.pub.asc" "$KEYS/revoked.pub.asc"
	run -0 hdpgp-key list expired@example.org
	assert_output --regexp "^$EXPIRED_FPR pub expired +2020-01-01 2021-01-01 "
	run -0 hdpgp-key list revoked@example.org
	assert_output --regexp "^$REVOKED_FPR pub revoked "
	run -0 hdpgp-key -j show "$REVOKED_FPR"
	[ "$(jq -r '.[0].status, .[0].revoked' <<<"$output")" = $'revoked\ntrue' ]
}

@test "import: a key whose only user ID has no email address" {
	run -0 hdpgp-key import "$KEYS/noemail.pub.asc"
	assert_output --partial "warning: no user ID with an email address"
	run -0 hdpgp-key list
	assert_output --regexp "^$NOEMAIL_FPR pub valid .* \(no email\)$"
	run -0 hdpgp-key show "$NOEMAIL_FPR"
	assert_line "uid          No Email (INSECURE test key)"
}

@test "import: --domain-alias sets the alias on import" {
	run -0 hdpgp-key --domain-alias Example.COM import "$KEYS/alice.pub.asc"
	run -0 hdpgp-key -j list
	[ "$(jq -r '.[0].alias' <<<"$output")" = example.com ]
	run -64 hdpgp-key --domain-alias 'not a domain' import "$KEYS/bob.pub.asc"
	assert_output --partial "not a domain"
	run -0 listed
	assert_output "$ALICE_FPR"
}

@test "list and show: text and JSON" {
	hdpgp-key import "$KEYS/alice.pub.asc" "$KEYS/bob.pub.asc" >/dev/null
	hdpgp-key --passphrase-file "$HD/carol.pass" import "$KEYS/carol.sec.asc" >/dev/null
	run -0 hdpgp-key list
	assert_equal "${#lines[@]}" 3
	# sorted by address
	assert_line -n 0 --partial alice@example.com
	assert_line -n 1 --partial bob@example.org
	assert_line -n 2 --partial carol@example.net
	run -0 hdpgp-key list -j
	jq -e 'length == 3' <<<"$output"
	jq -e --arg f "$CAROL_FPR" '.[] | select(.fingerprint == $f) |
	    .secret and .status == "valid" and .emails == ["carol@example.net"]
	    and (.subkeys | length == 2) and .expires == null
	    and (.subkeys[1].capabilities | index("encrypt"))' <<<"$output"
	run -0 hdpgp-key list BOB
	assert_output --partial "$BOB_FPR"
	assert_equal "${#lines[@]}" 1
	run -0 hdpgp-key show carol@EXAMPLE.net
	assert_line "fingerprint  $CAROL_FPR"
	assert_line "type         secret"
	assert_line "passphrase   stored"
	assert_line --regexp "^primary +$CAROL_FPR rsa3072 sign,certify created .* secret$"
	assert_line --regexp "^subkey +$CAROL_SUB_FPR rsa3072 encrypt created .* secret$"
	# by long key ID, by subkey fingerprint, and 0x-prefixed
	run -0 hdpgp-key show "${CAROL_FPR: -16}"
	assert_line "fingerprint  $CAROL_FPR"
	run -0 hdpgp-key show "$CAROL_SUB_FPR"
	assert_line "fingerprint  $CAROL_FPR"
	run -0 hdpgp-key -j show "0x${BOB_FPR: -16}"
	jq -e --arg f "$BOB_FPR" '.[0].fingerprint == $f and .[0].secret == false' <<<"$output"
	# exact addresses only: no substring, and the local part as written
	run -66 hdpgp-key show carol@example
	assert_output "hdpgp-key: carol@example: no such key"
	run -66 hdpgp-key show Carol@example.net
	run -64 hdpgp-key show 'not an address'
}

@test "list on a state directory that does not exist creates nothing" {
	run -0 hdpgp-key list
	assert_output ""
	[ ! -e "$HDPGP_HOME" ]
	run -0 hdpgp-key list -j
	assert_output "[]"
}

@test "export: public key, importable by stock gpg" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	run -0 hdpgp-key export alice@example.com
	assert_line -n 0 -- "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	hdpgp-key export alice@example.com >"$HD/out.asc"
	sgpg --import "$HD/out.asc"
	run -0 sgpg --with-colons --list-keys "$ALICE_FPR"
	assert_output --partial "alice@example.com"
	hdpgp-key export --binary "$ALICE_FPR" >"$HD/out.gpg"
	run -0 sgpg --list-packets "$HD/out.gpg"
	assert_output --partial ":public key packet:"
}

@test "export --secret: importable by stock gpg with the same passphrase" {
	hdpgp-key --passphrase-file "$HD/bob.pass" import "$KEYS/bob.sec.asc" >/dev/null
	hdpgp-key export --secret bob@example.org >"$HD/sec.asc"
	run -0 head -1 "$HD/sec.asc"
	assert_output -- "-----BEGIN PGP PRIVATE KEY BLOCK-----"
	sgpg --passphrase-file "$HD/bob.pass" --import "$HD/sec.asc"
	echo hello >"$HD/msg"
	# still protected: the wrong passphrase does not unlock it
	run sgpg --passphrase-file "$HD/wrong.pass" -u "$BOB_FPR" --detach-sign -o "$HD/bad.sig" "$HD/msg"
	assert_failure
	sgpg --passphrase-file "$HD/bob.pass" -u "$BOB_FPR" --detach-sign -o "$HD/msg.sig" "$HD/msg"
	run -0 sgpg --verify "$HD/msg.sig" "$HD/msg"
}

@test "export --secret of a public-only key is an error" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	run -65 --separate-stderr hdpgp-key export --secret alice@example.com
	assert_equal "$output" ""
	assert_equal "$stderr" "hdpgp-key: $ALICE_FPR: no secret key (public key only)"
}

@test "two keys for one address: show lists both, export must be told which" {
	hdpgp-key import "$KEYS/dup-old.pub.asc" "$KEYS/dup-new.pub.asc" >/dev/null
	run -0 hdpgp-key show dup@example.org
	assert_line "fingerprint  $DUPOLD_FPR"
	assert_line "fingerprint  $DUPNEW_FPR"
	run -64 hdpgp-key export dup@example.org
	assert_output --partial "2 keys match"
	run -0 hdpgp-key export "$DUPNEW_FPR"
}

@test "a revoked user ID's address does not select the key" {
	hdpgp-key import "$KEYS/revuid.pub.asc" >/dev/null
	run -0 hdpgp-key list
	assert_output --regexp "^$REVUID_FPR pub valid .* new@example.org$"
	run -0 hdpgp-key show new@example.org
	assert_line "uid          Revuid Old (INSECURE test key) <old@example.org> (revoked)"
	run -66 hdpgp-key show old@example.org
}

@test "delete: key and metadata go, export then fails" {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	run -0 hdpgp-key delete alice@example.com
	assert_output "hdpgp-key: alice@example.com: deleted"
	run -0 listed
	assert_output "$BOB_FPR"
	run -0 in_gnupg
	assert_output "$BOB_FPR"
	run -0 in_gnupg -K
	assert_output ""
	run -66 hdpgp-key export "$ALICE_FPR"
	assert_output "hdpgp-key: $ALICE_FPR: no such key"
	run -66 hdpgp-key delete "$ALICE_FPR"
	# the key comes back cleanly
	run -0 hdpgp-key import "$KEYS/alice.pub.asc"
	assert_output --partial "$ALICE_FPR imported"
}

@test "alias: set and clear" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	run -0 hdpgp-key alias alice@example.com Example.NET
	run -0 hdpgp-key list
	assert_output --partial "alias=example.net"
	run -0 hdpgp-key -j show "$ALICE_FPR"
	[ "$(jq -r '.[0].alias' <<<"$output")" = example.net ]
	run -0 hdpgp-key list example.net
	assert_output --partial "$ALICE_FPR"
	run -0 hdpgp-key alias "$ALICE_FPR" --none
	run -0 hdpgp-key list
	assert_output --partial "alias=-"
	run -64 hdpgp-key alias "$ALICE_FPR" 'bad@domain'
	run -64 hdpgp-key alias "$ALICE_FPR"
}

@test "generate: a key usable at once with stock gpg" {
	run -0 hdpgp-key --passphrase-file "$HD/alice.pass" generate helpdesk@example.com --name "Helpdesk (INSECURE test key)"
	fpr=$output
	[[ $fpr =~ ^[0-9A-F]{40}$ ]]
	run -0 hdpgp-key -j show helpdesk@example.com
	jq -e '.[0].secret and .[0].passphrase_stored and .[0].expires == null
	    and .[0].subkeys[0].algo == "ed25519"
	    and .[0].subkeys[1].algo == "cv25519"
	    and .[0].uids[0].uid == "Helpdesk (INSECURE test key) <helpdesk@example.com>"' <<<"$output"
	hdpgp-key export helpdesk@example.com >"$HD/pub.asc"
	hdpgp-key export --secret helpdesk@example.com >"$HD/sec.asc"
	# a customer verifies and encrypts with the public key ...
	sgpg --import "$HD/pub.asc"
	echo "ticket 42" >"$HD/msg"
	sgpg --trust-model always -r "$fpr" -e -o "$HD/msg.gpg" "$HD/msg"
	# ... and the helpdesk's secret key, in another home, answers
	mkdir -m 700 "$HD/helpdesk"
	gpg --homedir "$HD/helpdesk" --batch --pinentry-mode loopback --passphrase-file "$HD/alice.pass" --import "$HD/sec.asc"
	# (not through run: what gpg says on stderr goes to the test's log)
	gpg --homedir "$HD/helpdesk" --batch --pinentry-mode loopback --passphrase-file "$HD/alice.pass" -o "$HD/msg.dec" -d "$HD/msg.gpg"
	assert_equal "$(<"$HD/msg.dec")" "ticket 42"
	gpg --homedir "$HD/helpdesk" --batch --pinentry-mode loopback --passphrase-file "$HD/alice.pass" -u "$fpr" --detach-sign -o "$HD/msg.sig" "$HD/msg"
	gpgconf --homedir "$HD/helpdesk" --kill gpg-agent
	run -0 sgpg --verify "$HD/msg.sig" "$HD/msg"
}

@test "generate: rsa3072 with an expiry; bad arguments" {
	run -0 hdpgp-key --passphrase-file "$HD/alice.pass" generate rsa@example.com --algo rsa3072 --expire 1y
	run -0 hdpgp-key -j show rsa@example.com
	jq -e '.[0].subkeys[0].algo == "rsa3072" and .[0].expires != null' <<<"$output"
	run -64 hdpgp-key --passphrase-file "$HD/alice.pass" generate x@example.com --algo dsa
	run -64 hdpgp-key --passphrase-file "$HD/alice.pass" generate x@example.com --expire soon
	run -64 hdpgp-key --passphrase-file "$HD/alice.pass" generate not-an-address
	run -64 notty hdpgp-key generate x@example.com
	assert_output --partial "passphrase required"
	run -0 hdpgp-key list x@example.com
	assert_output ""
}

@test "passwd: checked before it is stored" {
	run -0 notty hdpgp-key import "$KEYS/plain.sec.asc"
	hdpgp-key --passphrase-file "$HD/carol.pass" import "$KEYS/carol.sec.asc" >/dev/null
	run -65 hdpgp-key --passphrase-file "$HD/wrong.pass" passwd carol@example.net
	assert_output "hdpgp-key: $CAROL_FPR: passphrase is invalid"
	run -0 hdpgp-key --passphrase-file "$HD/carol.pass" passwd carol@example.net
	run -0 hdpgp-key list carol
	assert_output --partial "pass=yes"
	run -65 hdpgp-key --passphrase-file "$HD/carol.pass" passwd plain@example.com
	assert_output --partial "not protected by a passphrase"
}

@test "check: expiring and expired keys, for cron" {
	hdpgp-key import "$KEYS/alice.pub.asc" "$KEYS/revoked.pub.asc" >/dev/null
	run -0 hdpgp-key check
	assert_output ""
	hdpgp-key --passphrase-file "$HD/alice.pass" generate soon@example.com --expire 10d >/dev/null
	run -1 hdpgp-key check
	assert_output --regexp "^[0-9A-F]{40} sec expiring-soon .* soon@example.com$"
	run -0 hdpgp-key check --days 5
	hdpgp-key import "$KEYS/expired.pub.asc" >/dev/null
	run -1 hdpgp-key check --days 5
	assert_output --regexp "^$EXPIRED_FPR pub expired "
	run -1 hdpgp-key -j check
	jq -e 'length == 2' <<<"$output"
	run -64 hdpgp-key check --days many
}

@test "the passphrase is in no listing, no log record, no child's argv or environment" {
	start_agent
	trace_execs "$HD/trace" hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc"
	trace_execs "$HD/trace2" hdpgp-key --passphrase-file "$HD/bob.pass" generate gen@example.com
	trace_execs "$HD/trace3" hdpgp-key export --secret gen@example.com
	cat "$HD/trace2" "$HD/trace3" >>"$HD/trace"
	grep -q 'execve("/usr/bin/gpg"' "$HD/trace"
	run grep -c -e "$ALICE_PASS" -e "$BOB_PASS" "$HD/trace"
	assert_output 0
	run -0 hdpgp-key list -j
	refute_output --partial "$ALICE_PASS"
	refute_output --partial "$BOB_PASS"
	run -0 tdbdump "$HDPGP_HOME/state.tdb"
	# the log holds the actions, without the passphrases
	assert_output --partial "key-import"
	assert_output --partial "key-generate"
	[ "$(grep -c '= "log:0' <<<"$output")" -ge 3 ]
	run bash -c "tdbdump '$HDPGP_HOME/state.tdb' | grep -A1 'log:' | grep -c -e '$ALICE_PASS' -e '$BOB_PASS'"
	assert_output 0
}

@test "eight imports at once on one state directory lose nothing" {
	local f pids=()
	hdpgp-key list >/dev/null
	for f in alice bob carol expired revoked noemail revuid dup-old; do
		hdpgp-key -q import "$KEYS/$f.pub.asc" >"$HD/$f.out" 2>&1 &
		pids+=($!)
	done
	for f in "${pids[@]}"; do wait "$f"; done
	run -0 listed
	assert_output "$(printf '%s\n' "$ALICE_FPR" "$BOB_FPR" "$CAROL_FPR" "$EXPIRED_FPR" \
	    "$REVOKED_FPR" "$NOEMAIL_FPR" "$REVUID_FPR" "$DUPOLD_FPR" | sort)"
	run -0 tdbtool "$HDPGP_HOME/state.tdb" check
	assert_output --partial "Database integrity is OK"
	run -0 in_gnupg
	assert_equal "${#lines[@]}" 8
}

@test "a new state's gpg never makes its trustdb or keybox in place" {
	# gpg 2.2 makes them on first use, and another gpg that reads the
	# trustdb half-made gives up: imports at once on a new state lost
	# keys.  They are made whole in a scratch home and linked in.
	mkdir -m 700 -p "$HDPGP_HOME/gnupg"
	gpg-connect-agent --homedir "$HDPGP_HOME/gnupg" /bye >/dev/null 2>&1
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    strace -f -qq -e trace=open,openat,creat -o "$HD/files" \
	    hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	grep -q "\"$HDPGP_HOME/gnupg/pubring.kbx\"" "$HD/files"
	run grep -E "\"$HDPGP_HOME/gnupg/(trustdb\.gpg|pubring\.kbx)\", [^)]*O_CREAT" "$HD/files"
	assert_failure
	[ -s "$HDPGP_HOME/gnupg/trustdb.gpg" ]
	run -0 in_gnupg
	assert_output "$ALICE_FPR"
	run -0 hgpg --check-trustdb
	# the scratch home is gone
	run -1 bash -c "ls '$HDPGP_HOME' | grep scratch"
}

@test "a state file of a future format is refused and left untouched" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	tdbtool "$HDPGP_HOME/state.tdb" store hdpgp:format 2 >/dev/null
	sum=$(sha256sum <"$HDPGP_HOME/state.tdb")
	run -78 hdpgp-key list
	assert_output "hdpgp-key: $HDPGP_HOME/state.tdb: state format 2 is not supported by this hdpgp (format 1)"
	run -78 hdpgp-key import "$KEYS/bob.pub.asc"
	[ "$(sha256sum <"$HDPGP_HOME/state.tdb")" = "$sum" ]
}

@test "a tdb file with records but no version is not ours: refused, left untouched" {
	local sum
	mkdir -m 700 -p "$HDPGP_HOME"
	printf '{\nkey(3) = "foo"\ndata(3) = "bar"\n}\n' | tdbrestore "$HDPGP_HOME/state.tdb"
	chmod 600 "$HDPGP_HOME/state.tdb"
	sum=$(sha256sum <"$HDPGP_HOME/state.tdb")
	run -78 hdpgp-key list
	assert_output "hdpgp-key: $HDPGP_HOME/state.tdb: not an hdpgp state file"
	run -78 hdpgp-key import "$KEYS/alice.pub.asc"
	[ "$(sha256sum <"$HDPGP_HOME/state.tdb")" = "$sum" ]
}

@test "a state directory other users can write is refused" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	chmod 0770 "$HDPGP_HOME"
	run -78 hdpgp-key list
	assert_output "hdpgp-key: $HDPGP_HOME: writable by other users (chmod go-w $HDPGP_HOME)"
	chmod 0700 "$HDPGP_HOME"
	run -0 stat -c %a "$HDPGP_HOME" "$HDPGP_HOME/state.tdb" "$HDPGP_HOME/gnupg"
	assert_output $'700\n600\n700'
}

@test "-d wins over HDPGP_HOME; XDG_STATE_HOME is the default" {
	run -0 hdpgp-key -d "$HD/other" import "$KEYS/alice.pub.asc"
	[ -f "$HD/other/state.tdb" ]
	[ ! -e "$HDPGP_HOME" ]
	run -0 env -u HDPGP_HOME XDG_STATE_HOME="$HD/xdg" hdpgp-key import "$KEYS/bob.pub.asc"
	[ -f "$HD/xdg/hdpgp/state.tdb" ]
	gpgconf --homedir "$HD/other/gnupg" --kill gpg-agent
	gpgconf --homedir "$HD/xdg/hdpgp/gnupg" --kill gpg-agent
}

@test "list starts no other program; import starts no gpgconf or gpgsm" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	start_agent
	run -0 count_execs hdpgp-key list
	[ "$output" -le 1 ]
	run -0 count_execs hdpgp-key import "$KEYS/bob.pub.asc"
	run grep -E 'execve\("[^"]*(gpgconf|gpgsm)"' "$HD/strace.out"
	assert_failure
}

@test "usage errors exit 64" {
	run -64 hdpgp-key
	assert_output --partial "usage: hdpgp-key"
	run -64 hdpgp-key frobnicate
	run -64 hdpgp-key show
	run -64 hdpgp-key --bogus list
	run -64 hdpgp-key list --secret
	assert_output "hdpgp-key: list: option --secret does not apply"
	run -64 hdpgp-key --days 3 export x@example.com
	assert_output "hdpgp-key: export: option --days does not apply"
	run -0 --separate-stderr hdpgp-key -h
	assert_output --partial "usage: hdpgp-key"
	run -0 hdpgp-key -V
	assert_output --regexp '^hdpgp-key [0-9.]+$'
}

@test "interop: every key and keyring of the RT corpus" {
	[ -d "$CORPUS" ] || skip "../shared/corpus is absent"
	local k="$CORPUS/keys"
	printf 'rt-test\n' >"$HD/rt.pass"
	printf 'recipient\n' >"$HD/recipient.pass"
	run -0 hdpgp-key import "$k"/*.public.key
	run -0 hdpgp-key --passphrase-file "$HD/rt.pass" import "$k/rt-test-at-example.com.secret.key" \
	    "$k/rt-test-at-example.com.2.secret.key" "$k/rt-recipient-at-example.com.secret.key"
	run -0 hdpgp-key --passphrase-file "$HD/recipient.pass" import "$k/recipient-at-example.com.secret.key" \
	    "$k/general-at-example.com.2.secret.key"
	run -0 notty hdpgp-key import "$k/general-at-example.com.secret.key"
	assert_output --partial "not protected by a passphrase"
	run -0 hdpgp-key import "$CORPUS/keyrings/pubring.gpg"
	# secring.gpg holds keys with different passphrases: one is refused,
	# so none is taken
	printf 'test\n' >"$HD/test.pass"
	run -65 hdpgp-key --passphrase-file "$HD/test.pass" import "$CORPUS/keyrings/secring.gpg"
	assert_output --partial "passphrase is invalid"
	run -65 hdpgp-key import "$CORPUS/keyrings/trustdb.gpg"
	run -0 hdpgp-key -j list
	jq -r '.[] | "\(.fingerprint) \(.secret) \(.emails | join(","))"' <<<"$output" | sort >"$HD/got"
	sort >"$HD/want" <<-EOF
	F0CB3B482CFA485680A4A0BDD328035D84881F1B true rt-test@example.com
	4CFD3F7DCD464852DB980F26C798591AA831DBFB true rt-test@example.com
	C60491A985E098BAE9C6AF5BCE30C41EC2274A26 true rt-recipient@example.com
	7232A3C60F796865796370A54855ED8893EB9DE7 true recipient@example.com
	EC1E81E7DC3DB42788FB0E4E9FA662C06DE22FC2 true general@example.com
	75E156271DCCF02DDD4A7A8CDF651FA0632C4F50 true general@example.com
	F23574193C1BA40ACB8DC6A4B5A462194345F7A5 false rt@example.com
	086B633F73011B9E0A2D27DB0DC88CDF5844FEE6 false random@localhost
	EOF
	run diff "$HD/want" "$HD/got"
	assert_success
	run -0 hdpgp-key show rt-test@example.com
	assert_line "fingerprint  F0CB3B482CFA485680A4A0BDD328035D84881F1B"
	assert_line "fingerprint  4CFD3F7DCD464852DB980F26C798591AA831DBFB"
}

# --- issue 10, item 1: no silent takeover of an address ---

@test "takeover: a key whose 2nd user ID is a served address is held back" {
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	run -0 --separate-stderr hdpgp-key import "$KEYS/eve2.pub.asc"
	# every address the key carries is named, with what became of it
	assert_line "$EVE2_FPR held         bob@example.org (served by $BOB_FPR)"
	assert_line "$EVE2_FPR serves       eve@example.net"
	[[ $stderr == *"$EVE2_FPR: warning: bob@example.org stays with $BOB_FPR: conflict"* ]]
	run -0 hdpgp-key -j import "$KEYS/eve2.pub.asc"
	jq -e '.[0].addresses == [{"address": "bob@example.org", "role": "held",
	    "preferred": false, "served_by": "'"$BOB_FPR"'"},
	    {"address": "eve@example.net", "role": "serves", "preferred": false,
	    "served_by": "'"$EVE2_FPR"'"}]' <<<"${lines[-1]}"
	# logged, naming both fingerprints
	run -0 log_of key-conflict
	jq -e '.result == "failed" and .keys == "'"$EVE2_FPR $BOB_FPR"'"
	    and (.comment | startswith("bob@example.org: served by"))' <<<"$output"
	# check lists the conflict and fails until it is resolved
	run -1 hdpgp-key check
	assert_output "conflict bob@example.org served-by=$BOB_FPR held=$EVE2_FPR"
	run -1 hdpgp-key -j check
	jq -e '. == [{"conflict": "bob@example.org", "served_by": "'"$BOB_FPR"'",
	    "held": ["'"$EVE2_FPR"'"]}]' <<<"$output"
	# list and show say who serves the address
	run -0 hdpgp-key list eve
	assert_output --regexp " bob@example.org\(held\),eve@example.net$"
	run -0 hdpgp-key show "$EVE2_FPR"
	assert_line "address      bob@example.org held, served by $BOB_FPR"
	# mail to bob is still encrypted to bob alone
	run -0 enc_to bob@example.org
	assert_output "${BOB_SUB_FPR: -16}"
}

@test "takeover: 3rd user ID, capitals in the domain, a later expiry, a user ID added to a known key" {
	hdpgp-key import "$KEYS/bob.pub.asc" "$KEYS/alice.pub.asc" >/dev/null
	run -0 hdpgp-key import "$KEYS/eve3.pub.asc" "$KEYS/evelong.pub.asc" "$KEYS/alicebob.pub.asc"
	assert_line "$EVE3_FPR held         bob@example.org (served by $BOB_FPR)"
	assert_line "$EVELONG_FPR held         bob@example.org (served by $BOB_FPR)"
	assert_line "$ALICE_FPR held         bob@example.org (served by $BOB_FPR)"
	assert_line "$ALICE_FPR serves       alice@example.com"
	run -1 hdpgp-key check
	assert_output "conflict bob@example.org served-by=$BOB_FPR held=$EVE3_FPR,$EVELONG_FPR,$ALICE_FPR"
	run -0 enc_to bob@example.org
	assert_output "${BOB_SUB_FPR: -16}"
	# with bob's key gone the held keys still do not serve his address
	run -0 hdpgp-key delete "$BOB_FPR"
	run -69 enc_to bob@example.org
	run -1 hdpgp-key check
	assert_output "conflict bob@example.org served-by=- held=$EVE3_FPR,$EVELONG_FPR,$ALICE_FPR"
}

@test "takeover: a revoked user ID with the address claims nothing" {
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	run -0 hdpgp-key import "$KEYS/everev.pub.asc"
	assert_output "$EVEREV_FPR imported     pub Eve Rev (INSECURE test key) <everev@example.net>
$EVEREV_FPR serves       everev@example.net"
	run -0 hdpgp-key check
	assert_output ""
}

@test "prefer and import --replace: the administrator decides" {
	hdpgp-key import "$KEYS/bob.pub.asc" "$KEYS/eve2.pub.asc" >/dev/null 2>&1
	run -0 hdpgp-key prefer "$EVE2_FPR" bob@Example.ORG
	assert_output "hdpgp-key: bob@Example.ORG: $EVE2_FPR serves it"
	run -0 hdpgp-key check
	run -0 hdpgp-key show bob@example.org
	assert_line "address      bob@example.org serves (preferred)"
	assert_line "address      bob@example.org standby, served by $EVE2_FPR"
	run -0 enc_to bob@example.org
	assert_output "$(enc_subkey "$KEYS/eve2.pub.asc")"
	run -0 log_of key-prefer
	jq -e '.result == "success" and .keys == "'"$EVE2_FPR"'"' <<<"$output"
	# and back: the other key is then refused, never a silent fallback
	run -0 hdpgp-key -q prefer "$BOB_FPR" bob@example.org
	run -0 hdpgp-key list
	assert_line --regexp "^$BOB_FPR .* bob@example.org\(preferred\)$"
	run -0 enc_to bob@example.org
	assert_output "${BOB_SUB_FPR: -16}"
	# a key without the address, a bad address, a missing key
	run -65 hdpgp-key prefer "$EVE2_FPR" other@example.org
	assert_output "hdpgp-key: $EVE2_FPR: the key has no valid user ID for other@example.org"
	run -64 hdpgp-key prefer "$EVE2_FPR" 'not an address'
	run -66 hdpgp-key prefer "$ALICE_FPR" bob@example.org
	run -64 hdpgp-key prefer "$EVE2_FPR"
	# --replace takes the address at import
	run -0 hdpgp-key import --replace "$KEYS/eve3.pub.asc"
	assert_line "$EVE3_FPR serves       bob@example.org (preferred)"
	run -0 hdpgp-key check
	run -0 enc_to bob@example.org
	assert_output "$(enc_subkey "$KEYS/eve3.pub.asc")"
	run -0 log_of key-prefer
	assert_line --partial "import --replace"
	run -64 hdpgp-key list --replace
}

@test "rollover: a key the old one certified, and a new subkey, take over silently" {
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	run -0 hdpgp-key import "$KEYS/bobnext.pub.asc"
	assert_line "$BOBNEXT_FPR serves       bob@example.org"
	run -0 hdpgp-key check
	run -0 log_of key-rollover
	jq -e '.keys == "'"$BOBNEXT_FPR $BOB_FPR"'"' <<<"$output"
	run -0 enc_to bob@example.org
	assert_output "$(enc_subkey "$KEYS/bobnext.pub.asc")"
	# an explicit choice of the old key passes on to the one it certified
	hdpgp-key delete "$BOBNEXT_FPR" 2>/dev/null
	hdpgp-key -q prefer "$BOB_FPR" bob@example.org
	hdpgp-key import "$KEYS/bobnext.pub.asc" >/dev/null
	run -0 hdpgp-key show "$BOBNEXT_FPR"
	assert_line "address      bob@example.org serves (preferred)"
	# the same key with a new encryption subkey
	hdpgp-key delete "$BOBNEXT_FPR" 2>/dev/null
	run -0 hdpgp-key import "$KEYS/bobsub.pub.asc"
	assert_line "$BOB_FPR updated      pub Bob Customer (INSECURE test key) <bob@example.org>"
	run -0 hdpgp-key check
	run -0 enc_to bob@example.org
	assert_output "${BOBSUB_SUB_FPR: -16}"
}

@test "the conflict ends when the held key is deleted; old states select as before" {
	hdpgp-key import "$KEYS/bob.pub.asc" "$KEYS/eve2.pub.asc" >/dev/null 2>&1
	run -1 hdpgp-key check
	hdpgp-key delete "$EVE2_FPR" 2>/dev/null
	run -0 hdpgp-key check
	# a state an older hdpgp wrote has no ranking records: newest wins
	hdpgp-key import "$KEYS/dup-old.pub.asc" "$KEYS/dup-new.pub.asc" >/dev/null 2>&1
	run -1 hdpgp-key check
	tdbtool "$HDPGP_HOME/state.tdb" delete held:dup@example.org
	run -0 hdpgp-key check
	run -0 enc_to dup@example.org
	assert_output "$(enc_subkey "$KEYS/dup-new.pub.asc")"
}

# --- issue 10, item 2: certificate flooding ---

@test "flooding: certifications by keys not in the store are dropped and counted" {
	"$KEYS/flood" 3000 <"$KEYS/bob.pub.gpg" >"$HD/flood.gpg"
	[ "$(stat -c %s "$HD/flood.gpg")" -gt 300000 ]
	run -0 --separate-stderr hdpgp-key import "$HD/flood.gpg"
	assert_line "$BOB_FPR imported     pub Bob Customer (INSECURE test key) <bob@example.org>"
	[ "$stderr" = "hdpgp-key: $BOB_FPR: 3000 signatures by keys not in the store dropped" ]
	# stock gpg finds the self-signatures alone, and a small keyring
	run -0 bash -c "gpg --homedir '$HDPGP_HOME/gnupg' --batch --with-colons --list-sigs '$BOB_FPR' | grep -c '^sig'"
	assert_output 2
	[ "$(stat -c %s "$HDPGP_HOME/gnupg/pubring.kbx")" -lt 10000 ]
	# again, over the clean key, and in JSON
	run -0 hdpgp-key -j import "$HD/flood.gpg"
	jq -e '.[0].result == "unchanged" and .[0].signatures_dropped == 3000' <<<"$output"
	# armored, and a secret key: the same
	sgpg --import "$KEYS/alice.sec.asc" 2>/dev/null
	sgpg --passphrase-file "$HD/alice.pass" --export-secret-keys "$ALICE_FPR" |
	    "$KEYS/flood" 200 | sgpg --enarmor >"$HD/aflood.asc"
	sed -i 's/ARMORED FILE/PRIVATE KEY BLOCK/' "$HD/aflood.asc"
	run -0 --separate-stderr hdpgp-key --passphrase-file "$HD/alice.pass" import "$HD/aflood.asc"
	assert_line --partial "$ALICE_FPR imported     sec"
	[[ $stderr == *"$ALICE_FPR: 200 signatures by keys not in the store dropped"* ]]
	# a certification by a key of the store is kept: the rollover test
	# depends on it
	hdpgp-key import "$KEYS/bobnext.pub.asc" >/dev/null
	run -0 bash -c "gpg --homedir '$HDPGP_HOME/gnupg' --batch --with-colons --list-sigs '$BOBNEXT_FPR' | grep -c '^sig:.*:${BOB_FPR: -16}:'"
	assert_output 1
}

# --- issue 10, item 3: revocation certificates on their own ---

@test "revocation certificates: gpg's openpgp-revocs.d, --gen-revoke, sq revoke" {
	hdpgp-key import "$KEYS/eve2.pub.asc" "$KEYS/eve3.pub.asc" "$KEYS/evelong.pub.asc" >/dev/null 2>&1
	# the file gpg keeps, colon and all
	head -c 1 <(grep -- '-----BEGIN' "$KEYS/eve2.rev") | grep -q :
	run -0 hdpgp-key import "$KEYS/eve2.rev"
	assert_output "$EVE2_FPR revoked      pub Bob Customer (INSECURE test key) <bob@example.org>
$EVE2_FPR standby      bob@example.org (served by no usable key)
$EVE2_FPR standby      eve@example.net (served by no usable key)"
	run -0 hdpgp-key list "$EVE2_FPR"
	assert_output --regexp "^$EVE2_FPR pub revoked "
	run -0 --separate-stderr hdpgp-key import "$KEYS/eve2.rev"
	assert_line --partial "$EVE2_FPR unchanged"
	# --gen-revoke output, on stdin, in JSON
	run -0 --separate-stderr hdpgp-key -j import <"$KEYS/eve3.rev.asc"
	jq -e '.[0].fingerprint == "'"$EVE3_FPR"'" and .[0].result == "revoked"' <<<"$output"
	# the primary key and its revocation alone
	run -0 hdpgp-key import "$KEYS/evelong.sqrev.asc"
	assert_line --partial "$EVELONG_FPR revoked "
	# stock gpg agrees
	run -0 hgpg --list-keys "$EVE2_FPR" "$EVE3_FPR" "$EVELONG_FPR"
	[ "$(grep -c '^pub:r:' <<<"$output")" = 3 ]
	run -69 enc_to eve@example.net
	run -0 log_of key-import
	assert_line --partial "\"keys\":\"$EVE3_FPR\""
}

@test "revocation certificates: for a key not in the store, or broken, a clear error" {
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	run -65 hdpgp-key import "$KEYS/eve2.rev"
	assert_output "hdpgp-key: $KEYS/eve2.rev: revocation certificate for key $EVE2_FPR, which is not in the store"
	run -65 hdpgp-key import <"$KEYS/eve3.rev.asc"
	assert_output --regexp "^hdpgp-key: stdin: revocation certificate for key [0-9A-F]{16,40}, which is not in the store$"
	run -0 log_of key-import
	assert_line --partial '"result":"failed"'
	# a revocation that does not verify changes nothing
	hdpgp-key import "$KEYS/eve2.pub.asc" >/dev/null 2>&1
	sgpg --dearmor <"$KEYS/eve3.rev.asc" >"$HD/rev.gpg" 2>/dev/null ||
	    sed 's/^://' "$KEYS/eve3.rev.asc" | sgpg --dearmor >"$HD/rev.gpg"
	python3 - "$HD/rev.gpg" "$EVE2_FPR" <<-'PY'
	import sys
	p, fpr = sys.argv[1], bytes.fromhex(sys.argv[2])
	d = bytearray(open(p, "rb").read())
	i = d.find(b"\x21\x04")        # issuer fingerprint subpacket
	d[i + 2:i + 22] = fpr
	j = d.find(b"\x09\x10")        # issuer key ID subpacket
	if j > 0:
	    d[j + 2:j + 10] = fpr[-8:]
	open(p, "wb").write(d)
	PY
	run -65 hdpgp-key import "$HD/rev.gpg"
	assert_output "hdpgp-key: $HD/rev.gpg: $EVE2_FPR: the revocation certificate does not verify"
	run -0 hdpgp-key list "$EVE2_FPR"
	assert_output --regexp "^$EVE2_FPR pub valid "
	# a signature that is not a key revocation is no key
	sgpg --import "$KEYS/bob.sec.asc" 2>/dev/null
	echo hi | sgpg --passphrase-file "$HD/bob.pass" -u "$BOB_FPR" --detach-sign >"$HD/sig.gpg"
	run -65 hdpgp-key import "$HD/sig.gpg"
	assert_output "hdpgp-key: $HD/sig.gpg: no OpenPGP key found in the input"
}

# --- issue 10, item 5: failures are logged with what they concern ---

@test "a secret-key import with a wrong passphrase leaves a log record" {
	run -65 hdpgp-key --passphrase-file "$HD/wrong.pass" import "$KEYS/alice.sec.asc"
	run -0 log_of key-import
	jq -e '.result == "failed" and .keys == "'"$ALICE_FPR"'"
	    and .comment == "'"$ALICE_FPR"': passphrase is invalid"' <<<"$output"
	run -65 notty hdpgp-key import "$KEYS/bob.sec.asc"
	run -0 hdpgp-log --failed -n 1
	assert_output --partial "keys=$BOB_FPR"
	assert_output --partial "passphrase required"
}

@test "import: an unreadable --passphrase-file fails before any work, leaving no scratch home or gpg-agent" {
	start_agent
	run -66 --separate-stderr hdpgp-key --passphrase-file /nonexistent \
	    import "$KEYS/alice.sec.asc"
	assert_regex "$stderr" "/nonexistent: No such file or directory"
	run -0 find "$HDPGP_HOME" -maxdepth 1 -name 'scratch.*'
	assert_output ""
	run -1 pgrep -f "gpg-agent.*$HDPGP_HOME/scratch"
	assert_equal "$(listed)" ""
}

@test "import: a protected secret key with no passphrase source fails cleanly, leaving no scratch home or gpg-agent" {
	start_agent
	run -65 --separate-stderr notty hdpgp-key import "$KEYS/alice.sec.asc"
	assert_regex "$stderr" "passphrase required"
	run -0 find "$HDPGP_HOME" -maxdepth 1 -name 'scratch.*'
	assert_output ""
	run -1 pgrep -f "gpg-agent.*$HDPGP_HOME/scratch"
	assert_equal "$(listed)" ""
}

@test "list: a damaged key record is named, the other keys still listed, exit 78; no Json-CRITICAL" {
	hdpgp-key import "$KEYS/alice.pub.asc" "$KEYS/bob.pub.asc" 2>/dev/null
	tdbtool "$HDPGP_HOME/state.tdb" store "key:$ALICE_FPR" \
	    "{\"fingerprint\":\"$ALICE_FPR\"}" >/dev/null
	run -78 --separate-stderr hdpgp-key list
	assert_output --partial "$BOB_FPR"
	refute_output --partial "$ALICE_FPR"
	assert_equal "$stderr" \
	    "hdpgp-key: key:$ALICE_FPR: damaged record (no member \"created\")"
	tdbtool "$HDPGP_HOME/state.tdb" store "key:$ALICE_FPR" 'garbage{' \
	    >/dev/null
	run -78 --separate-stderr hdpgp-key list
	assert_output --partial "$BOB_FPR"
	assert_equal "$stderr" \
	    "hdpgp-key: key:$ALICE_FPR: damaged record (not a JSON object)"
	# bob's key still serves
	run -0 hdpgp-key show bob@example.org
}
