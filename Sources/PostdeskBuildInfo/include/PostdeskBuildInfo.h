#ifndef POSTDESK_BUILD_INFO_H
#define POSTDESK_BUILD_INFO_H

/// The git commit this binary was built from (`git describe --always --dirty`), or "unknown" when it was built
/// without `make` or outside a git checkout.
const char *postdesk_build_commit(void);

#endif
