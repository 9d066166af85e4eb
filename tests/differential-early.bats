#!/usr/bin/env bats
# The differential check (tests/differential.bash) of the messages that
# hdpgp-verify.bats, hdpgp-decrypt.bats and forgery.bats gave the
# incoming tools: make check runs it as soon as those three end, beside
# the other test files.  Run alone, it judges the vectors.

bats_require_minimum_version 1.5.0
load helpers
load vectors
load differential

DIFF_PART=early

@test "differential, the messages of verify, decrypt and forgery: Python and Ruby see no forged field, and only covered text where hdpgp says full" {
	differential_check
}
