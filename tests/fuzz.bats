#!/usr/bin/env bats
# The MIME code that faces mail, replayed over the fuzzing seeds and every
# input a fuzzer once broke it with (fuzz/corpus, fuzz/crashes), under the
# same sanitizers as the tools in CI.  fuzz/run does the fuzzing itself.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	hd_setup
	REPLAY=${HDPGP_BUILDDIR:-$HDPGP_BIN/..}/fuzz/mime-replay
	[ -x "$REPLAY" ] || skip "fuzz/mime-replay is not built (make check builds it)"
}

teardown() {
	hd_teardown
}

@test "fuzz: the saved inputs and past crashes go through lib/mime.c cleanly" {
	run -0 "$REPLAY" "$HDPGP_SRCDIR/fuzz/corpus" "$HDPGP_SRCDIR/fuzz/crashes"
	assert_output --regexp '^replay: [0-9]+ inputs$'
	[ "${output#replay: }" != "0 inputs" ]
}

@test "fuzz: hostile shapes of attack class #22 (doc/DESIGN) through the same path" {
	local f=$HD/h
	# 1,000 nested multiparts, a 1 MB header line, a missing final
	# boundary, NUL bytes and bare CRs
	{ printf 'From: a@example.com\nContent-Type: multipart/mixed; boundary=n\n\n'
	  for i in $(seq 1000); do printf -- '--n\nContent-Type: multipart/mixed; boundary=n\n\n'; done; } >"$f.deep"
	{ printf 'From: a@example.com\nSubject: '; head -c 1000000 /dev/zero | tr '\0' x; printf '\n\nbody\n'; } >"$f.header"
	printf 'From: a@example.com\nContent-Type: multipart/signed; boundary=s; protocol="application/pgp-signature"\n\n--s\n\nx\n--s\n' >"$f.open"
	printf 'From: a@example.com\r\rSubject: \0\0\r\n\r\n\0body\r' >"$f.nul"
	run -0 "$REPLAY" "$f.deep" "$f.header" "$f.open" "$f.nul"
	assert_output 'replay: 4 inputs'
}
