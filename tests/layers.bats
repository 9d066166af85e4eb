#!/usr/bin/env bats
# The library's structure (doc/DESIGN, Layers and Errors): the layer order
# written in lib/hdpgp.h, no cycles, nothing printed or exited below bin/,
# no decision on an error's text, the tools on the public header alone.

bats_require_minimum_version 1.5.0
load helpers

@test "layers: every lib/ file calls only the layers below it, no cycles, no printing, no decision on error text" {
	run -0 python3 "$HDPGP_SRCDIR/tests/layers.py"
	assert_output ""
}

@test "layers: the checker finds a call upwards, a print and a decision on error text" {
	local t=$BATS_TEST_TMPDIR/src
	mkdir -p "$t/lib" "$t/bin"
	cp "$HDPGP_SRCDIR"/lib/*.c "$t/lib/"
	cat >>"$t/lib/util.c" <<'C'
static int
planted(struct hd_error *e)
{
	fprintf(stderr, "x\n");
	if (strstr(e->text, "passphrase required") != NULL)
		return hd_outgoing(NULL, NULL, NULL, NULL, NULL, NULL, e);
	return 0;
}
C
	HDPGP_SRCDIR=$t run -1 python3 "$HDPGP_SRCDIR/tests/layers.py"
	assert_line --partial "lib/util.c (util) calls lib/outgoing.c (outgoing): hd_outgoing"
	assert_line --partial "prints or exits: fprintf(stderr"
	assert_line --partial "decides on an error text"
}
