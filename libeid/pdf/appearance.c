/*
 * The appearance of a visible signature.
 *
 * The text is set in Helvetica, one of the standard fonts every reader has,
 * so nothing is embedded.  ASCII keeps its own codes; every other character
 * the text uses gets a code from 128 up, named in the font's /Differences by
 * its Adobe glyph name (Jérôme -> /eacute /ocircumflex, Łukasz -> /Lslash).
 * Latin-1 and Latin Extended-A are covered, which spans the names on the EU's
 * national ID cards written in Latin script; anything else becomes '?'.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appearance.h"

/* Adobe glyph names for U+00A0..U+017F. */
static const char *const glyphs_a0[] = {
	"space", "exclamdown", "cent", "sterling", "currency", "yen", "brokenbar", "section", "dieresis",
	"copyright", "ordfeminine", "guillemotleft", "logicalnot", "hyphen", "registered", "macron", "degree",
	"plusminus", "twosuperior", "threesuperior", "acute", "mu", "paragraph", "periodcentered", "cedilla",
	"onesuperior", "ordmasculine", "guillemotright", "onequarter", "onehalf", "threequarters",
	"questiondown", "Agrave", "Aacute", "Acircumflex", "Atilde", "Adieresis", "Aring", "AE", "Ccedilla",
	"Egrave", "Eacute", "Ecircumflex", "Edieresis", "Igrave", "Iacute", "Icircumflex", "Idieresis", "Eth",
	"Ntilde", "Ograve", "Oacute", "Ocircumflex", "Otilde", "Odieresis", "multiply", "Oslash", "Ugrave",
	"Uacute", "Ucircumflex", "Udieresis", "Yacute", "Thorn", "germandbls", "agrave", "aacute",
	"acircumflex", "atilde", "adieresis", "aring", "ae", "ccedilla", "egrave", "eacute", "ecircumflex",
	"edieresis", "igrave", "iacute", "icircumflex", "idieresis", "eth", "ntilde", "ograve", "oacute",
	"ocircumflex", "otilde", "odieresis", "divide", "oslash", "ugrave", "uacute", "ucircumflex",
	"udieresis", "yacute", "thorn", "ydieresis",
	/* U+0100 */
	"Amacron", "amacron", "Abreve", "abreve", "Aogonek", "aogonek", "Cacute", "cacute", "Ccircumflex",
	"ccircumflex", "Cdotaccent", "cdotaccent", "Ccaron", "ccaron", "Dcaron", "dcaron", "Dcroat", "dcroat",
	"Emacron", "emacron", "Ebreve", "ebreve", "Edotaccent", "edotaccent", "Eogonek", "eogonek", "Ecaron",
	"ecaron", "Gcircumflex", "gcircumflex", "Gbreve", "gbreve", "Gdotaccent", "gdotaccent", "Gcommaaccent",
	"gcommaaccent", "Hcircumflex", "hcircumflex", "Hbar", "hbar", "Itilde", "itilde", "Imacron", "imacron",
	"Ibreve", "ibreve", "Iogonek", "iogonek", "Idotaccent", "dotlessi", "IJ", "ij", "Jcircumflex",
	"jcircumflex", "Kcommaaccent", "kcommaaccent", "kgreenlandic", "Lacute", "lacute", "Lcommaaccent",
	"lcommaaccent", "Lcaron", "lcaron", "Ldot", "ldot", "Lslash", "lslash", "Nacute", "nacute",
	"Ncommaaccent", "ncommaaccent", "Ncaron", "ncaron", "napostrophe", "Eng", "eng", "Omacron", "omacron",
	"Obreve", "obreve", "Ohungarumlaut", "ohungarumlaut", "OE", "oe", "Racute", "racute", "Rcommaaccent",
	"rcommaaccent", "Rcaron", "rcaron", "Sacute", "sacute", "Scircumflex", "scircumflex", "Scedilla",
	"scedilla", "Scaron", "scaron", "Tcommaaccent", "tcommaaccent", "Tcaron", "tcaron", "Tbar", "tbar",
	"Utilde", "utilde", "Umacron", "umacron", "Ubreve", "ubreve", "Uring", "uring", "Uhungarumlaut",
	"uhungarumlaut", "Uogonek", "uogonek", "Wcircumflex", "wcircumflex", "Ycircumflex", "ycircumflex",
	"Ydieresis", "Zacute", "zacute", "Zdotaccent", "zdotaccent", "Zcaron", "zcaron", "longs",
};

/* Helvetica advance widths (1/1000 em) for ASCII 32..126. */
static const unsigned short helv[95] = {
	278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556,
	556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778,
	722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278,
	278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
	556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
};

typedef struct encoding {
	uint32_t cp[128];          /* code point of codes 128.. */
	size_t n;
} encoding;

static uint32_t next_cp(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t cp;
	int extra;

	if (p[0] < 0x80) { cp = p[0]; extra = 0; }
	else if ((p[0] & 0xe0) == 0xc0) { cp = p[0] & 0x1f; extra = 1; }
	else if ((p[0] & 0xf0) == 0xe0) { cp = p[0] & 0x0f; extra = 2; }
	else if ((p[0] & 0xf8) == 0xf0) { cp = p[0] & 0x07; extra = 3; }
	else { *s = p + 1; return 0xfffd; }
	p++;
	while (extra-- > 0) {
		if ((*p & 0xc0) != 0x80) { *s = p; return 0xfffd; }
		cp = (cp << 6) | (*p++ & 0x3f);
	}
	*s = p;
	return cp;
}

static const char *glyph_name(uint32_t cp)
{
	if (cp >= 0xa0 && cp <= 0x17f)
		return glyphs_a0[cp - 0xa0];
	switch (cp) {
	case 0x2013: return "endash";
	case 0x2014: return "emdash";
	case 0x2018: return "quoteleft";
	case 0x2019: return "quoteright";
	case 0x201c: return "quotedblleft";
	case 0x201d: return "quotedblright";
	case 0x2022: return "bullet";
	case 0x2026: return "ellipsis";
	case 0x20ac: return "Euro";
	default: return NULL;
	}
}

/* The code for @cp (adding it to the encoding), or '?' when it has no glyph. */
static int code_of(encoding *e, uint32_t cp)
{
	size_t i;

	if (cp >= 32 && cp < 127)
		return (int)cp;
	if (glyph_name(cp) == NULL)
		return '?';
	for (i = 0; i < e->n; i++)
		if (e->cp[i] == cp)
			return (int)(128 + i);
	if (e->n == 128)
		return '?';
	e->cp[e->n] = cp;
	return (int)(128 + e->n++);
}

/* Width in 1/1000 em of a character: Helvetica's, or that of its base letter. */
static unsigned width_of(uint32_t cp)
{
	const char *g;

	if (cp >= 32 && cp < 127)
		return helv[cp - 32];
	g = glyph_name(cp);
	if (g != NULL && ((g[0] >= 'A' && g[0] <= 'Z') || (g[0] >= 'a' && g[0] <= 'z')) &&
	    strcmp(g, "AE") != 0 && strcmp(g, "OE") != 0)
		return helv[(unsigned char)g[0] - 32];
	return 556;
}

static double line_width(const char *utf8)
{
	const unsigned char *s = (const unsigned char *)utf8;
	double w = 0;

	while (*s)
		w += width_of(next_cp(&s));
	return w / 1000.0;
}

/* The line as a PDF string in the font's encoding: "(...)". */
static int show_line(encoding *e, const char *utf8, eid_buf *out)
{
	const unsigned char *s = (const unsigned char *)utf8;
	int rc = eid_buf__puts(out, "(");

	while (*s && rc == EID_OK) {
		int c = code_of(e, next_cp(&s));

		if (c == '(' || c == ')' || c == '\\')
			rc = eid_buf__printf(out, "\\%c", c);
		else if (c >= 32 && c < 127)
			rc = eid_buf__printf(out, "%c", c);
		else
			rc = eid_buf__printf(out, "\\%03o", c);
	}
	return rc == EID_OK ? eid_buf__puts(out, ") Tj\n") : rc;
}

int eid_pdf__appearance(const char *const *lines, size_t nlines, double w, double h, const double *image,
			eid_buf *content, pdf_obj **font)
{
	encoding e;
	pdf_obj *f = NULL, *enc = NULL, *diff = NULL;
	double size, widest = 0, pad, lead, y, left;
	size_t i;
	int rc;

	*font = NULL;
	memset(&e, 0, sizeof(e));
	if (nlines == 0 || w < 4 || h < 4)
		return eid_error__set(EID_EINVAL, "a visible signature needs a box of at least 4 x 4 points");
	for (i = 0; i < nlines; i++)
		if (line_width(lines[i]) > widest)
			widest = line_width(lines[i]);
	/* The text starts right of the picture, if any. */
	pad = w > 40 && h > 20 ? 4 : 1;
	left = image != NULL ? image[0] + image[2] : 0;
	/* The largest size that fits, within 4..12 points; the box clips what still overflows. */
	size = (h - 2 * pad) / ((double)nlines * 1.2);
	if (widest > 0 && (w - left - 2 * pad) / widest < size)
		size = (w - left - 2 * pad) / widest;
	size = size > 12 ? 12 : size < 4 ? 4 : size;
	lead = size * 1.2;
	y = h - pad - size;
	content->len = 0;
	rc = eid_buf__printf(content,
			     "q\n0.94 0.96 1 rg 0 0 %.2f %.2f re f\n0.1 0.2 0.55 RG 1 w 0.5 0.5 %.2f %.2f re S\nQ\n",
			     w, h, w - 1, h - 1);
	if (rc == EID_OK && image != NULL)
		rc = eid_buf__printf(content, "q\n%.2f 0 0 %.2f %.2f %.2f cm\n/Im1 Do\nQ\n", image[2], image[3], image[0],
				     image[1]);
	if (rc == EID_OK)
		rc = eid_buf__printf(content, "q\n1 1 %.2f %.2f re W n\nBT\n/F1 %.2f Tf\n0.05 0.1 0.3 rg\n%.2f %.2f Td\n",
				     w - 2, h - 2, size, left + pad + 1, y);
	for (i = 0; i < nlines && rc == EID_OK; i++) {
		if (i > 0)
			rc = eid_buf__printf(content, "0 %.2f Td\n", -lead);
		if (rc == EID_OK)
			rc = show_line(&e, lines[i], content);
	}
	if (rc == EID_OK)
		rc = eid_buf__puts(content, "ET\nQ\n");
	if (rc < 0)
		return rc;

	f = pdf_obj_new(PDF_DICT);
	enc = pdf_obj_new(PDF_DICT);
	diff = pdf_obj_new(PDF_ARRAY);
	if (f == NULL || enc == NULL || diff == NULL) {
		rc = EID_ENOMEM;
		goto fail;
	}
	rc = pdf_array_push(diff, pdf_int_new(128));
	for (i = 0; i < e.n && rc == EID_OK; i++)
		rc = pdf_array_push(diff, pdf_name_new(glyph_name(e.cp[i])));
	if (rc == EID_OK) rc = pdf_dict_set(enc, "Type", pdf_name_new("Encoding"));
	if (rc == EID_OK) rc = pdf_dict_set(enc, "BaseEncoding", pdf_name_new("WinAnsiEncoding"));
	if (rc == EID_OK) {
		rc = pdf_dict_set(enc, "Differences", diff); /* takes diff, also on failure */
		diff = NULL;
	}
	if (rc == EID_OK) rc = pdf_dict_set(f, "Type", pdf_name_new("Font"));
	if (rc == EID_OK) rc = pdf_dict_set(f, "Subtype", pdf_name_new("Type1"));
	if (rc == EID_OK) rc = pdf_dict_set(f, "BaseFont", pdf_name_new("Helvetica"));
	if (rc == EID_OK) {
		rc = pdf_dict_set(f, "Encoding", enc);
		enc = NULL;
	}
	if (rc < 0)
		goto fail;
	*font = f;
	return EID_OK;
fail:
	pdf_obj_free(diff);
	pdf_obj_free(enc);
	pdf_obj_free(f);
	return rc;
}
