#!/usr/bin/env bash
# Writes .build/postdesk-build-info.h with the git commit of this tree, for `postdesk --version`; the Makefile
# runs it before every build. The header is rewritten (and its C file touched, so that it is recompiled even if
# the header did not exist at the last build) only when the commit changed. Without git: "unknown".
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$(git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
header=.build/postdesk-build-info.h
line="#define POSTDESK_BUILD_COMMIT \"${commit//\"/}\""
mkdir -p .build
if [ "$(cat "$header" 2>/dev/null)" != "$line" ]; then
    printf '%s\n' "$line" > "$header"
    touch Sources/PostdeskBuildInfo/PostdeskBuildInfo.c
fi
