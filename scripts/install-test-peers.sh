#!/bin/bash
# Installs the real peers used by the integration tests and benchmarks (Debian 12, run as root):
# Postfix (with smtp-source/smtp-sink), Dovecot's IMAP, POP3 and LMTP servers (the mailboxes the
# poller's tests read), swaks, sqlite3, openssl, xmllint (libxml2-utils: the XML API's examples are validated
# against docs/xml-api/postdesk-transaction.xsd), CPython's email test data, and the aiosmtpd Python
# package. No stock mail service is configured for use or started: the tests run private instances
# of their own (Dovecot's package installs its stock /etc/dovecot, which the tests never read).
# It also creates the system user `postdesk` (as a package would), which the packaged-setup test runs the
# daemon as. With --bench it also installs fetchmail, the poller bench/poll.sh compares Postdesk's with, and wrk,
# the HTTP load generator of bench/api.sh, which no test needs.
# Idempotent: when everything is present it returns at once without touching apt or pip.
set -euo pipefail

packages=(postfix dovecot-imapd dovecot-pop3d dovecot-lmtpd swaks sqlite3 openssl libxml2-utils libpython3.11-testsuite
    python3-pip)
case ${1:-} in
--bench) packages=(fetchmail wrk "${packages[@]}") ;;
"") ;;
*)
    echo "usage: install-test-peers.sh [--bench]" >&2
    exit 2
    ;;
esac

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
# python3 -m pip may come from a non-Debian python (pyenv); then python3-pip is not needed.
if [ ${#missing[@]} -gt 0 ] && [ "${missing[-1]}" = python3-pip ] && python3 -m pip --version >/dev/null 2>&1; then
    unset 'missing[-1]'
fi

need_aiosmtpd=0
python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need_aiosmtpd=1

# The API tests check every response body against api/openapi.yaml with jsonschema (and PyYAML to read it), and
# fuzz the API from the spec with schemathesis.
need_jsonschema=0
python3 -c 'import jsonschema, yaml, schemathesis' >/dev/null 2>&1 || need_jsonschema=1

need_user=0
getent passwd postdesk >/dev/null || need_user=1

if [ ${#missing[@]} -eq 0 ] && [ $need_aiosmtpd -eq 0 ] && [ $need_jsonschema -eq 0 ] && [ $need_user -eq 0 ]; then
    echo "install-test-peers: all test peers already installed"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-peers: missing ${missing[*]:-} (aiosmtpd needed: $need_aiosmtpd, jsonschema needed: $need_jsonschema," \
        "postdesk user needed: $need_user); run as root" >&2
    exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # "No configuration": the package leaves /etc/postfix unconfigured, so no stock instance exists.
    debconf-set-selections <<'SEL'
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string localhost.localdomain
SEL
    # Keep maintainer scripts from starting any service while we install; a policy-rc.d the
    # image already has (Docker images ship one) is left as it is.
    policy=/usr/sbin/policy-rc.d
    own_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        own_policy=1
        trap '[ $own_policy -eq 1 ] && rm -f "$policy"' EXIT
    fi
    echo "install-test-peers: installing ${missing[*]}"
    if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
        apt-get update
        apt-get install -y --no-install-recommends "${missing[@]}"
    fi
fi

if [ $need_user -eq 1 ]; then
    echo "install-test-peers: creating the system user postdesk"
    useradd --system --user-group --home-dir /var/lib/postdesk --no-create-home --shell /usr/sbin/nologin \
        --comment "Postdesk helpdesk intake" postdesk
fi

if [ $need_aiosmtpd -eq 1 ]; then
    echo "install-test-peers: installing aiosmtpd for $(command -v python3)"
    # Debian's own python3 is "externally managed" (PEP 668); a pyenv/venv python is not.
    # Only the benchmark's Python peer needs it: a failure here must not stop the test suite.
    python3 -m pip install --quiet aiosmtpd ||
        python3 -m pip install --quiet --break-system-packages aiosmtpd ||
        echo "install-test-peers: WARNING: could not install aiosmtpd (bench/intake.sh's python peer needs it)" >&2
fi

if [ $need_jsonschema -eq 1 ]; then
    echo "install-test-peers: installing jsonschema, PyYAML and schemathesis for $(command -v python3)"
    python3 -m pip install --quiet jsonschema pyyaml 'schemathesis>=4.32,<5' ||
        python3 -m pip install --quiet --break-system-packages jsonschema pyyaml 'schemathesis>=4.32,<5'
fi
