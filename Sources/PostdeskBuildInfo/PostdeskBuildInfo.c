#include "PostdeskBuildInfo.h"

// `make` (scripts/build-info.sh) writes .build/postdesk-build-info.h with the commit before it builds; a plain
// `swift build`, or a tree without git, has no such file and says "unknown". The path is relative to this file.
#if __has_include("../../.build/postdesk-build-info.h")
#include "../../.build/postdesk-build-info.h"
#endif

#ifndef POSTDESK_BUILD_COMMIT
#define POSTDESK_BUILD_COMMIT "unknown"
#endif

const char *postdesk_build_commit(void) { return POSTDESK_BUILD_COMMIT; }
