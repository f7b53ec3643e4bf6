/*
 * Internal interface of the XML layer: libxml2 hardened for hostile input,
 * canonicalization streamed into a digest, and Id resolution that refuses
 * ambiguity.
 *
 * Parsing never touches the network, never loads or keeps a DTD (a document
 * with a DOCTYPE is refused: no entity can be declared, so none can be
 * expanded), and is bounded in size (EID_XML_MAX_SIZE) and nesting (libxml2's
 * own limit of 256 levels, which XML_PARSE_HUGE would lift and is never set).
 */
#ifndef EID_INTERNAL_XML_H
#define EID_INTERNAL_XML_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "../common/common.h"

#define EID_XML_MAX_SIZE (256u << 20) /* bytes of one XML document */
#define EID_XML_MAX_IDS 1000000       /* Id attributes in one document */

#define EID_NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define EID_NS_XADES "http://uri.etsi.org/01903/v1.3.2#"
#define EID_NS_XADES141 "http://uri.etsi.org/01903/v1.4.1#"

/* Initialize libxml2 once (every entry point of the layer calls it). */
void eid_xml__init(void);
/* The SAX hook for a DOCTYPE: stops the parser and sets the int that ctxt->_private points at. */
void eid_xml__refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id, const xmlChar *system_id);
/* EID_EFORMAT naming @what and libxml2's last error (line and message). */
int eid_xml__parse_error(xmlParserCtxtPtr ctxt, const char *what);

/* Parse @len bytes at @p; @what names the document in messages.  Free with xmlFreeDoc. */
int eid_xml__parse(xmlDocPtr *out, const void *p, size_t len, const char *what);
/* The same for a regular file (at most EID_XML_MAX_SIZE bytes), read as a stream: never held whole in memory. */
int eid_xml__parse_file(xmlDocPtr *out, const char *path);

/* Canonicalization methods (the values of libxml2's xmlC14NMode). */
typedef enum eid_c14n {
	EID_C14N_10 = 0,  /* http://www.w3.org/TR/2001/REC-xml-c14n-20010315 */
	EID_C14N_EXC = 1, /* http://www.w3.org/2001/10/xml-exc-c14n# */
	EID_C14N_11 = 2   /* http://www.w3.org/2006/12/xml-c14n11 */
} eid_c14n;

/* The method named by a CanonicalizationMethod or Transform URI: EID_OK, or EID_EUNSUPPORTED. */
int eid_xml__c14n_from_uri(const char *uri, eid_c14n *mode, int *comments);
const char *eid_xml__c14n_uri(eid_c14n mode, int comments);

/*
 * Canonicalize the subtree of @node (NULL: the whole document), leaving out
 * the subtree of @exclude (the enveloped-signature transform; may be NULL),
 * into @md (updated, not finalized) or, when @md is NULL, into @out.
 * @inclusive_prefixes: the exclusive method's InclusiveNamespaces PrefixList,
 * NULL-terminated, or NULL.
 */
int eid_xml__c14n(xmlDocPtr doc, xmlNodePtr node, xmlNodePtr exclude, eid_c14n mode, int comments,
		  const char *const *inclusive_prefixes, EVP_MD_CTX *md, eid_buf *out);

/*
 * The element whose Id (or ID, or id) attribute is @id.  Every such value in
 * the document must be unique: a duplicate anywhere is EID_EFORMAT (it could
 * make a reference point at one element and a reader at another).  Not found:
 * EID_ENOTFOUND.
 */
int eid_xml__find_id(xmlDocPtr doc, const char *id, xmlNodePtr *out);
/* Check that no Id value occurs twice in the document. */
int eid_xml__ids_unique(xmlDocPtr doc);

/* ---- streaming (stream.c): documents read from their file in chunks, never held as a tree ---- */

typedef struct eid_xml_file_info {
	uint64_t size;            /* bytes in the file */
	uint64_t root_end;        /* offset just past the root element's end tag, or its "/>" */
	int utf8;                 /* the bytes are UTF-8 as read (no encoding conversion) */
	long signatures;          /* outermost ds:Signature elements */
	char root_qname[512];     /* the root element's qualified name */
	unsigned char sha256[32]; /* of the file's bytes */
} eid_xml_file_info;

/*
 * Canonicalize the document in the file @path as the same-document reference
 * "" selects it (the whole document, without comments), leaving out its
 * @skip-th outermost ds:Signature (document order, from 0; -1: none) as the
 * enveloped-signature transform does, into @md (updated, not finalized).
 * A duplicate Id anywhere is EID_EFORMAT.  @info (may be NULL) receives the
 * facts needed to splice a signature into the file's bytes.
 */
int eid_xml__c14n_file(const char *path, long skip, eid_c14n mode, const char *const *inclusive_prefixes,
		       EVP_MD_CTX *md, eid_xml_file_info *info);

/*
 * Parse the file @path into a skeleton: every outermost ds:Signature whole,
 * and the elements that enclose one with their names, namespace declarations
 * and xml:* attributes (no other attribute, no text).  @dup_id (may be NULL)
 * receives the first Id value that occurs twice anywhere in the document
 * (xmlFree it), or NULL.
 */
int eid_xml__parse_signatures(xmlDocPtr *out, const char *path, char **dup_id);

/* The first child element of @parent named @name in namespace @ns (NULL: any), or NULL. */
xmlNodePtr eid_xml__child(xmlNodePtr parent, const char *ns, const char *name);
/* Is @n an element named @name in namespace @ns? */
int eid_xml__is(const xmlNode *n, const char *ns, const char *name);
/*
 * Percent-encode @s for a relative URI reference (RFC 3986): unreserved
 * characters and '/' kept, every other byte as %XX.  @out is replaced and
 * NUL-terminated.
 */
int eid_xml__uri_encode(const char *s, eid_buf *out);
/* Base64 text (whitespace allowed, nothing else) into bytes. */
int eid_xml__b64_decode(const char *text, eid_buf *out);
/* Bytes into base64 without line breaks. */
int eid_xml__b64_encode(const unsigned char *p, size_t len, eid_buf *out);

/* The first element child of @n, the next element sibling of @n (NULL when none or @n is NULL). */
xmlNodePtr eid_xml__first_element(xmlNodePtr n);
xmlNodePtr eid_xml__next_element(xmlNodePtr n);
/* Whether @a is @n or one of its ancestors. */
int eid_xml__is_ancestor(xmlNodePtr a, xmlNodePtr n);

/*
 * The text of a value element when it holds text only (no comment, PI or
 * element in it, so every reader of the document sees the same value);
 * NULL otherwise.  Freed with xmlFree().
 */
char *eid_xml__text_of(xmlNodePtr n);

#endif
