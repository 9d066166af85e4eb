#!/usr/bin/env bats
# hdpgp-decrypt: incoming PGP/MIME and inline PGP mail decrypted, failing
# closed.  The vectors are made here: by stock gpg (in its own home, as the
# customer's mail client), by hand, and by hdpgp-encrypt for round trips.
# Attack classes 16-23 of doc/DESIGN are named by their numbers.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	hd_file_setup
	hd_fixture keys import_keys
	hd_fixture both import_keys import_alice
	[ ! -d "$CORPUS" ] || hd_fixture rt import_rt
}

hd_plain_hooks

# A word of every plaintext made here.  "-" is no base64 character, so no
# armor or base64 can hold it by chance.
MARK=OPEN-SESAME-4711

# The store (the helpdesk, bob@example.org) holds bob's secret key and
# alice's public key; the customer (stock gpg) holds alice's secret key
# and bob's public key.  Imported once for the file (helpers.bash:
# fixtures).
import_keys() {
	hdpgp-key --passphrase-file "$HD/bob.pass" import "$KEYS/bob.sec.asc" >/dev/null
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	sgpg --import "$KEYS/bob.pub.asc" 2>/dev/null
	sgpg --passphrase-file "$HD/alice.pass" --import "$KEYS/alice.sec.asc" 2>/dev/null
}

# For round trips with hdpgp-encrypt -s: the store also signs as alice.
import_alice() {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
}

keys_in() {
	hd_restore keys
}

keys_in_both() {
	hd_restore both
}

# Stock gpg encrypts to bob (and signs as alice with -s): sgpg_enc [opts].
sgpg_enc() {
	sgpg --yes --trust-model always --passphrase-file "$HD/alice.pass" \
	    -u "$ALICE_FPR" -r "$BOB_FPR" "$@"
}

# The top-level fields of mkmail KIND, without the body.
outer() {
	mkmail "${1:-plain}" | sed '/^$/Q'
}

# A MIME entity holding the marker: text, or mkmail KIND's entity.
entity() {
	if [ $# -eq 0 ]; then
		printf 'Content-Type: text/plain; charset=us-ascii\n\n'
		printf 'Dear helpdesk,\nthe password is %s.\n' "$MARK"
	else
		mkmail "$1" | awk '!body && /^$/ { body = 1 } body || /^Content-/'
	fi
}

# multipart/encrypted around an OpenPGP message (armored, or binary: then
# sent base64), under the fields of mkmail plain: wrap_enc FILE.
wrap_enc() {
	outer
	printf 'MIME-Version: 1.0\n'
	printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\n'
	printf ' boundary="=-enc"\n\nThis is an OpenPGP/MIME encrypted message.\n'
	printf -- '--=-enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
	printf -- '--=-enc\nContent-Type: application/octet-stream; name="encrypted.asc"\n'
	printf 'Content-Disposition: inline; filename="encrypted.asc"\n'
	if grep -q -- '-----BEGIN PGP MESSAGE-----' "$1"; then
		printf '\n'
		cat "$1"
	else
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$1"
	fi
	printf -- '\n--=-enc--\n'
}

# Armor binary OpenPGP data FILE as a PGP MESSAGE (with its CRC).
armor() {
	python3 "$HDPGP_SRCDIR/tests/pgpcraft.py" armor "$1"
}

# Flip one byte (xor 0x55) at offset N of file F, in place.
flip() {
	python3 - "$1" "$2" <<-'EOF'
	import sys
	d = bytearray(open(sys.argv[1], "rb").read())
	n = int(sys.argv[2])
	n = n if n >= 0 else len(d) + n
	d[n] ^= 0x55
	open(sys.argv[1], "wb").write(bytes(d))
	EOF
}

# The integrity-protected packet (tag 18) of binary message F turned into a
# legacy one without MDC (tag 9), in place: the "MDC stripped" attack.
strip_mdc() {
	python3 - "$1" <<-'EOF'
	import sys
	d = open(sys.argv[1], "rb").read()
	out, i = b"", 0
	while i < len(d):
	    c = d[i]
	    if c & 0x40:            # new format
	        tag = c & 0x3F
	        l0 = d[i + 1]
	        if l0 < 192:
	            hl, ln = 2, l0
	        elif l0 < 224:
	            hl, ln = 3, ((l0 - 192) << 8) + d[i + 2] + 192
	        elif l0 == 255:
	            hl, ln = 6, int.from_bytes(d[i + 2:i + 6], "big")
	        else:
	            sys.exit("partial lengths: not handled")
	    else:                   # old format
	        tag = (c >> 2) & 0x0F
	        lt = c & 3
	        n = {0: 1, 1: 2, 2: 4}[lt]
	        hl, ln = 1 + n, int.from_bytes(d[i + 1:i + 1 + n], "big")
	    body = d[i + hl:i + hl + ln]
	    if tag == 18:
	        body = body[1:]     # the version octet
	        out += bytes([0xC9, 0xFF]) + len(body).to_bytes(4, "big") + body
	    else:
	        out += d[i:i + hl + ln]
	    i += hl + ln
	open(sys.argv[1], "wb").write(out)
	EOF
}

# One line per leaf of MSG: type, file name, MD5 of the decoded content.
leaves_md5() {
	python3 - "$1" <<-'EOF'
	import email, email.policy, hashlib, sys
	m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
	                             policy=email.policy.compat32)
	for p in m.walk():
	    if not p.is_multipart():
	        d = p.get_payload(decode=True) or b""
	        print(p.get_content_type(), p.get_filename() or "-",
	              hashlib.md5(d).hexdigest())
	EOF
}

# Does some leaf of MSG hold WORD once decoded?
leaf_has() {
	python3 - "$1" "$2" <<-'EOF'
	import email, email.policy, sys
	m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
	                             policy=email.policy.compat32)
	w = sys.argv[2].encode()
	sys.exit(0 if any(w in (p.get_payload(decode=True) or b"")
	                  for p in m.walk() if not p.is_multipart()) else 1)
	EOF
}

# Our fields of kind Signature or Encryption in message F, without CR.
ours() {
	sed -n "s/\r\$//; /^X-Hdpgp-$2: /p" "$1"
}

# The last log record of a decrypt, as JSON.
last_decrypt_log() {
	hd_log | jq -c 'select(.action == "decrypt")' | tail -n 1
}

# fails_closed IN [REASON]: in every mode IN fails to decrypt, not one
# byte of plaintext ($MARK) is written, filter mode gives IN byte for byte
# under our fields, and the failure is logged with the Message-ID.
fails_closed() {
	local in=$1 reason=${2:-}
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$in"
	run -1 grep -c -e "$MARK" "$HD/out"
	run -0 grep -c '^X-Hdpgp-' "$HD/out"
	assert_output 2
	run -0 sed -n 2p "$HD/out"
	assert_output --regexp '^X-Hdpgp-Encryption: failed; reason="[^"]+'
	[ -z "$reason" ] || assert_output --partial "$reason"
	run -0 sed -n 1p "$HD/out"
	assert_output --regexp '^X-Hdpgp-Signature: (none|error)'
	grep -v '^X-Hdpgp-' "$HD/out" | cmp - "$in"
	run -1 --separate-stderr hdpgp-decrypt -c "$in"
	assert_line --regexp '^X-Hdpgp-Encryption: failed'
	refute_output --partial "$MARK"
	run -1 --separate-stderr hdpgp-decrypt -j "$in"
	refute_output --partial "$MARK"
	jq -e '.encryption.success == false and .status == 1 and
	    (.encryption_verdict | startswith("failed"))' <<<"$output"
	run -0 last_decrypt_log
	jq -e '.result == "failed" and .direction == "in" and
	    .message_id == "plain.42@helpdesk.example.com"' <<<"$output"
	run -1 grep -c -e "$MARK" "$HDPGP_HOME/state.tdb"
}

# decrypts IN OUT: filter mode decrypts IN to OUT, with bob's key.
decrypts() {
	run -0 --separate-stderr stdout_to "$2" hdpgp-decrypt "$1"
	assert_equal "$stderr" ""
	run -0 ours "$2" Encryption
	assert_output "X-Hdpgp-Encryption: decrypted; key=$BOB_FPR; coverage=full"
}

# not_decrypted IN: IN is left as it is, marked encrypted; coverage=partial.
not_decrypted() {
	local in=$1
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$in"
	run -1 grep -c -e "$MARK" "$HD/out"
	run -0 ours "$HD/out" Encryption
	assert_output --regexp '^X-Hdpgp-Encryption: encrypted; coverage=partial'
	run -1 grep -c '^X-Hdpgp-Encryption: decrypted' "$HD/out"
	grep -v '^X-Hdpgp-' "$HD/out" | cmp - "$in"
	# encrypted in part: not "not encrypted" (2), but not to be trusted (3)
	run -3 --separate-stderr hdpgp-decrypt -c "$in"
	refute_output --partial "$MARK"
	assert_line --regexp '^X-Hdpgp-Encryption: encrypted; coverage=partial'
	run -3 --separate-stderr hdpgp-decrypt -j "$in"
	refute_output --partial "$MARK"
	jq -e '.encryption.success == false' <<<"$output"
	run -0 last_decrypt_log
	jq -e '.result == "skipped"' <<<"$output"
}

# --- #16: what decrypts, and the signatures inside ---

@test "decrypt #16: encrypted only, by stock gpg, PGP/MIME" {
	keys_in
	entity mixed >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 sed -n 1p "$HD/out"
	assert_output "X-Hdpgp-Signature: none"
	assert_equal "$(mimecheck headers "$HD/out" | grep -v '^X-Hdpgp-')" \
	    "$(mimecheck headers "$HD/m")"
	assert_equal "$(mimecheck leaves "$HD/out")" "$(mimecheck leaves "$HD/ent")"
	run -0 mimecheck leaves "$HD/out"
	assert_line "application/octet-stream trace.bin $(sha256sum <"$HD/att.bin" | cut -d' ' -f1)"
	run -0 mimecheck param "$HD/out" boundary
	assert_output "=-mix"
	run -0 --separate-stderr hdpgp-decrypt -c "$HD/m"
	assert_equal "${#lines[@]}" 2
	assert_line "X-Hdpgp-Encryption: decrypted; key=$BOB_FPR; coverage=full"
	run -0 --separate-stderr hdpgp-decrypt -j "$HD/m"
	jq -e --arg b "$BOB_FPR" '.type == "PGP" and .encryption.success == true and
	    .sign.success == false and .signatures == [] and .status == 0 and
	    .message_id == "plain.42@helpdesk.example.com" and
	    (.encryption_verdict | contains($b))' <<<"$output"
	run -0 last_decrypt_log
	jq -e --arg b "$BOB_FPR" '.result == "success" and .direction == "in" and
	    .message_id == "plain.42@helpdesk.example.com" and
	    (.keys | contains($b))' <<<"$output"
	# the plaintext is nowhere in the log
	run -1 grep -c trace.bin "$HDPGP_HOME/state.tdb"
}

@test "decrypt #16: encrypted only, binary OpenPGP sent base64" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e -o "$HD/c.gpg" "$HD/ent"
	wrap_enc "$HD/c.gpg" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	grep -q -e "the password is $MARK" "$HD/out"
}

@test "decrypt #16: one-pass signed and encrypted by stock gpg" {
	keys_in
	entity mixed >"$HD/ent"
	sgpg_enc -s -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 ours "$HD/out" Signature
	assert_output "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"Alice Helpdesk (INSECURE test key) <alice@example.com>\"; from-match=yes; coverage=full"
	assert_equal "$(mimecheck leaves "$HD/out")" "$(mimecheck leaves "$HD/ent")"
	run -0 --separate-stderr hdpgp-decrypt -j "$HD/m"
	jq -e --arg a "$ALICE_FPR" '.sign.success == true and
	    .encryption.success == true and (.signatures | length) == 1 and
	    .signatures[0].verdict == "good" and .signatures[0].signer == $a and
	    .signatures[0].from_match == "yes"' <<<"$output"
}

@test "decrypt #16: signed, then encrypted (nested), by hand with stock gpg" {
	keys_in
	entity mixed | crlf >"$HD/part1"
	sgpg -u "$ALICE_FPR" --passphrase-file "$HD/alice.pass" --detach-sign \
	    --armor -o "$HD/sig.asc" "$HD/part1"
	{
		printf 'Content-Type: multipart/signed; micalg=pgp-sha256;\r\n'
		printf ' protocol="application/pgp-signature"; boundary="=-sig"\r\n\r\n'
		printf -- '--=-sig\r\n'
		cat "$HD/part1"
		printf -- '\r\n--=-sig\r\nContent-Type: application/pgp-signature; name="signature.asc"\r\n\r\n'
		crlf "$HD/sig.asc"
		printf -- '\r\n--=-sig--\r\n'
	} >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 ours "$HD/out" Signature
	assert_output "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"Alice Helpdesk (INSECURE test key) <alice@example.com>\"; from-match=yes; coverage=full"
	# the multipart/signed itself is the body, and still verifies
	rm -rf "$HD/v"
	run -0 mimecheck signed "$HD/out" "$HD/v"
	run -0 sgpg --status-fd 1 --verify "$HD/v/sig.asc" "$HD/v/part1.crlf"
	assert_line --regexp "^\[GNUPG:\] VALIDSIG $ALICE_FPR "
	run -0 hdpgp-decrypt -c "$HD/m"
}

@test "decrypt #16: a bad signature inside is reported, check mode exits 1" {
	keys_in
	entity mixed | crlf >"$HD/part1"
	sgpg -u "$ALICE_FPR" --passphrase-file "$HD/alice.pass" --detach-sign \
	    --armor -o "$HD/sig.asc" "$HD/part1"
	sed -i 's/The log is attached/The log is ATTACHED/' "$HD/part1"
	{
		printf 'Content-Type: multipart/signed; micalg=pgp-sha256;\r\n'
		printf ' protocol="application/pgp-signature"; boundary="=-sig"\r\n\r\n'
		printf -- '--=-sig\r\n'
		cat "$HD/part1"
		printf -- '\r\n--=-sig\r\nContent-Type: application/pgp-signature; name="signature.asc"\r\n\r\n'
		crlf "$HD/sig.asc"
		printf -- '\r\n--=-sig--\r\n'
	} >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 ours "$HD/out" Signature
	assert_output --regexp '^X-Hdpgp-Signature: bad; '
	run -1 --separate-stderr hdpgp-decrypt -c "$HD/m"
	assert_line --regexp '^X-Hdpgp-Signature: bad; '
	assert_line --regexp '^X-Hdpgp-Encryption: decrypted; '
}

@test "decrypt #16: signed by a key not in the store: decrypted, unknown-key" {
	keys_in
	sgpg --passphrase-file "$HD/carol.pass" --import "$KEYS/carol.sec.asc" 2>/dev/null
	entity >"$HD/ent"
	sgpg --trust-model always --passphrase-file "$HD/carol.pass" -u "$CAROL_FPR" \
	    -r "$BOB_FPR" -s -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 ours "$HD/out" Signature
	assert_output --regexp "^X-Hdpgp-Signature: unknown-key; signer=[0-9A-F]*${CAROL_FPR: -16}; "
	refute_output --partial good
}

@test "decrypt #16: inline PGP, the whole text part, by stock gpg" {
	keys_in
	printf 'Dear helpdesk,\nthe password is %s.\nGr\303\274\303\237e\n' "$MARK" >"$HD/text"
	sgpg_enc -s -e --armor -o "$HD/c.asc" "$HD/text"
	{
		outer
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n\n'
		cat "$HD/c.asc"
		printf '\n'
	} >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 ours "$HD/out" Signature
	assert_output --regexp "^X-Hdpgp-Signature: good; signer=$ALICE_FPR; .*coverage=full"
	run -0 mimecheck leaves "$HD/out"
	assert_output "text/plain - $(sha256sum <"$HD/text" | cut -d' ' -f1)"
	run -1 grep -c 'BEGIN PGP' "$HD/out"
	# and without MIME headers at all
	{ outer; printf '\n'; cat "$HD/c.asc"; } >"$HD/m2"
	decrypts "$HD/m2" "$HD/out2"
	grep -q -e "the password is $MARK" "$HD/out2"
}

# --- round trips with hdpgp-encrypt ---

@test "decrypt: hdpgp-encrypt round trip, every kind of message" {
	keys_in_both
	local kind
	for kind in plain utf8 qp base64 spaces mixed alternative; do
		mkmail "$kind" >"$HD/msg"
		hdpgp-encrypt "$HD/msg" >"$HD/enc"
		decrypts "$HD/enc" "$HD/out"
		run -0 sed -n 1p "$HD/out"
		assert_output "X-Hdpgp-Signature: none"
		assert_equal "$(mimecheck headers "$HD/out" | grep -v '^X-Hdpgp-')" \
		    "$(mimecheck headers "$HD/msg")"
		assert_equal "$(mimecheck leaves "$HD/out")" "$(mimecheck leaves "$HD/msg")"
	done
}

@test "decrypt: an attachment comes out byte for byte, LF and CRLF" {
	keys_in_both
	mkmail mixed >"$HD/msg"
	hdpgp-encrypt "$HD/msg" >"$HD/enc"
	decrypts "$HD/enc" "$HD/out"
	run -0 mimecheck leaves "$HD/out"
	assert_line "application/octet-stream trace.bin $(sha256sum <"$HD/att.bin" | cut -d' ' -f1)"
	run -1 grep -c $'\r' "$HD/out"
	# CRLF in, CRLF out, every line
	mkmail mixed | crlf >"$HD/msg"
	hdpgp-encrypt "$HD/msg" >"$HD/enc"
	run -0 grep -c $'\r$' "$HD/enc"
	decrypts "$HD/enc" "$HD/out"
	run -1 grep -c -v $'\r$' "$HD/out"
	assert_output 0
	run -0 mimecheck leaves "$HD/out"
	assert_line "application/octet-stream trace.bin $(sha256sum <"$HD/att.bin" | cut -d' ' -f1)"
	assert_equal "$(mimecheck leaves "$HD/out")" "$(mimecheck leaves "$HD/msg")"
}

@test "decrypt: stock gpg's message stored with CRLF line ends" {
	keys_in
	entity mixed >"$HD/ent"
	sgpg_enc -s -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" | crlf >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 ours "$HD/out" Signature
	assert_output --regexp "^X-Hdpgp-Signature: good; signer=$ALICE_FPR; "
	run -1 grep -c -v $'\r$' "$HD/out"
	assert_output 0
	assert_equal "$(mimecheck leaves "$HD/out")" "$(mimecheck leaves "$HD/ent")"
}

@test "decrypt: hdpgp-encrypt -s round trip, the signature reported" {
	keys_in_both
	mkmail mixed >"$HD/msg"
	hdpgp-encrypt -s "$HD/msg" >"$HD/enc"
	decrypts "$HD/enc" "$HD/out"
	run -0 ours "$HD/out" Signature
	assert_output "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"Alice Helpdesk (INSECURE test key) <alice@example.com>\"; from-match=yes; coverage=full"
	assert_equal "$(mimecheck leaves "$HD/out")" "$(mimecheck leaves "$HD/msg")"
	run -0 --separate-stderr hdpgp-decrypt -c "$HD/enc"
}

@test "decrypt: hdpgp-sign | hdpgp-encrypt round trip, the nested signature reported" {
	keys_in_both
	mkmail alternative >"$HD/msg"
	hdpgp-sign "$HD/msg" | hdpgp-encrypt >"$HD/enc"
	decrypts "$HD/enc" "$HD/out"
	run -0 ours "$HD/out" Signature
	assert_output "X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"Alice Helpdesk (INSECURE test key) <alice@example.com>\"; from-match=yes; coverage=full"
	rm -rf "$HD/v"
	run -0 mimecheck signed "$HD/out" "$HD/v"
	assert_equal "$(mimecheck leaves "$HD/v/part1")" "$(mimecheck leaves "$HD/msg")"
}

@test "decrypt: the output is a MIME message (MIME-Version: 1.0)" {
	keys_in_both
	mkmail mixed >"$HD/msg"
	hdpgp-encrypt "$HD/msg" >"$HD/enc"
	decrypts "$HD/enc" "$HD/out"
	run -0 mimecheck header "$HD/out" MIME-Version
	assert_output "1.0"
}

@test "decrypt: a PGP/MIME payload without header fields loses nothing" {
	keys_in
	# RFC 2045: an entity without fields is text/plain, after a blank line
	printf '\nFirst paragraph %s.\n\nSecond paragraph.\n' "$MARK" >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	grep -q -e "First paragraph $MARK" "$HD/out"
	grep -q 'Second paragraph' "$HD/out"
	# and gpg -e of bare text (no MIME entity at all): shown, not dropped
	printf 'Bare text %s.\n' "$MARK" >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	grep -q -e "Bare text $MARK" "$HD/out"
}

# --- #17, and fail closed ---

@test "decrypt #17: flipped bytes in the ciphertext fail, zero plaintext bytes" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e -z 0 -o "$HD/c.gpg" "$HD/ent"
	local size
	size=$(stat -c %s "$HD/c.gpg")
	# in the encrypted data: the middle, and the last byte (the MDC)
	cp "$HD/c.gpg" "$HD/mid.gpg"
	flip "$HD/mid.gpg" $((size - 40))
	armor "$HD/mid.gpg" >"$HD/mid.asc"
	wrap_enc "$HD/mid.asc" >"$HD/m"
	fails_closed "$HD/m"
	cp "$HD/c.gpg" "$HD/end.gpg"
	flip "$HD/end.gpg" -1
	wrap_enc "$HD/end.gpg" >"$HD/m"
	fails_closed "$HD/m"
	# the session key packet
	cp "$HD/c.gpg" "$HD/sk.gpg"
	flip "$HD/sk.gpg" 30
	wrap_enc "$HD/sk.gpg" >"$HD/m"
	fails_closed "$HD/m"
	# the body part of the output is the original's, byte for byte
	sed '1,/^$/d' "$HD/out" | cmp - <(sed '1,/^$/d' "$HD/m")
}

@test "decrypt #17: a legacy packet without MDC fails" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --rfc2440 --armor -o "$HD/c.asc" "$HD/ent" 2>/dev/null
	# (stock gpg has no secret key here: it lists, and fails to decrypt)
	run -2 sgpg --list-packets "$HD/c.asc"
	assert_line --partial ':encrypted data packet:'
	refute_line --partial 'mdc_method'
	wrap_enc "$HD/c.asc" >"$HD/m"
	fails_closed "$HD/m"
	# a 64-bit block cipher without MDC, the case gpg itself still opens
	sgpg_enc -e --rfc2440 --cipher-algo 3DES -o "$HD/c.gpg" "$HD/ent" 2>/dev/null
	run -2 sgpg --list-packets "$HD/c.gpg"
	refute_line --partial 'mdc_method'
	wrap_enc "$HD/c.gpg" >"$HD/m"
	fails_closed "$HD/m"
}

@test "decrypt #17: the MDC stripped (integrity-protected packet made legacy) fails" {
	keys_in
	entity >"$HD/ent"
	local algo
	for algo in AES256 3DES; do
		sgpg_enc -e --cipher-algo "$algo" -o "$HD/c.gpg" "$HD/ent"
		strip_mdc "$HD/c.gpg"
		run -2 sgpg --list-packets "$HD/c.gpg"
		assert_line --partial ':encrypted data packet:'
		refute_line --partial 'mdc_method'
		wrap_enc "$HD/c.gpg" >"$HD/m"
		fails_closed "$HD/m"
	done
}

@test "decrypt: no secret key fails closed, logged; after the import the stored original decrypts" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	sgpg --import "$KEYS/bob.pub.asc" 2>/dev/null
	sgpg --passphrase-file "$HD/alice.pass" --import "$KEYS/alice.sec.asc" 2>/dev/null
	entity >"$HD/ent"
	sgpg_enc -s -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	fails_closed "$HD/m" "secret key"
	cp "$HD/out" "$HD/stored"
	# the retry, once the key is there: on the original, and on what the
	# filter stored (its old verdict replaced, not kept)
	hdpgp-key --passphrase-file "$HD/bob.pass" import "$KEYS/bob.sec.asc" >/dev/null
	decrypts "$HD/m" "$HD/out"
	grep -q -e "the password is $MARK" "$HD/out"
	decrypts "$HD/stored" "$HD/out2"
	cmp "$HD/out" "$HD/out2"
	run -1 grep -c 'failed' "$HD/out2"
	run -0 last_decrypt_log
	jq -e '.result == "success" and
	    .message_id == "plain.42@helpdesk.example.com"' <<<"$output"
}

@test "decrypt: a wrong stored passphrase fails closed, without a prompt" {
	keys_in
	start_agent
	tdbtool "$HDPGP_HOME/state.tdb" store "pass:$BOB_FPR" wrong >/dev/null
	# no passphrase the agent may still hold
	gpgconf --homedir "$HDPGP_HOME/gnupg" --kill gpg-agent
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	fails_closed "$HD/m"
	run -1 notty hdpgp-decrypt -c "$HD/m"
	# the passphrase put right, the same message decrypts
	tdbtool "$HDPGP_HOME/state.tdb" store "pass:$BOB_FPR" "$BOB_PASS" >/dev/null
	decrypts "$HD/m" "$HD/out"
}

@test "decrypt: inline PGP that fails keeps the text part as it was" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e -z 0 -o "$HD/c.gpg" "$HD/ent"
	flip "$HD/c.gpg" -30
	{ outer; printf '\n'; armor "$HD/c.gpg"; } >"$HD/m"
	fails_closed "$HD/m"
}

# --- #18, #19: encrypted parts that are not the message ---

@test "decrypt #18: EFAIL wrapper, html around multipart/encrypted, is not decrypted" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	{
		outer
		printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=efail\n\n'
		printf -- '--efail\nContent-Type: text/html\n\n<img src="http://x.example/\n'
		printf -- '--efail\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=enc\n\n'
		printf -- '--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
		printf -- '--enc\nContent-Type: application/octet-stream\n\n'
		cat "$HD/c.asc"
		printf -- '\n--enc--\n'
		printf -- '\n--efail\nContent-Type: text/html\n\n">\n--efail--\n'
	} >"$HD/m"
	not_decrypted "$HD/m"
}

@test "decrypt #18: EFAIL wrapper around inline armor is not decrypted" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	{
		outer
		printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=efail\n\n'
		printf -- '--efail\nContent-Type: text/html\n\n<img src="http://x.example/\n'
		printf -- '--efail\nContent-Type: text/plain\n\n'
		cat "$HD/c.asc"
		printf -- '\n--efail\nContent-Type: text/html\n\n">\n--efail--\n'
	} >"$HD/m"
	not_decrypted "$HD/m"
	# text before the armor in the same part
	{
		outer
		printf '\n<img src="http://x.example/\n'
		cat "$HD/c.asc"
		printf '">\n'
	} >"$HD/m2"
	not_decrypted "$HD/m2"
}

@test "decrypt #18: EFAIL wrapper around an encrypted .asc file: never rendered inline" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	{
		outer
		printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=efail\n\n'
		printf -- '--efail\nContent-Type: text/html\n\n<img src="http://x.example/\n'
		printf -- '--efail\nContent-Type: text/html; name="x.asc"\n'
		printf 'Content-Disposition: inline; filename="x.asc"\n\n'
		cat "$HD/c.asc"
		printf -- '\n--efail\nContent-Type: text/html\n\n">\n--efail--\n'
	} >"$HD/m"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	run -0 ours "$HD/out" Encryption
	assert_output --regexp 'coverage=partial'
	# opened or not, the plaintext is in no text part and not inline
	python3 - "$HD/out" "$MARK" <<-'EOF'
	import email, email.policy, sys
	m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
	                             policy=email.policy.compat32)
	for p in m.walk():
	    d = p.get_payload(decode=True) or b""
	    if not p.is_multipart() and sys.argv[2].encode() in d:
	        assert p.get_content_maintype() != "text", p.get_content_type()
	        assert p.get_content_disposition() == "attachment"
	EOF
}

@test "decrypt #19: a fake bounce holding a foreign encrypted message is not decrypted" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/foreign"
	{
		outer
		printf 'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=dsn\n\n'
		printf -- '--dsn\nContent-Type: text/plain\n\nYour message could not be delivered.\n'
		printf -- '--dsn\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x.example\n\n'
		printf 'Final-Recipient: rfc822; bob@example.org\nAction: failed\nStatus: 5.0.0\n\n'
		printf -- '--dsn\nContent-Type: message/rfc822\n\n'
		cat "$HD/foreign"
		printf -- '\n--dsn--\n'
	} >"$HD/m"
	not_decrypted "$HD/m"
}

@test "decrypt #19: a message/rfc822 alone, holding an encrypted message, is not decrypted" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/foreign"
	{ outer; printf 'MIME-Version: 1.0\nContent-Type: message/rfc822\n\n'; cat "$HD/foreign"; } >"$HD/m"
	not_decrypted "$HD/m"
	# the same with inline armor inside the forwarded message
	{
		outer
		printf 'MIME-Version: 1.0\nContent-Type: message/rfc822\n\n'
		printf 'From: Eve <eve@example.net>\nSubject: fwd\n\n'
		cat "$HD/c.asc"
	} >"$HD/m2"
	not_decrypted "$HD/m2"
}

@test "decrypt #19: an encrypted part inside multipart/alternative or related is not decrypted" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	local kind first
	for kind in alternative related; do
		[ "$kind" = alternative ] && first='text/plain\n\nSee the other part.' ||
		    first='text/html\n\n<p>Quoted:</p><object data="cid:enc@x"></object>'
		{
			outer
			printf 'MIME-Version: 1.0\nContent-Type: multipart/%s; boundary=outer\n\n' "$kind"
			printf -- "--outer\nContent-Type: $first\n"
			printf -- '--outer\nContent-ID: <enc@x>\n'
			printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=enc\n\n'
			printf -- '--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
			printf -- '--enc\nContent-Type: application/octet-stream\n\n'
			cat "$HD/c.asc"
			printf -- '\n--enc--\n\n--outer--\n'
		} >"$HD/m"
		not_decrypted "$HD/m"
	done
}

# --- #20: not encrypted, whatever it says ---

@test "decrypt #20: multipart/encrypted whose payload is only signed is never encrypted" {
	keys_in
	entity >"$HD/ent"
	sgpg -u "$ALICE_FPR" --passphrase-file "$HD/alice.pass" -s --armor -o "$HD/s.asc" "$HD/ent"
	wrap_enc "$HD/s.asc" >"$HD/m"
	run -0 stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	run -1 grep -c -E '^X-Hdpgp-Encryption: (decrypted|encrypted)' "$HD/out"
	run -1 grep -c -e "$MARK" "$HD/out"
	run -1 --separate-stderr hdpgp-decrypt -c "$HD/m"
	refute_line --regexp '^X-Hdpgp-Encryption: (decrypted|encrypted)'
	run -1 --separate-stderr hdpgp-decrypt -j "$HD/m"
	jq -e '.encryption.success == false' <<<"$output"
	# stored, not signed: a literal data packet only
	sgpg -z 0 --store -o "$HD/l.gpg" "$HD/ent"
	wrap_enc "$HD/l.gpg" >"$HD/m2"
	run -0 stdout_to "$HD/out" hdpgp-decrypt "$HD/m2"
	run -1 grep -c -E '^X-Hdpgp-Encryption: (decrypted|encrypted)' "$HD/out"
	run -1 grep -c -e "$MARK" "$HD/out"
	run -1 hdpgp-decrypt -c "$HD/m2"
}

@test "decrypt #20: an empty encrypted packet followed by clear literal data" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e -o "$HD/e.gpg" </dev/null
	sgpg -z 0 --store -o "$HD/l.gpg" "$HD/ent"
	cat "$HD/e.gpg" "$HD/l.gpg" >"$HD/el.gpg"
	armor "$HD/el.gpg" >"$HD/el.asc"
	wrap_enc "$HD/el.asc" >"$HD/m"
	fails_closed "$HD/m"
	# the clear literal first, then the encrypted one
	cat "$HD/l.gpg" "$HD/e.gpg" >"$HD/le.gpg"
	wrap_enc "$HD/le.gpg" >"$HD/m"
	run -0 stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	run -1 grep -c -e "$MARK" "$HD/out"
	run -1 grep -c '^X-Hdpgp-Encryption: decrypted' "$HD/out"
	run -1 hdpgp-decrypt -c "$HD/m"
}

# --- #21: protected headers ---

@test "decrypt #21: --protect-subject round trip restores the real Subject" {
	keys_in_both
	mkmail mixed | sed 's/^Subject: .*/Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from\n the helpdesk/' >"$HD/msg"
	hdpgp-encrypt --protect-subject "$HD/msg" >"$HD/enc"
	run -0 mimecheck header "$HD/enc" Subject
	assert_output "[...]"
	decrypts "$HD/enc" "$HD/out"
	run -0 mimecheck header "$HD/out" Subject
	assert_output $'Gr\303\274\303\237e from the helpdesk'
	assert_equal "${#lines[@]}" 1
	run -0 mimecheck header "$HD/out" From
	assert_output "Alice Helpdesk <alice@example.com>"
	assert_equal "${#lines[@]}" 1
	run -0 mimecheck header "$HD/out" Message-ID
	assert_equal "${#lines[@]}" 1
	run -1 grep -c -i '^HP-Outer:' "$HD/out"
	assert_equal "$(mimecheck leaves "$HD/out")" "$(mimecheck leaves "$HD/msg")"
}

@test "decrypt #21: protected-headers=\"v1\" made by hand: the inner Subject wins" {
	keys_in
	{
		printf 'Content-Type: multipart/mixed; boundary="=-in"; protected-headers="v1"\n'
		printf 'Subject: Real subject %s\nFrom: Alice Helpdesk <alice@example.com>\n' "$MARK"
		printf 'To: Bob Customer <bob@example.org>\n\n'
		printf -- '--=-in\nContent-Type: text/plain\n\nbody\n--=-in--\n'
	} >"$HD/ent"
	sgpg_enc -s -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" | sed 's/^Subject: .*/Subject: .../' >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 mimecheck header "$HD/out" Subject
	assert_output "Real subject $MARK"
	run -0 ours "$HD/out" Signature
	assert_output --regexp "^X-Hdpgp-Signature: good; signer=$ALICE_FPR; .*from-match=yes"
}

@test "decrypt #21: protected headers inside a signed layer (Thunderbird's form)" {
	keys_in
	{
		printf 'Content-Type: multipart/mixed; boundary="=-in"; protected-headers="v1"\r\n'
		printf 'Subject: Real subject %s\r\nFrom: Alice Helpdesk <alice@example.com>\r\n' "$MARK"
		printf 'To: Bob Customer <bob@example.org>\r\n\r\n'
		printf -- '--=-in\r\nContent-Type: text/plain\r\n\r\nbody\r\n--=-in--\r\n'
	} >"$HD/part1"
	sgpg -u "$ALICE_FPR" --passphrase-file "$HD/alice.pass" --detach-sign \
	    --armor -o "$HD/sig.asc" "$HD/part1"
	{
		printf 'Content-Type: multipart/signed; micalg=pgp-sha256;\r\n'
		printf ' protocol="application/pgp-signature"; boundary="=-sig"\r\n\r\n'
		printf -- '--=-sig\r\n'
		cat "$HD/part1"
		printf -- '\r\n--=-sig\r\nContent-Type: application/pgp-signature; name="OpenPGP_signature"\r\n\r\n'
		crlf "$HD/sig.asc"
		printf -- '\r\n--=-sig--\r\n'
	} >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" | sed 's/^Subject: .*/Subject: .../' >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 ours "$HD/out" Signature
	assert_output --regexp "^X-Hdpgp-Signature: good; signer=$ALICE_FPR; .*coverage=full"
	run -0 mimecheck header "$HD/out" Subject
	assert_output "Real subject $MARK"
}

@test "decrypt #21: fake protected headers are ignored" {
	keys_in
	# (a) not marked: the entity's Subject is no protected header
	{
		printf 'Content-Type: text/plain\nSubject: Fake subject\n\nbody %s\n' "$MARK"
	} >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 mimecheck header "$HD/out" Subject
	assert_output "Ticket #42: plain"
	# (b) marked on a part inside, not on the entity
	{
		printf 'Content-Type: multipart/mixed; boundary=in\n\n'
		printf -- '--in\nContent-Type: text/plain; protected-headers="v1"\n'
		printf 'Subject: Fake subject\nFrom: boss@example.org\n\nbody %s\n--in--\n' "$MARK"
	} >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 mimecheck header "$HD/out" Subject
	assert_output "Ticket #42: plain"
	run -0 mimecheck header "$HD/out" From
	assert_output "Alice Helpdesk <alice@example.com>"
	# (c) marked, but smuggling fields that are no protected header
	{
		printf 'Content-Type: text/plain; hp="cipher"\nSubject: Inner\n'
		printf 'X-Hdpgp-Signature: good; signer=%s\nX-Hdpgp-Encryption: none\n' "$ALICE_FPR"
		printf 'Received: from evil\nBcc: eve@example.net\n\nbody %s\n' "$MARK"
	} >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	decrypts "$HD/m" "$HD/out"
	run -0 mimecheck header "$HD/out" Subject
	assert_output "Inner"
	run -0 grep -c '^X-Hdpgp-' "$HD/out"
	assert_output 2
	run -0 sed -n 1p "$HD/out"
	assert_output "X-Hdpgp-Signature: none"
	run -1 grep -c -i -e '^Received: from evil' -e '^Bcc:' "$HD/out"
	# (d) outside the encryption: marks on a clear message change nothing
	{
		outer
		printf 'MIME-Version: 1.0\nContent-Type: text/plain; hp="cipher"; protected-headers="v1"\n'
		printf '\nSubject: Fake\n\nnot encrypted\n'
	} >"$HD/clear"
	run -2 --separate-stderr hdpgp-decrypt -c "$HD/clear"
	run -0 stdout_to "$HD/out" hdpgp-decrypt "$HD/clear"
	grep -v '^X-Hdpgp-' "$HD/out" | cmp - "$HD/clear"
}

# --- #22, #23: hostile sizes and shapes; idempotence ---

@test "decrypt #22: a compression bomb ends in a failed verdict, no crash" {
	keys_in
	head -c 200M /dev/zero | sgpg_enc -e --compress-level 9 -o "$HD/bomb.gpg"
	wrap_enc "$HD/bomb.gpg" >"$HD/m"
	run stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	[ "$status" -eq 0 ]
	run -0 ours "$HD/out" Encryption
	assert_output --regexp '^X-Hdpgp-Encryption: failed'
	grep -v '^X-Hdpgp-' "$HD/out" | cmp - "$HD/m"
	run hdpgp-decrypt -c "$HD/m"
	[ "$status" -eq 1 ]
	# #23: the filter on its own output changes nothing but its fields
	run -0 stdout_to "$HD/out2" hdpgp-decrypt "$HD/out"
	cmp "$HD/out" "$HD/out2"
}

@test "decrypt #22: truncated armor, missing final boundary, broken structure: no crash" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	# truncated armor
	head -n 5 "$HD/c.asc" >"$HD/t.asc"
	wrap_enc "$HD/t.asc" >"$HD/m"
	fails_closed "$HD/m"
	# armor without its END line
	sed '/^-----END/d' "$HD/c.asc" >"$HD/t.asc"
	wrap_enc "$HD/t.asc" >"$HD/m"
	run -0 stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	run -0 grep -c '^X-Hdpgp-Encryption: ' "$HD/out"
	# missing final boundary: decrypted or failed, never a crash
	wrap_enc "$HD/c.asc" | sed '$d' >"$HD/m"
	run -0 stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	run -0 grep -c '^X-Hdpgp-Encryption: ' "$HD/out"
	# one part only; the wrong protocol; part 2 empty
	{
		outer
		printf 'MIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b\n\n'
		printf -- '--b\nContent-Type: application/octet-stream\n\n'
		cat "$HD/c.asc"
		printf -- '--b--\n'
	} >"$HD/m"
	fails_closed "$HD/m"
	wrap_enc "$HD/c.asc" | sed 's|protocol="application/pgp-encrypted"|protocol="application/bad-proto"|' >"$HD/m"
	fails_closed "$HD/m"
	: >"$HD/empty"
	wrap_enc "$HD/empty" >"$HD/m"
	fails_closed "$HD/m"
}

@test "decrypt #22: 1,000 nested multiparts and a 1 MB header line: no crash" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	local i
	{
		outer
		printf 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b0\n\n'
		for i in $(seq 1 999); do
			printf -- '--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n' $((i - 1)) "$i"
		done
		printf -- '--b999\nContent-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=enc\n\n'
		printf -- '--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
		printf -- '--enc\nContent-Type: application/octet-stream\n\n'
		cat "$HD/c.asc"
		printf -- '\n--enc--\n'
		for i in $(seq 999 -1 0); do
			printf -- '--b%d--\n' "$i"
		done
	} >"$HD/m"
	run stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	[ "$status" -eq 0 ]
	run -1 grep -c -e "$MARK" "$HD/out"
	run -1 grep -c '^X-Hdpgp-Encryption: decrypted' "$HD/out"
	run hdpgp-decrypt -c "$HD/m"
	[ "$status" -ne 0 ] && [ "$status" -lt 64 ]
	# a 1 MB header line over a good message
	wrap_enc "$HD/c.asc" >"$HD/m"
	{ printf 'X-Long: '; head -c 1000000 /dev/zero | tr '\0' a; printf '\n'; cat "$HD/m"; } >"$HD/m2"
	run stdout_to "$HD/out" hdpgp-decrypt "$HD/m2"
	[ "$status" -eq 0 ]
	run -0 grep -c '^X-Hdpgp-Encryption: ' "$HD/out"
}

@test "decrypt #23: the filter run twice changes nothing but its own fields" {
	keys_in_both
	mkmail mixed >"$HD/msg"
	hdpgp-sign "$HD/msg" | hdpgp-encrypt >"$HD/enc"
	run -0 stdout_to "$HD/out1" hdpgp-decrypt "$HD/enc"
	run -0 stdout_to "$HD/out2" hdpgp-decrypt "$HD/out1"
	cmp <(grep -v '^X-Hdpgp-' "$HD/out1") <(grep -v '^X-Hdpgp-' "$HD/out2")
	# the signature inside is still good on the second run
	run -0 ours "$HD/out2" Signature
	assert_output --regexp "^X-Hdpgp-Signature: good; signer=$ALICE_FPR; "
	run -0 ours "$HD/out2" Encryption
	assert_output "X-Hdpgp-Encryption: none"
	# one-pass signed: the second run sees a plain message
	hdpgp-encrypt -s "$HD/msg" >"$HD/enc"
	run -0 stdout_to "$HD/out1" hdpgp-decrypt "$HD/enc"
	run -0 stdout_to "$HD/out2" hdpgp-decrypt "$HD/out1"
	cmp <(grep -v '^X-Hdpgp-' "$HD/out1") <(grep -v '^X-Hdpgp-' "$HD/out2")
	run -0 stdout_to "$HD/out3" hdpgp-decrypt "$HD/out2"
	cmp "$HD/out2" "$HD/out3"
}

@test "decrypt #15: the input's own X-Hdpgp fields are replaced by ours" {
	keys_in
	entity >"$HD/ent"
	sgpg_enc -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	{
		printf 'X-Hdpgp-Signature: good; signer=%s\n' "$ALICE_FPR"
		sed 's/^Subject: /X-HDPGP-Encryption: decrypted; key=x\nSubject: /' "$HD/m"
	} >"$HD/m2"
	decrypts "$HD/m2" "$HD/out"
	run -0 grep -c -i '^X-Hdpgp-' "$HD/out"
	assert_output 2
	run -0 sed -n 1p "$HD/out"
	assert_output "X-Hdpgp-Signature: none"
}

# --- plain mail, usage ---

@test "decrypt: a message that is not encrypted passes through, check mode 2" {
	keys_in
	mkmail mixed >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-decrypt "$HD/msg"
	run -0 sed -n 1,2p "$HD/out"
	assert_output $'X-Hdpgp-Signature: none\nX-Hdpgp-Encryption: none'
	sed 1,2d "$HD/out" | cmp - "$HD/msg"
	run -2 --separate-stderr hdpgp-decrypt -c "$HD/msg"
	assert_output $'X-Hdpgp-Signature: none\nX-Hdpgp-Encryption: none'
	run -2 --separate-stderr hdpgp-decrypt -c -q "$HD/msg"
	assert_output ""
	run -0 last_decrypt_log
	jq -e '.result == "skipped" and .message_id == "mixed.42@helpdesk.example.com"' <<<"$output"
	# stdin, and CRLF
	crlf "$HD/msg" >"$HD/msg.crlf"
	run -0 stdout_to "$HD/out" hdpgp-decrypt <"$HD/msg.crlf"
	run -0 sed -n 1,2p "$HD/out"
	assert_output $'X-Hdpgp-Signature: none\r\nX-Hdpgp-Encryption: none\r'
	sed 1,2d "$HD/out" | cmp - "$HD/msg.crlf"
}

@test "decrypt: exit codes for usage, bad input and a missing file" {
	keys_in
	run -64 stdout_to "$HD/out" hdpgp-decrypt --bogus
	[ ! -s "$HD/out" ]
	run -64 hdpgp-decrypt "$HD/a" "$HD/b"
	run -65 stdout_to "$HD/out" hdpgp-decrypt </dev/null
	[ ! -s "$HD/out" ]
	run -66 stdout_to "$HD/out" hdpgp-decrypt "$HD/missing"
	[ ! -s "$HD/out" ]
	assert_output --partial "$HD/missing"
	run -0 --separate-stderr hdpgp-decrypt -h
	assert_output --partial "usage: hdpgp-decrypt"
	run -0 hdpgp-decrypt -V
	assert_output --regexp '^hdpgp-decrypt [0-9.]+$'
}

# --- speed ---

@test "decrypt: at most 2 programs per message, never gpgconf or gpgsm" {
	keys_in_both
	start_agent
	entity mixed >"$HD/ent"
	sgpg_enc -s -e --armor -o "$HD/c.asc" "$HD/ent"
	wrap_enc "$HD/c.asc" >"$HD/m"
	run -0 count_execs hdpgp-decrypt "$HD/m"
	[ "$output" -le 2 ]
	run -1 grep -E 'execve\("[^"]*(gpgconf|gpgsm)"' "$HD/strace.out"
	hdpgp-decrypt "$HD/m" >"$HD/out"
	run -0 grep -c '^X-Hdpgp-Encryption: decrypted' "$HD/out"
	# the nested form: decrypt, then verify the signature inside, what
	# hdpgp-verify may spend (two gpg runs cannot be one here)
	mkmail mixed >"$HD/msg"
	hdpgp-sign "$HD/msg" | hdpgp-encrypt >"$HD/enc"
	run -0 count_execs hdpgp-decrypt "$HD/enc"
	[ "$output" -le 3 ]
	run -1 grep -E 'execve\("[^"]*(gpgconf|gpgsm)"' "$HD/strace.out"
	# none for a message that is not encrypted or signed
	run -0 count_execs hdpgp-decrypt "$HD/msg"
	assert_output 0
}

# --- the RT corpus (bestpractical/rt t/data/gnupg) ---

import_rt() {
	local k=$CORPUS/keys
	printf 'rt-test\n' >"$HD/rt.pass"
	hdpgp-key --passphrase-file "$HD/rt.pass" import "$k/rt-recipient-at-example.com.secret.key" >/dev/null
	hdpgp-key import "$k/rt-test-at-example.com.public.key" >/dev/null
}

rt_keys() {
	[ -d "$CORPUS" ] || skip "../shared/corpus is absent"
	hd_restore rt
	RT_RCPT=C60491A985E098BAE9C6AF5BCE30C41EC2274A26
	RT_TEST=F0CB3B482CFA485680A4A0BDD328035D84881F1B
	FAVICON_MD5=1e35f1aa90c98ca2bab85c26ae3e1ba7
}

# rt_decrypts FILE NSIGS [VERDICT]: decrypted with rt-recipient's key,
# NSIGS signatures by rt-test (weak-hash: RT signs with SHA-1 but for
# Thunderbird's mail 20), the ID in the content.
rt_decrypts() {
	local f=$CORPUS/emails/$1 nsig=$2 verdict=${3:-weak-hash} id
	id=${1%%-*}
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$f"
	run -0 ours "$HD/out" Encryption
	assert_output "X-Hdpgp-Encryption: decrypted; key=$RT_RCPT; coverage=full"
	run -0 ours "$HD/out" Signature
	if [ "$nsig" -eq 0 ]; then
		assert_output "X-Hdpgp-Signature: none"
	else
		assert_equal "${#lines[@]}" "$nsig"
		local l
		for l in "${lines[@]}"; do
			[[ $l == "X-Hdpgp-Signature: $verdict; signer=$RT_TEST; uid=\"RT Test <rt-test@example.com>\"; from-match=yes; coverage=full" ]]
		done
	fi
	run -0 mimecheck header "$HD/out" Subject
	assert_output "Test Email ID:$id"
	leaf_has "$HD/out" "ID:$id"
	run -1 grep -c -e '-----BEGIN PGP MESSAGE-----' "$HD/out"
	run -0 --separate-stderr hdpgp-decrypt -c "$f"
}

@test "interop: RT corpus, PGP/MIME encrypted mails 7-9" {
	rt_keys
	rt_decrypts 7-encrypted-MIME-plain.txt 0
	rt_decrypts 8-encrypted-MIME-with-attachment.txt 0
	leaf_has "$HD/out" zanzibar
	rt_decrypts 9-encrypted-MIME-with-binary.txt 0
	run -0 leaves_md5 "$HD/out"
	assert_line "image/png favicon.png $FAVICON_MD5"
}

@test "interop: RT corpus, PGP/MIME signed and encrypted mails 13-15 and 20" {
	rt_keys
	rt_decrypts 13-signed-encrypted-MIME-plain.txt 1
	rt_decrypts 14-signed-encrypted-MIME-attachment.txt 1
	leaf_has "$HD/out" zanzibar
	rt_decrypts 15-signed-encrypted-MIME-binary.txt 1
	run -0 leaves_md5 "$HD/out"
	assert_line "image/png favicon.png $FAVICON_MD5"
	# Thunderbird 91: multipart/signed inside, protected headers, a key
	rt_decrypts 20-signed-encrypted-MIME-plain.txt 1 good
	run -0 mimecheck leaves "$HD/out"
	assert_line --regexp '^application/pgp-keys OpenPGP_0xD328035D84881F1B.asc '
	run -0 mimecheck param "$HD/out" micalg
	assert_output pgp-sha256
}

@test "interop: RT corpus, inline encrypted mails 10 and 16" {
	rt_keys
	rt_decrypts 10-encrypted-inline-plain.txt 0
	rt_decrypts 16-signed-encrypted-inline-plain.txt 1
}

@test "interop: RT corpus, inline body and encrypted .pgp attachment, mails 11, 12, 17, 18" {
	rt_keys
	rt_decrypts 11-encrypted-inline-attachment.txt 0
	leaf_has "$HD/out" zanzibar
	rt_decrypts 12-encrypted-inline-binary.txt 0
	run -0 leaves_md5 "$HD/out"
	assert_line --regexp "^[a-z/-]+ favicon.png $FAVICON_MD5\$"
	rt_decrypts 17-signed-encrypted-inline-attachment.txt 2
	leaf_has "$HD/out" zanzibar
	rt_decrypts 18-signed-encrypted-inline-binary.txt 2
	run -0 leaves_md5 "$HD/out"
	assert_line --regexp "^[a-z/-]+ favicon.png $FAVICON_MD5\$"
}

@test "interop: RT corpus, special: encrypted .asc attachments beside clear text" {
	rt_keys
	local f
	for f in binary-asc-attach-marked-plain-text.txt inline-binary-attachment-with-wrap.txt; do
		run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$CORPUS/emails/special/$f"
		# clear text beside the attachment: no plaintext is put next
		# to what a sender may control (no decryption oracle)
		run -0 ours "$HD/out" Encryption
		assert_output "X-Hdpgp-Encryption: encrypted; coverage=partial; reason=\"not the whole message: not decrypted\""
		grep -v '^X-Hdpgp-' "$HD/out" | cmp - "$CORPUS/emails/special/$f"
		run -3 --separate-stderr hdpgp-decrypt -c "$CORPUS/emails/special/$f"
	done
}

@test "interop: RT corpus, mails that are not encrypted pass through unchanged" {
	rt_keys
	local f
	for f in "$CORPUS"/emails/{1,2,3,4,5,6,19}-*.txt \
	    "$CORPUS"/emails/signed_old_style_with_attachment.eml \
	    "$CORPUS"/emails/special/quoted_inline_signature.txt; do
		run -2 --separate-stderr hdpgp-decrypt -c "$f"
		assert_line "X-Hdpgp-Encryption: none"
		run -0 stdout_to "$HD/out" hdpgp-decrypt "$f"
		grep -v '^X-Hdpgp-' "$HD/out" | cmp - "$f"
	done
}

@test "decrypt: an RSA key stored with p > q (as GopenPGP writes them) decrypts 200 of 200" {
	. "$KEYS/pq.env"
	run -0 notty hdpgp-key import "$KEYS/pq.sec.asc"
	assert_output --partial "$PQ_FPR imported     sec"
	hdpgp-key export "$PQ_FPR" | sgpg --import 2>/dev/null
	mkdir "$HD/m"
	for c in 1 2 3 4; do
		printf 'Content-Type: text/plain\n\nmessage %s, %s\n' "$c" "$MARK" |
		    sgpg --trust-model always -r "$PQ_FPR" --armor -e >"$HD/c$c.asc"
		wrap_enc "$HD/c$c.asc" >"$HD/c$c.eml"
		# 50 copies by one program (a cp each costs the test a second)
		tee "$HD/m/$c-"{1..50}.eml <"$HD/c$c.eml" >/dev/null
	done
	run -0 hdpgp-decrypt -c "$HD"/m/*.eml
	[ "$(grep -c ': X-Hdpgp-Encryption: decrypted' <<<"$output")" = 200 ]
	# stock gpg, which does not try again, fails some: the key is a real
	# case (of up to 200 tries, the first failure is enough to say so)
	sgpg --import "$KEYS/pq.sec.asc" 2>/dev/null
	local i fails=0
	for i in $(seq 200); do
		sgpg -d "$HD/c1.asc" >/dev/null 2>&1 || { fails=$((fails + 1)); break; }
	done
	[ "$fails" -gt 0 ]
}
