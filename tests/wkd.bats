#!/usr/bin/env bats
# hdpgp-key locate, refresh and publish --wkd (issue 12), against real
# HTTPS servers on 127.0.0.1:443 (tests/wkdserver.py) with a CA made here:
# --resolve and --ca-file point hdpgp at them, as they would point it at
# a split-horizon server.  Nothing leaves the machine: every host name
# hdpgp asks for is given with --resolve.

bats_require_minimum_version 1.5.0
load helpers

WKS=/usr/lib/gnupg/gpg-wks-client
HOSTS="openpgpkey.example.org example.org openpgpkey.example.net example.net keys.example.com"

# A CA, a second CA nobody trusts, and a server certificate for every host.
make_pki() {
	local d=$1 h san=
	for h in $HOSTS; do san=${san:+$san,}DNS:$h; done
	for ca in ca wrongca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		    -nodes -days 2 -subj "/CN=hdpgp $ca INSECURE" \
		    -addext basicConstraints=critical,CA:TRUE \
		    -addext keyUsage=critical,keyCertSign \
		    -keyout "$d/$ca.key" -out "$d/$ca.pem" 2>/dev/null
	done
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -subj "/CN=example.org" -keyout "$d/srv.key" -out "$d/srv.csr" \
	    2>/dev/null
	printf 'subjectAltName=%s\n' "$san" >"$d/srv.ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
	    -CAcreateserial -days 2 -extfile "$d/srv.ext" -out "$d/srv.pem" \
	    2>/dev/null
}

# Customer keys, made by stock gpg in a home of the file's own.
fgpg() {
	gpg --homedir "$F/gpg" --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' "$@"
}

newkey() {
	fgpg --quick-gen-key "$1" ed25519 cert,sign "${2:-2y}" 2>/dev/null
	local fpr
	# the newest key for the address: the last one listed
	fpr=$(fgpg --with-colons --list-keys "=$1" |
	    awk -F: '/^pub/ { p = 1; next } /^fpr/ && p { f = $10; p = 0 } END { print f }')
	fgpg --quick-add-key "$fpr" cv25519 encr "${2:-2y}" 2>/dev/null
	echo "$fpr"
}

setup_file() {
	F=$(mktemp -d /tmp/hdpgp-wkd.XXXXXX)
	export F
	mkdir -m 700 "$F/gpg"
	make_pki "$F"
	# dave: WKD advanced; erin: WKD direct; frank: VKS; gina: HKP only;
	# mallory: a second key for dave's address.
	DAVE=$(newkey dave@example.org) ERIN=$(newkey erin@example.net)
	FRANK=$(newkey frank@example.com) GINA=$(newkey gina@example.com)
	MALLORY=$(newkey "Mallory <dave@example.org>" 1y)
	export DAVE ERIN FRANK GINA MALLORY
	fgpg --quick-add-uid "$DAVE" "Dave Elsewhere <dave@elsewhere.test>" 2>/dev/null
	fgpg --export "$DAVE" >"$F/dave.gpg"
	fgpg --export "$ERIN" >"$F/erin.gpg"
	fgpg --export "$FRANK" >"$F/frank.gpg"
	fgpg --export "$GINA" >"$F/gina.gpg"
	fgpg --export "$MALLORY" >"$F/mallory.gpg"
	gpgconf --homedir "$F/gpg" --kill gpg-agent
}

teardown_file() {
	gpgconf --homedir "$F/gpg" --kill gpg-agent 2>/dev/null
	rm -rf "$F"
}

setup() {
	hd_setup
	W=$HD/www
	mkdir -p "$W"
	SERVER=
	NET=(--ca-file "$F/ca.pem" --keyserver hkps://keys.example.com --timeout 5)
	local h
	for h in $HOSTS; do NET+=(--resolve "$h:443:127.0.0.1"); done
}

teardown() {
	stop_server
	hd_teardown
}

start_server() {
	[ "$(id -u)" -eq 0 ] || skip "port 443 needs root (CI runs as root)"
	rm -f "$W/ready"
	"$HD_PYTHON" "$HDPGP_SRCDIR/tests/wkdserver.py" serve "$W" "$F/srv.pem" \
	    "$F/srv.key" 443 3>&- &
	SERVER=$!
	local i
	for i in $(seq 600); do
		[ -s "$W/ready" ] && return 0
		kill -0 "$SERVER" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

stop_server() {
	if [ -n "$SERVER" ]; then
		kill "$SERVER" 2>/dev/null
		wait "$SERVER" 2>/dev/null || :
		SERVER=
	fi
}

# A key's WKD file, as GnuPG's own gpg-wks-client --install-key writes it,
# under the web root of host $3: advanced or direct method.
wks_install() {
	local key=$1 addr=$2 method=$3 dom=${2#*@} tmp=$HD/wks.$RANDOM
	mkdir -p "$tmp"
	GNUPGHOME=$F/gpg "$WKS" -C "$tmp" --install-key "$key" "$addr" >/dev/null 2>&1 || return 1
	if [ "$method" = advanced ]; then
		mkdir -p "$W/openpgpkey.$dom/.well-known/openpgpkey"
		cp -R "$tmp/$dom" "$W/openpgpkey.$dom/.well-known/openpgpkey/"
	else
		mkdir -p "$W/$dom/.well-known/openpgpkey"
		cp -R "$tmp/$dom/." "$W/$dom/.well-known/openpgpkey/"
	fi
	rm -rf "$tmp"
}

wkd_file() {
	local addr=$1 method=$2 dom=${1#*@} hash
	hash=$("$WKS" --print-wkd-hash "$addr" | cut -d' ' -f1)
	if [ "$method" = advanced ]; then
		echo "$W/openpgpkey.$dom/.well-known/openpgpkey/$dom/hu/$hash"
	else
		echo "$W/$dom/.well-known/openpgpkey/hu/$hash"
	fi
}

vks_put() {
	mkdir -p "$W/keys.example.com/vks/v1/by-email" "$W/keys.example.com/vks/v1/by-fingerprint"
	cp "$2" "$W/keys.example.com/vks/v1/by-email/$1"
	[ -z "$3" ] || cp "$2" "$W/keys.example.com/vks/v1/by-fingerprint/$3"
}

hkp_put() {
	mkdir -p "$W/keys.example.com/pks/lookup"
	cp "$2" "$W/keys.example.com/pks/lookup/${1,,}"
}

requests() {
	cat "$W/requests.log" 2>/dev/null || :
}

@test "wkd hash: z-base-32 and the SHA-1 as gpg-wks-client --print-wkd-hash" {
	local a
	# z-base-32 of 0x00..: all "y"; of the alphabet's own order
	run -0 "$HDPGP_BUILDDIR/tests/wkd-hash" -z 0000000000
	assert_output "yyyyyyyy"
	run -0 "$HDPGP_BUILDDIR/tests/wkd-hash" -z 00443214c74254b635cf84653a56d7c675be77df
	assert_output "ybndrfg8ejkmcpqxot1uwisza345h769"
	for a in dave@example.org Joe.Doe@Example.ORG "o'neil+tag@example.com" \
	    UPPER@example.net "x@y.test"; do
		run -0 "$HDPGP_BUILDDIR/tests/wkd-hash" "$a"
		assert_output --regexp "^$("$WKS" --print-wkd-hash "$a" | cut -d' ' -f1) "
	done
	# the advanced URL: lower-case domain, the local part as written
	run -0 "$HDPGP_BUILDDIR/tests/wkd-hash" Joe.Doe@Example.ORG
	assert_output "iy9q119eutrkn8s1mk4r39qejnbu3n5q https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe"
}

@test "locate: found by the WKD advanced method, only that address's user ID" {
	wks_install "$F/dave.gpg" dave@example.org advanced
	start_server
	run -0 --separate-stderr hdpgp-key "${NET[@]}" locate dave@example.org
	assert_output "$DAVE imported  wkd       dave@example.org"
	assert_equal "$stderr" ""
	# only the user ID for the address; provenance recorded
	run -0 hgpg --list-keys "$DAVE"
	assert_output --partial "dave@example.org"
	refute_output --partial "elsewhere.test"
	run -0 hdpgp-key show "$DAVE"
	assert_output --regexp "origin +wkd https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/z9g983skpuzwkib59q4zknqjfmsjwqx5\?l=dave first-seen=20"
	run -0 hdpgp-key -j list
	assert_output --partial '"origin":{"source":"wkd","url":"https://openpgpkey.example.org/'
	assert_output --partial '"pinned":false'
	run -0 hd_log
	assert_output --partial "from wkd https://openpgpkey.example.org/"
	# the key serves the address: encryption to dave works
	run -0 requests
	assert_line "openpgpkey.example.org /.well-known/openpgpkey/example.org/hu/z9g983skpuzwkib59q4zknqjfmsjwqx5?l=dave"
	# -j: one object an address
	run -0 hdpgp-key "${NET[@]}" -j locate dave@example.org
	assert_output --partial "\"address\":\"dave@example.org\",\"fingerprint\":\"$DAVE\",\"result\":\"unchanged\",\"source\":\"wkd\""
}

@test "locate: the direct method when advanced has nothing; the keyserver when WKD has nothing" {
	wks_install "$F/erin.gpg" erin@example.net direct
	vks_put frank@example.com "$F/frank.gpg"
	hkp_put gina@example.com "$F/gina.gpg"
	start_server
	run -0 --separate-stderr hdpgp-key "${NET[@]}" locate erin@example.net frank@example.com gina@example.com
	assert_line -n 0 "$ERIN imported  wkd       erin@example.net"
	assert_line -n 1 "$FRANK imported  keyserver frank@example.com"
	assert_line -n 2 "$GINA imported  keyserver gina@example.com"
	assert_equal "$stderr" ""
	run -0 requests
	assert_line "openpgpkey.example.net /.well-known/openpgpkey/example.net/hu/$("$WKS" --print-wkd-hash erin@example.net | cut -d' ' -f1)?l=erin"
	assert_line "example.net /.well-known/openpgpkey/hu/$("$WKS" --print-wkd-hash erin@example.net | cut -d' ' -f1)?l=erin"
	assert_line "keys.example.com /vks/v1/by-email/frank@example.com"
	# VKS said 404 for gina: HKP asked next
	assert_line "keys.example.com /vks/v1/by-email/gina@example.com"
	assert_line "keys.example.com /pks/lookup?op=get&options=mr&search=gina@example.com"
	run -0 hdpgp-key show "$GINA"
	assert_output --partial "origin       keyserver https://keys.example.com/pks/lookup?op=get&options=mr&search=gina@example.com"
}

@test "locate: not found anywhere exits 2, one stderr line naming every source" {
	start_server
	run -2 --separate-stderr hdpgp-key "${NET[@]}" locate nobody@example.org
	assert_output -- "- not-found -         nobody@example.org"
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^hdpgp-key: nobody@example.org: not-found: https://openpgpkey.example.org/.* not found \(404\); https://example.org/.* not found \(404\); https://keys.example.com/vks/v1/by-email/nobody@example.org: not found \(404\); https://keys.example.com/pks/lookup.*: not found \(404\)$"
	run -0 hdpgp-key list
	assert_output ""
	run -0 hd_log
	assert_output --partial "key-locate"
}

@test "locate: server down exits 75 at once; a server that never answers, 75 within the timeout" {
	# nothing listens on 443
	SECONDS=0
	run -75 --separate-stderr hdpgp-key "${NET[@]}" locate dave@example.org
	assert_output -- "- failed    -         dave@example.org"
	assert_regex "$stderr" "^hdpgp-key: dave@example.org: failed: .*Could(n't| not) connect"
	[ "$SECONDS" -lt 10 ]
	[ "$(id -u)" -eq 0 ] || skip "port 443 needs root (CI runs as root)"
	READY=$HD/hang.ready "$HD_PYTHON" "$HDPGP_SRCDIR/tests/wkdserver.py" hang 443 3>&- &
	SERVER=$!
	for i in $(seq 600); do [ -s "$HD/hang.ready" ] && break; sleep 0.1; done
	SECONDS=0
	run -75 --separate-stderr hdpgp-key "${NET[@]}" --timeout 1 locate dave@example.org
	assert_regex "$stderr" "timed out"
	# four requests, one second each at most
	[ "$SECONDS" -lt 12 ]
	run -0 hdpgp-key list
	assert_output ""
}

@test "locate: a certificate from another CA is refused (75: the server's to fix)" {
	wks_install "$F/dave.gpg" dave@example.org advanced
	start_server
	run -75 --separate-stderr hdpgp-key "${NET[@]}" --ca-file "$F/wrongca.pem" locate dave@example.org
	assert_regex "$stderr" "server certificate not trusted"
	run -0 hdpgp-key list
	assert_output ""
	# nor does the system's trust store know the test CA
	local sys=() arg skip=
	for arg in "${NET[@]}"; do
		[ -n "$skip" ] && { skip=; continue; }
		[ "$arg" = --ca-file ] && { skip=1; continue; }
		sys+=("$arg")
	done
	run -75 --separate-stderr hdpgp-key "${sys[@]}" locate dave@example.org
	assert_regex "$stderr" "server certificate not trusted"
}

@test "locate: a redirect loop ends after 3 redirects (75); a redirect to http:// is not followed (65)" {
	local f
	f=$(wkd_file dave@example.org advanced)
	mkdir -p "${f%/*}"
	echo "https://openpgpkey.example.org${f#$W/openpgpkey.example.org}?l=dave" >"$f.redirect"
	start_server
	run -75 --separate-stderr hdpgp-key "${NET[@]}" locate dave@example.org
	assert_regex "$stderr" "more than 3 redirects"
	[ "$(grep -c '^openpgpkey.example.org ' "$W/requests.log")" -eq 4 ]
	echo "http://example.org/key" >"$f.redirect"
	run -65 --separate-stderr hdpgp-key "${NET[@]}" locate dave@example.org
	assert_regex "$stderr" "redirect to a protocol other than HTTPS refused"
}

@test "locate: a 10 MB answer is refused (65) without reading it all" {
	local f
	f=$(wkd_file dave@example.org advanced)
	mkdir -p "${f%/*}"
	touch "$f.big"
	start_server
	run -65 --separate-stderr hdpgp-key "${NET[@]}" locate dave@example.org
	assert_regex "$stderr" "answer larger than 256 KiB refused"
	# What the server managed to send says nothing of hdpgp's memory:
	# loopback buffers (tcp_rmem up to 32 MiB) take it all.  The refusal
	# above is the write callback's, which keeps at most 256 KiB.
	run -0 hdpgp-key list
	assert_output ""
}

@test "locate: a key for another address is refused; foreign user IDs and signatures are stripped" {
	# erin's key offered for dave's address
	local f
	f=$(wkd_file dave@example.org advanced)
	mkdir -p "${f%/*}"
	cp "$F/erin.gpg" "$f"
	start_server
	run -65 --separate-stderr hdpgp-key "${NET[@]}" locate dave@example.org
	assert_regex "$stderr" "no key with a user ID for dave@example.org in the answer"
	run -0 hdpgp-key list
	assert_output ""
	# dave's key certified by erin's, with a second user ID: both go
	fgpg --default-key "$ERIN" --quick-sign-key "$DAVE" 2>/dev/null
	fgpg --export "$DAVE" >"$f"
	gpgconf --homedir "$F/gpg" --kill gpg-agent
	run -0 sh -c "gpg --homedir '$F/gpg' --list-packets '$f' 2>/dev/null | grep -c 'sigclass 0x1[0-3]'"
	[ "$output" -ge 3 ]
	run -0 hdpgp-key "${NET[@]}" locate dave@example.org
	hdpgp-key export "$DAVE" | gpg --homedir "$F/gpg" --list-packets 2>/dev/null >"$HD/packets"
	run -0 grep -c "sigclass 0x13" "$HD/packets"
	assert_output 1
	run -1 grep -E "sigclass 0x1[012]|elsewhere" "$HD/packets"
}

@test "locate: 5,000 third-party signatures: refused as too large, or stripped" {
	# unverifiable certifications by made-up issuers, as a flood has them
	local f
	f=$(wkd_file dave@example.org advanced)
	mkdir -p "${f%/*}"
	python3 "$HDPGP_SRCDIR/tests/pgpcraft.py" flood "$F/dave.gpg" 5000 >"$f"
	start_server
	run -65 --separate-stderr hdpgp-key "${NET[@]}" locate dave@example.org
	assert_regex "$stderr" "answer larger than 256 KiB refused"
	python3 "$HDPGP_SRCDIR/tests/pgpcraft.py" flood "$F/dave.gpg" 1500 >"$f"
	[ "$(stat -c %s "$f")" -lt $((256 << 10)) ]
	run -0 hdpgp-key "${NET[@]}" locate dave@example.org
	hdpgp-key export "$DAVE" | gpg --homedir "$F/gpg" --list-packets 2>/dev/null >"$HD/packets"
	run -0 grep -c "^:signature packet" "$HD/packets"
	# the user ID's self-signature and the subkey binding
	assert_output 2
}

@test "locate: another key for an address the store has is held back, check says so, the log too" {
	hdpgp-key import "$F/dave.gpg" >/dev/null 2>&1
	local f
	f=$(wkd_file dave@example.org advanced)
	mkdir -p "${f%/*}"
	cp "$F/mallory.gpg" "$f"
	start_server
	# pinned: not even asked without --force
	run -0 hdpgp-key "${NET[@]}" locate dave@example.org
	assert_output "$DAVE pinned    store     dave@example.org"
	run -0 requests
	assert_output ""
	run -0 --separate-stderr hdpgp-key "${NET[@]}" locate --force dave@example.org
	assert_output "$MALLORY conflict  wkd       dave@example.org"
	assert_regex "$stderr" "held back, another key serves it"
	run -1 hdpgp-key check
	assert_output "conflict dave@example.org served-by=$DAVE held=$MALLORY"
	run -0 hd_log
	assert_output --partial "key-conflict"
	# dave's own key still serves the address
	run -0 hdpgp-key show dave@example.org
	assert_output --partial "address      dave@example.org serves"
}

@test "locate: a network key for an address another network key serves is held back too" {
	local f
	f=$(wkd_file dave@example.org advanced)
	mkdir -p "${f%/*}"
	cp "$F/dave.gpg" "$f"
	start_server
	run -0 hdpgp-key "${NET[@]}" locate dave@example.org
	cp "$F/mallory.gpg" "$f"
	# not pinned: looked up again without --force
	run -0 --separate-stderr hdpgp-key "${NET[@]}" locate dave@example.org
	assert_output "$MALLORY conflict  wkd       dave@example.org"
	run -1 hdpgp-key check
}

# A copy of the customers' GnuPG home, to change their keys in.
cgpg() {
	[ -d "$HD/cg" ] || cp -a "$F/gpg" "$HD/cg"
	gpg --homedir "$HD/cg" --batch --no-tty --pinentry-mode loopback \
	    --passphrase '' "$@"
}

@test "refresh: a new expiry date and a revocation published are picked up" {
	wks_install "$F/erin.gpg" erin@example.net direct
	vks_put frank@example.com "$F/frank.gpg" "$FRANK"
	start_server
	run -0 hdpgp-key "${NET[@]}" locate erin@example.net frank@example.com
	run -0 hdpgp-key -j show "$ERIN"
	local before=$output
	# nothing new: unchanged, and the summary line
	run -0 --separate-stderr hdpgp-key "${NET[@]}" refresh
	assert_line -n 0 "$ERIN unchanged wkd       erin@example.net"
	assert_line -n 1 "$FRANK unchanged keyserver frank@example.com"
	assert_line -n 2 "refreshed 2, updated 0, revoked 0, failed 0"
	assert_equal "$stderr" ""
	# erin moves her expiry date; frank revokes his key
	cgpg --quick-set-expire "$ERIN" 5y 2>/dev/null
	cgpg --quick-set-expire "$ERIN" 5y '*' 2>/dev/null
	cgpg --export "$ERIN" >"$HD/erin2.gpg"
	wks_install "$HD/erin2.gpg" erin@example.net direct
	sed 's/^:-----/-----/' "$HD/cg/openpgp-revocs.d/$FRANK.rev" | cgpg --import 2>/dev/null
	cgpg --export "$FRANK" >"$HD/frank2.gpg"
	gpgconf --homedir "$HD/cg" --kill gpg-agent
	vks_put frank@example.com "$HD/frank2.gpg" "$FRANK"
	run -0 --separate-stderr hdpgp-key "${NET[@]}" refresh
	assert_line -n 0 "$ERIN updated   wkd       erin@example.net"
	assert_line -n 1 "$FRANK revoked   keyserver frank@example.com"
	assert_line -n 2 "refreshed 2, updated 1, revoked 1, failed 0"
	run -0 requests
	assert_line "keys.example.com /vks/v1/by-fingerprint/$FRANK"
	run -0 hdpgp-key -j show "$ERIN"
	refute_output "$before"
	assert_output --regexp '"expires" ?: ?"203[0-9]-'
	# the revocation takes effect at once: no encryption to frank
	run -0 hdpgp-key show "$FRANK"
	assert_line "status       revoked"
	run -69 hdpgp-encrypt -r frank@example.com < <(mkmail utf8)
	# --older-than: both were seen just now
	run -0 hdpgp-key "${NET[@]}" refresh --older-than 1d
	assert_output "refreshed 0, updated 0, revoked 0, failed 0"
}

@test "refresh: nothing changes when the server is down (75); pinned keys only with --all" {
	wks_install "$F/erin.gpg" erin@example.net direct
	start_server
	run -0 hdpgp-key "${NET[@]}" locate erin@example.net
	hdpgp-key import "$F/gina.gpg" >/dev/null 2>&1
	stop_server
	run -0 hdpgp-key -j list
	local before=$output
	run -75 --separate-stderr hdpgp-key "${NET[@]}" refresh
	assert_line -n 0 "$ERIN failed    -         erin@example.net"
	assert_line -n 1 "refreshed 0, updated 0, revoked 0, failed 1"
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^hdpgp-key: erin@example.net: failed: https://example.net/"
	run -0 hdpgp-key -j list
	assert_equal "$output" "$before"
	# gina's key was imported from a file: pinned, asked for only with
	# --all, from the keyserver by fingerprint
	hkp_put "0x$GINA" "$F/gina.gpg"
	start_server
	run -0 hdpgp-key "${NET[@]}" refresh "$GINA"
	assert_output "$GINA pinned    store     $GINA
refreshed 0, updated 0, revoked 0, failed 0"
	run -0 hdpgp-key "${NET[@]}" refresh --all "$GINA"
	assert_line -n 0 "$GINA unchanged keyserver $GINA"
	run -0 requests
	assert_line "keys.example.com /vks/v1/by-fingerprint/$GINA"
	assert_line "keys.example.com /pks/lookup?op=get&options=mr&search=0x$GINA"
	# still pinned: a refresh does not make it a network key
	run -0 hdpgp-key show "$GINA"
	assert_line --regexp "^origin +file .* pinned$"
}

@test "publish --wkd: the tree gpg-wks-client --install-key makes, found again by locate" {
	local fpr f rel
	fpr=$(hdpgp-key --passphrase-file "$HD/alice.pass" generate support@example.org --name "Support (INSECURE test key)")
	hdpgp-key --passphrase-file "$HD/alice.pass" import "$KEYS/alice.sec.asc" >/dev/null 2>&1
	hdpgp-key import "$F/erin.gpg" >/dev/null 2>&1
	run -0 hdpgp-key show "$fpr"
	assert_line --regexp "^origin +generated .* pinned$"
	umask 077
	run -0 --separate-stderr hdpgp-key publish --wkd "$HD/pub"
	# the secret keys only, one file an address
	assert_output "$HD/pub/.well-known/openpgpkey/example.com/hu/$("$WKS" --print-wkd-hash alice@example.com | cut -d' ' -f1)
$HD/pub/.well-known/openpgpkey/example.org/hu/$("$WKS" --print-wkd-hash support@example.org | cut -d' ' -f1)"
	# GnuPG's own tree for the same keys
	mkdir -p "$HD/wks"
	hdpgp-key export --binary "$fpr" >"$HD/support.gpg"
	hdpgp-key export --binary "$ALICE_FPR" >"$HD/alice.gpg"
	GNUPGHOME=$F/gpg "$WKS" -C "$HD/wks" --install-key "$HD/support.gpg" support@example.org 2>/dev/null
	GNUPGHOME=$F/gpg "$WKS" -C "$HD/wks" --install-key "$HD/alice.gpg" alice@example.com 2>/dev/null
	assert_equal "$(cd "$HD/pub/.well-known/openpgpkey" && find . -type f | sort)" \
	    "$(cd "$HD/wks" && find . -type f | sort)"
	for f in $(cd "$HD/wks" && find . -path '*/hu/*' -type f); do
		run -0 gpg --with-colons --show-keys "$HD/pub/.well-known/openpgpkey/$f"
		local ours=$output
		run -0 gpg --with-colons --show-keys "$HD/wks/$f"
		assert_equal "$(grep -E '^(fpr|uid)' <<<"$ours" | cut -d: -f1,10)" \
		    "$(grep -E '^(fpr|uid)' <<<"$output" | cut -d: -f1,10)"
		assert_equal "$(grep -c '^uid' <<<"$ours")" 1
	done
	# 0644 whatever the umask, and the same bytes when run again
	run -0 find "$HD/pub" -type f ! -perm 0644
	assert_output ""
	cp -a "$HD/pub" "$HD/pub.1"
	run -0 hdpgp-key -q publish --wkd "$HD/pub"
	assert_output ""
	diff -r "$HD/pub" "$HD/pub.1"
	# direct: one domain only
	run -64 --separate-stderr hdpgp-key publish --wkd "$HD/direct" --method direct
	assert_regex "$stderr" "the direct method serves one domain"
	run -0 hdpgp-key publish --wkd "$HD/direct" --method direct --domain example.org "$fpr"
	assert_output "$HD/direct/.well-known/openpgpkey/hu/$("$WKS" --print-wkd-hash support@example.org | cut -d' ' -f1)"
	[ -f "$HD/direct/.well-known/openpgpkey/policy" ]
	# served as it is, found again by locate in a fresh state
	mkdir -p "$W/openpgpkey.example.org"
	cp -R "$HD/pub/.well-known" "$W/openpgpkey.example.org/"
	start_server
	run -0 hdpgp-key -d "$HD/fresh" "${NET[@]}" locate support@example.org
	assert_output "$fpr imported  wkd       support@example.org"
	gpgconf --homedir "$HD/fresh/gnupg" --kill gpg-agent
}

@test "locate: capitals in the address's local part still find and keep its user ID" {
	local up=$HD/up.gpg f
	cgpg --quick-add-uid "$ERIN" "Erin <Erin.Up@example.net>" 2>/dev/null
	cgpg --export "$ERIN" >"$up"
	gpgconf --homedir "$HD/cg" --kill gpg-agent
	f=$(wkd_file Erin.Up@example.net advanced)
	mkdir -p "${f%/*}"
	cp "$up" "$f"
	start_server
	run -0 hdpgp-key "${NET[@]}" locate Erin.Up@example.net
	assert_output "$ERIN imported  wkd       Erin.Up@example.net"
	run -0 hgpg --list-keys "$ERIN"
	assert_output --partial "Erin <Erin.Up@example.net>"
	refute_output --partial "erin@example.net"
	run -0 requests
	assert_line --partial "?l=Erin.Up"
}
