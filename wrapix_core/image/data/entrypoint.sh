#!/bin/bash
# wrapix sandbox entrypoint: prepare the session, then run the agent (or Ralph).
set -euo pipefail

# macOS (Apple container): there is no keep-id, so create the host user and drop to it.
if [ "$(id -u)" = 0 ] && [ -n "${WRAPIX_UID:-}" ]; then
    user=${WRAPIX_USER:-wrapix}
    getent group "$WRAPIX_GID" >/dev/null || groupadd -g "$WRAPIX_GID" "$user"
    getent passwd "$WRAPIX_UID" >/dev/null \
        || useradd -M -d "$HOME" -s /bin/bash -u "$WRAPIX_UID" -g "$WRAPIX_GID" "$user"
    mkdir -p "$HOME" && chown "$WRAPIX_UID:$WRAPIX_GID" "$HOME"
    if [ -n "${WRAPIX_FILES:-}" ]; then
        install -m 0644 "$WRAPIX_FILES/known_hosts" /etc/ssh/ssh_known_hosts 2>/dev/null || true
        install -D -m 0644 "$WRAPIX_FILES/system-prompt.md" /etc/wrapix/system-prompt.md
    fi
    unset WRAPIX_UID
    exec setpriv --reuid "$user" --regid "$WRAPIX_GID" --init-groups -- "$0" "$@"
fi

# Egress allowlist: the sandbox has only loopback; its one way out is the forwarder to
# the host's proxy, listening before anything else runs. Should it fail, the sandbox
# stays without network (never with an open one).
if [ "${WRAPIX_EGRESS:-}" = allowlist ]; then
    wrapix-netfwd || echo "wrapix: the egress forwarder did not start; this sandbox has no network" >&2
fi

# Deploy key: git over ssh uses it, and nothing else.
if [ -n "${WRAPIX_DEPLOY_KEY:-}" ] && [ -r "$WRAPIX_DEPLOY_KEY" ]; then
    export GIT_SSH_COMMAND="ssh -i $WRAPIX_DEPLOY_KEY -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes"
fi

# Signing key: ssh-signed commits, on unless WRAPIX_GIT_SIGN=0.
if [ -n "${WRAPIX_SIGNING_KEY:-}" ] && [ -r "$WRAPIX_SIGNING_KEY" ] \
        && [ "${WRAPIX_GIT_SIGN:-1}" != 0 ] && command -v git >/dev/null; then
    signers="$HOME/.config/git/allowed_signers"
    mkdir -p "$(dirname "$signers")"
    if public=$(ssh-keygen -y -f "$WRAPIX_SIGNING_KEY" 2>/dev/null); then
        printf '%s %s\n' "${GIT_AUTHOR_EMAIL:-sandbox@wrapix.dev}" "$public" > "$signers"
    fi
    git config --global gpg.format ssh
    git config --global user.signingkey "$WRAPIX_SIGNING_KEY"
    git config --global gpg.ssh.allowedSignersFile "$signers"
    git config --global commit.gpgsign true
    git config --global tag.gpgsign true
fi

# Claude's own config lives in the (temporary) home; seed it once per session.
if [ ! -f "$HOME/.claude.json" ] && [ -f /etc/wrapix/claude-config.json ]; then
    cp /etc/wrapix/claude-config.json "$HOME/.claude.json"
fi

# Rust: make a toolchain available when the profile asks for rustup and none works.
if [ -n "${RUSTUP_HOME:-}" ] && command -v rustup >/dev/null && ! rustc --version >/dev/null 2>&1; then
    rustup default stable >/dev/null 2>&1 || echo "wrapix: rustup could not install a toolchain" >&2
fi

# The system prompt: wrapix's own text, then the project's specs index when it has one.
prompt=""
[ -f /etc/wrapix/system-prompt.md ] && prompt=$(cat /etc/wrapix/system-prompt.md)
if [ -f /workspace/specs/README.md ]; then
    prompt="$prompt

# Project specs (specs/README.md)

$(cat /workspace/specs/README.md)"
fi

# --- sessions (s16-core) -----------------------------------------------------------
# [session] setup: one command per line, each quoted by wrapix (shlex.join, POSIX
# quoting), run in the workspace before the agent starts. Output goes to the sandbox's
# log; a failure is said and ends the sandbox (exit 3): the agent never starts on a
# half-prepared tree.
if [ -n "${WRAPIX_SESSION_SETUP:-}" ]; then
    while IFS= read -r wrapix_setup; do
        [ -n "$wrapix_setup" ] || continue
        echo "wrapix: setup: $wrapix_setup"
        if ! (eval "set -- $wrapix_setup"; cd /workspace && "$@" </dev/null); then
            echo "wrapix: setup failed: $wrapix_setup (see the output above); the agent was not started" >&2
            exit 3
        fi
    done <<< "$WRAPIX_SESSION_SETUP"
    echo "wrapix: setup done"
fi

# The interactive agent runs inside tmux (server -L wrapix, session "agent") when
# WRAPIX_AGENT_TMUX=1, so that `wrapix say` can type an instruction into it; no prefix
# key, no status line, the sandbox's exit status is the agent's. Without tmux (or
# without a terminal) the agent runs directly.
wrapix_agent() {
    if [ "${WRAPIX_AGENT_TMUX:-0}" = 1 ] && [ -t 0 ] && command -v tmux >/dev/null; then
        local conf="$HOME/.wrapix-tmux.conf" status="$HOME/.wrapix-agent-status"
        printf '%s\n' 'set -g prefix None' 'set -g prefix2 None' 'unbind-key -a' \
            'set -g status off' 'set -g escape-time 0' 'set -g remain-on-exit off' > "$conf"
        rm -f "$status"
        tmux -u -L wrapix -f "$conf" new-session -s agent -- \
            sh -c '"$@"; echo $? > "$0"' "$status" "$@"
        exit "$(cat "$status" 2>/dev/null || echo 1)"
    fi
    exec "$@"
}
# --- end of sessions (s16-core) ------------------------------------------------------

# An explicit command wins (Ralph's host-run steps pass the agent's argv this way).
if [ "$#" -gt 0 ]; then
    wrapix_agent "$@"
fi
if [ "${RALPH_MODE:-0}" = 1 ]; then
    # RALPH_ARGS was quoted by wrapix with shlex.join (POSIX quoting).
    eval "set -- ${RALPH_ARGS:-}"
    exec ralph "${RALPH_CMD:?RALPH_MODE=1 needs RALPH_CMD}" "$@"
fi
wrapix_agent claude --dangerously-skip-permissions --append-system-prompt "$prompt"
