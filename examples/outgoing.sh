#!/bin/sh
#
# outgoing.sh: a helpdesk's send step.  The reply goes through the policy
# of its group (hdpgp-group apply): signed and encrypted as the group's
# defaults and the keys in the store allow, as the composer showed, or as
# the agent asked; then it is handed to the mail system.
#
# usage: outgoing.sh group [--sign | --no-sign] [--encrypt | --no-encrypt]
#            [file] [<reply]
#
#	outgoing.sh sales <reply.eml
#	outgoing.sh sales --encrypt reply.eml
#	SENDMAIL='msmtp -t' outgoing.sh support <reply.eml
#
# The options after the group go to hdpgp-group apply as they are; the
# state directory is $HDPGP_HOME, as for every hdpgp tool.  The mail system
# is the command in $SENDMAIL, by default /usr/sbin/sendmail -t -oi.
#
# Fail closed.  If apply fails (no such group, an explicit --sign or
# --encrypt that cannot be honoured, a signing or encryption error), nothing
# is sent, hdpgp-group's reason is on stderr and its exit status is ours.

set -u
umask 077

if [ $# -lt 1 ]; then
	echo "usage: ${0##*/} group [apply option ...] [file]" >&2
	exit 64
fi
group=$1
shift

# The whole message is made before the mail system starts, so that a
# failure never hands it a half or empty message.
out=$(mktemp "${TMPDIR:-/tmp}/outgoing.XXXXXX") || exit 75
trap 'rm -f "$out"' EXIT
trap 'exit 75' HUP INT TERM

hdpgp-group apply "$group" "$@" >"$out" || exit	# with apply's status
${SENDMAIL:-/usr/sbin/sendmail -t -oi} <"$out"
