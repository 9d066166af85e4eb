#!/usr/bin/env bats
# Issue 9, classes 4 and 5: nothing weaker than the rest of the ecosystem
# accepts (weak hashes, packets gpg 2.2 cannot read, named as such), and
# the work for one message is bounded per message, not per part.  The
# vectors are made here: by stock gpg, and by tests/pgpcraft.py for what
# gpg 2.2 cannot make.

bats_require_minimum_version 1.5.0
load helpers
load vectors

setup_file() { fv_setup_file; }
teardown_file() { hd_file_teardown; }
setup() { fv_setup; }
teardown() { fv_teardown; }

# signed_with HASH [SIG]: alice's multipart/signed message whose signature
# is over HASH (stock gpg's --digest-algo), or the signature file SIG.
signed_with() {
	fv_part1 >"$HD/p1"
	if [ -n "${2:-}" ]; then
		cp "$2" "$HD/p1.sig"
	else
		crlf "$HD/p1" | head -c -2 |
		    fv_sign alice --digest-algo "$1" --armor --detach-sign >"$HD/p1.sig" 2>/dev/null
	fi
	fv_hdrs
	printf 'Content-Type: multipart/signed; boundary="real"; %s\n\n' "$SIGNED_PARAMS"
	fv_signed_body "$HD/p1" "$HD/p1.sig" real
}

# The first X-Hdpgp-Signature verdict word of check mode's output.
first_verdict() {
	sed -n 's/^X-Hdpgp-Signature: \([a-z-]*\).*/\1/p' <<<"$1" | head -1
}

# --- class 4: nothing weaker than the rest of the ecosystem accepts ---

@test "strength: a SHA-256 signature is good (the control)" {
	signed_with SHA256 >"$HD/m"
	run -0 --separate-stderr hdpgp-verify -c "$HD/m"
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: good; signer=$ALICE_FPR; .*coverage=full$"
}

@test "strength: MD5, SHA-1 and RIPEMD-160 data signatures are weak-hash, never good, LF and CRLF" {
	local h
	for h in SHA1 RIPEMD160 MD5; do
		echo "# $h"
		signed_with "$h" >"$HD/m"
		crlf "$HD/m" >"$HD/m.crlf"
		for m in "$HD/m" "$HD/m.crlf"; do
			run -3 --separate-stderr hdpgp-verify -c "$m"
			assert_equal "$(first_verdict "$output")" weak-hash
			assert_line -n 0 --partial "signer=$ALICE_FPR;"
			refute_output --partial 'good;'
			run -3 --separate-stderr hdpgp-verify -j "$m"
			jq -e '.sign.success == false and .signatures[0].verdict == "weak-hash"' <<<"$output"
		done
		# filter mode keeps the mail, with the verdict on top
		run -0 --separate-stderr stdout_to "$HD/out" hdpgp-verify "$HD/m"
		run -0 grep -c '^X-Hdpgp-Signature: weak-hash;' "$HD/out"
	done
}

@test "strength: an inline signature over SHA-1 is weak-hash" {
	{ fv_hdrs; printf 'Content-Type: text/plain\n\n'
	  printf 'Your ticket is answered.\n' |
	      fv_sign alice --digest-algo SHA1 --clearsign 2>/dev/null; } >"$HD/m"
	run -3 --separate-stderr hdpgp-verify -c "$HD/m"
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: weak-hash; signer=$ALICE_FPR; .*coverage=full$"
}

@test "strength: signed and encrypted with SHA-1, one pass and nested: the inner signature is weak-hash" {
	# one pass (RFC 3156 section 6.2)
	printf 'Content-Type: text/plain\n\nthe answer is %s\n' "$FV_MARK" |
	    fv_sign alice --digest-algo SHA1 --trust-model always -r "$BOB_FPR" \
	    --armor -s -e >"$HD/c.asc" 2>/dev/null
	fv_wrap_enc "$HD/c.asc" >"$HD/m"
	run -0 --separate-stderr hdpgp-decrypt -c "$HD/m"
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: weak-hash; signer=$ALICE_FPR; "
	assert_line -n 1 --regexp '^X-Hdpgp-Encryption: decrypted; '
	# nested (section 6.1): a SHA-1 multipart/signed inside
	signed_with SHA1 | sed '1,/^MIME-Version/d' | fv_enc >"$HD/c2.asc"
	fv_wrap_enc "$HD/c2.asc" >"$HD/m2"
	run -0 --separate-stderr hdpgp-decrypt -c "$HD/m2"
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: weak-hash; signer=$ALICE_FPR; "
}

@test "strength: SHA-3, a version 6 signature and a critical notation are errors that say so, never bad" {
	python3 "$HDPGP_SRCDIR/tests/pgpcraft.py" sha3 "$ALICE_FPR" >"$HD/sha3.asc"
	signed_with - "$HD/sha3.asc" >"$HD/m"
	run -1 --separate-stderr hdpgp-verify -c "$HD/m"
	assert_line -n 0 --regexp '^X-Hdpgp-Signature: error; .*reason="unsupported hash"$'
	python3 "$HDPGP_SRCDIR/tests/pgpcraft.py" v6 "$ALICE_FPR" >"$HD/v6.asc"
	signed_with - "$HD/v6.asc" >"$HD/m"
	run -1 --separate-stderr hdpgp-verify -c "$HD/m"
	assert_line -n 0 --regexp '^X-Hdpgp-Signature: error; .*reason="unsupported OpenPGP version 6"$'
	refute_output --partial 'No data'
	# gpg itself says "bad signature": nothing was changed
	fv_part1 >"$HD/p1"
	crlf "$HD/p1" | head -c -2 | fv_sign alice \
	    --sig-notation '!hold@example.org=yes' --armor --detach-sign >"$HD/crit.asc"
	signed_with - "$HD/crit.asc" >"$HD/m"
	run -1 --separate-stderr hdpgp-verify -c "$HD/m"
	assert_line -n 0 --regexp "^X-Hdpgp-Signature: error; signer=$ALICE_FPR; .*reason=\"unsupported critical notation\"\$"
	refute_output --partial 'bad;'
	# and inline
	{ fv_hdrs; printf 'Content-Type: text/plain\n\n'
	  printf 'Hold the line.\n' |
	      fv_sign alice --sig-notation '!hold@example.org=yes' --clearsign; } >"$HD/m"
	run -1 --separate-stderr hdpgp-verify -c "$HD/m"
	assert_line -n 0 --partial 'reason="unsupported critical notation"'
}

@test "strength: a version 6 message is not decrypted, and the reason says why" {
	python3 "$HDPGP_SRCDIR/tests/pgpcraft.py" v6msg >"$HD/v6.asc"
	fv_wrap_enc "$HD/v6.asc" >"$HD/m"
	run -1 --separate-stderr hdpgp-decrypt -c "$HD/m"
	assert_line --regexp '^X-Hdpgp-Encryption: failed; reason="unsupported OpenPGP version 6"$'
	{ fv_hdrs; printf 'Content-Type: text/plain\n\n'; cat "$HD/v6.asc"; } >"$HD/m"
	run -1 --separate-stderr hdpgp-decrypt -c "$HD/m"
	assert_line --regexp '^X-Hdpgp-Encryption: failed; reason="unsupported OpenPGP version 6"$'
}

# --- class 5: bounded per message, not per part ---

@test "strength: 300 inline-signed parts: 32 are checked, one error for the rest, at most 33 gpg runs" {
	printf 'Signed text.\n' | fv_sign alice --clearsign >"$HD/cs.asc"
	local cs
	cs=$(<"$HD/cs.asc")
	{ fv_hdrs; printf 'Content-Type: multipart/mixed; boundary=many\n\n'
	  for i in $(seq 300); do
		printf -- '--many\nContent-Type: text/plain\n\n%s\n' "$cs"
	  done
	  printf -- '--many--\n'; } >"$HD/m"
	run -1 --separate-stderr hdpgp-verify -c "$HD/m"
	run -0 grep -c "^X-Hdpgp-Signature: good; signer=$ALICE_FPR;" <<<"$output"
	assert_output 32
	run -1 --separate-stderr hdpgp-verify -c "$HD/m"
	assert_line --regexp '^X-Hdpgp-Signature: error; coverage=partial; reason="more than 32 signed or encrypted parts"$'
	start_agent
	run -0 count_execs hdpgp-verify -c "$HD/m"
	[ "$output" -le 33 ]
}

@test "strength: 40,000 parts, files beside their .sig files: linear, 32 checked" {
	printf 'x' | fv_sign alice --armor --detach-sign >"$HD/x.sig"
	{ fv_hdrs; printf 'Content-Type: multipart/mixed; boundary=many\n\n'
	  awk -v sig="$(cat "$HD/x.sig")" 'BEGIN {
		for (i = 0; i < 20000; i++) {
			printf "--many\nContent-Type: application/octet-stream; name=\"f%d\"\n\nx\n", i
			printf "--many\nContent-Type: application/pgp-signature; name=\"f%d.sig\"\n\n%s\n", i, sig
		}
		print "--many--"
	  }'; } >"$HD/m"
	start_agent
	run -0 count_execs hdpgp-verify -c "$HD/m"
	[ "$output" -le 33 ]
	run -1 --separate-stderr hdpgp-verify -c "$HD/m"
	run -0 grep -c '^X-Hdpgp-Signature: ' <<<"$output"
	assert_output 33
}

@test "strength: eight compression bombs in one mail share one ceiling: failed, no plaintext" {
	# 12 MiB of zeros each, a few hundred bytes of bzip2: 96 MiB in all,
	# over the message's 64 MiB, though each part is under it
	head -c 12M /dev/zero | sgpg --trust-model always -r "$BOB_FPR" \
	    --compress-algo bzip2 -z 9 -e >"$HD/bomb.gpg"
	{ fv_hdrs; printf 'Content-Type: multipart/mixed; boundary=bombs\n\n'
	  for i in 1 2 3 4 5 6 7 8; do
		printf -- '--bombs\nContent-Type: application/octet-stream; name="z%d.pgp"\n' "$i"
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$HD/bomb.gpg"
	  done
	  printf -- '--bombs--\n'; } >"$HD/m"
	[ "$(stat -c %s "$HD/m")" -lt 65536 ]
	run -1 --separate-stderr hdpgp-decrypt -c "$HD/m"
	assert_line --regexp '^X-Hdpgp-Encryption: failed; reason="plaintext larger than [0-9]+ MiB"$'
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	# the original, unchanged, under the verdict
	grep -v '^X-Hdpgp-' "$HD/out" | cmp - "$HD/m"
}
