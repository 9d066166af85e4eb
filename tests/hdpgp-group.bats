#!/usr/bin/env bats
# hdpgp-group: group defaults, the composer check and apply.  What apply
# writes is read by Python's email module and by stock gpg, not by hdpgp.

bats_require_minimum_version 1.5.0
load helpers

# The store holds alice's secret key (the helpdesk) and bob's public key
# (the customer); the outside party holds bob's secret key and alice's
# public key.  Imported once for the file (helpers.bash: fixtures).
import_keys() {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	sgpg --passphrase-file "$HD/bob.pass" --import "$KEYS/bob.sec.asc" 2>/dev/null
	sgpg --import "$KEYS/alice.pub.asc" 2>/dev/null
}

hd_keys_fixture

# A draft from alice to bob ($HD/msg), and one to a customer without a key
# ($HD/nokey).
drafts() {
	mkmail utf8 >"$HD/msg"
	sed 's/^To: .*/To: Nokey Customer <nokey@example.org>/' "$HD/msg" >"$HD/nokey"
}

# (decrypt, in helpers.bash: part 2 of a multipart/encrypted, decrypted by
# stock gpg with bob's key to $HD/dec.)

# $2 is $1 signed by alice (RFC 3156 multipart/signed, good for stock gpg).
is_signed() {
	local r=$HD/mc
	rm -rf "$HD/v" "$r"
	run -0 mimecheck multi "$r" micalg=signed "$2" "$HD/v" \
	    + hout=headers "$2" + hin=headers "$1" \
	    + lout=leaves "$HD/v/part1" + lin=leaves "$1"
	run -0 sgpg --status-fd 1 --verify "$HD/v/sig.asc" "$HD/v/part1.crlf"
	assert_line --regexp "^\[GNUPG:\] VALIDSIG $ALICE_FPR "
	assert_equal "$(<"$r/hout")" "$(<"$r/hin")"
	assert_equal "$(<"$r/lout")" "$(<"$r/lin")"
}

# $2 is $1 encrypted to bob, signed by alice in the same pass when $3 is
# "signed", not signed at all when it is "unsigned".
is_encrypted() {
	local r=$HD/mc
	decrypt "$2" + hout=headers "$2" + hin=headers "$1" + lin=leaves "$1"
	if [ "$3" = signed ]; then
		assert_line --regexp "^\[GNUPG:\] GOODSIG ${ALICE_FPR: -16} "
		assert_line --regexp "^\[GNUPG:\] VALIDSIG $ALICE_FPR "
	else
		refute_line --partial "SIG "
	fi
	assert_equal "$(<"$r/hout")" "$(<"$r/hin")"
	assert_equal "$(mimecheck leaves "$HD/dec")" "$(<"$r/lin")"
}

# The newest log record of the action $1, as JSON.
last_log() {
	hdpgp-log -j -n 100 | jq -c --arg a "$1" 'select(.action == $a)' | head -n 1
}

# --- set, list, show, delete ---

@test "group: a new group signs and encrypts by default, without an address" {
	run -0 --separate-stderr hdpgp-group set sales
	assert_output ""
	assert_equal "$stderr" ""
	run -0 --separate-stderr hdpgp-group show sales
	assert_output "sales address=- sign=on encrypt=on self=off"
	run -0 --separate-stderr hdpgp-group -j show sales
	jq -e '. == {"name": "sales", "address": null, "sign": true,
	    "encrypt": true, "self": false}' <<<"$output"
	run -0 --separate-stderr hdpgp-group list
	assert_output "sales address=- sign=on encrypt=on self=off"
}

@test "group: set changes only what it is given" {
	hdpgp-group set sales --address alice@example.com --sign off
	hdpgp-group set sales --encrypt off
	hdpgp-group set sales --self on
	run -0 --separate-stderr hdpgp-group show sales
	assert_output "sales address=alice@example.com sign=off encrypt=off self=on"
	hdpgp-group set sales --sign on --encrypt on --self off
	run -0 --separate-stderr hdpgp-group show sales
	assert_output "sales address=alice@example.com sign=on encrypt=on self=off"
	# the domain without regard to case, the local part as written
	hdpgp-group set sales --address Sales@Example.COM
	run -0 --separate-stderr hdpgp-group -j show sales
	jq -e '.address == "Sales@example.com"' <<<"$output"
}

@test "group: --address '' clears the address" {
	hdpgp-group set sales --address alice@example.com
	run -0 --separate-stderr hdpgp-group set sales --address ''
	assert_equal "$stderr" ""
	run -0 --separate-stderr hdpgp-group show sales
	assert_output "sales address=- sign=on encrypt=on self=off"
	run -0 --separate-stderr hdpgp-group -j show sales
	jq -e '.address == null' <<<"$output"
}

@test "group: list shows every group by name, -j one JSON object a line" {
	run -0 --separate-stderr hdpgp-group list
	assert_output ""
	hdpgp-group set support --address alice@example.com --encrypt off
	hdpgp-group set billing.eu_2-x --sign off
	hdpgp-group set sales
	run -0 --separate-stderr hdpgp-group list
	assert_output "billing.eu_2-x address=- sign=off encrypt=on self=off
sales address=- sign=on encrypt=on self=off
support address=alice@example.com sign=on encrypt=off self=off"
	run -0 --separate-stderr hdpgp-group -j list
	assert_equal "${#lines[@]}" 3
	jq -se '[.[].name] == ["billing.eu_2-x", "sales", "support"] and
	    .[2].address == "alice@example.com" and .[2].encrypt == false and
	    .[0].sign == false' <<<"$output"
}

@test "group: bad group names are refused (64), nothing stored" {
	local name
	for name in '' 'bad name' 'a/b' 'a:b' '../x' "$(printf 'x%.0s' {1..65})" $'a\nb'; do
		run -64 --separate-stderr hdpgp-group set "$name" --sign off
		assert_output ""
		assert_equal "$stderr" "hdpgp-group: $name: a group name is letters, digits, '.', '_' and '-'"
	done
	run -0 --separate-stderr hdpgp-group list
	assert_output ""
	# 64 characters are enough
	run -0 hdpgp-group set "$(printf 'x%.0s' {1..64})"
	# a name that cannot be set cannot be found either
	run -69 --separate-stderr hdpgp-group show 'bad name'
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: group bad name: no such group"
}

@test "group: bad on|off values and bad addresses are refused (64), nothing changed" {
	hdpgp-group set sales --address alice@example.com
	local opt
	for opt in sign encrypt self; do
		run -64 --separate-stderr hdpgp-group set sales "--$opt" maybe
		assert_output ""
		assert_equal "$stderr" "hdpgp-group: --$opt maybe: say on or off"
		run -64 --separate-stderr hdpgp-group set sales "--$opt" ''
		run -64 --separate-stderr hdpgp-group set sales "--$opt"
		assert_output ""
	done
	run -64 --separate-stderr hdpgp-group set sales --address 'not an address'
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: not an address: not an email address"
	run -64 --separate-stderr hdpgp-group set newgroup --sign off --encrypt perhaps
	run -69 hdpgp-group show newgroup
	run -0 --separate-stderr hdpgp-group show sales
	assert_output "sales address=alice@example.com sign=on encrypt=on self=off"
}

@test "group: delete, and groups that do not exist (69)" {
	hdpgp-group set sales
	hdpgp-group set support
	run -0 --separate-stderr hdpgp-group delete sales
	assert_output ""
	assert_equal "$stderr" ""
	run -69 --separate-stderr hdpgp-group show sales
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: group sales: no such group"
	run -69 --separate-stderr hdpgp-group delete sales
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: group sales: no such group"
	run -0 --separate-stderr hdpgp-group list
	assert_output "support address=- sign=on encrypt=on self=off"
}

@test "group: usage errors (64), -h and -V" {
	run -64 --separate-stderr hdpgp-group
	assert_output ""
	[[ $stderr == "usage: hdpgp-group "* ]]
	run -64 --separate-stderr hdpgp-group frobnicate
	assert_output ""
	run -64 --separate-stderr hdpgp-group show
	run -64 --separate-stderr hdpgp-group show a b
	run -64 --separate-stderr hdpgp-group delete
	run -64 --separate-stderr hdpgp-group list extra
	run -64 --separate-stderr hdpgp-group set
	run -64 --separate-stderr hdpgp-group set a b
	run -64 --separate-stderr hdpgp-group check
	run -64 --separate-stderr hdpgp-group check sales a b
	run -64 --separate-stderr hdpgp-group apply </dev/null
	run -64 --separate-stderr hdpgp-group apply sales --frob </dev/null
	assert_output ""
	run -64 --separate-stderr hdpgp-group set sales --sign-off on
	run -0 --separate-stderr hdpgp-group -h
	assert_line --index 0 --partial "usage: hdpgp-group "
	assert_equal "$stderr" ""
	run -0 --separate-stderr hdpgp-group -V
	assert_output --regexp '^hdpgp-group [0-9]'
}

@test "group: a refused command writes nothing, not even the state directory" {
	# the state directory is created on first write (doc/DESIGN, "The
	# state directory")
	run -64 hdpgp-group set
	run -64 hdpgp-group set 'bad name'
	run -64 hdpgp-group set sales --sign maybe
	run -64 hdpgp-group set sales --address 'not an address'
	run -69 hdpgp-group delete sales
	run -69 hdpgp-group show sales
	run -69 hdpgp-group check sales
	[ ! -e "$HDPGP_HOME" ]
}

@test "group: changes are logged (group-set, group-delete)" {
	hdpgp-group set sales --address alice@example.com --encrypt off
	run -0 last_log group-set
	jq -e '.result == "success" and .group == "sales" and .direction == "-"' <<<"$output"
	jq -e '.comment | fromjson == {"address": "alice@example.com",
	    "sign": true, "encrypt": false, "self": false}' <<<"$output"
	hdpgp-group delete sales
	run -0 last_log group-delete
	jq -e '.result == "success" and .group == "sales"' <<<"$output"
	# a refused change is no change and leaves no record of one
	run -64 hdpgp-group set 'bad name'
	run -0 hdpgp-log -j -n 100
	assert_equal "$(jq -s '[.[] | select(.action == "group-set")] | length' <<<"$output")" 1
}

# --- check ---

@test "check: no such group (69), nothing on stdout" {
	drafts
	run -69 --separate-stderr hdpgp-group check sales
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: group sales: no such group"
	run -69 --separate-stderr hdpgp-group -j check sales "$HD/msg"
	assert_output ""
}

@test "check: a group without an address cannot sign" {
	keys_in
	drafts
	hdpgp-group set sales
	run -0 --separate-stderr hdpgp-group check sales "$HD/msg"
	assert_equal "$stderr" ""
	assert_output 'sign    possible=no default=on active=no reason="group sales has no sending address"
encrypt possible=yes default=on active=yes'
	run -0 --separate-stderr hdpgp-group -j check sales "$HD/msg"
	jq -e '. == {"group": "sales", "address": null,
	    "sign": {"possible": false, "default": true, "active": false,
	        "reason": "group sales has no sending address"},
	    "encrypt": {"possible": true, "default": true, "active": true,
	        "reason": null}}' <<<"$output"
}

@test "check: no private key for the address, only its public key" {
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	hdpgp-group set sales --address alice@example.com
	run -0 --separate-stderr hdpgp-group check sales
	assert_line --index 0 'sign    possible=no default=on active=no reason="no private key for alice@example.com"'
	run -0 --separate-stderr hdpgp-group -j check sales
	jq -e '.sign == {"possible": false, "default": true, "active": false,
	    "reason": "no private key for alice@example.com"}' <<<"$output"
	# no key at all says the same
	hdpgp-group set sales --address nobody@example.com
	run -0 --separate-stderr hdpgp-group check sales
	assert_line --index 0 'sign    possible=no default=on active=no reason="no private key for nobody@example.com"'
}

@test "check: an expired key" {
	hdpgp-key --passphrase-file "$HD/expired.pass" import "$KEYS/expired.sec.asc" >/dev/null 2>&1
	hdpgp-group set sales --address expired@example.org
	run -0 --separate-stderr hdpgp-group check sales
	assert_line --index 0 'sign    possible=no default=on active=no reason="the key for expired@example.org expired on 2021-01-01"'
	run -0 --separate-stderr hdpgp-group -j check sales
	jq -e '.sign.possible == false and .sign.active == false and
	    .sign.reason == "the key for expired@example.org expired on 2021-01-01"' <<<"$output"
}

@test "check: a revoked key" {
	hdpgp-key --passphrase-file "$HD/revoked.pass" import "$KEYS/revoked.sec.asc" >/dev/null 2>&1
	hdpgp-group set sales --address revoked@example.org
	run -0 --separate-stderr hdpgp-group check sales
	assert_line --index 0 'sign    possible=no default=on active=no reason="the key for revoked@example.org is revoked"'
	# and as a recipient
	mkmail plain | sed 's/^To: .*/To: revoked@example.org/' >"$HD/rev"
	run -0 --separate-stderr hdpgp-group check sales "$HD/rev"
	assert_line --index 1 'encrypt possible=no default=on active=no reason="the key for revoked@example.org is revoked"'
}

@test "check, apply: no stored passphrase" {
	keys_in
	drafts
	tdbtool "$HDPGP_HOME/state.tdb" delete "pass:$ALICE_FPR"
	hdpgp-group set sales --address alice@example.com
	run -0 --separate-stderr hdpgp-group check sales "$HD/nokey"
	assert_line --index 0 'sign    possible=no default=on active=no reason="no passphrase stored for the key of alice@example.com"'
	# apply does what check said: nothing, here
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales "$HD/nokey"
	cmp "$HD/out" "$HD/nokey"
	run -69 --separate-stderr hdpgp-group apply sales --sign "$HD/nokey"
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: cannot sign: no passphrase stored for the key of alice@example.com"
}

@test "check, apply: an unprotected key needs no passphrase" {
	hdpgp-key import "$KEYS/plain.sec.asc" >/dev/null 2>&1
	sgpg --import "$KEYS/plain.sec.asc" 2>/dev/null
	hdpgp-group set sales --address plain@example.com --encrypt off
	mkmail plain >"$HD/msg"
	run -0 --separate-stderr hdpgp-group check sales "$HD/msg"
	assert_line --index 0 'sign    possible=yes default=on active=yes'
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales "$HD/msg"
	run -0 mimecheck signed "$HD/out" "$HD/v"
	run -0 sgpg --status-fd 1 --verify "$HD/v/sig.asc" "$HD/v/part1.crlf"
	assert_line --regexp "^\[GNUPG:\] VALIDSIG $PLAIN_FPR "
}

@test "check: without a draft the recipients are not known" {
	keys_in
	hdpgp-group set sales --address alice@example.com --encrypt off
	run -0 --separate-stderr hdpgp-group check sales
	assert_equal "$stderr" ""
	assert_output 'sign    possible=yes default=on active=yes
encrypt possible=- default=off active=no reason="no draft: the recipients are not known"'
	run -0 --separate-stderr hdpgp-group -j check sales
	jq -e '. == {"group": "sales", "address": "alice@example.com",
	    "sign": {"possible": true, "default": true, "active": true,
	        "reason": null},
	    "encrypt": {"possible": null, "default": false, "active": false,
	        "reason": null}}' <<<"$output"
}

@test "check: a recipient without a key" {
	keys_in
	drafts
	hdpgp-group set sales --address alice@example.com
	run -0 --separate-stderr hdpgp-group check sales "$HD/nokey"
	assert_output 'sign    possible=yes default=on active=yes
encrypt possible=no default=on active=no reason="no public key for nokey@example.org"'
	run -0 --separate-stderr hdpgp-group -j check sales "$HD/nokey"
	jq -e '.encrypt == {"possible": false, "default": true, "active": false,
	    "reason": "no public key for nokey@example.org"}' <<<"$output"
	# the draft on stdin is the same
	run -0 --separate-stderr hdpgp-group check sales - <"$HD/nokey"
	assert_line --index 1 'encrypt possible=no default=on active=no reason="no public key for nokey@example.org"'
}

@test "check: every missing recipient in To, Cc and Bcc is named" {
	keys_in
	hdpgp-key --passphrase-file "$HD/expired.pass" import "$KEYS/expired.sec.asc" >/dev/null 2>&1
	hdpgp-group set sales --address alice@example.com
	mkmail plain | sed 's/^To: .*/To: Bob <bob@example.org>, x@example.net\nCc: expired@example.org\nBcc: y@example.com/' >"$HD/msg"
	run -0 --separate-stderr hdpgp-group check sales "$HD/msg"
	assert_line --index 1 'encrypt possible=no default=on active=no reason="no public key for x@example.net; the key for expired@example.org expired on 2021-01-01; no public key for y@example.com"'
	run -0 --separate-stderr hdpgp-group -j check sales "$HD/msg"
	jq -e '.encrypt.possible == false and (.encrypt.reason | split("; ") | length == 3)' <<<"$output"
}

@test "check: a draft without recipients cannot be encrypted" {
	keys_in
	hdpgp-group set sales --address alice@example.com
	mkmail plain | sed '/^To: /d' >"$HD/msg"
	run -0 --separate-stderr hdpgp-group check sales "$HD/msg"
	assert_line --index 1 'encrypt possible=no default=on active=no reason="the draft has no recipients"'
}

@test "check: --self needs the group's own public key too" {
	keys_in
	drafts
	hdpgp-group set sales --address carol@example.net --self off
	run -0 --separate-stderr hdpgp-group check sales "$HD/msg"
	assert_output 'sign    possible=no default=on active=no reason="no private key for carol@example.net"
encrypt possible=yes default=on active=yes'
	hdpgp-group set sales --self on
	run -0 --separate-stderr hdpgp-group check sales "$HD/msg"
	assert_output 'sign    possible=no default=on active=no reason="no private key for carol@example.net"
encrypt possible=no default=on active=no reason="no public key for carol@example.net"'
	hdpgp-group set sales --address alice@example.com
	run -0 --separate-stderr hdpgp-group check sales "$HD/msg"
	assert_output 'sign    possible=yes default=on active=yes
encrypt possible=yes default=on active=yes'
}

@test "check, apply: --self in a group without an address: apply does what check says" {
	keys_in
	drafts
	hdpgp-group set sales --self on --sign off
	run -0 --separate-stderr hdpgp-group -j check sales "$HD/msg"
	local active
	active=$(jq -r .encrypt.active <<<"$output")
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales "$HD/msg"
	if [ "$active" = true ]; then
		is_encrypted "$HD/msg" "$HD/out" unsigned
	else
		cmp "$HD/out" "$HD/msg"
	fi
}

@test "check: a group default off is not active, though possible" {
	keys_in
	drafts
	hdpgp-group set sales --address alice@example.com --sign off --encrypt off
	run -0 --separate-stderr hdpgp-group check sales "$HD/msg"
	assert_output 'sign    possible=yes default=off active=no
encrypt possible=yes default=off active=no'
}

@test "check: a draft that is not a mail (65), a missing draft (66)" {
	hdpgp-group set sales
	printf 'garbage' >"$HD/junk"
	run -65 --separate-stderr hdpgp-group check sales "$HD/junk"
	assert_output ""
	run -66 --separate-stderr hdpgp-group check sales "$HD/nonexistent"
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: $HD/nonexistent: No such file or directory"
}

# --- apply ---

@test "apply: with no override, each action runs when active by default" {
	keys_in
	drafts
	local sp sd ep ed draft out sa ea
	for sp in yes no; do
	for sd in on off; do
	for ep in yes no; do
	for ed in on off; do
		# sign possible: the group's address has a key; encrypt
		# possible: the customer has one
		if [ $sp = yes ]; then
			hdpgp-group set sales --address alice@example.com --sign $sd --encrypt $ed
		else
			hdpgp-group set sales --address '' --sign $sd --encrypt $ed
		fi
		[ $ep = yes ] && draft=$HD/msg || draft=$HD/nokey
		sa=no ea=no
		[ $sp = yes ] && [ $sd = on ] && sa=yes
		[ $ep = yes ] && [ $ed = on ] && ea=yes
		echo "# sign possible=$sp default=$sd, encrypt possible=$ep default=$ed" >&3
		run -0 --separate-stderr hdpgp-group check sales "$draft"
		assert_line --index 0 --partial "sign    possible=$sp default=$sd active=$sa"
		assert_line --index 1 --partial "encrypt possible=$ep default=$ed active=$ea"
		out=$HD/out.$sp$sd$ep$ed
		run -0 --separate-stderr stdout_to "$out" hdpgp-group apply sales <"$draft"
		assert_equal "$stderr" ""
		case $sa$ea in
		yesyes) is_encrypted "$draft" "$out" signed ;;
		noyes) is_encrypted "$draft" "$out" unsigned ;;
		yesno) is_signed "$draft" "$out" ;;
		nono) cmp "$out" "$draft" ;;
		esac
	done
	done
	done
	done
}

@test "apply: neither action leaves the draft byte for byte, CRLF too" {
	hdpgp-group set sales --sign off --encrypt off
	mkmail mixed | crlf >"$HD/msg"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales "$HD/msg"
	assert_equal "$stderr" ""
	cmp "$HD/out" "$HD/msg"
}

@test "apply: --sign and --encrypt switch on what the group has off" {
	keys_in
	drafts
	hdpgp-group set sales --address alice@example.com --sign off --encrypt off
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales --sign "$HD/msg"
	is_signed "$HD/msg" "$HD/out"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales --encrypt "$HD/msg"
	is_encrypted "$HD/msg" "$HD/out" unsigned
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales --sign --encrypt <"$HD/msg"
	is_encrypted "$HD/msg" "$HD/out" signed
	assert_equal "$(enc_keyids "$HD/enc.asc")" "${BOB_SUB_FPR: -16}"
}

@test "apply: --no-sign and --no-encrypt switch off what the group has on" {
	keys_in
	drafts
	hdpgp-group set sales --address alice@example.com
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales --no-sign "$HD/msg"
	is_encrypted "$HD/msg" "$HD/out" unsigned
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales --no-encrypt "$HD/msg"
	is_signed "$HD/msg" "$HD/out"
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales --no-sign --no-encrypt "$HD/msg"
	cmp "$HD/out" "$HD/msg"
	# --no-sign and --no-encrypt never fail for want of a key
	hdpgp-group set sales --address ''
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales --no-sign --no-encrypt "$HD/nokey"
	cmp "$HD/out" "$HD/nokey"
}

@test "apply: with --self the group's own key is a recipient too" {
	keys_in
	drafts
	hdpgp-group set sales --address alice@example.com --self on
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales "$HD/msg"
	decrypt "$HD/out"
	run -0 enc_keyids "$HD/enc.asc"
	assert_output "$(printf '%s\n' "${ALICE_SUB_FPR: -16}" "${BOB_SUB_FPR: -16}" | sort)"
}

@test "apply: an explicit --sign that cannot be honoured fails closed (69)" {
	keys_in
	drafts
	hdpgp-group set sales
	run -69 --separate-stderr hdpgp-group apply sales --sign "$HD/msg"
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: cannot sign: group sales has no sending address"
	hdpgp-key --passphrase-file "$HD/expired.pass" import "$KEYS/expired.sec.asc" >/dev/null 2>&1
	hdpgp-group set sales --address expired@example.org
	run -69 --separate-stderr hdpgp-group apply sales --sign --no-encrypt "$HD/msg"
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: cannot sign: the key for expired@example.org expired on 2021-01-01"
	# even where encryption alone would go out
	run -69 --separate-stderr hdpgp-group apply sales --sign --encrypt "$HD/msg"
	assert_output ""
}

@test "apply: an explicit --encrypt that cannot be honoured fails closed (69)" {
	keys_in
	drafts
	hdpgp-group set sales --address alice@example.com
	run -69 --separate-stderr hdpgp-group apply sales --encrypt "$HD/nokey"
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: cannot encrypt: no public key for nokey@example.org"
	run -69 --separate-stderr hdpgp-group apply sales --encrypt --no-sign "$HD/nokey"
	assert_output ""
	# with several missing, all are named
	mkmail plain | sed 's/^To: .*/To: x@example.net, bob@example.org\nCc: y@example.net/' >"$HD/two"
	run -69 --separate-stderr hdpgp-group apply sales --encrypt "$HD/two"
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: cannot encrypt: no public key for x@example.net; no public key for y@example.net"
	# without --encrypt the reply goes out signed, as the composer shows
	run -0 --separate-stderr stdout_to "$HD/out" hdpgp-group apply sales "$HD/two"
	is_signed "$HD/two" "$HD/out"
}

@test "apply: no such group (69), a draft that is not a mail (65)" {
	drafts
	run -69 --separate-stderr hdpgp-group apply sales "$HD/msg"
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: group sales: no such group"
	hdpgp-group set sales --sign off --encrypt off
	printf 'garbage' >"$HD/junk"
	run -65 --separate-stderr hdpgp-group apply sales <"$HD/junk"
	assert_output ""
}

@test "apply: the decision and its reasons are logged" {
	keys_in
	drafts
	hdpgp-group set sales --address alice@example.com
	hdpgp-group apply sales "$HD/nokey" >/dev/null
	run -0 last_log group-apply
	jq -e '.result == "success" and .group == "sales"' <<<"$output"
	jq -e '.comment | test("sign yes \\(default\\)") and
	    test("encrypt no \\(default: no public key for nokey@example.org\\)")' <<<"$output"
	hdpgp-group apply sales --no-sign "$HD/msg" >/dev/null
	run -0 last_log group-apply
	jq -e '.result == "success" and
	    (.comment | test("sign no \\(asked\\)") and
	        test("encrypt yes \\(default\\)"))' <<<"$output"
	run -69 hdpgp-group apply sales --encrypt "$HD/nokey"
	run -0 last_log group-apply
	jq -e '.result == "failed" and .group == "sales" and
	    (.comment | test("cannot encrypt: no public key for nokey@example.org"))' <<<"$output"
	# the refusal names the draft, as hdpgp-encrypt's own does (issue 10)
	jq -e '.direction == "out" and .message_id == "utf8.42@helpdesk.example.com"
	    and .from == "alice@example.com" and .to == "nokey@example.org"' <<<"$output"
	run -0 hdpgp-log --failed --message-id utf8.42@helpdesk.example.com
	assert_line --regexp " out group-apply +failed +<utf8.42@helpdesk.example.com> "
	assert_line --partial "alice@example.com -> nokey@example.org"
	run -69 hdpgp-encrypt -g sales "$HD/nokey"
	run -0 hdpgp-log -j --failed --message-id utf8.42@helpdesk.example.com
	assert_equal "$(jq -s 'map([.message_id, .from, .to]) | unique | length' <<<"$output")" 1
	run -69 hdpgp-group apply nosuch "$HD/msg"
	run -0 last_log group-apply
	jq -e '.result == "failed" and .group == "nosuch" and
	    (.comment | test("no such group"))' <<<"$output"
}

# --- examples/outgoing.sh ---

# A fake sendmail: the message to $HD/sent, one argument a line to $HD/argv.
fake_sendmail() {
	export TMPDIR=$HD/tmp
	mkdir -p "$TMPDIR"
	cat >"$HD/sendmail" <<-EOF
	#!/bin/sh
	printf '%s\n' "\$@" >"$HD/argv"
	cat >"$HD/sent"
	EOF
	chmod +x "$HD/sendmail"
	export SENDMAIL="$HD/sendmail -t -oi"
}

@test "outgoing.sh: a customer with a key gets it encrypted and signed" {
	keys_in
	drafts
	fake_sendmail
	hdpgp-group set sales --address alice@example.com
	run -0 --separate-stderr "$HDPGP_SRCDIR/examples/outgoing.sh" sales <"$HD/msg"
	assert_output ""
	assert_equal "$stderr" ""
	run -0 cat "$HD/argv"
	assert_output $'-t\n-oi'
	is_encrypted "$HD/msg" "$HD/sent" signed
	run -0 ls -A "$TMPDIR"
	assert_output ""
}

@test "outgoing.sh: a customer without a key gets it signed, as the composer shows" {
	keys_in
	drafts
	fake_sendmail
	hdpgp-group set sales --address alice@example.com
	run -0 --separate-stderr hdpgp-group check sales "$HD/nokey"
	assert_line --index 0 'sign    possible=yes default=on active=yes'
	assert_line --index 1 --partial 'encrypt possible=no default=on active=no'
	run -0 --separate-stderr "$HDPGP_SRCDIR/examples/outgoing.sh" sales "$HD/nokey"
	assert_output ""
	assert_equal "$stderr" ""
	is_signed "$HD/nokey" "$HD/sent"
}

@test "outgoing.sh: --encrypt for a customer without a key: exit 69, nothing sent" {
	keys_in
	drafts
	fake_sendmail
	hdpgp-group set sales --address alice@example.com
	run -69 --separate-stderr "$HDPGP_SRCDIR/examples/outgoing.sh" sales --encrypt <"$HD/nokey"
	assert_output ""
	assert_equal "$stderr" "hdpgp-group: cannot encrypt: no public key for nokey@example.org"
	[ ! -e "$HD/argv" ]
	[ ! -e "$HD/sent" ]
	run -0 ls -A "$TMPDIR"
	assert_output ""
	# and without a group
	run -64 --separate-stderr "$HDPGP_SRCDIR/examples/outgoing.sh" </dev/null
	[ ! -e "$HD/argv" ]
}
