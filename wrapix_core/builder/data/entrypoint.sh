#!/bin/bash
# wrapix builder entrypoint: the Nix daemon and sshd for the `builder` user.
#
#   /entrypoint.sh               serve (the builder container)
#   /entrypoint.sh init-store D  copy this image's /nix into D (run by `wrapix-builder
#                                start` in a one-shot container before the first start)
#   /entrypoint.sh wipe-store D  empty D (so a store can be re-initialised or removed;
#                                container root can delete what the host user cannot)
#
# Lines starting with "wrapix-builder:" are read by wrapix (progress and diagnosis).
set -euo pipefail

KEYS=${WRAPIX_BUILDER_KEYS:-/run/wrapix-builder}
SOCKET=${NIX_DAEMON_SOCKET_PATH:-/run/nix/daemon-socket/socket}
USER_NAME=builder
CONF=/etc/wrapix-builder
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH

say() { echo "wrapix-builder: $*"; }
die() { say "error: $*" >&2; exit 1; }

wipe_store() {
    local dest=$1
    [ -d "$dest" ] || die "$dest is not a directory"
    # Store paths are read-only: make them writable before deleting.
    chmod -R u+w "$dest" 2>/dev/null || true
    find "$dest" -mindepth 1 -delete
}

init_store() {
    local dest=$1
    [ -d "$dest" ] || die "$dest is not a directory"
    [ -w "$dest" ] || die "$dest is not writable"
    wipe_store "$dest"
    local count=0
    if [ -d /nix ]; then
        say "total $(find /nix | wc -l) $(du -sb /nix | cut -f1)"  # tar names "./" too
        # tar -v names each entry it extracts; report the count now and then.
        while IFS= read -r _; do
            count=$((count + 1))
            if (( count % 250 == 0 )); then say "copied $count"; fi
        done < <(tar -C /nix -cf - . | tar -C "$dest" -xvf -)
        wait $! || die "copying /nix failed"
    else
        say "total 0 0"  # Nix from the distribution (Debian's nix-bin): an empty store
    fi
    mkdir -p "$dest/store" "$dest/var/nix"
    chmod 0755 "$dest"
    say "copied $count"
}

case "${1:-serve}" in
    init-store) init_store "${2:?init-store needs a directory}"; exit 0 ;;
    wipe-store) wipe_store "${2:?wipe-store needs a directory}"; exit 0 ;;
    serve) ;;
    *) die "unknown mode '$1' (serve, init-store DIR, wipe-store DIR)" ;;
esac

[ -d /nix/store ] || die "/nix/store is missing: the store was not initialised (run wrapix-builder start)"
for file in host_ed25519 host_ed25519.pub client_ed25519.pub; do
    [ -s "$KEYS/$file" ] || die "$KEYS/$file is missing (the keys are mounted by wrapix-builder start)"
done

# The builder user: key login only (a '*' password is "no password", not "locked",
# so sshd lets the key in without PAM).
if ! getent passwd "$USER_NAME" >/dev/null; then
    useradd --create-home --shell /bin/bash --password '*' "$USER_NAME"
fi
home=$(getent passwd "$USER_NAME" | cut -d: -f6)
# Root here has no CAP_DAC_OVERRIDE: take the directories over, write, hand them back.
mkdir -p "$home"
chown root:root "$home"
[ -d "$home/.ssh" ] && chown root:root "$home/.ssh"
install -d -m 0700 "$home/.ssh"
install -m 0600 "$KEYS/client_ed25519.pub" "$home/.ssh/authorized_keys"
chown "$USER_NAME:$USER_NAME" "$home/.ssh/authorized_keys" "$home/.ssh" "$home"
chmod 0755 "$home"

# sshd: the host key from the keys directory (stable across restarts, so the
# client's known_hosts stays valid), privilege separation user and directory.
getent passwd sshd >/dev/null || useradd --system --no-create-home --home-dir /run/sshd \
    --shell /usr/sbin/nologin sshd
install -d -m 0755 /run/sshd /var/empty
install -d -m 0755 "$CONF"
install -m 0600 "$KEYS/host_ed25519" "$CONF/ssh_host_ed25519_key"
install -m 0644 "$KEYS/host_ed25519.pub" "$CONF/ssh_host_ed25519_key.pub"
cat > "$CONF/sshd_config" <<CONFIG
Port 22
ListenAddress 0.0.0.0
HostKey $CONF/ssh_host_ed25519_key
PidFile /run/sshd.pid
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PermitEmptyPasswords no
AllowUsers $USER_NAME
UsePAM no
AuthorizedKeysFile .ssh/authorized_keys
AllowAgentForwarding no
AllowTcpForwarding no
X11Forwarding no
PermitTunnel no
PrintMotd no
SetEnv NIX_REMOTE=daemon NIX_DAEMON_SOCKET_PATH=$SOCKET
CONFIG
sshd=$(command -v sshd || echo /usr/sbin/sshd)
"$sshd" -t -f "$CONF/sshd_config" || die "sshd rejected its configuration"

# The Nix daemon: builds run as its user (container root, user-namespaced); the
# builder user is trusted so the host can copy unsigned paths to it. The socket
# lives in /run: a virtio-fs /nix (macOS) cannot hold sockets.
mkdir -p /etc/nix "$(dirname "$SOCKET")"
cat > /etc/nix/nix.conf <<CONFIG
experimental-features = nix-command flakes
sandbox = false
build-users-group =
trusted-users = root $USER_NAME
max-jobs = auto
CONFIG
export NIX_DAEMON_SOCKET_PATH=$SOCKET

children=()
stop_all() {
    kill -TERM "${children[@]}" 2>/dev/null || true
    wait || true
}
trap 'say "stopping"; stop_all; exit 0' TERM INT

nix-daemon &
children+=($!)
for _ in $(seq 1 100); do
    [ -S "$SOCKET" ] && break
    kill -0 "${children[0]}" 2>/dev/null || die "nix-daemon exited before it listened"
    sleep 0.1
done
[ -S "$SOCKET" ] || die "nix-daemon did not create $SOCKET within 10s"
say "nix-daemon listening on $SOCKET"

"$sshd" -D -e -f "$CONF/sshd_config" &
children+=($!)
say "sshd started"

# Either service ending ends the container, so `status` shows it stopped and its
# logs say why.
set +e
wait -n "${children[@]}"
code=$?
set -e
kill -0 "${children[0]}" 2>/dev/null || say "error: nix-daemon exited (status $code)"
kill -0 "${children[1]}" 2>/dev/null || say "error: sshd exited (status $code)"
stop_all
exit 1
