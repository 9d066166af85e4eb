#!/usr/bin/env bats
# hdpgp-log: the security log, as the other tools write it, listed,
# filtered and pruned.  Records come from the real tools, or, where a test
# needs many of them or needs to set their time, are written straight into
# state.tdb in the form the tools use (a JSON object under "log:<seq>").

bats_require_minimum_version 1.5.0
load helpers

setup() {
	hd_setup
}

teardown() {
	hd_teardown
}

ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

# The value of record $1 of the state file, for records that hold text
# without quotes ("log:next", "log:first").
state_value() {
	tdbdump "$HDPGP_HOME/state.tdb" |
	    sed -n "/^key([0-9]*) = \"$1\"\$/{n;s/^data([0-9]*) = \"\\(.*\\)\"\$/\\1/p;}"
}

# A state that exists, with an empty log: bob's key imported by the real
# tool, then the log record of that import dropped again.
mkstate() {
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	tdbtool "$HDPGP_HOME/state.tdb" delete "$(printf 'log:%016x' 0)" >/dev/null
	tdbtool "$HDPGP_HOME/state.tdb" store log:next 0 >/dev/null
}

# addrec TIME DIR ACTION RESULT [MSGID FROM TO GROUP KEYS COMMENT]: one
# record after the newest, written the way the tools write it; an empty
# field is stored as null.
addrec() {
	local seq json
	seq=$(state_value log:next)
	json=$(jq -nc --arg t "$1" --arg d "$2" --arg a "$3" --arg r "$4" \
	    --arg m "${5-}" --arg f "${6-}" --arg to "${7-}" --arg g "${8-}" \
	    --arg k "${9-}" --arg c "${10-}" '
	    def n: if . == "" then null else . end;
	    {time: $t, direction: $d, action: $a, result: $r,
	     message_id: ($m | n), from: ($f | n), to: ($to | n),
	     group: ($g | n), keys: ($k | n), comment: ($c | n)}')
	# tdbtool reads \XX as a byte in hex and \c as c: double every \.
	tdbtool "$HDPGP_HOME/state.tdb" store "$(printf 'log:%016x' "${seq:-0}")" "${json//\\/\\\\}" >/dev/null
	tdbtool "$HDPGP_HOME/state.tdb" store log:next "$((${seq:-0} + 1))" >/dev/null
}

# A time $1 ago (a date(1) relative time such as "3 hours"), ISO 8601 UTC.
ago() {
	date -u -d "now - $1" +%Y-%m-%dT%H:%M:%SZ
}

# Lines of text with runs of blanks squeezed, for comparing log lines
# without fixing the column widths.
squeeze() {
	tr -s ' '
}

# alice's secret key and bob's public key in the store.
alice_and_bob() {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
}

@test "a missing state directory lists nothing and creates nothing" {
	run -0 --separate-stderr hdpgp-log
	assert_output ""
	assert_equal "$stderr" ""
	run -0 --separate-stderr hdpgp-log -j --failed --in --since 1d -n 5
	assert_output ""
	assert_equal "$stderr" ""
	run -0 --separate-stderr hdpgp-log -d "$HD/nowhere" --message-id '<x@y>'
	assert_output ""
	assert_equal "$stderr" ""
	[ ! -e "$HDPGP_HOME" ]
	[ ! -e "$HD/nowhere" ]
}

@test "the actions of the real tools, newest first, in the text format" {
	alice_and_bob
	mkmail plain >"$HD/msg"
	hdpgp-sign "$HD/msg" >"$HD/signed"
	hdpgp-encrypt "$HD/msg" >"$HD/enc"
	sed 's/bob@example.org/carol@example.net/' "$HD/msg" >"$HD/carol"
	run -69 hdpgp-encrypt "$HD/carol"
	run -0 hdpgp-verify -c "$HD/signed"
	run -2 hdpgp-verify -c "$HD/msg"
	# encrypted to bob, whose secret key the store does not hold
	run -1 hdpgp-decrypt -c "$HD/enc"
	run -0 --separate-stderr hdpgp-log
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 8
	local m='<plain\.42@helpdesk\.example\.com> alice@example\.com'
	assert_regex "${lines[0]}" "^$ISO in +decrypt +failed +$m -> bob@example\.org: .*no secret key"
	assert_regex "${lines[1]}" "^$ISO in +verify +skipped +$m -> bob@example\.org: "
	assert_regex "${lines[2]}" "^$ISO in +verify +success +$m -> bob@example\.org keys=$ALICE_FPR: .*good"
	assert_regex "${lines[3]}" "^$ISO out +encrypt +failed +$m -> carol@example\.net: carol@example\.net: no public key\$"
	assert_regex "${lines[4]}" "^$ISO out +encrypt +success +$m -> bob@example\.org keys=$BOB_FPR\$"
	assert_regex "${lines[5]}" "^$ISO out +sign +success +$m -> bob@example\.org keys=$ALICE_FPR\$"
	assert_regex "${lines[6]}" "^$ISO - +key-import +success +- - -> - keys=$BOB_FPR\$"
	assert_regex "${lines[7]}" "^$ISO - +key-import +success +- - -> - keys=$ALICE_FPR\$"
	# the times are now, in UTC
	local t now
	t=$(date -u -d "${lines[0]%% *}" +%s)
	now=$(date +%s)
	[ "$t" -le "$now" ] && [ "$t" -ge "$((now - 300))" ]
}

@test "text format: every field, and - for the missing ones" {
	mkstate
	addrec 2026-01-02T03:04:05Z out sign+encrypt failed 'r1@hd.example' \
	    alice@example.com 'bob@example.org,carol@example.net' support \
	    "$ALICE_FPR $BOB_FPR" 'carol@example.net: no public key'
	addrec 2026-01-02T03:04:06Z in verify skipped
	run -0 --separate-stderr hdpgp-log
	assert_equal "$stderr" ""
	assert_equal "$(squeeze <<<"$output")" "\
2026-01-02T03:04:06Z in verify skipped - - -> -
2026-01-02T03:04:05Z out sign+encrypt failed <r1@hd.example> alice@example.com -> bob@example.org,carol@example.net group=support keys=$ALICE_FPR $BOB_FPR: carol@example.net: no public key"
	# the first four columns line up
	assert_equal "$(cut -c1-42 <<<"${lines[0]}")" "2026-01-02T03:04:06Z in  verify       skip"
	assert_equal "$(cut -c1-42 <<<"${lines[1]}")" "2026-01-02T03:04:05Z out sign+encrypt fail"
}

@test "default 20 records, newest first; -n and --count" {
	mkstate
	local i
	for i in $(seq 1 30); do
		addrec "$(ago "$((31 - i)) minutes")" in verify success "m$i@x"
	done
	run -0 --separate-stderr hdpgp-log
	assert_equal "${#lines[@]}" 20
	assert_regex "${lines[0]}" " <m30@x> "
	assert_regex "${lines[19]}" " <m11@x> "
	run -0 --separate-stderr hdpgp-log -n 3
	assert_equal "$(grep -o '<[^>]*>' <<<"$output" | tr '\n' ' ')" "<m30@x> <m29@x> <m28@x> "
	run -0 --separate-stderr hdpgp-log --count 1
	assert_regex "$output" "^$ISO in +verify +success +<m30@x> - -> -\$"
	run -0 --separate-stderr hdpgp-log -n 1000
	assert_equal "${#lines[@]}" 30
	assert_regex "${lines[29]}" " <m1@x> "
	# -j gives the same records in the same order
	run -0 --separate-stderr hdpgp-log -j -n 25
	assert_equal "${#lines[@]}" 25
	assert_equal "$(jq -r .message_id <<<"$output" | head -1)" "m30@x"
	assert_equal "$(jq -r .message_id <<<"$output" | tail -1)" "m6@x"
}

@test "-j: one JSON object per line, every field, null for missing ones" {
	alice_and_bob
	mkmail plain >"$HD/msg"
	hdpgp-sign "$HD/msg" >/dev/null
	addrec 2099-01-01T00:00:00Z out encrypt failed 'r2@hd.example' \
	    alice@example.com bob@example.org sales '' 'say "no" \ twice'
	run -0 --separate-stderr hdpgp-log --json
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 4
	# every line is one object with exactly the ten fields
	local line
	for line in "${lines[@]}"; do
		jq -e 'type == "object" and (keys == (["action", "comment",
		    "direction", "from", "group", "keys", "message_id",
		    "result", "time", "to"]))' <<<"$line" >/dev/null
	done
	jq -e '.time == "2099-01-01T00:00:00Z" and .direction == "out" and
	    .action == "encrypt" and .result == "failed" and
	    .message_id == "r2@hd.example" and .from == "alice@example.com" and
	    .to == "bob@example.org" and .group == "sales" and .keys == null and
	    .comment == "say \"no\" \\ twice"' <<<"${lines[0]}"
	jq -e --arg fpr "$ALICE_FPR" --arg t "$ISO" '.direction == "out" and
	    .action == "sign" and .result == "success" and
	    .message_id == "plain.42@helpdesk.example.com" and
	    .from == "alice@example.com" and .to == "bob@example.org" and
	    .group == null and .keys == $fpr and (.time | test("^" + $t + "$"))' \
	    <<<"${lines[1]}"
	jq -e --arg fpr "$BOB_FPR" '.direction == "-" and .action == "key-import" and
	    .result == "success" and .keys == $fpr and .message_id == null and
	    .from == null and .to == null' <<<"${lines[2]}"
	jq -e --arg fpr "$ALICE_FPR" '.action == "key-import" and .keys == $fpr' <<<"${lines[3]}"
}

@test "--failed, --in and --out, alone and together" {
	mkstate
	addrec "$(ago '9 minutes')" - key-import success '' '' '' '' "$BOB_FPR"
	addrec "$(ago '8 minutes')" out sign failed o1@x
	addrec "$(ago '7 minutes')" in verify failed i1@x
	addrec "$(ago '6 minutes')" out encrypt success o2@x
	addrec "$(ago '5 minutes')" in decrypt success i2@x
	addrec "$(ago '4 minutes')" - key-delete failed
	addrec "$(ago '3 minutes')" out sign+encrypt failed o3@x
	addrec "$(ago '2 minutes')" in verify skipped i3@x
	addrec "$(ago '1 minute')" in decrypt failed i4@x
	ids() {
		jq -r '.message_id // .action' | tr '\n' ' '
	}
	run -0 --separate-stderr hdpgp-log -j --failed
	assert_equal "$(ids <<<"$output")" "i4@x o3@x key-delete i1@x o1@x "
	run -0 --separate-stderr hdpgp-log -j --in
	assert_equal "$(ids <<<"$output")" "i4@x i3@x i2@x i1@x "
	run -0 --separate-stderr hdpgp-log -j --out
	assert_equal "$(ids <<<"$output")" "o3@x o2@x o1@x "
	run -0 --separate-stderr hdpgp-log -j --failed --in
	assert_equal "$(ids <<<"$output")" "i4@x i1@x "
	run -0 --separate-stderr hdpgp-log -j --failed --out -n 1
	assert_equal "$(ids <<<"$output")" "o3@x "
	# -n counts the records shown, not the records read
	run -0 --separate-stderr hdpgp-log -j --failed -n 2
	assert_equal "$(ids <<<"$output")" "i4@x o3@x "
	# and the text format shows the same
	run -0 --separate-stderr hdpgp-log --failed --in
	assert_equal "${#lines[@]}" 2
	assert_regex "${lines[0]}" "^$ISO in +decrypt +failed +<i4@x> "
	assert_regex "${lines[1]}" "^$ISO in +verify +failed +<i1@x> "
}

@test "--since: an ISO 8601 date, a date and time, and a relative time" {
	mkstate
	local day
	day=$(date -u -d 'now - 5 days' +%Y-%m-%d)
	addrec "$(date -u -d "$day - 1 second" +%Y-%m-%dT%H:%M:%SZ)" in verify success s1@x
	addrec "${day}T00:00:00Z" in verify success s2@x
	addrec "${day}T12:00:00Z" out sign success s3@x
	addrec "$(ago '3 hours')" in decrypt failed s4@x
	addrec "$(ago '30 minutes')" out encrypt success s5@x
	ids() {
		jq -r .message_id | tr '\n' ' '
	}
	run -0 --separate-stderr hdpgp-log -j --since "$day"
	assert_equal "$stderr" ""
	assert_equal "$(ids <<<"$output")" "s5@x s4@x s3@x s2@x "
	run -0 --separate-stderr hdpgp-log -j --since "${day}T12:00:00Z"
	assert_equal "$(ids <<<"$output")" "s5@x s4@x s3@x "
	run -0 --separate-stderr hdpgp-log -j --since "${day}T12:00:01Z"
	assert_equal "$(ids <<<"$output")" "s5@x s4@x "
	run -0 --separate-stderr hdpgp-log -j --since 1h
	assert_equal "$(ids <<<"$output")" "s5@x "
	run -0 --separate-stderr hdpgp-log -j --since 4h
	assert_equal "$(ids <<<"$output")" "s5@x s4@x "
	run -0 --separate-stderr hdpgp-log -j --since 240m
	assert_equal "$(ids <<<"$output")" "s5@x s4@x "
	run -0 --separate-stderr hdpgp-log -j --since 10m
	assert_output ""
	run -0 --separate-stderr hdpgp-log -j --since 2w
	assert_equal "$(ids <<<"$output")" "s5@x s4@x s3@x s2@x s1@x "
	# with the other filters
	run -0 --separate-stderr hdpgp-log -j --since "$day" --in
	assert_equal "$(ids <<<"$output")" "s4@x s2@x "
	run -0 --separate-stderr hdpgp-log -j --since "$day" --failed
	assert_equal "$(ids <<<"$output")" "s4@x "
	run -0 --separate-stderr hdpgp-log -j --since "$day" -n 2
	assert_equal "$(ids <<<"$output")" "s5@x s4@x "
}

@test "--message-id: with and without angle brackets" {
	alice_and_bob
	mkmail plain >"$HD/plain"
	mkmail utf8 >"$HD/utf8"
	hdpgp-sign "$HD/plain" >"$HD/plain.signed"
	hdpgp-sign "$HD/utf8" >/dev/null
	run -0 hdpgp-verify -c "$HD/plain.signed"
	run -2 hdpgp-verify -c "$HD/utf8"
	run -0 --separate-stderr hdpgp-log --message-id plain.42@helpdesk.example.com
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 2
	assert_regex "${lines[0]}" "^$ISO in +verify +success +<plain\.42@helpdesk\.example\.com> "
	assert_regex "${lines[1]}" "^$ISO out +sign +success +<plain\.42@helpdesk\.example\.com> "
	local without=$output
	run -0 --separate-stderr hdpgp-log --message-id '<plain.42@helpdesk.example.com>'
	assert_output "$without"
	run -0 --separate-stderr hdpgp-log -j --message-id '<utf8.42@helpdesk.example.com>'
	assert_equal "$(jq -r .action <<<"$output" | tr '\n' ' ')" "verify sign "
	# exact, not a substring
	run -0 --separate-stderr hdpgp-log --message-id plain.42
	assert_output ""
	run -0 --separate-stderr hdpgp-log --message-id '<nosuch@helpdesk.example.com>'
	assert_output ""
}

@test "strings from mail with control characters come out escaped" {
	alice_and_bob
	printf 'From: Alice <alice@example.com>\nTo: "b\033[2Job" <bob@example.org>\nSubject: x\nMessage-ID: <esc\033[31m\r\a.1@evil.example>\n\nhello\n' >"$HD/evil"
	# the lone CR makes the message one that parsers read differently
	run -1 hdpgp-verify -c "$HD/evil"
	assert_line -n 0 --partial 'reason="ambiguous MIME: a CR without LF"'
	run -0 hdpgp-encrypt "$HD/evil"
	run -0 --separate-stderr stdout_to "$HD/text" hdpgp-log
	run -0 --separate-stderr stdout_to "$HD/json" hdpgp-log -j
	# no ESC, CR, BEL or other control character but the line ends
	run -1 grep -c $'[\x01-\x09\x0b-\x1f\x7f]' "$HD/text" "$HD/json"
	run -0 grep -c 'esc\\x1B\[31m' "$HD/text"
	assert_output 2
	run -0 jq -r 'select(.message_id != null) | .message_id' "$HD/json"
	assert_equal "${#lines[@]}" 2
	assert_regex "${lines[0]}" '^esc\\x1B\[31m.*\.1@evil\.example$'
	assert_equal "${lines[0]}" "${lines[1]}"
}

@test "prune --older-than DAYS: the old records go, the rest stay" {
	mkstate
	addrec "$(ago '100 days')" in verify success p1@x
	addrec "$(ago '95 days')" out sign failed p2@x
	addrec "$(ago '91 days')" in decrypt success p3@x
	addrec "$(ago '89 days')" out encrypt success p4@x
	addrec "$(ago '10 days')" in verify skipped p5@x
	run -0 --separate-stderr hdpgp-log prune --older-than 90
	assert_output ""
	assert_equal "$stderr" "hdpgp-log: 3 records pruned"
	run -0 --separate-stderr hdpgp-log -j
	assert_equal "$(jq -r .message_id <<<"$output" | tr '\n' ' ')" "p5@x p4@x "
	run -0 --separate-stderr hdpgp-log prune --older-than 90
	assert_equal "$stderr" "hdpgp-log: 0 records pruned"
	run -0 --separate-stderr hdpgp-log prune --older-than 11
	assert_equal "$stderr" "hdpgp-log: 1 records pruned"
	# the tools go on appending after a prune
	mkmail plain >"$HD/msg"
	run -2 hdpgp-verify -c "$HD/msg"
	run -0 --separate-stderr hdpgp-log -j
	assert_equal "$(jq -r .message_id <<<"$output" | tr '\n' ' ')" "plain.42@helpdesk.example.com p5@x "
	run -0 tdbtool "$HDPGP_HOME/state.tdb" check
	assert_output --partial "OK"
}

@test "prune --keep N: all but the newest N go, oldest first; -q is silent" {
	mkstate
	local i
	for i in $(seq 1 10); do
		addrec "$(ago "$((11 - i)) minutes")" out sign success "k$i@x"
	done
	run -0 --separate-stderr hdpgp-log prune --keep 3
	assert_output ""
	assert_equal "$stderr" "hdpgp-log: 7 records pruned"
	run -0 --separate-stderr hdpgp-log -j
	assert_equal "$(jq -r .message_id <<<"$output" | tr '\n' ' ')" "k10@x k9@x k8@x "
	run -0 --separate-stderr hdpgp-log prune --keep 3
	assert_equal "$stderr" "hdpgp-log: 0 records pruned"
	run -0 --separate-stderr hdpgp-log prune --keep 100
	assert_equal "$stderr" "hdpgp-log: 0 records pruned"
	run -0 --separate-stderr hdpgp-log -q prune --keep 1
	assert_output ""
	assert_equal "$stderr" ""
	run -0 --separate-stderr hdpgp-log prune --keep 1 --quiet
	assert_equal "$stderr" ""
	run -0 --separate-stderr hdpgp-log -j
	assert_equal "$(jq -r .message_id <<<"$output")" "k10@x"
	# the oldest kept record is recorded, the rest are gone from the file
	assert_equal "$(state_value log:first)" 9
	run -0 bash -c "tdbdump '$HDPGP_HOME/state.tdb' | grep '^key(20) = \"log:'"
	assert_output 'key(20) = "log:0000000000000009"'
	# new records go after the kept one
	mkmail plain >"$HD/msg"
	run -2 hdpgp-verify -c "$HD/msg"
	run -0 --separate-stderr hdpgp-log -j -n 5
	assert_equal "$(jq -r .message_id <<<"$output" | tr '\n' ' ')" "plain.42@helpdesk.example.com k10@x "
	run -0 tdbtool "$HDPGP_HOME/state.tdb" check
	assert_output --partial "OK"
}

@test "usage errors exit 64 and change nothing" {
	local args
	for args in 'prune' 'prune --older-than 5 --keep 5' 'prune --older-than 5 prune' \
	    'prune now' 'list' '--keep 5' '--older-than 5' '-n 0' '-n -1' \
	    '-n many' '-n 1x' '-n 200000000' '--since yesterday' '--since 12' \
	    '--since 2026-13-45' '--since -1h' '--since 1y' '--frobnicate'; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr hdpgp-log $args
		assert_output ""
		[ -n "$stderr" ]
		[ ! -e "$HDPGP_HOME" ]
	done
	run -64 --separate-stderr hdpgp-log prune
	assert_regex "$stderr" '^hdpgp-log: .*--older-than.*--keep'
	run -64 --separate-stderr hdpgp-log --keep 5
	assert_regex "$stderr" '^hdpgp-log: .*prune'
	run -64 --separate-stderr hdpgp-log -n 0
	assert_regex "$stderr" '^hdpgp-log: -n 0: '
	run -64 --separate-stderr hdpgp-log --since yesterday
	assert_regex "$stderr" '^hdpgp-log: --since yesterday: '
	run -64 --separate-stderr hdpgp-log --frobnicate
	assert_regex "$stderr" 'usage: hdpgp-log '
	# -h: the usage on stdout, exit 0; -V
	run -0 --separate-stderr hdpgp-log -h
	assert_line --index 0 --regexp '^usage: hdpgp-log \[-jqV\] \[-d dir\] \[-n count\]'
	assert_line --regexp 'hdpgp-log \[-q\] \[-d dir\] prune --older-than days \| --keep count$'
	assert_equal "$stderr" ""
	run -0 --separate-stderr hdpgp-log -V
	assert_regex "$output" '^hdpgp-log [0-9]'
	[ ! -e "$HDPGP_HOME" ]
}

@test "prune with a bad number exits 64 and creates nothing" {
	local args
	for args in 'prune --older-than 0' 'prune --older-than many' \
	    'prune --older-than 36501' 'prune --keep 0' 'prune --keep -3'; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr hdpgp-log $args
		assert_output ""
		assert_regex "$stderr" "^hdpgp-log: --(older-than|keep) "
		[ ! -e "$HDPGP_HOME" ] || fail "hdpgp-log $args: created $HDPGP_HOME"
	done
}

@test "8 concurrent writers of 50 records each lose nothing" {
	mkstate
	printf 'From: a@example.org\nTo: b@example.org\nSubject: x\n\nunsigned\n' >"$HD/msg"
	local i
	# Leaks are the other tests' business: LeakSanitizer would double
	# the time of these 400 runs.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	for i in 1 2 3 4 5 6 7 8; do
		(
			for _ in $(seq 50); do
				rc=0
				hdpgp-verify -c "$HD/msg" >/dev/null 2>>"$HD/err.$i" || rc=$?
				[ "$rc" -eq 2 ] || echo "exit $rc" >>"$HD/err.$i"
			done
		) &
	done
	wait
	run -0 cat "$HD"/err.*
	assert_output ""
	run -0 --separate-stderr hdpgp-log -n 100000 -j
	assert_equal "${#lines[@]}" 400
	assert_equal "$(state_value log:next)" 400
	run -0 jq -s -c 'map(.action + " " + .result) | unique' <<<"$output"
	assert_output '["verify skipped"]'
	run -0 tdbtool "$HDPGP_HOME/state.tdb" check
	assert_output --partial "Database integrity is OK"
	# every sequence number once: log:0 ... log:399
	run -0 bash -c "tdbdump '$HDPGP_HOME/state.tdb' | grep -c '^key(20) = \"log:[0-9a-f]\{16\}\"\$'"
	assert_output 400
}

@test "a log record that cannot be written is said on stderr; the action goes on" {
	mkstate
	local long n msg=$HD/big
	long=$(printf '%03000d' 0)
	printf 'From: <a%s@example.org>\nTo: b@example.org\nMessage-ID: <%s@x>\nSubject: x\n\nunsigned\n' \
	    "$long" "$long" >"$msg"
	# The state file may not grow (SIGXFSZ ignored, so write(2) fails
	# with EFBIG): a record larger than the room left in it cannot be
	# written, whichever run first needs more room.
	capped() {
		(
			trap '' XFSZ
			ulimit -f "$(($(stat -c %s "$HDPGP_HOME/state.tdb") / 1024))"
			"$@"
		)
	}
	for n in $(seq 20); do
		run -2 --separate-stderr capped hdpgp-verify -c "$msg"
		assert_output $'X-Hdpgp-Signature: none\nX-Hdpgp-Encryption: none'
		[ -z "$stderr" ] || break
	done
	assert_equal "$stderr" "hdpgp-verify: log: cannot write record"
	# filter mode: the message is written whole, the warning said once
	run -0 --separate-stderr capped stdout_to "$HD/out" hdpgp-verify "$msg"
	assert_equal "$stderr" "hdpgp-verify: log: cannot write record"
	tail -n 1 "$HD/out" | grep -qx unsigned
	run -0 tdbtool "$HDPGP_HOME/state.tdb" check
	assert_output --partial "Database integrity is OK"
	# with room again, the next record is written
	run -2 hdpgp-verify -c "$msg"
	run -0 --separate-stderr hdpgp-log -n 1 -j
	jq -e '.action == "verify"' <<<"$output"
}

@test "reading the newest N costs the same with 30000 records as with 30" {
	command -v strace >/dev/null || skip "strace is not installed"
	# A state made by the tools, then 30000 records added by tdbrestore
	# (tdbtool, one process per record, would take minutes).
	mkstate
	local big=$HD/big.dump
	tdbdump "$HDPGP_HOME/state.tdb" |
	    awk '/^key\(8\) = "log:next"$/ { skip = 1; next }
		skip { skip = 0; next } { print }' >"$big"
	awk -v n=30000 'BEGIN {
		for (i = 0; i < n; i++) {
			k = sprintf("log:%016x", i)
			d = sprintf("{\\22time\\22:\\222026-01-01T00:00:00Z\\22,\\22direction\\22:\\22in\\22,\\22action\\22:\\22verify\\22,\\22result\\22:\\22skipped\\22,\\22message_id\\22:\\22m%d@x\\22,\\22from\\22:null,\\22to\\22:null,\\22group\\22:null,\\22keys\\22:null,\\22comment\\22:null}", i)
			printf "{\nkey(%d) = \"%s\"\ndata(%d) = \"%s\"\n}\n", length(k), k, length(d) - 3 * 20, d
		}
		printf "{\nkey(8) = \"log:next\"\ndata(%d) = \"%d\"\n}\n", length(n ""), n
	}' >>"$big"
	rm "$HDPGP_HOME/state.tdb"
	tdbrestore "$HDPGP_HOME/state.tdb" <"$big"
	chmod 600 "$HDPGP_HOME/state.tdb"
	run -0 --separate-stderr hdpgp-log -n 2
	assert_regex "${lines[0]}" " <m29999@x> "
	assert_regex "${lines[1]}" " <m29998@x> "
	# the same log, cut down to its newest 30 by the tool
	# Each record read takes and drops a lock on its hash chain (fcntl).
	locks() {
		strace -f -qq -c -e trace=fcntl hdpgp-log "$@" 2>&1 >/dev/null |
		    awk '$NF == "fcntl" { print $4 }'
	}
	local n_big n_small n_few
	n_big=$(locks -n 20)
	n_few=$(locks -n 5)
	run -0 --separate-stderr hdpgp-log -q prune --keep 30
	n_small=$(locks -n 20)
	[ -n "$n_big" ] && [ "$n_few" -lt "$n_big" ]
	assert_equal "$n_big" "$n_small"
}

@test "examples/crontab: each job runs as written" {
	local crontab=$HDPGP_SRCDIR/examples/crontab cmds
	# The command part of each job line: after the five time fields, or
	# after an @period; comments, blank lines and variables skipped.
	cmds=$(awk '/^[ \t]*(#|$)/ || /^[A-Za-z_][A-Za-z0-9_]*[ \t]*=/ { next }
		{ n = $1 ~ /^@/ ? 1 : 5
		  for (i = 1; i <= n; i++) sub(/^[ \t]*[^ \t]+/, "")
		  sub(/^[ \t]+/, ""); print }' "$crontab")
	assert_equal "$(wc -l <<<"$cmds")" 3
	local keycheck prune refresh
	keycheck=$(grep '^hdpgp-key .*check' <<<"$cmds")
	refresh=$(grep '^hdpgp-key .*refresh' <<<"$cmds")
	prune=$(grep '^hdpgp-log ' <<<"$cmds")
	[ -n "$keycheck" ] && [ -n "$prune" ] && [ -n "$refresh" ]
	# the five time fields are valid: minute hour day month weekday
	run -0 awk '!/^[ \t]*(#|$)/ && !/^[A-Za-z_][A-Za-z0-9_]*[ \t]*=/ {
		if ($1 !~ /^[0-9*]/ || $5 !~ /^[0-7*]/ || NF < 6) exit 1 }' "$crontab"

	# A store with bob's valid key and an empty log: nothing due,
	# nothing to prune, no output (so no mail).
	mkstate
	run -0 --separate-stderr sh -c "$keycheck"
	assert_output ""
	assert_equal "$stderr" ""
	run -0 --separate-stderr sh -c "$prune"
	assert_output ""
	assert_equal "$stderr" ""
	# bob's key was imported: pinned, so refresh asks no server
	# (tests/wkd.bats has it fetch keys)
	run -0 --separate-stderr sh -c "$refresh"
	assert_output ""
	assert_equal "$stderr" ""

	# A log with old records: they go, the recent ones stay, no output.
	addrec "$(ago '200 days')" in verify success old1@x
	addrec "$(ago '91 days')" out sign success old2@x
	addrec "$(ago '89 days')" in decrypt failed new1@x
	addrec "$(ago '1 day')" out encrypt success new2@x
	run -0 --separate-stderr sh -c "$prune"
	assert_output ""
	assert_equal "$stderr" ""
	run -0 --separate-stderr hdpgp-log -j -n 100
	assert_equal "$(jq -r .message_id <<<"$output" | tr '\n' ' ')" "new2@x new1@x "

	# An expired key is due: listed on stdout (mailed), exit 1.
	hdpgp-key import "$KEYS/expired.pub.asc" >/dev/null
	run -1 --separate-stderr sh -c "$keycheck"
	assert_output --regexp "^$EXPIRED_FPR pub expired "
	assert_equal "${#lines[@]}" 1
	assert_equal "$stderr" ""
}
