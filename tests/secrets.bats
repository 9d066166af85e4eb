#!/usr/bin/env bats
# Secrets and the state directory (issue 10, items 6 to 11): no core
# files, no scratch homes left behind, Bcc recipients hidden, a private
# state file, exit statuses from the table, error texts that name every
# problem.

bats_require_minimum_version 1.5.0
load helpers

hd_keys_fixture

setup() {
	hd_setup
	MNT=
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || :
	done
	for p in "$HDPGP_HOME"/scratch.*; do
		[ -d "$p" ] && gpgconf --homedir "$p" --kill gpg-agent 2>/dev/null
	done
	[ -n "${CAROL:-}" ] && gpgconf --homedir "$CAROL" --kill gpg-agent 2>/dev/null
	if [ -n "$MNT" ]; then
		# the agent takes a moment to let go of the file system
		gpgconf --homedir "$MNT/s/gnupg" --kill gpg-agent 2>/dev/null
		for p in 1 2 3 4 5 6 7 8 9 10; do
			umount "$MNT" 2>/dev/null && break
			sleep 0.5
		done
		rmdir "$MNT" 2>/dev/null || :
	fi
	hd_teardown
}

# --- 6: no secrets in core files ---

# A process's stamp as hdpgp names scratch homes: boot ID and start time.
stamp() {
	local f
	f=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20)
	printf '%.8s-%s\n' "$(cat /proc/sys/kernel/random/boot_id)" "$f"
}

# Wait (up to 10 s) until command $@ succeeds.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

blocked_in_read() {
	# the tool itself (after exec), waiting with its core limit at 0
	[ "$(readlink "/proc/$1/exe")" != "$(readlink -f "$(command -v bash)")" ] &&
	    grep -Eqs '^Max core file size +0 +0 ' "/proc/$1/limits" &&
	    [ "$(awk '{ print $3 }' "/proc/$1/stat")" = S ]
}

# Kernel cores land in the crashing process's directory as core[.PID]:
# check that a plain program does dump there, or skip.
cores_possible() {
	local pat pid
	pat=$(cat /proc/sys/kernel/core_pattern)
	case $pat in
	'|'* | /*) skip "core_pattern is '$pat': cores do not land in the cwd" ;;
	esac
	mkdir -p "$HD/ctl"
	(cd "$HD/ctl" && ulimit -c unlimited && exec sleep 60) &
	pid=$!
	sleep 0.3
	kill -SEGV "$pid"
	wait "$pid" || :
	compgen -G "$HD/ctl/core*" >/dev/null || skip "no core dumps here"
}

# crash_tool NAME ARGS...: start an hdpgp tool with unlimited cores, its
# stdin a FIFO nobody writes; once it waits there, SIGSEGV and SIGABRT
# (one run each); no core file may appear.
crash_tool() {
	local sig pid
	for sig in SEGV ABRT; do
		rm -rf "$HD/c" "$HD/fifo"
		mkdir "$HD/c"
		mkfifo "$HD/fifo"
		exec 7<>"$HD/fifo"
		(cd "$HD/c" && ulimit -c unlimited && exec "$@" <"$HD/fifo" >/dev/null 2>&1) &
		pid=$!
		PIDS+=("$pid")
		wait_for blocked_in_read "$pid"
		kill -"$sig" "$pid"
		wait "$pid" || :
		exec 7>&-
		run -1 compgen -G "$HD/c/*"
	done
}

@test "6: no tool leaves a core, whatever signal kills it while it reads" {
	cores_possible
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-key --passphrase-file "$HD/bob.pass" import "$KEYS/bob.sec.asc" >/dev/null
	hdpgp-group set sales --address alice@example.com --sign on >/dev/null
	crash_tool hdpgp-key --passphrase-file "$HD/alice.pass" import
	crash_tool hdpgp-sign
	crash_tool hdpgp-encrypt -s
	crash_tool hdpgp-verify
	crash_tool hdpgp-decrypt
	crash_tool hdpgp-group apply sales
	crash_tool hdpgp-key --passphrase-fd 0 passwd alice@example.com
}

@test "6: a tool is not dumpable: its /proc entries are root's, not its user's" {
	command -v setpriv >/dev/null || skip "no setpriv"
	[ "$(id -u)" = 0 ] || skip "needs root to run as another user"
	local pid tool
	mkfifo "$HD/fifo"
	exec 7<>"$HD/fifo"
	chmod 755 "$HD"
	mkdir -m 700 "$HD/nobody"
	chown 65534:65534 "$HD/nobody"
	for tool in hdpgp-sign hdpgp-decrypt hdpgp-key; do
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		    env HDPGP_HOME="$HD/nobody" "$HDPGP_BIN/$tool" \
		    $([ $tool = hdpgp-key ] && echo import) <"$HD/fifo" >/dev/null 2>&1 &
		pid=$!
		PIDS+=("$pid")
		wait_for blocked_in_read "$pid"
		run -0 stat -c %u "/proc/$pid/environ" "/proc/$pid/mem"
		assert_output $'0\n0'
		kill -9 "$pid"
	done
	# the control: a program that did not ask is its user's
	setpriv --reuid=65534 --regid=65534 --clear-groups cat <"$HD/fifo" >/dev/null &
	pid=$!
	PIDS+=("$pid")
	sleep 0.3
	run -0 stat -c %u "/proc/$pid/environ" "/proc/$pid/mem"
	assert_output $'65534\n65534'
}

@test "6: every main() turns core dumps off first" {
	local f
	for f in "$HDPGP_SRCDIR"/bin/hdpgp-*.c; do
		grep -q '^main(' "$f" || continue
		# the first statement after the declarations
		run -0 awk '/^main\(/ { m = 1; next }
			m && /^$/ { getline; getline; print; exit }' "$f"
		assert_output --partial "hd_secure_init()"
	done
}

# --- 7: no secret files left behind ---

scratch_homes() {
	compgen -G "$HDPGP_HOME/scratch.*"
}

agent_of() {
	pgrep -f "gpg-agent --homedir $1" >/dev/null
}

@test "7: a secret-key import killed with -9 leaves a scratch home that the next command removes" {
	local pid home
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	mkfifo "$HD/pass"
	exec 7<>"$HD/pass"
	hdpgp-key --passphrase-fd 8 import "$KEYS/alice.sec.asc" 8<"$HD/pass" >/dev/null 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_for scratch_homes
	home=$(scratch_homes)
	# its name says who made it
	[[ $home == "$HDPGP_HOME/scratch.$pid.$(stamp "$pid")."?????? ]]
	wait_for agent_of "$home"
	run -0 compgen -G "$home/private-keys-v1.d/*.key"
	# a live one is not touched
	run -0 hdpgp-key list
	[ -d "$home" ]
	run -0 agent_of "$home"
	kill -9 "$pid"
	wait "$pid" || :
	exec 7>&-
	[ -d "$home" ]
	run -0 hdpgp-key list
	[ ! -e "$home" ]
	run -1 agent_of "$home"
	run -1 scratch_homes
	# and the key never reached the store
	run -0 hdpgp-key list -j
	assert_output --partial "$BOB_FPR"
	refute_output --partial "$ALICE_FPR"
}

@test "7: stale scratch homes go whichever command opens the state; live and foreign ones stay" {
	local pid
	hdpgp-key import "$KEYS/bob.pub.asc" >/dev/null
	sleep 60 &
	pid=$!
	PIDS+=("$pid")
	# gone: a pid no process has; a reused pid (right pid, wrong start)
	mkdir -m 700 "$HDPGP_HOME/scratch.4194999.$(stamp $$).aaaaaa" \
	    "$HDPGP_HOME/scratch.$pid.$(stamp $$).bbbbbb" \
	    "$HDPGP_HOME/scratch.$pid.00000000-$(stamp "$pid" | cut -d- -f2).cccccc"
	touch "$HDPGP_HOME/scratch.4194999.$(stamp $$).aaaaaa/secret"
	# an older hdpgp's, two hours old
	mkdir -m 700 "$HDPGP_HOME/scratch.dddddd"
	touch -d '2 hours ago' "$HDPGP_HOME/scratch.dddddd"
	# kept: a live process's; an older hdpgp's that may be in use; not
	# a directory; a symbolic link (never followed)
	mkdir -m 700 "$HDPGP_HOME/scratch.$pid.$(stamp "$pid").eeeeee" \
	    "$HDPGP_HOME/scratch.ffffff" "$HD/elsewhere"
	touch "$HD/elsewhere/keep" "$HDPGP_HOME/scratch.1.x.file"
	ln -s "$HD/elsewhere" "$HDPGP_HOME/scratch.4194998.$(stamp $$).gggggg"
	run -0 hdpgp-log -n 1
	run -0 bash -c "cd '$HDPGP_HOME' && ls -d scratch.* | sed 's/\.[^.]*$//; s/^scratch\.[0-9]*\..*-[0-9]*$/scratch.PID.STAMP/' | sort"
	assert_output "$(printf '%s\n' scratch.1.x scratch.PID.STAMP scratch scratch.PID.STAMP | sort)"
	[ -d "$HDPGP_HOME/scratch.$pid.$(stamp "$pid").eeeeee" ]
	[ -f "$HD/elsewhere/keep" ]
}

# --- 8: Bcc stays hidden ---

# Imported once for the file (helpers.bash: fixtures).
import_keys() {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-key import "$KEYS/bob.pub.asc" "$KEYS/carol.pub.asc" >/dev/null
	sgpg --passphrase-file "$HD/bob.pass" --import "$KEYS/bob.sec.asc" 2>/dev/null
	sgpg --import "$KEYS/alice.pub.asc" 2>/dev/null
	# carol reads in a home of her own
	mkdir -m 700 "$HD/carol"
	gpg --homedir "$HD/carol" --batch --pinentry-mode loopback \
	    --passphrase-file "$HD/carol.pass" --import "$KEYS/carol.sec.asc" \
	    "$KEYS/alice.pub.asc" 2>/dev/null
}

keys_in() {
	hd_restore keys
	CAROL=$HD/carol
}

cgpg() {
	gpg --homedir "$CAROL" --batch --no-tty --pinentry-mode loopback \
	    --passphrase-file "$HD/carol.pass" "$@"
}

# The key IDs of the ciphertext in $1 as bob sees them, 0000... for hidden.
as_bob() {
	rm -f "$HD/enc.asc"
	mimecheck encrypted "$1" "$HD/enc.asc" >/dev/null
	enc_keyids "$HD/enc.asc"
}

@test "8: a Bcc recipient is a hidden recipient; carol still decrypts" {
	keys_in
	local sign
	for sign in "" -s; do
		mkmail utf8 | sed 's/^Subject: /Bcc: Carol <carol@example.net>\nSubject: /' >"$HD/msg"
		run -0 stdout_to "$HD/out" hdpgp-encrypt $sign "$HD/msg"
		run -0 as_bob "$HD/out"
		assert_output "$(printf '%s\n' 0000000000000000 "${BOB_SUB_FPR: -16}" | sort)"
		refute_output --partial "${CAROL_SUB_FPR: -16}"
		refute_output --partial "${CAROL_FPR: -16}"
		# bob decrypts and learns nothing of carol
		run -0 --separate-stderr sgpg --passphrase-file "$HD/bob.pass" --status-fd 1 -o /dev/null --decrypt "$HD/enc.asc"
		refute_output --partial "${CAROL_SUB_FPR: -16}"
		rm -f "$HD/carol.dec"
		run -0 cgpg --decrypt -o "$HD/carol.dec" "$HD/enc.asc"
		run -0 mimecheck leaves "$HD/carol.dec"
		assert_output "$(mimecheck leaves "$HD/msg")"
	done
	# the log, which is the helpdesk's, still names her
	run -0 hdpgp-log -n 1 -j
	assert_output --partial '"to":"bob@example.org,carol@example.net"'
}

@test "8: an address in To or Cc as well, -r and --self are not hidden" {
	keys_in
	mkmail utf8 | sed -e 's/^To: .*/To: bob@example.org\nCc: CAROL <carol@EXAMPLE.net>/' \
	    -e 's/^Subject: /Bcc: carol@example.net, Bob <bob@example.org>\nSubject: /' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt "$HD/msg"
	run -0 as_bob "$HD/out"
	assert_output "$(printf '%s\n' "${BOB_SUB_FPR: -16}" "${CAROL_SUB_FPR: -16}" | sort)"
	mkmail utf8 | sed 's/^Subject: /Bcc: carol@example.net\nSubject: /' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-encrypt --self -r carol@example.net "$HD/msg"
	run -0 as_bob "$HD/out"
	assert_output "$(printf '%s\n' "${ALICE_SUB_FPR: -16}" "${BOB_SUB_FPR: -16}" "${CAROL_SUB_FPR: -16}" | sort)"
}

@test "8: hdpgp-group apply hides Bcc too, and hdpgp-decrypt finds its key" {
	keys_in
	hdpgp-group set sales --address alice@example.com --encrypt on >/dev/null
	mkmail plain | sed 's/^Subject: /Bcc: carol@example.net\nSubject: /' >"$HD/msg"
	run -0 stdout_to "$HD/out" hdpgp-group apply sales --encrypt <"$HD/msg"
	run -0 as_bob "$HD/out"
	assert_output "$(printf '%s\n' 0000000000000000 "${BOB_SUB_FPR: -16}" | sort)"
	# carol's own hdpgp store opens it
	HDPGP_HOME=$HD/cs hdpgp-key --passphrase-file "$HD/carol.pass" import "$KEYS/carol.sec.asc" >/dev/null
	run -0 env HDPGP_HOME="$HD/cs" hdpgp-decrypt -c "$HD/out"
	gpgconf --homedir "$HD/cs/gnupg" --kill gpg-agent
}

# --- 9: the state file is private ---

@test "9: a state file others can read is refused, with the fix" {
	local mode
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	for mode in 640 604 644 400; do
		chmod "$mode" "$HDPGP_HOME/state.tdb"
		if [ "$mode" = 400 ]; then
			run -0 hdpgp-key list
			continue
		fi
		run -78 hdpgp-key list
		assert_output "hdpgp-key: $HDPGP_HOME/state.tdb: readable by other users (chmod 600 $HDPGP_HOME/state.tdb)"
		run -78 hdpgp-sign </dev/null
	done
	chmod 620 "$HDPGP_HOME/state.tdb"
	run -78 hdpgp-key list
	assert_output "hdpgp-key: $HDPGP_HOME/state.tdb: writable by other users (chmod go-w $HDPGP_HOME/state.tdb)"
}

@test "9: a symbolic link in place of state.tdb is refused, dangling or not" {
	mkdir -m 700 "$HDPGP_HOME"
	ln -s "$HD/elsewhere.tdb" "$HDPGP_HOME/state.tdb"
	run -78 hdpgp-key import "$KEYS/alice.pub.asc"
	assert_output "hdpgp-key: $HDPGP_HOME/state.tdb: a symbolic link, not a regular file"
	run -78 hdpgp-key list
	run -78 hdpgp-log
	[ ! -e "$HD/elsewhere.tdb" ]
	hdpgp-key -d "$HD/real" import "$KEYS/alice.pub.asc" >/dev/null
	ln -sf "$HD/real/state.tdb" "$HDPGP_HOME/state.tdb"
	run -78 hdpgp-key list
}

@test "9: a state directory in a world-writable directory without the sticky bit is refused" {
	mkdir -m 777 "$HD/pub"
	chmod 777 "$HD/pub"
	run -78 hdpgp-key -d "$HD/pub/s" import "$KEYS/alice.pub.asc"
	assert_output "hdpgp-key: $HD/pub/s: in $HD/pub, which anyone may write to (chmod o-w,+t $HD/pub, or move it)"
	[ ! -e "$HD/pub/s" ]
	chmod 1777 "$HD/pub"
	run -0 hdpgp-key -d "$HD/pub/s" import "$KEYS/alice.pub.asc"
	chmod 777 "$HD/pub"
	run -78 hdpgp-key -d "$HD/pub/s" list
	chmod 775 "$HD/pub"
	run -0 hdpgp-key -d "$HD/pub/s" list
}

# --- 10: exit statuses tell the truth ---

in_table() {
	case $1 in
	0 | 1 | 2 | 3 | 64 | 65 | 66 | 69 | 70 | 74 | 75 | 78) return 0 ;;
	esac
	echo "status $1 is not in hdpgp(7)'s table" >&2
	return 1
}

@test "10: a truncated state file: 74, never 255" {
	local size st seen=0
	hdpgp-key import "$KEYS"/*.pub.asc >/dev/null 2>&1 || :
	hdpgp-key delete "$CAROL_FPR" >/dev/null
	hdpgp-key import "$KEYS/carol.pub.asc" >/dev/null
	cp "$HDPGP_HOME/state.tdb" "$HD/full.tdb"
	for size in 41000 48000 56000 70000 100000 150000; do
		cp "$HD/full.tdb" "$HDPGP_HOME/state.tdb"
		truncate -s "$size" "$HDPGP_HOME/state.tdb"
		run hdpgp-key import "$KEYS/carol.pub.asc" "$KEYS/bob.pub.asc"
		st=$status
		in_table "$st"
		[ "$st" = 0 ] || [ "$st" = 74 ]
		if [ "$st" = 74 ]; then
			seen=$((seen + 1))
			assert_output --regexp "state: cannot store key|damaged or truncated"
		fi
		run hdpgp-key delete "$ALICE_FPR"
		in_table "$status"
		run hdpgp-group set x --sign on
		in_table "$status"
	done
	[ "$seen" -gt 0 ]
}

# A small file system for the state: skipped where nothing can be mounted.
small_fs() {
	MNT=$(mktemp -d /tmp/hdpgp.XXXXXX)
	mount -t tmpfs -o size=4m,mode=700 tmpfs "$MNT" 2>/dev/null ||
	    { rmdir "$MNT"; MNT=; skip "cannot mount a tmpfs"; }
	export HDPGP_HOME=$MNT/s
}

fill_fs() {
	dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || :
}

@test "10: an import on a full file system is an I/O error, 74, not the key's fault" {
	small_fs
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	fill_fs
	run -74 hdpgp-key import "$KEYS/bob.pub.asc"
	assert_output "hdpgp-key: $KEYS/bob.pub.asc: $HDPGP_HOME/gnupg: keys cannot be written: No space left on device"
	run -74 hdpgp-key --passphrase-file "$HD/carol.pass" import "$KEYS/carol.sec.asc"
	assert_output --partial "keys cannot be written: No space left on device"
	run -1 scratch_homes
	# data without keys is still the data's fault
	rm "$MNT/fill"
	run -65 hdpgp-key import "$KEYS/README"
	# and with room again, the import works
	run -0 hdpgp-key import "$KEYS/bob.pub.asc"
}

@test "10: the code exits only with statuses from the table" {
	# sysexits names the code may use; no number outside the table
	run -0 bash -c "cat '$HDPGP_SRCDIR'/bin/*.c '$HDPGP_SRCDIR'/lib/*.c |
	    grep -oE 'EX_[A-Z]+' | sort -u"
	local name
	for name in $output; do
		case $name in
		EX_USAGE | EX_DATAERR | EX_NOINPUT | EX_UNAVAILABLE | EX_SOFTWARE | EX_IOERR | EX_TEMPFAIL | EX_CONFIG) ;;
		*) echo "$name is not in hdpgp(7)'s table" >&2; return 1 ;;
		esac
	done
	run -1 grep -nE '\b(exit|_exit|err|errx)\((-?[0-9]+,|[a-z_]+ *[-+])' "$HDPGP_SRCDIR"/bin/*.c "$HDPGP_SRCDIR"/lib/*.c
	run -1 grep -nE '\b(exit|err|errx)\(([2-9]|1[0-9]|-1),' "$HDPGP_SRCDIR"/bin/*.c "$HDPGP_SRCDIR"/lib/*.c
	# and the man pages list only the table
	run -1 grep -lE '^\.It (71|72|73|76|77) ' "$HDPGP_SRCDIR"/man/*
}

@test "10: failing paths of every tool exit with a table status" {
	local cmd
	hdpgp-key import "$KEYS/alice.pub.asc" >/dev/null
	while IFS= read -r cmd; do
		run bash -c "$cmd"
		in_table "$status" || { echo "$cmd" >&2; return 1; }
		[ "$status" != 0 ] || { echo "$cmd: succeeded" >&2; return 1; }
	done <<-EOF
	hdpgp-key --bogus
	hdpgp-key import /nonexistent
	hdpgp-key import </dev/null
	hdpgp-key show nobody@example.org
	hdpgp-key export --secret alice@example.com
	hdpgp-key delete 0000000000000000000000000000000000000000
	hdpgp-key generate 'not an address'
	hdpgp-key check --days x
	hdpgp-sign </dev/null
	hdpgp-sign -u nobody@example.org /nonexistent
	echo 'From: a@b' | hdpgp-sign
	echo 'To: x@y' | hdpgp-encrypt
	hdpgp-encrypt -o /nonexistent/dir /dev/null
	hdpgp-verify -c </dev/null
	hdpgp-decrypt -c /dev/null
	hdpgp-group show nosuch
	hdpgp-group set 'bad group' --sign maybe
	hdpgp-group apply nosuch </dev/null
	hdpgp-log -n x
	hdpgp-log prune
	EOF
}

# --- 11: every problem named ---

# A reply to N customers, none of whom has a key.
many() {
	local n=$1 i sep=
	{
		printf 'From: Alice Helpdesk <alice@example.com>\nTo: '
		for ((i = 1; i <= n; i++)); do
			printf '%scustomer-%05d@example.net' "$sep" "$i"
			sep=$',\n '
		done
		printf '\nSubject: to many\nMessage-ID: <many@example.com>\n\nHello\n'
	} >"$HD/many"
}

@test "11: 10,000 recipients without keys: each named on stderr, the log bounded with a count" {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	many 10000
	run -69 --separate-stderr hdpgp-encrypt "$HD/many"
	assert_equal "$output" ""
	run -0 grep -c '^hdpgp-encrypt: customer-[0-9]*@example.net: no public key$' <<<"$stderr"
	assert_output 10000
	run -0 grep -c '' <<<"$stderr"
	assert_output 10000
	run -0 grep -c 'customer-10000@example.net: no public key$' <<<"$stderr"
	# the log: one record, bounded, with the count of the rest
	run -0 hdpgp-log -n 1 -j
	local rec=$output named more
	[ "${#rec}" -lt 12000 ]
	named=$(jq -r .comment <<<"$rec" | grep -o 'customer-[0-9]*@example.net: no public key' | wc -l)
	more=$(jq -r .comment <<<"$rec" | sed -n 's/.*\.\.\. and \([0-9]*\) more$/\1/p')
	[ "$named" -gt 50 ]
	assert_equal "$((named + more))" 10000
	run -0 jq -r .to <<<"$rec"
	assert_output --regexp '^customer-00001@example.net,.*, \.\.\. and [0-9]+ more$'
	run -0 jq -r .message_id <<<"$rec"
	assert_output "many@example.com"
}

@test "11: the same through hdpgp-group apply and hdpgp-sign -o, and short lists stay whole" {
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null
	hdpgp-group set sales --address alice@example.com --encrypt on >/dev/null
	many 300
	run -69 --separate-stderr hdpgp-group apply sales --encrypt <"$HD/many"
	run -0 grep -o 'customer-[0-9]*@example.net' <<<"$stderr"
	assert_equal "$(sort -u <<<"$output" | wc -l)" 300
	many 88
	mkdir "$HD/o"
	run -69 --separate-stderr hdpgp-encrypt -o "$HD/o" "$HD/many"
	run -0 grep -c 'no public key$' <<<"$stderr"
	assert_output 88
	many 20
	run -69 hdpgp-encrypt "$HD/many"
	run -0 hdpgp-log -n 1 -j
	refute_output --partial "more"
	run -0 jq -r .comment <<<"$output"
	assert_output --partial 'customer-00020@example.net: no public key' 
}
