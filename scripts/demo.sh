#!/usr/bin/env bash
# Quick start: upload the samples into a throwaway private Dovecot.
#
#   scripts/demo.sh
#
# Installs Dovecot if missing (apt-get, with sudo when not root), starts a
# private instance on a free port of 127.0.0.1 (everything in a temp dir),
# builds mailhaul, uploads samples/sample.mbox and samples/Maildir, shows how
# to look at the result, and stops the server on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD

SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
MAIL_USER=mailhaul-test

# 1. Dovecot, openssl and the mail user.
need=()
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ "${#need[@]}" -gt 0 ]; then
    echo "Installing ${need[*]} (apt-get)..."
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
    # The package starts a system Dovecot on 143/993; the demo doesn't need it.
fi
if ! id -u "$MAIL_USER" >/dev/null 2>&1; then
    $SUDO useradd --system --no-create-home --shell /usr/sbin/nologin "$MAIL_USER"
fi
MAIL_UID=$(id -u "$MAIL_USER")
MAIL_GID=$(id -g "$MAIL_USER")

# 2. A private Dovecot in a temp dir.
DIR=$(mktemp -d /tmp/mailhaul-demo.XXXXXX)
chmod 755 "$DIR"
CONF=$DIR/dovecot.conf
cleanup() {
    if [ -f "$DIR/run/master.pid" ]; then
        $SUDO kill "$(cat "$DIR/run/master.pid")" 2>/dev/null || true
        for _ in $(seq 50); do
            [ -f "$DIR/run/master.pid" ] || break
            sleep 0.1
        done
    fi
    $SUDO rm -rf "$DIR"
}
trap cleanup EXIT

free_port() {
    # A random port in 20000-60000 that nothing answers on.
    local p
    for p in $(shuf -i 20000-60000 -n 50); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return
        fi
    done
    echo "no free port found" >&2
    return 1
}
PORT=$(free_port)
PLAIN_PORT=$(free_port)
PASSWORD=demo-$RANDOM$RANDOM

mkdir -p "$DIR/run" "$DIR/state" "$DIR/home/demo/Maildir"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null
printf 'demo:{PLAIN}%s::::%s\n' "$PASSWORD" "$DIR/home/demo" >"$DIR/passwd"
cat >"$CONF" <<CONF
base_dir = $DIR/run
state_dir = $DIR/state
log_path = $DIR/dovecot.log
instance_name = $(basename "$DIR")
listen = 127.0.0.1
protocols = imap
ssl = yes
ssl_cert = <$DIR/cert.pem
ssl_key = <$DIR/key.pem
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
mail_uid = $MAIL_UID
mail_gid = $MAIL_GID
first_valid_uid = $MAIL_UID
last_valid_uid = $MAIL_UID
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DIR/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $DIR/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PLAIN_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $PORT
    ssl = yes
  }
}
CONF
$SUDO chown -R "$MAIL_UID:$MAIL_GID" "$DIR/home"
$SUDO /usr/sbin/dovecot -c "$CONF" </dev/null >"$DIR/startup.log" 2>&1 || {
    cat "$DIR/startup.log" "$DIR/dovecot.log" >&2
    exit 1
}
# Wait for the greeting (up to 10 s).
ready=
for _ in $(seq 100); do
    if exec 3<>"/dev/tcp/127.0.0.1/$PLAIN_PORT" 2>/dev/null; then
        if read -r -t 2 greeting <&3 && [[ $greeting == "* OK"* ]]; then
            ready=1
        fi
        exec 3<&- 3>&-
        [ -n "$ready" ] && break
    fi
    sleep 0.1
done
if [ -z "$ready" ]; then
    echo "Dovecot did not start; its log:" >&2
    cat "$DIR/dovecot.log" >&2
    exit 1
fi
echo "Dovecot is listening on imaps://127.0.0.1:$PORT (user demo)."

# 3. Build and upload.
cargo build --release
MAILHAUL=$REPO/target/release/mailhaul
echo
echo "+ MAILHAUL_PASSWORD=... mailhaul upload samples/sample.mbox samples/Maildir --server imaps://demo@127.0.0.1:$PORT --ca-file $DIR/cert.pem"
status=0
MAILHAUL_PASSWORD=$PASSWORD "$MAILHAUL" upload samples/sample.mbox samples/Maildir \
    --server "imaps://demo@127.0.0.1:$PORT" --ca-file "$DIR/cert.pem" || status=$?
echo "mailhaul exited with status $status"

# 4. How to look at the result.
cat <<HOWTO

Look at the result while the server runs (in another terminal):
  ${SUDO:+$SUDO }doveadm -c $CONF mailbox list -u demo
  ${SUDO:+$SUDO }doveadm -c $CONF fetch -u demo 'mailbox flags date.received hdr.subject' all
  ${SUDO:+$SUDO }find $DIR/home/demo/Maildir -type f -path '*/cur/*'
Dovecot log: $DIR/dovecot.log
HOWTO
echo "Mailboxes now on the server:"
$SUDO doveadm -c "$CONF" mailbox list -u demo 2>/dev/null | sed 's/^/  /' || true

if [ -t 0 ]; then
    read -r -p "Press Enter to stop the server and delete $DIR... " _
fi
exit "$status"
