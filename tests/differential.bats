#!/usr/bin/env bats
# The differential check (tests/differential.bash) of the messages every
# test file but hdpgp-verify.bats, hdpgp-decrypt.bats and forgery.bats
# gave the incoming tools (tests/differential-early.bats judges those):
# make check runs it last.  Run alone, it judges the vectors.

bats_require_minimum_version 1.5.0
load helpers
load vectors
load differential

DIFF_PART=rest

@test "differential: Python and Ruby see no forged field, and only covered text where hdpgp says full" {
	differential_check
}
