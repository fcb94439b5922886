#!/bin/sh
# The report test opens the HTML report in headless Chromium. Debian's package provides it; install
# it when it is missing and we are allowed to (root), otherwise say how.
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the report test..." >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || {
    echo "could not install chromium; the report test will fail" >&2; exit 0; }
else
  echo "chromium is not installed: run 'apt-get install -y chromium' (as root) for the report test" >&2
fi
