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

// The reader's options: no network, and from libxml2 2.13 on (which added it) no external entities at all.
// Never XML_PARSE_NOENT, DTDLOAD, DTDATTR, DTDVALID, XINCLUDE or HUGE.
static inline int postdesk_xml_reader_options(void) {
#if LIBXML_VERSION >= 21300
    return XML_PARSE_NONET | XML_PARSE_NO_XXE;
#else
    return XML_PARSE_NONET;
#endif
}

#endif
