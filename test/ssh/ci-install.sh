#!/usr/bin/env bash
# Installs what the ssh suite needs: Debian's sshd (started by the tests on
# 127.0.0.1 high ports, never as a system service), the client and sudo (for
# `become` nodes). Idempotent; called by .ci/run.
set -euo pipefail

missing=()
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
command -v ssh >/dev/null || missing+=(openssh-client)
command -v sudo >/dev/null || missing+=(sudo)
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d 101: do not start the system sshd that the package would enable.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# sshd's privilege separation directory (normally made by the service unit).
mkdir -p /run/sshd
