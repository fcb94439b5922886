#!/bin/sh
# The queue tests start their own redis-server (a free loopback port, a temporary directory, no
# persistence). Debian's package provides it; install it when it is missing and we are allowed to
# (root), otherwise say how — the queue tests then skip with the same advice.
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's redis-server for the queue tests..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) || {
    echo "could not install redis-server; the queue tests will be skipped" >&2; exit 0; }
  # The package starts a system service; the tests never use it.
  (command -v systemctl >/dev/null 2>&1 && systemctl disable --now redis-server >/dev/null 2>&1) || true
else
  echo "redis-server is not installed: run 'apt-get install -y redis-server' (as root) for the queue tests" >&2
fi
