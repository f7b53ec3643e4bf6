/*
 * Internal interface between the PDF tokenizer (lexer.c) and the file reader
 * (xref.c), object.c: parsing over a memory window that may be only a part
 * of the file.  Not used outside libeid/pdf/.
 */
#ifndef EID_INTERNAL_PDF_LEXER_H
#define EID_INTERNAL_PDF_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "pdf.h"

typedef struct pdf_lex {
	const unsigned char *p;
	size_t len;
	size_t pos;
	int partial;   /* the buffer is a window that may continue in the file */
	int need_more; /* set when parsing failed at the end of a partial window */
} pdf_lex;

void pdf_lex__init(pdf_lex *lx, const unsigned char *p, size_t len, int partial);
/* Skip whitespace and comments. */
void pdf_lex__skip_ws(pdf_lex *lx);
/* One object (an "N G R" reference included). */
int pdf_lex__object(pdf_lex *lx, pdf_obj **out);
/* If the next token is the keyword @kw, consume it and return 1; else 0. */
int pdf_lex__keyword(pdf_lex *lx, const char *kw);
/* An unsigned integer token (at most 20 digits); 0 or EID_EFORMAT. */
int pdf_lex__uint(pdf_lex *lx, uint64_t *out);
/*
 * "N G obj <object> [stream]" at the current position; @base is the file
 * offset of the window's first byte.  A stream comes back as a PDF_STREAM
 * whose offset is the first data byte (after "stream" and CRLF or LF) and
 * whose length is /Length when it is a direct non-negative integer, else 0
 * (the caller resolves it).
 */
int pdf_lex__indirect(pdf_lex *lx, uint64_t base, pdf_ref *ref, pdf_obj **out);
/* Parse a PDF real or integer from @s..@len (no exponent); 0 or EID_EFORMAT. */
int pdf_lex__number(const char *s, size_t len, double *out);
/* PDF character classes. */
int pdf_lex__is_ws(int c);
int pdf_lex__is_delim(int c);

#endif
