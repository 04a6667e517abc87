// The parts of libxml2 that XMLTransactions uses: the streaming reader (xmlTextReader), the parser's options
// and global initialisation. Include paths come from pkg-config (libxml-2.0).
#ifndef POSTDESK_CLIBXML2_H
#define POSTDESK_CLIBXML2_H

#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, and <libxml/encoding.h> then includes the system ICU's <unicode/ucnv.h>,
// whose UErrorCode clashes with Foundation's bundled ICU in any module importing both. Only the layout of
// xmlCharEncodingHandler (its uconv_in/uconv_out members) depends on it, a type we never touch.
#undef LIBXML_ICU_ENABLED

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#endif
