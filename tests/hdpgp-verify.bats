#!/usr/bin/env bats
# hdpgp-verify: incoming mail with the verdict on its signatures.  The
# vectors are made here, by stock gpg (wrapped in MIME by hand) and by
# hdpgp-sign; the attack classes of doc/DESIGN are named "#N" in the test
# names.

bats_require_minimum_version 1.5.0
load helpers

ALICE_UID='Alice Helpdesk (INSECURE test key) <alice@example.com>'
BOB_UID='Bob Customer (INSECURE test key) <bob@example.org>'
RT_FPR=F0CB3B482CFA485680A4A0BDD328035D84881F1B

setup_file() {
	hd_file_setup
	hd_fixture alice import_alice
	[ ! -d "$CORPUS" ] || hd_fixture rt import_rt
}

teardown_file() {
	hd_file_teardown
}

setup() {
	hd_setup
	GOOD_ALICE="X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"$ALICE_UID\"; from-match=yes; coverage=full"
	NO_ENC="X-Hdpgp-Encryption: none"
}

teardown() {
	local h
	# the agents of the throw-away key homes made by mkkey
	for h in "$HD"/k[0-9]*; do
		hd_agent_may_run "$h" && gpgconf --homedir "$h" --kill gpg-agent 2>/dev/null
	done
	hd_teardown
}

# --- vectors ---

# alice's public key in the store; her secret key (and bob's) with stock
# gpg: imported once for the file (helpers.bash: fixtures).
import_alice() {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null 2>&1
	sgpg --import "$KEYS/alice.sec.asc" "$KEYS/bob.sec.asc" 2>/dev/null
}

alice_setup() {
	hd_restore alice
}

alice_sign() {
	sgpg --passphrase-file "$HD/alice.pass" -u "$ALICE_FPR" "$@"
}

bob_sign() {
	sgpg --passphrase-file "$HD/bob.pass" -u "$BOB_FPR" "$@"
}

# A key without a passphrase in a home of its own, $HD/NAME (gpg options
# such as --faked-system-time may follow the user ID); prints its fingerprint.
mkkey() {
	local h=$HD/$1 uid=$2
	shift 2
	mkdir -p -m 700 "$h"
	gpg --homedir "$h" --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' "$@" --quick-gen-key "$uid" ed25519 sign never \
	    2>/dev/null
	gpg --homedir "$h" --with-colons -k 2>/dev/null |
	    awk -F: '$1 == "fpr" { print $10; exit }'
}

# Stock gpg in the home $HD/NAME of mkkey.
kgpg() {
	local h=$HD/$1
	shift
	gpg --homedir "$h" --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' "$@"
}

# The first part of a signed message, LF line ends.
part1() {
	printf 'Content-Type: text/plain; charset=us-ascii\n'
	printf 'Content-Transfer-Encoding: 7bit\n\n'
	printf 'Hello Bob,\n\nyour ticket #42 has been answered.\n\nAlice\n'
}

# detach PART SIGNER...: an armored detached signature, by the command
# SIGNER..., over part PART (LF, its last line end belongs to the
# delimiter that follows it) in the CRLF form RFC 3156 signs.
detach() {
	local p=$1
	shift
	crlf "$p" | head -c -2 | "$@" --armor --detach-sign
}

# Top-level fields; an empty FROM gives none.
hdrs() {
	local from=${1-Alice Helpdesk <alice@example.com>}
	[ -n "$from" ] && printf 'From: %s\n' "$from"
	printf 'To: Bob Customer <bob@example.org>\nSubject: Ticket #42\n'
	printf 'Date: Mon, 01 Jul 2024 12:00:00 +0000\n'
	printf 'Message-ID: <verify.42@helpdesk.example.com>\nMIME-Version: 1.0\n'
}

# signed_entity PART SIG [BOUNDARY]: a multipart/signed entity.
signed_entity() {
	local b=${3:-=-sig42}
	printf 'Content-Type: multipart/signed; boundary="%s";\n' "$b"
	printf ' protocol="application/pgp-signature"; micalg=pgp-sha512\n\n'
	printf 'This is an OpenPGP/MIME signed message.\n--%s\n' "$b"
	cat "$1"
	printf -- '--%s\nContent-Type: application/pgp-signature; name="signature.asc"\n\n' "$b"
	cat "$2"
	printf -- '--%s--\n' "$b"
}

# mksigned OUT SIGNER [FROM]: $HD/p1 (part1 when absent) signed by the
# command SIGNER, as a whole message; leaves the signature in $HD/p1.sig.
mksigned() {
	local out=$1 fn=$2
	[ -f "$HD/p1" ] || part1 >"$HD/p1"
	detach "$HD/p1" "$fn" >"$HD/p1.sig"
	{ hdrs "${3-Alice Helpdesk <alice@example.com>}"
	  signed_entity "$HD/p1" "$HD/p1.sig"; } >"$out"
}

# The top-level X-Hdpgp-* fields of a message, CR removed.
fields() {
	sed '/^\r\?$/Q' "$1" | tr -d '\r' | grep -i '^X-Hdpgp-'
}

# Python's view: the names of the top-level fields that start X-Hdpgp-,
# and the number of their values, one a line.
py_fields() {
	python3 -c '
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
    policy=email.policy.compat32)
for k in m.keys():
    if k.lower().startswith("x-hdpgp"):
        print(k)
' "$1"
}

# Filter mode keeps the input byte for byte after our N fields.
same_after() {
	local out=$1 in=$2 n=${3:-2}
	tail -n "+$((n + 1))" "$out" | cmp - "$in"
}

# --- class 1: a valid signature ---

@test "verify #1: stock gpg multipart/signed, LF only: good, full, signer, UID" {
	alice_setup
	mksigned "$HD/msg" alice_sign
	run -0 --separate-stderr hdpgp-verify -c "$HD/msg"
	assert_equal "$stderr" ""
	assert_output "$GOOD_ALICE
$NO_ENC"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	assert_equal "$stderr" ""
	run -0 fields "$HD/out"
	assert_output "$GOOD_ALICE
$NO_ENC"
	same_after "$HD/out" "$HD/msg"
	run -1 grep -c $'\r' "$HD/out"
}

@test "verify #1: the same message with CRLF line ends verifies alike" {
	alice_setup
	mksigned "$HD/lf" alice_sign
	crlf "$HD/lf" >"$HD/msg"
	run -0 hdpgp-verify -c "$HD/msg"
	assert_output "$GOOD_ALICE
$NO_ENC"
	run -0 stdout_to "$HD/out" hdpgp-verify <"$HD/msg"
	run -0 fields "$HD/out"
	assert_output "$GOOD_ALICE
$NO_ENC"
	same_after "$HD/out" "$HD/msg"
	# our fields too end in CRLF
	run -1 grep -c -v $'\r$' "$HD/out"
	assert_output 0
}

@test "verify #1: signed with CRLF in the signer's hands, stored with LF" {
	alice_setup
	part1 >"$HD/p1"
	mksigned "$HD/crlf-lf" alice_sign
	# signed part held in CRLF inside an otherwise LF message
	{ hdrs; printf 'Content-Type: multipart/signed; boundary=b; protocol="application/pgp-signature"; micalg=pgp-sha512\n\n--b\n'
	  crlf "$HD/p1"; printf -- '--b\nContent-Type: application/pgp-signature\n\n'
	  cat "$HD/p1.sig"; printf -- '--b--\n'; } >"$HD/msg"
	run -0 hdpgp-verify -c "$HD/msg"
	assert_output "$GOOD_ALICE
$NO_ENC"
}

@test "verify #1: a signed part ending in a blank line verifies" {
	alice_setup
	{ part1; printf '\n\n'; } >"$HD/p1"
	mksigned "$HD/msg" alice_sign
	run -0 hdpgp-verify -c "$HD/msg"
	assert_output "$GOOD_ALICE
$NO_ENC"
	crlf "$HD/msg" >"$HD/msg.crlf"
	run -0 hdpgp-verify -c "$HD/msg.crlf"
	assert_output "$GOOD_ALICE
$NO_ENC"
	# and that blank line is covered: without it the signature is bad
	sed -i '/^Alice$/{n;/^$/d}' "$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "X-Hdpgp-Signature: bad; signer=$ALICE_FPR;"
}

@test "verify #1: hdpgp-sign output verifies, as LF and as CRLF copies" {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	local kind
	for kind in plain utf8 qp base64 spaces mixed alternative; do
		mkmail "$kind" >"$HD/in"
		hdpgp-sign "$HD/in" >"$HD/signed"
		tr -d '\r' <"$HD/signed" >"$HD/lf"
		crlf "$HD/lf" >"$HD/crlf"
		for f in signed lf crlf; do
			run -0 hdpgp-verify -c "$HD/$f"
			assert_output "$GOOD_ALICE
$NO_ENC"
		done
	done
	mkforward >"$HD/in"
	hdpgp-sign "$HD/in" >"$HD/signed"
	run -0 hdpgp-verify -c "$HD/signed"
	assert_output "$GOOD_ALICE
$NO_ENC"
}

@test "verify #1: stock gpg signed part 1 holding multipart/mixed with a binary attachment" {
	alice_setup
	mkmail mixed | sed '1,/^MIME-Version/d; /^$/,$!{/^Content-Type/!d}' >/dev/null
	# the entity of mkmail mixed: its Content-Type field and body
	mkmail mixed | sed -n '/^Content-Type: multipart/,$p' >"$HD/p1"
	mksigned "$HD/msg" alice_sign
	run -0 hdpgp-verify -c "$HD/msg"
	assert_output "$GOOD_ALICE
$NO_ENC"
	run -0 hdpgp-verify -c <(crlf "$HD/msg")
	assert_output "$GOOD_ALICE
$NO_ENC"
}

# --- class 2: one byte changed ---

@test "verify #2: one byte of the signed body changed: bad" {
	alice_setup
	mksigned "$HD/msg" alice_sign
	sed 's/answered\./answered!/' "$HD/msg" >"$HD/bad"
	run -1 hdpgp-verify -c "$HD/bad"
	assert_output "X-Hdpgp-Signature: bad; signer=$ALICE_FPR; uid=\"$ALICE_UID\"; from-match=yes; coverage=full
$NO_ENC"
	run -1 hdpgp-verify -c <(crlf "$HD/bad")
	assert_line -n 0 --partial "X-Hdpgp-Signature: bad;"
	# filter mode keeps the mail, exit 0
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/bad"
	same_after "$HD/out" "$HD/bad"
}

@test "verify #2: one byte of a header inside part 1 changed: bad" {
	alice_setup
	mksigned "$HD/msg" alice_sign
	sed 's/^Content-Transfer-Encoding: 7bit$/Content-Transfer-Encoding: 8bit/' \
	    "$HD/msg" >"$HD/bad"
	! cmp -s "$HD/msg" "$HD/bad"
	run -1 hdpgp-verify -c "$HD/bad"
	assert_line -n 0 --partial "X-Hdpgp-Signature: bad; signer=$ALICE_FPR;"
	# a white-space change in part 1 is a change too
	sed 's/^your ticket/your  ticket/' "$HD/msg" >"$HD/bad"
	run -1 hdpgp-verify -c "$HD/bad"
	assert_line -n 0 --partial "X-Hdpgp-Signature: bad;"
}

@test "verify #2: text after a line starting with --boundary-- inside part 1 is not signed" {
	alice_setup
	printf 'Content-Type: text/plain; charset=us-ascii\n\nI agree to pay.\n' >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	# Python's email (RFC 2046: a close delimiter is "--b--" and padding)
	# and gmime read part 1 on past the line "--b--x"
	{ hdrs; printf 'Content-Type: multipart/signed; boundary="b"; protocol="application/pgp-signature"; micalg=pgp-sha512\n\n--b\n'
	  cat "$HD/p1"; printf -- '--b--x\nI also agree to pay eve 1000.\n--b\n'
	  printf 'Content-Type: application/pgp-signature\n\n'
	  cat "$HD/p1.sig"; printf -- '--b--\n'; } >"$HD/msg"
	python3 -c '
import email, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read())
assert len(m.get_payload()) == 2
assert "eve" in m.get_payload()[0].get_payload()' "$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	refute_output --partial good
}

# --- class 3: key not in the store ---

@test "verify #3: signer's key not in the store: unknown-key with the key ID, no lookup" {
	alice_setup
	start_agent
	mksigned "$HD/msg" bob_sign "Bob Customer <bob@example.org>"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: unknown-key; signer=([0-9A-F]{24})?${BOB_FPR: -16}; from-match=(no|ambiguous); coverage=full\$"
	assert_line -n 1 "$NO_ENC"
	# no key server, no dirmngr
	run -3 trace_execs "$HD/trace" hdpgp-verify -c "$HD/msg"
	run -1 grep -c -E 'execve\("[^"]*(dirmngr|gpgconf|gpgsm)"' "$HD/trace"
	grep -q -E 'execve\("[^"]*/gpg"' "$HD/trace"
	run -1 grep -c -E -- '--(auto-key-retrieve|keyserver|recv-keys?|locate-keys?)' "$HD/trace"
	run -0 hdpgp-key list
	refute_output --partial "$BOB_FPR"
}

# --- class 4: expired key, revoked key, expired signature ---

@test "verify #4: signature by an expired key: expired-key, not good" {
	hdpgp-key import "$KEYS/expired.pub.asc" >/dev/null 2>&1
	sgpg --import "$KEYS/expired.sec.asc" 2>/dev/null
	exp_sign() {
		sgpg --faked-system-time 20200601T000000 \
		    --passphrase-file "$HD/expired.pass" -u "$EXPIRED_FPR" "$@"
	}
	mksigned "$HD/msg" exp_sign "<expired@example.org>"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_output "X-Hdpgp-Signature: expired-key; signer=$EXPIRED_FPR; uid=\"Expired Key (INSECURE test key) <expired@example.org>\"; from-match=yes; coverage=full
$NO_ENC"
	run -3 hdpgp-verify -j "$HD/msg"
	jq -e '.sign.success == false and .signatures[0].verdict == "expired-key"' <<<"$output"
}

@test "verify #4: signature by a revoked key: revoked-key, not good" {
	local fpr
	fpr=$(mkkey k1 "Revoked Later <later@example.org>")
	part1 >"$HD/p1"
	rv_sign() { kgpg k1 -u "$fpr" "$@"; }
	mksigned "$HD/msg" rv_sign "<later@example.org>"
	# good while the key is valid
	kgpg k1 --export --armor "$fpr" | hdpgp-key import >/dev/null 2>&1
	run -0 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "X-Hdpgp-Signature: good; signer=$fpr;"
	# then revoked: gpg's revocation certificate, imported
	sed 's/^:-----/-----/' "$HD/k1/openpgp-revocs.d/$fpr.rev" | kgpg k1 --import 2>/dev/null
	kgpg k1 --export --armor "$fpr" | hdpgp-key import >/dev/null 2>&1
	run -0 hdpgp-key list
	assert_output --partial revoked
	run -3 hdpgp-verify -c "$HD/msg"
	assert_output "X-Hdpgp-Signature: revoked-key; signer=$fpr; uid=\"Revoked Later <later@example.org>\"; from-match=yes; coverage=full
$NO_ENC"
}

@test "verify #4: an expired signature: expired-signature, not good" {
	local fpr
	fpr=$(mkkey k3 "Sig Expiry <sigexp@example.org>" --faked-system-time 20200101T000000)
	kgpg k3 --export --armor "$fpr" | hdpgp-key import >/dev/null 2>&1
	se_sign() {
		kgpg k3 --faked-system-time 20200102T000000 --default-sig-expire 1d \
		    -u "$fpr" "$@"
	}
	mksigned "$HD/msg" se_sign "<sigexp@example.org>"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_output "X-Hdpgp-Signature: expired-signature; signer=$fpr; uid=\"Sig Expiry <sigexp@example.org>\"; from-match=yes; coverage=full
$NO_ENC"
}

# --- class 5: broken multipart/signed ---

@test "verify #5: broken multipart/signed structures give error, no crash" {
	alice_setup
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	local ct='multipart/signed; boundary=b' p='protocol="application/pgp-signature"'
	local m='micalg=pgp-sha512' sigpart='Content-Type: application/pgp-signature'
	local name head ptype parts
	# name|Content-Type parameters|type of part 2|number of parts
	while IFS='|' read -r name head ptype parts; do
		{ hdrs; printf 'Content-Type: %s\n\n--b\n' "$head"; cat "$HD/p1"
		  if [ "$parts" -ge 2 ]; then
			printf -- '--b\nContent-Type: %s\n\n' "$ptype"
			cat "$HD/p1.sig"
		  fi
		  if [ "$parts" -ge 3 ]; then
			printf -- '--b\nContent-Type: text/plain\n\nthird part\n'
		  fi
		  printf -- '--b--\n'; } >"$HD/$name"
		run -1 hdpgp-verify -c "$HD/$name"
		assert_line -n 0 --regexp '^X-Hdpgp-Signature: error; .*reason="[^"]+"$'
		refute_output --partial good
		run -0 stdout_to "$HD/out" hdpgp-verify "$HD/$name"
		same_after "$HD/out" "$HD/$name"
	done <<-EOF
	one-part|$ct; $p; $m|application/pgp-signature|1
	three-parts|$ct; $p; $m|application/pgp-signature|3
	no-protocol|$ct; $m|application/pgp-signature|2
	wrong-protocol|$ct; protocol="application/pkcs7-signature"; $m|application/pgp-signature|2
	pgp-encrypted-protocol|$ct; protocol="application/pgp-encrypted"; $m|application/pgp-signature|2
	part2-text|$ct; $p; $m|text/plain|2
	part2-octets|$ct; $p; $m|application/octet-stream|2
	no-micalg|$ct; $p|application/pgp-signature|2
	sha-micalg|$ct; $p; micalg=sha256|application/pgp-signature|2
	EOF
	[ -n "$sigpart" ]
}

@test "verify #5: a multipart/signed with no parts, or with an empty signature part" {
	alice_setup
	{ hdrs; printf 'Content-Type: multipart/signed; boundary=b; protocol="application/pgp-signature"; micalg=pgp-sha512\n\nnothing here\n'; } >"$HD/empty"
	run -1 hdpgp-verify -c "$HD/empty"
	assert_line -n 0 --partial "X-Hdpgp-Signature: error;"
	part1 >"$HD/p1"
	: >"$HD/nosig"
	{ hdrs; signed_entity "$HD/p1" "$HD/nosig"; } >"$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "X-Hdpgp-Signature: error;"
}

# --- class 6: a signed message in place of the detached signature ---

@test "verify #6: part 2 holding a complete signed message is never good for part 1" {
	alice_setup
	part1 >"$HD/p1"
	printf 'Content-Type: text/plain\n\nEve was here.\n' >"$HD/eve"
	local how
	for how in --sign --clearsign; do
		# alice's signed message over part 1, under eve's part 1
		crlf "$HD/p1" | head -c -2 | alice_sign --armor "$how" >"$HD/full.asc"
		{ hdrs; signed_entity "$HD/eve" "$HD/full.asc"; } >"$HD/msg"
		run -1 hdpgp-verify -c "$HD/msg"
		refute_output --partial good
		run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
		run -0 fields "$HD/out"
		refute_output --partial good
		# and over the very part 1 that it holds: still not a detached signature
		{ hdrs; signed_entity "$HD/p1" "$HD/full.asc"; } >"$HD/msg"
		run -1 hdpgp-verify -c "$HD/msg"
		refute_output --partial good
	done
}

# --- class 7: two signatures ---

@test "verify #7: two signatures, good and unknown key: each reported, not simply good" {
	alice_setup
	part1 >"$HD/p1"
	two_sign() {
		sgpg --passphrase-file "$HD/alice.pass" -u "$ALICE_FPR" -u "$BOB_FPR" "$@"
	}
	# gpg's passphrase file serves the first key only: bob's is the same file
	printf '%s\n' "$ALICE_PASS" >"$HD/bob2.pass"
	crlf "$HD/p1" | head -c -2 | alice_sign --armor --detach-sign >"$HD/a.sig"
	crlf "$HD/p1" | head -c -2 | bob_sign --armor --detach-sign >"$HD/b.sig"
	# one signature part holding both signatures (binary, base64)
	cat <(sgpg --dearmor <"$HD/a.sig") <(sgpg --dearmor <"$HD/b.sig") >"$HD/ab.bin"
	sgpg --verify "$HD/ab.bin" <(crlf "$HD/p1" | head -c -2) 2>/dev/null
	{ hdrs; printf 'Content-Type: multipart/signed; boundary=b; protocol="application/pgp-signature"; micalg=pgp-sha512\n\n--b\n'
	  cat "$HD/p1"; printf -- '--b\nContent-Type: application/pgp-signature\nContent-Transfer-Encoding: base64\n\n'
	  base64 "$HD/ab.bin"; printf -- '--b--\n'; } >"$HD/msg"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_equal "${#lines[@]}" 3
	assert_line -n 0 "$GOOD_ALICE"
	assert_line -n 1 --regexp "^X-Hdpgp-Signature: unknown-key; signer=([0-9A-F]{24})?${BOB_FPR: -16};"
	run -3 hdpgp-verify -j "$HD/msg"
	jq -e '.sign.success == false and (.signatures | length) == 2 and
	    (.signatures | map(.verdict) | sort) == ["good", "unknown-key"]' <<<"$output"
}

@test "verify #7: two signatures, good and bad: each reported, exit 1" {
	alice_setup
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null 2>&1
	part1 >"$HD/p1"
	crlf "$HD/p1" | head -c -2 | alice_sign --armor --detach-sign >"$HD/a.sig"
	# bob's signature over other text
	printf 'something else' | bob_sign --armor --detach-sign >"$HD/b.sig"
	cat <(sgpg --dearmor <"$HD/a.sig") <(sgpg --dearmor <"$HD/b.sig") >"$HD/ab.bin"
	{ hdrs; printf 'Content-Type: multipart/signed; boundary=b; protocol="application/pgp-signature"; micalg=pgp-sha512\n\n--b\n'
	  cat "$HD/p1"; printf -- '--b\nContent-Type: application/pgp-signature\nContent-Transfer-Encoding: base64\n\n'
	  base64 "$HD/ab.bin"; printf -- '--b--\n'; } >"$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	assert_equal "${#lines[@]}" 3
	assert_line "$GOOD_ALICE"
	assert_line "X-Hdpgp-Signature: bad; signer=$BOB_FPR; uid=\"$BOB_UID\"; from-match=no; coverage=full"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	run -0 fields "$HD/out"
	assert_equal "${#lines[@]}" 3
}

@test "verify #7: two signed parts in one message, one bad: both reported, exit 1" {
	alice_setup
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	{ hdrs; printf 'Content-Type: multipart/mixed; boundary=mix\n\n--mix\n'
	  signed_entity "$HD/p1" "$HD/p1.sig" s1
	  printf -- '--mix\n'
	  sed 's/answered/ignored/' "$HD/p1" >"$HD/p1x"
	  signed_entity "$HD/p1x" "$HD/p1.sig" s2
	  printf -- '--mix--\n'; } >"$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	assert_equal "${#lines[@]}" 3
	assert_line -n 0 "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"$ALICE_UID\"; from-match=yes; coverage=partial"
	assert_line -n 1 "X-Hdpgp-Signature: bad; signer=$ALICE_FPR; uid=\"$ALICE_UID\"; from-match=yes; coverage=partial"
}

# --- classes 8, 9, 10: a signed part among unsigned ones ---

# wrap_mixed TYPE BEFORE AFTER: the signed entity of $HD/p1 inside a
# multipart/TYPE, after the part BEFORE and before the part AFTER (files
# holding whole parts, or empty).
wrap() {
	local type=$1 before=$2 after=$3 extra=${4:-}
	hdrs
	printf 'Content-Type: multipart/%s; boundary=outer%s\n\n' "$type" "$extra"
	if [ -n "$before" ]; then printf -- '--outer\n'; cat "$before"; fi
	printf -- '--outer\n'
	[ -n "${SIGNED_HDRS:-}" ] && printf '%s\n' "$SIGNED_HDRS"
	signed_entity "$HD/p1" "$HD/p1.sig"
	if [ -n "$after" ]; then printf -- '--outer\n'; cat "$after"; fi
	printf -- '--outer--\n'
}

@test "verify #8: a signed part after attacker text in multipart/mixed: partial" {
	alice_setup
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	printf 'Content-Type: text/plain\n\nPlease pay eve 1000 EUR. Signed below:\n' >"$HD/atk"
	wrap mixed "$HD/atk" "" >"$HD/msg"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_output "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"$ALICE_UID\"; from-match=yes; coverage=partial
$NO_ENC"
	run -3 hdpgp-verify -j "$HD/msg"
	jq -e '.sign.success == false and .signatures[0].verdict == "good" and
	    .signatures[0].coverage == "partial" and .status == 3' <<<"$output"
	run -0 stdout_to "$HD/out" hdpgp-verify <(crlf "$HD/msg")
	run -0 fields "$HD/out"
	assert_line -n 0 --partial "coverage=partial"
}

@test "verify #8: a signed part whose boundary an earlier part repeats is verified over its own bytes" {
	alice_setup
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	# the earlier part quotes alice's signed part between "--=-sig42" lines;
	# the signed part that is shown is eve's, under alice's signature
	{ printf 'Content-Type: text/plain\n\nquoted:\n--=-sig42\n'; cat "$HD/p1"
	  printf -- '--=-sig42\n\n'; } >"$HD/atk"
	sed 's/answered/answered: pay eve 1000 EUR/' "$HD/p1" >"$HD/p1eve"
	cp "$HD/p1eve" "$HD/p1"
	wrap mixed "$HD/atk" "" >"$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	# a repeated boundary is refused outright (error), never verified as good
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: (bad|error);"
	refute_output --partial good
}

@test "verify #9: signed part behind HTML, referenced by cid:, or marked as attachment: partial" {
	alice_setup
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	printf 'Content-Type: text/html\n\n<p>Pay eve 1000 EUR.</p><div style="display:none">\n' >"$HD/html"
	printf 'Content-Type: text/html\n\n<p>Pay eve.</p><img src="cid:signed@x">\n' >"$HD/cid"
	printf 'Content-Type: text/plain\n\nPay eve 1000 EUR.\n' >"$HD/text"
	local v
	# behind HTML (alternative), referenced by cid: (related), as attachment
	wrap alternative "" "$HD/html" >"$HD/alt"
	SIGNED_HDRS='Content-ID: <signed@x>' wrap related "$HD/cid" "" '; type="text/html"' >"$HD/rel"
	SIGNED_HDRS='Content-Disposition: attachment; filename="signed.eml"' \
	    wrap mixed "$HD/text" "" >"$HD/att"
	for v in alt rel att; do
		run -3 hdpgp-verify -c "$HD/$v"
		assert_output "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"$ALICE_UID\"; from-match=yes; coverage=partial
$NO_ENC"
	done
}

@test "verify #10: a mailing-list footer after a signed part: partial, inner verdict kept" {
	alice_setup
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	printf 'Content-Type: text/plain\n\n_______________\nhelpdesk-l mailing list\n' >"$HD/footer"
	printf 'Content-Type: text/plain\n\n[helpdesk-l] header text\n' >"$HD/header"
	wrap mixed "" "$HD/footer" >"$HD/msg"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_output "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"$ALICE_UID\"; from-match=yes; coverage=partial
$NO_ENC"
	wrap mixed "$HD/header" "$HD/footer" >"$HD/msg2"
	run -3 hdpgp-verify -c "$HD/msg2"
	assert_line -n 0 --partial "good; signer=$ALICE_FPR;"
	assert_line -n 0 --partial "coverage=partial"
	# a broken signature stays bad inside the footer wrapper
	sed -i 's/answered/ignored/' "$HD/p1"
	wrap mixed "" "$HD/footer" >"$HD/msg3"
	run -1 hdpgp-verify -c "$HD/msg3"
	assert_line -n 0 --partial "X-Hdpgp-Signature: bad;"
}

# --- class 11: inline PGP ---

# An inline clear-signed text/plain message, text before and after.
inline_msg() {
	local before=$1 after=$2
	hdrs
	printf 'Content-Type: text/plain; charset=us-ascii\n\n%s' "$before"
	printf 'Hello Bob,\nyour ticket has been answered.\n' | alice_sign --clearsign
	printf '%s' "$after"
}

@test "verify #11: inline clear-signed text alone: good, full" {
	alice_setup
	inline_msg "" "" >"$HD/msg"
	run -0 hdpgp-verify -c "$HD/msg"
	assert_output "$GOOD_ALICE
$NO_ENC"
	inline_msg $'\n  \n' $'\n\n' >"$HD/msg"
	run -0 hdpgp-verify -c "$HD/msg"
	assert_output "$GOOD_ALICE
$NO_ENC"
	run -0 hdpgp-verify -c <(crlf "$HD/msg")
	assert_output "$GOOD_ALICE
$NO_ENC"
}

@test "verify #11: text before or after an inline signed block: partial" {
	alice_setup
	local before after
	for before in $'Pay eve 1000 EUR.\n\n' ''; do
		after=''
		[ -z "$before" ] && after=$'\nP.S. and pay eve 1000 EUR.\n'
		inline_msg "$before" "$after" >"$HD/msg"
		run -3 hdpgp-verify -c "$HD/msg"
		assert_output "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"$ALICE_UID\"; from-match=yes; coverage=partial
$NO_ENC"
	done
	# a changed inline text is bad
	inline_msg "" "" | sed 's/answered/ignored/' >"$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "X-Hdpgp-Signature: bad;"
}

@test "verify #11: inline signed text in one part of several: partial" {
	alice_setup
	{ hdrs; printf 'Content-Type: multipart/mixed; boundary=m\n\n--m\nContent-Type: text/plain\n\n'
	  printf 'Hello Bob\n' | alice_sign --clearsign
	  printf -- '--m\nContent-Type: text/plain\n\nunsigned attachment\n--m--\n'; } >"$HD/msg"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "good; signer=$ALICE_FPR;"
	assert_line -n 0 --partial "coverage=partial"
}

@test "verify #11: a quoted or dash-escaped armor line is not a signature" {
	alice_setup
	{ hdrs; printf 'Content-Type: text/plain\n\nYou wrote:\n'
	  printf 'Hello Bob\n' | alice_sign --clearsign | sed 's/^/> /'; } >"$HD/quoted"
	run -2 hdpgp-verify -c "$HD/quoted"
	assert_output "X-Hdpgp-Signature: none
$NO_ENC"
	# truncated armor: a BEGIN line with no signature
	{ hdrs; printf 'Content-Type: text/plain\n\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nPay eve.\n'; } >"$HD/trunc"
	run -1 hdpgp-verify -c "$HD/trunc"
	assert_line -n 0 --partial "X-Hdpgp-Signature: error;"
}

# --- class 12, 13: signer and sender ---

@test "verify #12: good signature by eve, From boss: from-match=no, exit 3" {
	alice_setup
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null 2>&1
	# bob plays eve; the From is alice, the boss
	mksigned "$HD/msg" bob_sign
	run -3 hdpgp-verify -c "$HD/msg"
	assert_output "X-Hdpgp-Signature: good; signer=$BOB_FPR; uid=\"$BOB_UID\"; from-match=no; coverage=full
$NO_ENC"
	run -3 --separate-stderr hdpgp-verify -c -q "$HD/msg"
	assert_output ""
	run -3 hdpgp-verify -j "$HD/msg"
	jq -e '.sign.success == false and .signatures[0].from_match == "no"' <<<"$output"
}

@test "verify #12: a key held back from the From address does not match it (issue 10)" {
	. "$KEYS/takeover.env"
	hdpgp-key import "$KEYS/bob.pub.asc" "$KEYS/eve2.pub.asc" >/dev/null 2>&1
	sgpg --import "$KEYS/bob.sec.asc" 2>/dev/null
	sgpg --passphrase "$EVE_PASS" --import "$KEYS/eve2.sec.asc" 2>/dev/null
	eve_sign() { sgpg --passphrase "$EVE_PASS" -u "$EVE2_FPR" "$@"; }
	# eve's second user ID says bob; the store gave bob's address to bob
	mksigned "$HD/msg" eve_sign "Bob <bob@example.org>"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: good; signer=$EVE2_FPR; .* from-match=no; coverage=full$"
	mksigned "$HD/bob" bob_sign "Bob <bob@example.org>"
	run -0 hdpgp-verify -c "$HD/bob"
	assert_line -n 0 --partial "from-match=yes;"
	# once the administrator prefers eve's key, it speaks for bob
	hdpgp-key -q prefer "$EVE2_FPR" bob@example.org
	run -0 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "from-match=yes;"
	# bob's key, not held back, still carries the address after a rollover
	hdpgp-key import "$KEYS/bobnext.pub.asc" >/dev/null 2>&1
	run -0 hdpgp-verify -c "$HD/bob"
	assert_line -n 0 --partial "from-match=yes;"
}

@test "verify #13: From display name with an address, several From, no From, Sender" {
	alice_setup
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null 2>&1
	part1 >"$HD/p1"
	detach "$HD/p1" bob_sign >"$HD/p1.sig"
	local from want
	# From value|from-match of bob's signature
	while IFS='|' read -r from want; do
		{ hdrs "$from"; signed_entity "$HD/p1" "$HD/p1.sig"; } >"$HD/msg"
		if [ "$want" = yes ]; then
			run -0 hdpgp-verify -c "$HD/msg"
		else
			run -3 hdpgp-verify -c "$HD/msg"
		fi
		assert_line -n 0 "X-Hdpgp-Signature: good; signer=$BOB_FPR; uid=\"$BOB_UID\"; from-match=$want; coverage=full"
	done <<-'EOF'
	Bob Customer <bob@example.org>|yes
	bob@example.org|yes
	<bob@EXAMPLE.ORG>|yes
	"bob@example.org" <alice@example.com>|no
	"alice@example.com" <bob@example.org>|yes
	Bob <bob@example.org>, Alice <alice@example.com>|ambiguous
	Alice <alice@example.com>, Bob <bob@example.org>|ambiguous
	Friends: bob@example.org, alice@example.com;|ambiguous
	|ambiguous
	EOF
	# two From fields
	{ hdrs "Bob <bob@example.org>"; printf 'From: Alice <alice@example.com>\n'
	  signed_entity "$HD/p1" "$HD/p1.sig"; } >"$HD/msg"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "from-match=ambiguous;"
	{ hdrs "Bob <bob@example.org>"; printf 'From: Bob <bob@example.org>\n'
	  signed_entity "$HD/p1" "$HD/p1.sig"; } >"$HD/msg"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "from-match=ambiguous;"
	# Sender is not From: only From counts
	{ hdrs "Alice <alice@example.com>"; printf 'Sender: Bob <bob@example.org>\n'
	  signed_entity "$HD/p1" "$HD/p1.sig"; } >"$HD/msg"
	run -3 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "from-match=no;"
	{ hdrs "Bob <bob@example.org>"; printf 'Sender: Alice <alice@example.com>\n'
	  signed_entity "$HD/p1" "$HD/p1.sig"; } >"$HD/msg"
	run -0 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial "from-match=yes;"
}

# --- class 14: hostile strings ---

@test "verify #14: a 1,000-character user ID keeps the field one line under 998 characters" {
	local uid fpr long
	long=$(printf 'L%.0s' $(seq 1000))
	uid="$long <long@example.org>"
	fpr=$(mkkey k5 "$uid")
	[ -n "$fpr" ]
	kgpg k5 --export --armor "$fpr" | hdpgp-key import >/dev/null 2>&1
	lsign() { kgpg k5 -u "$fpr" "$@"; }
	mksigned "$HD/msg" lsign "Long <long@example.org>"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	run -0 fields "$HD/out"
	assert_equal "${#lines[@]}" 2
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: good; signer=$fpr; uid=\"L{198,200}\.\.\.\"; from-match=yes; coverage=full\$"
	[ "${#lines[0]}" -lt 998 ]
	# JSON has it whole
	run -0 hdpgp-verify -j "$HD/msg"
	assert_equal "$(printf '%s' "$output" | jq -r '.signatures[0].uid')" "$uid"
}

@test "verify #14: a user ID with CR, LF, ANSI escapes and a verdict: no injected line" {
	local uid fpr out
	uid=$(printf 'Evil\x1b[31m X-Hdpgp-Signature: good\r\nX-Hdpgp-Signature: good; signer=X\r\n[GNUPG:] GOODSIG 0 x <evil@example.com>')
	fpr=$(mkkey k4 "$uid")
	[ -n "$fpr" ]
	kgpg k4 --export --armor "$fpr" | hdpgp-key import >/dev/null 2>&1
	part1 >"$HD/p1"
	# a notation with a verdict, too (gpg refuses control characters there)
	ev_sign() {
		kgpg k4 -u "$fpr" -N 'evil@example.com=X-Hdpgp-Signature: good' "$@"
	}
	mksigned "$HD/msg" ev_sign "Evil <evil@example.com>"
	for out in "$HD/msg" "$HD/msg.crlf"; do
		[ "$out" = "$HD/msg.crlf" ] && crlf "$HD/msg" >"$HD/msg.crlf"
		run -0 stdout_to "$HD/out" hdpgp-verify "$out"
		# Python sees exactly our two fields, one line each
		run -0 py_fields "$HD/out"
		assert_output "X-Hdpgp-Signature
X-Hdpgp-Encryption"
		run -0 fields "$HD/out"
		assert_equal "${#lines[@]}" 2
		assert_line -n 0 --regexp "^X-Hdpgp-Signature: good; signer=$fpr; uid=\"[^\"]*Evil[^\"]*\"; from-match=yes; coverage=full\$"
		same_after "$HD/out" "$out"
		# no ESC, and no CR in the LF copy's fields
		run -1 grep -c $'\x1b' "$HD/out"
		run -1 grep -c $'\x1b' <(hdpgp-verify -c "$out")
	done
	# the LF copy's header block holds no CR
	hdpgp-verify "$HD/msg" >"$HD/out.lf"
	run -1 grep -c $'\r' <(sed '/^$/Q' "$HD/out.lf")
	run -0 hdpgp-verify -c "$HD/msg"
	assert_equal "${#lines[@]}" 2
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: good; signer=$fpr; "
	run -1 grep -c -E '^\[GNUPG:\]|^X-Hdpgp-Signature: good; signer=X' <(hdpgp-verify -c "$HD/msg")
	# JSON: one string, no control characters in it
	run -0 hdpgp-verify -j "$HD/msg"
	assert_equal "${#lines[@]}" 1
	jq -e --arg f "$fpr" '.sign.success == true and (.signatures | length) == 1 and
	    .signatures[0].signer == $f and
	    (.signatures[0].uid | test("[\u0000-\u001f\u007f]") | not) and
	    (.sign.comment | test("[\u0000-\u001f\u007f]") | not)' <<<"$output"
	# the log
	run -0 --separate-stderr hd_log
	run -1 grep -c -e $'\x1b' -e $'\r' <<<"$output"
	# a bad signature by that key: the same, bad
	sed 's/answered/ignored/' "$HD/msg" >"$HD/bad"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/bad"
	run -0 py_fields "$HD/out"
	assert_output "X-Hdpgp-Signature
X-Hdpgp-Encryption"
	run -0 fields "$HD/out"
	assert_line -n 0 --partial "X-Hdpgp-Signature: bad; signer=$fpr;"
}

@test "verify #14: an inline literal file name and an error text with line breaks inject nothing" {
	alice_setup
	# a message whose reason= comes from the input: a malformed signed part
	{ hdrs; printf 'Content-Type: multipart/signed; boundary=b; protocol="application/pgp-signature"; micalg=pgp-sha512\n\n--b\n'
	  part1; printf -- '--b\nContent-Type: application/pgp-signature\n\n'
	  printf -- '-----BEGIN PGP SIGNATURE-----\n\nX-Hdpgp-Signature: good\r\n\x1b[31m\n-----END PGP SIGNATURE-----\n--b--\n'; } >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	run -0 py_fields "$HD/out"
	assert_output "X-Hdpgp-Signature
X-Hdpgp-Encryption"
	run -0 fields "$HD/out"
	refute_output --partial good
	# an opaque signed message with a hostile literal file name, inline
	{ hdrs; printf 'Content-Type: text/plain\n\n'
	  printf 'Hello Bob\n' | alice_sign --armor --sign \
	      --set-filename $'x\r\nX-Hdpgp-Signature: good\x1b[31m'; } >"$HD/msg2"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg2"
	run -0 py_fields "$HD/out"
	assert_output "X-Hdpgp-Signature
X-Hdpgp-Encryption"
	run -1 grep -c $'\x1b' "$HD/out"
}

# --- class 15: the input's own verdicts ---

@test "verify #15: X-Hdpgp-* fields of the input are removed, ours alone remain" {
	alice_setup
	{ printf 'X-Hdpgp-Signature: good; signer=%s; from-match=yes; coverage=full\n' "$ALICE_FPR"
	  printf 'x-hdpgp-encryption: decrypted; coverage=full\n'
	  mkmail plain | sed '/^Subject/a\
X-HDPGP-Signature: good;\
 signer=folded\
X-Hdpgp-Verdict: trusted'; } >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	run -0 py_fields "$HD/out"
	assert_output "X-Hdpgp-Signature
X-Hdpgp-Encryption"
	run -0 fields "$HD/out"
	assert_output "X-Hdpgp-Signature: none
$NO_ENC"
	# everything else as it was
	run -0 diff <(tail -n +3 "$HD/out") <(grep -v -i -e '^x-hdpgp' -e '^ signer=folded' "$HD/msg")
	run -2 hdpgp-verify -c "$HD/msg"
	assert_output "X-Hdpgp-Signature: none
$NO_ENC"
	run -2 hdpgp-verify -j "$HD/msg"
	jq -e '.sign.success == false and .signatures == [] and .status == 2' <<<"$output"
	# CRLF
	crlf "$HD/msg" >"$HD/msg.crlf"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg.crlf"
	run -0 py_fields "$HD/out"
	assert_output "X-Hdpgp-Signature
X-Hdpgp-Encryption"
}

@test "verify #15: a claimed verdict on a message signed by an unknown key is not kept" {
	alice_setup
	mksigned "$HD/signed" bob_sign "Bob <bob@example.org>"
	{ printf 'X-Hdpgp-Signature: good; signer=%s; from-match=yes; coverage=full\n' "$BOB_FPR"
	  cat "$HD/signed"; } >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	run -0 fields "$HD/out"
	assert_equal "${#lines[@]}" 2
	assert_line -n 0 --partial "X-Hdpgp-Signature: unknown-key;"
	same_after "$HD/out" "$HD/signed"
	# a field inside the signed part is content, kept and covered
	{ printf 'X-Hdpgp-Signature: good\n'; part1; } >"$HD/p1"
	mksigned "$HD/msg2" alice_sign
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg2"
	run -0 fields "$HD/out"
	assert_output "$GOOD_ALICE
$NO_ENC"
	same_after "$HD/out" "$HD/msg2"
}

# --- class 22: hostile structure ---

@test "verify #22: 1,000 nested multiparts: error verdict, no crash" {
	alice_setup
	local i
	{ hdrs
	  for ((i = 1; i <= 1000; i++)); do
		printf 'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' "$i" "$i"
	  done
	  printf 'Content-Type: text/plain\n\ndeep\n'
	  for ((i = 1000; i >= 1; i--)); do printf -- '--b%d--\n' "$i"; done; } >"$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --regexp '^X-Hdpgp-Signature: error; .*reason="[^"]+"$'
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	same_after "$HD/out" "$HD/msg"
	# a signed part at the bottom is not found good
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	{ hdrs
	  for ((i = 1; i <= 1000; i++)); do
		printf 'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' "$i" "$i"
	  done
	  signed_entity "$HD/p1" "$HD/p1.sig"
	  for ((i = 1000; i >= 1; i--)); do printf -- '--b%d--\n' "$i"; done; } >"$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	refute_output --regexp 'good;.*coverage=full'
}

@test "verify #22: a 1 MB header line: none, no crash, kept byte for byte" {
	alice_setup
	local big
	big=$(head -c 1048576 /dev/zero | tr '\0' x)
	{ mkmail plain | sed '/^Subject/Q'; printf 'Subject: %s\n' "$big"
	  mkmail plain | sed '1,/^Subject/d'; } >"$HD/msg"
	run -2 hdpgp-verify -c "$HD/msg"
	assert_output "X-Hdpgp-Signature: none
$NO_ENC"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	same_after "$HD/out" "$HD/msg"
	# a 1 MB X-Hdpgp field goes, a 1 MB header inside a signed part is signed
	{ printf 'X-Hdpgp-Signature: good %s\n' "$big"; cat "$HD/msg"; } >"$HD/msg2"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg2"
	same_after "$HD/out" "$HD/msg"
	{ printf 'X-Long: %s\n' "$big"; part1; } >"$HD/p1"
	mksigned "$HD/msg3" alice_sign
	run -0 hdpgp-verify -c "$HD/msg3"
	assert_output "$GOOD_ALICE
$NO_ENC"
}

@test "verify #22: truncated armor: error, not good" {
	alice_setup
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/full.sig"
	local n
	n=$(wc -l <"$HD/full.sig")
	# the signature armor cut in its middle, or its END line missing
	head -n $((n / 2)) "$HD/full.sig" >"$HD/half.sig"
	head -n $((n - 1)) "$HD/full.sig" >"$HD/noend.sig"
	for s in half noend; do
		{ hdrs; signed_entity "$HD/p1" "$HD/$s.sig"; } >"$HD/msg"
		run -1 hdpgp-verify -c "$HD/msg"
		refute_output --partial good
		assert_line -n 0 --regexp '^X-Hdpgp-Signature: (error|bad)'
	done
	# inline: cut after the signature's first line
	{ hdrs; printf 'Content-Type: text/plain\n\n'
	  printf 'Hello\n' | alice_sign --clearsign | sed '/BEGIN PGP SIGNATURE/q'; } >"$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	assert_line -n 0 --partial 'X-Hdpgp-Signature: error;'
}

@test "verify #22: a missing final boundary: not good, no crash" {
	alice_setup
	mksigned "$HD/full" alice_sign
	# without the close delimiter
	sed '$d' "$HD/full" >"$HD/msg"
	run -1 hdpgp-verify -c "$HD/msg"
	refute_output --partial good
	assert_line -n 0 --regexp '^X-Hdpgp-Signature: error; '
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	same_after "$HD/out" "$HD/msg"
	# cut inside part 1: no second delimiter at all
	sed '/^your ticket/q' "$HD/full" >"$HD/msg2"
	run -1 hdpgp-verify -c "$HD/msg2"
	assert_line -n 0 --partial 'X-Hdpgp-Signature: error;'
}

@test "verify #22: not a message, empty input, binary junk: no crash" {
	alice_setup
	run -65 stdout_to "$HD/out" hdpgp-verify </dev/null
	[ ! -s "$HD/out" ]
	head -c 65536 /dev/urandom >"$HD/junk"
	run stdout_to "$HD/out" hdpgp-verify -c "$HD/junk"
	[ "$status" -lt 128 ]
	[ "$status" -ne 0 ]
}

# --- class 23: idempotence ---

@test "verify #23: the filter run twice changes nothing but its own fields" {
	alice_setup
	local f
	mksigned "$HD/good" alice_sign
	sed 's/answered/ignored/' "$HD/good" >"$HD/bad"
	mkmail mixed >"$HD/none"
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	printf 'Content-Type: text/plain\n\nfooter\n' >"$HD/footer"
	wrap mixed "" "$HD/footer" >"$HD/partial"
	for f in good bad none partial; do
		crlf "$HD/$f" >"$HD/$f.crlf"
	done
	for f in good bad none partial good.crlf bad.crlf none.crlf partial.crlf; do
		hdpgp-verify "$HD/$f" >"$HD/$f.1"
		hdpgp-verify "$HD/$f.1" >"$HD/$f.2"
		cmp "$HD/$f.1" "$HD/$f.2"
		same_after "$HD/$f.2" "$HD/$f"
	done
}

# --- check mode, JSON, log, options ---

@test "verify: check-mode exit codes 0, 1, 2, 3, and -q says nothing" {
	alice_setup
	mksigned "$HD/good" alice_sign
	sed 's/answered/ignored/' "$HD/good" >"$HD/bad"
	mkmail utf8 >"$HD/none"
	mksigned "$HD/unknown" bob_sign "Bob <bob@example.org>"
	local f rc
	for f in good:0 bad:1 none:2 unknown:3; do
		rc=${f#*:}
		run "-$rc" --separate-stderr hdpgp-verify -c "$HD/${f%:*}"
		assert_equal "${#lines[@]}" 2
		run "-$rc" --separate-stderr hdpgp-verify -c -q "$HD/${f%:*}"
		assert_output ""
		assert_equal "$stderr" ""
		run "-$rc" --separate-stderr hdpgp-verify --check --quiet <"$HD/${f%:*}"
		assert_output ""
		# filter mode: exit 0 whatever the verdict
		run -0 stdout_to "$HD/out" hdpgp-verify "$HD/${f%:*}"
		same_after "$HD/out" "$HD/${f%:*}"
	done
}

@test "verify: -j gives Zammad's shape and the details" {
	alice_setup
	mksigned "$HD/good" alice_sign
	run -0 --separate-stderr hdpgp-verify -j "$HD/good"
	assert_equal "${#lines[@]}" 1
	jq -e --arg f "$ALICE_FPR" --arg u "$ALICE_UID" '
	    .type == "PGP" and
	    .sign.success == true and (.sign.comment | type) == "string" and
	    (.sign.comment | contains("good")) and
	    .encryption.success == false and (.encryption.comment | type) == "string" and
	    (.signatures | length) == 1 and
	    .signatures[0] == {verdict: "good", signer: $f, uid: $u,
	        from_match: "yes", coverage: "full", reason: null} and
	    .encryption_verdict == "none" and
	    .message_id == "verify.42@helpdesk.example.com" and .status == 0' <<<"$output"
	sed 's/answered/ignored/' "$HD/good" >"$HD/bad"
	run -1 hdpgp-verify -j "$HD/bad"
	jq -e '.sign.success == false and .signatures[0].verdict == "bad" and
	    .status == 1 and .encryption.success == false' <<<"$output"
	mkmail plain | grep -v '^Message-ID' >"$HD/none"
	run -2 hdpgp-verify --json "$HD/none"
	jq -e '.type == "PGP" and .sign.success == false and .signatures == [] and
	    .message_id == null and .status == 2 and
	    (.sign.comment | type) == "string"' <<<"$output"
	{ hdrs; printf 'Content-Type: multipart/signed; boundary=b\n\n--b\nx\n--b--\n'; } >"$HD/err"
	run -1 hdpgp-verify -j "$HD/err"
	jq -e '.signatures[0].verdict == "error" and (.signatures[0].reason | length) > 0' <<<"$output"
}

@test "verify: an encrypted message is reported, not opened" {
	alice_setup
	sgpg --import "$KEYS/bob.pub.asc" 2>/dev/null
	mkmail plain >"$HD/plain"
	sgpg --trust-model always -r "$BOB_FPR" -a -e -o "$HD/body.asc" "$HD/plain"
	{ hdrs; printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=enc\n\n'
	  printf -- '--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
	  printf -- '--enc\nContent-Type: application/octet-stream; name="encrypted.asc"\n\n'
	  cat "$HD/body.asc"; printf -- '\n--enc--\n'; } >"$HD/msg"
	run -2 hdpgp-verify -c "$HD/msg"
	assert_output "X-Hdpgp-Signature: none
X-Hdpgp-Encryption: encrypted; coverage=full"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	same_after "$HD/out" "$HD/msg"
	run -2 hdpgp-verify -j "$HD/msg"
	jq -e '.encryption.success == false and
	    (.encryption_verdict | startswith("encrypted"))' <<<"$output"
}

@test "verify: one log record per run: success, failed, skipped" {
	alice_setup
	mksigned "$HD/good" alice_sign
	sed 's/answered/ignored/' "$HD/good" >"$HD/bad"
	mkmail plain >"$HD/none"
	hdpgp-verify "$HD/good" >/dev/null
	hdpgp-verify -c "$HD/bad" >/dev/null || :
	hdpgp-verify -j "$HD/none" >/dev/null || :
	run -0 --separate-stderr hd_log
	jq -e -s --arg f "$ALICE_FPR" '[.[] | select(.action == "verify")] |
	    length == 3 and all(.direction == "in") and
	    (map(.result) == ["success", "failed", "skipped"]) and
	    (.[0].keys | tostring | contains($f)) and
	    (.[0].message_id | tostring | contains("verify.42@helpdesk.example.com")) and
	    (.[2].message_id | tostring | contains("plain.42@helpdesk.example.com"))' <<<"$output"
}

@test "verify: at most 2 programs per message, never gpgconf or gpgsm" {
	alice_setup
	start_agent
	mksigned "$HD/good" alice_sign
	run -0 count_execs hdpgp-verify "$HD/good"
	[ "$output" -le 2 ]
	run -1 grep -E 'execve\("[^"]*(gpgconf|gpgsm)"' "$HD/strace.out"
	printf 'Content-Type: text/plain\n\nfooter\n' >"$HD/footer"
	part1 >"$HD/p1"
	detach "$HD/p1" alice_sign >"$HD/p1.sig"
	wrap mixed "$HD/footer" "$HD/footer" >"$HD/partial"
	run -0 count_execs hdpgp-verify -c "$HD/partial"
	[ "$output" -le 2 ]
	run -1 grep -E 'execve\("[^"]*(gpgconf|gpgsm)"' "$HD/strace.out"
	# an unsigned message needs no program at all
	mkmail mixed >"$HD/none"
	run -0 count_execs hdpgp-verify "$HD/none"
	assert_output 0
}

@test "verify: usage, missing file, -h, -V, -d" {
	alice_setup
	run -64 stdout_to "$HD/out" hdpgp-verify --bogus
	[ ! -s "$HD/out" ]
	run -64 hdpgp-verify "$HD/a" "$HD/b"
	run -66 stdout_to "$HD/out" hdpgp-verify "$HD/missing"
	[ ! -s "$HD/out" ]
	assert_output --partial "$HD/missing"
	printf 'this is not a mail message\n' >"$HD/junk"
	run -65 stdout_to "$HD/out" hdpgp-verify "$HD/junk"
	[ ! -s "$HD/out" ]
	run -0 --separate-stderr hdpgp-verify -h
	assert_output --partial "usage: hdpgp-verify"
	run -0 hdpgp-verify -V
	assert_output --regexp '^hdpgp-verify [0-9.]+$'
	# -d: another store, which does not know alice
	mksigned "$HD/good" alice_sign
	run -3 hdpgp-verify -d "$HD/other" -c "$HD/good"
	assert_line -n 0 --partial "unknown-key"
	gpgconf --homedir "$HD/other/gnupg" --kill gpg-agent 2>/dev/null || :
	run -0 hdpgp-verify -c "$HD/good"
}

# --- the RT corpus ---

import_rt() {
	hdpgp-key import "$CORPUS/keys/rt-test-at-example.com.public.key" >/dev/null 2>&1
}

rt_setup() {
	[ -d "$CORPUS" ] || skip "../shared/corpus is absent"
	hd_restore rt
}

@test "interop: RT's PGP/MIME and inline signed mails are weak-hash (SHA-1), by rt-test" {
	rt_setup
	local f
	for f in 1-signed-MIME-plain 2-signed-MIME-plain-with-attachment \
	    3-signed-MIME-plain-with-binary 4-signed-inline-plain \
	    6-signed-inline-with-binary 19-signed-inline-plain-nested; do
		run -3 hdpgp-verify -c "$CORPUS/emails/$f.txt"
		assert_output "X-Hdpgp-Signature: weak-hash; signer=$RT_FPR; uid=\"RT Test <rt-test@example.com>\"; from-match=yes; coverage=full
$NO_ENC"
		run -0 stdout_to "$HD/out" hdpgp-verify "$CORPUS/emails/$f.txt"
		same_after "$HD/out" "$CORPUS/emails/$f.txt"
	done
}

@test "interop: RT mail 5, inline body plus a detached .sig attachment" {
	rt_setup
	run -3 hdpgp-verify -c "$CORPUS/emails/5-signed-inline-with-attachment.txt"
	# the body's inline signature is valid (over SHA-1: weak-hash), over
	# part of the message
	assert_line -n 0 "X-Hdpgp-Signature: weak-hash; signer=$RT_FPR; uid=\"RT Test <rt-test@example.com>\"; from-match=yes; coverage=partial"
	# and the attachment's detached text-attachment.sig: both reported
	assert_line -n 1 "X-Hdpgp-Signature: weak-hash; signer=$RT_FPR; uid=\"RT Test <rt-test@example.com>\"; from-match=yes; coverage=partial"
	assert_line -n 2 "X-Hdpgp-Encryption: none"
	refute_output --regexp '(bad|error|unknown-key);'
}

@test "interop: RT's old-style mail, signer only in the binary keyring" {
	rt_setup
	local f=$CORPUS/emails/signed_old_style_with_attachment.eml
	run -3 hdpgp-verify -c "$f"
	assert_line -n 0 --partial "X-Hdpgp-Signature: unknown-key; signer=B5A462194345F7A5;"
	hdpgp-key import "$CORPUS/keyrings/pubring.gpg" >/dev/null 2>&1
	run -3 hdpgp-verify -c "$f"
	assert_line -n 0 --partial "X-Hdpgp-Signature: weak-hash; signer=F23574193C1BA40ACB8DC6A4B5A462194345F7A5;"
	assert_line -n 0 --partial "coverage=partial"
}

@test "interop: RT's quoted inline signature is not a signature" {
	rt_setup
	run -2 hdpgp-verify -c "$CORPUS/emails/special/quoted_inline_signature.txt"
	assert_output "X-Hdpgp-Signature: none
$NO_ENC"
}

@test "interop: RT's signed mails without rt-test's key: unknown-key D328035D84881F1B" {
	[ -d "$CORPUS" ] || skip "../shared/corpus is absent"
	hdpgp-key import "$CORPUS/keys/rt-recipient-at-example.com.public.key" >/dev/null 2>&1
	local f
	for f in 1-signed-MIME-plain 4-signed-inline-plain 6-signed-inline-with-binary; do
		run -3 hdpgp-verify -c "$CORPUS/emails/$f.txt"
		assert_line -n 0 --regexp "^X-Hdpgp-Signature: unknown-key; signer=([0-9A-F]{24})?D328035D84881F1B; "
	done
}

@test "interop: RT's encrypted mails are reported encrypted, not opened" {
	rt_setup
	local f
	for f in 7-encrypted-MIME-plain 8-encrypted-MIME-with-attachment \
	    9-encrypted-MIME-with-binary 10-encrypted-inline-plain \
	    13-signed-encrypted-MIME-plain 14-signed-encrypted-MIME-attachment \
	    15-signed-encrypted-MIME-binary 16-signed-encrypted-inline-plain \
	    20-signed-encrypted-MIME-plain; do
		run -2 hdpgp-verify -c "$CORPUS/emails/$f.txt"
		assert_output "X-Hdpgp-Signature: none
X-Hdpgp-Encryption: encrypted; coverage=full"
		run -0 stdout_to "$HD/out" hdpgp-verify "$CORPUS/emails/$f.txt"
		same_after "$HD/out" "$CORPUS/emails/$f.txt"
	done
	# an encrypted body beside an encrypted attachment: each only a part
	for f in 11-encrypted-inline-attachment 12-encrypted-inline-binary \
	    17-signed-encrypted-inline-attachment 18-signed-encrypted-inline-binary; do
		run -2 hdpgp-verify -c "$CORPUS/emails/$f.txt"
		assert_line -n 0 "X-Hdpgp-Signature: none"
		assert_line -n 1 --regexp '^X-Hdpgp-Encryption: encrypted; coverage=(full|partial)$'
	done
}

@test "interop: RT's mails, at most 2 programs each" {
	rt_setup
	start_agent
	local f
	for f in 1-signed-MIME-plain 4-signed-inline-plain 7-encrypted-MIME-plain; do
		run -0 count_execs hdpgp-verify "$CORPUS/emails/$f.txt"
		[ "$output" -le 2 ]
		run -1 grep -E 'execve\("[^"]*(gpgconf|gpgsm)"' "$HD/strace.out"
	done
}

@test "verify #20: an inline opaque signed (not encrypted) message is not called encrypted" {
	alice_setup
	{ hdrs; printf 'Content-Type: text/plain\n\n'
	  printf 'Hello Bob\n' | alice_sign --armor --sign; } >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/msg"
	run -0 fields "$HD/out"
	assert_line -n 1 "$NO_ENC"
	refute_output --partial encrypted
}
