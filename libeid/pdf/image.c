/*
 * PNG and JPEG pictures for signature appearances (see image.h).
 *
 * JPEG (ITU T.81): the markers are walked up to the first scan for the frame
 * header (SOF0, SOF1, SOF2) and an Adobe APP14 segment; the file must end
 * with EOI after the scan.  The bytes are embedded unchanged.
 *
 * PNG (ISO/IEC 15948): every chunk's CRC and order is checked, then the IDAT
 * data is inflated one row at a time, unfiltered, brought to 8 bits (palette
 * to RGB, tRNS and alpha channels to a soft mask) and deflated again as it
 * goes: memory holds two rows and the compressed results, never the whole
 * decoded image, and inflating stops at the size IHDR implies.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "image.h"

#define ZCHUNK 65536

static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static unsigned be16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* The limits on the size of a decoded image of @spp samples per pixel. */
static int check_size(const char *what, uint32_t w, uint32_t h, unsigned spp)
{
	if (w == 0 || h == 0)
		return eid_error__set(EID_EFORMAT, "%s: the image has no pixels (%lux%lu)", what, (unsigned long)w,
				      (unsigned long)h);
	if (w > PDF_IMAGE_MAX_DIM || h > PDF_IMAGE_MAX_DIM)
		return eid_error__set(EID_ETOOBIG, "%s: %lux%lu pixels is beyond the limit of %ux%u", what,
				      (unsigned long)w, (unsigned long)h, PDF_IMAGE_MAX_DIM, PDF_IMAGE_MAX_DIM);
	/* At most 10000 x 10000 x 4: no overflow in 64 bits. */
	if ((uint64_t)w * h * spp > PDF_IMAGE_MAX_SAMPLES)
		return eid_error__set(EID_ETOOBIG,
				      "%s: %lux%lu pixels of %u samples is beyond the limit of %u Mi samples", what,
				      (unsigned long)w, (unsigned long)h, spp, PDF_IMAGE_MAX_SAMPLES >> 20);
	return EID_OK;
}

/* ---- JPEG ---- */

static int jpeg_parse(pdf_image *img, const unsigned char *p, size_t len)
{
	size_t pos = 2, seglen, end;
	unsigned m, ncomp = 0;
	int adobe = 0, sof = 0, rc;

	for (;;) {
		const unsigned char *seg;

		while (pos + 1 < len && p[pos] == 0xff && p[pos + 1] == 0xff)
			pos++; /* fill bytes */
		if (len - pos < 2)
			return eid_error__set(EID_EFORMAT, "JPEG: the file ends before the image data");
		if (p[pos] != 0xff)
			return eid_error__set(EID_EFORMAT, "JPEG: no marker at offset %zu", pos);
		m = p[pos + 1];
		pos += 2;
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
			continue; /* stand-alone markers */
		if (m == 0x00 || m == 0xd8 || m == 0xd9)
			return eid_error__set(EID_EFORMAT, "JPEG: unexpected marker 0xff%02x before the image data", m);
		if (len - pos < 2)
			return eid_error__set(EID_EFORMAT, "JPEG: the file ends before the image data");
		seglen = be16(p + pos);
		if (seglen < 2 || seglen > len - pos)
			return eid_error__set(EID_EFORMAT, "JPEG: segment 0xff%02x at offset %zu is truncated", m,
					      pos - 2);
		seg = p + pos + 2;
		pos += seglen;
		if (m == 0xda)
			break; /* start of scan: the frame header comes before it */
		if (m == 0xee && seglen >= 14 && memcmp(seg, "Adobe", 5) == 0) {
			adobe = 1;
		} else if (m == 0xc0 || m == 0xc1 || m == 0xc2) {
			if (sof)
				return eid_error__set(EID_EFORMAT, "JPEG: more than one frame header");
			if (seglen < 8 || seglen < 8 + 3 * (size_t)seg[5])
				return eid_error__set(EID_EFORMAT, "JPEG: the frame header is too short");
			if (seg[0] != 8)
				return eid_error__set(EID_EUNSUPPORTED,
						      "JPEG: %u-bit samples are not supported (only 8-bit)", seg[0]);
			img->height = be16(seg + 1);
			img->width = be16(seg + 3);
			ncomp = seg[5];
			sof = 1;
		} else if (m >= 0xc3 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			return eid_error__set(EID_EUNSUPPORTED, "JPEG: %s images (SOF%u) are not supported, "
					      "only baseline and progressive",
					      m >= 0xc9 ? "arithmetic-coded" : "lossless or hierarchical", m - 0xc0);
		}
	}
	if (!sof)
		return eid_error__set(EID_EFORMAT, "JPEG: no frame header (SOF) before the scan");
	if (ncomp != 1 && ncomp != 3 && ncomp != 4)
		return eid_error__set(EID_EUNSUPPORTED, "JPEG: %u colour components are not supported (only 1, 3 or 4)",
				      ncomp);
	rc = check_size("JPEG", img->width, img->height, ncomp);
	if (rc < 0)
		return rc;
	/* Entropy-coded data never holds FF D9: without it after the scan header, the file is cut short. */
	for (end = len; end >= pos + 2; end--)
		if (p[end - 2] == 0xff && p[end - 1] == 0xd9)
			break;
	if (end < pos + 2)
		return eid_error__set(EID_EFORMAT, "JPEG: no end-of-image marker (the file is truncated)");
	img->color_space = ncomp == 1 ? "DeviceGray" : ncomp == 3 ? "DeviceRGB" : "DeviceCMYK";
	img->bpc = 8;
	img->filter = "DCTDecode";
	img->invert_cmyk = adobe && ncomp == 4;
	return eid_buf__append(&img->data, p, len);
}

/* ---- PNG ---- */

typedef struct png {
	uint32_t w, h;
	unsigned depth, ctype, ch; /* ch: samples per pixel in the file */
	unsigned char pal[768], trns[256]; /* trns: 255 beyond the tRNS entries */
	unsigned npal, ntrns;
	unsigned key[3]; /* tRNS colour key of types 0 and 2: 16-bit, or scaled to 8 bits like the samples */
	int has_key;
	eid_buf z; /* the IDAT chunks' data */
} png;

static int png_ihdr(png *g, const unsigned char *d, uint32_t n)
{
	static const unsigned char channels[7] = { 1, 0, 3, 1, 2, 0, 4 };
	unsigned depth, ctype;

	if (n != 13)
		return eid_error__set(EID_EFORMAT, "PNG: chunk 'IHDR' has a bad length (%lu)", (unsigned long)n);
	depth = d[8];
	ctype = d[9];
	if (ctype > 6 || channels[ctype] == 0)
		return eid_error__set(EID_EFORMAT, "PNG: unknown colour type %u", ctype);
	if ((depth != 1 && depth != 2 && depth != 4 && depth != 8 && depth != 16) || (ctype == 3 && depth > 8) ||
	    (ctype != 0 && ctype != 3 && depth < 8))
		return eid_error__set(EID_EFORMAT, "PNG: bit depth %u is invalid for colour type %u", depth, ctype);
	if (d[10] != 0 || d[11] != 0)
		return eid_error__set(EID_EFORMAT, "PNG: unknown compression or filter method");
	if (d[12] == 1)
		return eid_error__set(EID_EUNSUPPORTED,
				      "PNG: interlaced (Adam7) images are not supported; save it without interlacing");
	if (d[12] != 0)
		return eid_error__set(EID_EFORMAT, "PNG: unknown interlace method %u", d[12]);
	g->w = be32(d);
	g->h = be32(d + 4);
	g->depth = depth;
	g->ctype = ctype;
	g->ch = channels[ctype];
	return EID_OK;
}

static int png_trns(png *g, const unsigned char *d, uint32_t n)
{
	unsigned i;

	if (g->ctype == 3) {
		if (g->npal == 0)
			return eid_error__set(EID_EFORMAT, "PNG: chunk 'tRNS' comes before 'PLTE'");
		if (n > g->npal)
			return eid_error__set(EID_EFORMAT, "PNG: chunk 'tRNS' has more entries than the palette");
		memcpy(g->trns, d, n);
		g->ntrns = n;
	} else if (g->ctype == 0 || g->ctype == 2) {
		if (n != g->ch * 2)
			return eid_error__set(EID_EFORMAT, "PNG: chunk 'tRNS' has a bad length (%lu)",
					      (unsigned long)n);
		for (i = 0; i < g->ch; i++) {
			unsigned v = be16(d + 2 * i), max = (1u << g->depth) - 1;

			/* A key beyond the bit depth matches no pixel (256 is no 8-bit sample). */
			g->key[i] = g->depth == 16 ? v : v > max ? 256 : v * (255 / max);
		}
		g->has_key = 1;
	} /* else ignored: the image has an alpha channel */
	return EID_OK;
}

/* Walk the chunks: IHDR first, PLTE and tRNS before IDAT, IDAT consecutive, up to IEND. */
static int png_chunks(png *g, const unsigned char *p, size_t len)
{
	size_t pos = 8, n;
	int idat = 0; /* 1 in the run of IDAT chunks, 2 after it */
	int rc = EID_OK;

	for (n = 0;; n++) {
		const unsigned char *d;
		uint32_t clen;
		char t[5];
		unsigned i;

		if (pos == len)
			return eid_error__set(EID_EFORMAT, "PNG: no 'IEND' chunk (the file is truncated)");
		if (len - pos < 12)
			return eid_error__set(EID_EFORMAT, "PNG: truncated chunk at offset %zu", pos);
		clen = be32(p + pos);
		for (i = 0; i < 4; i++) {
			t[i] = (char)p[pos + 4 + i];
			if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
				return eid_error__set(EID_EFORMAT, "PNG: invalid chunk type at offset %zu", pos);
		}
		t[4] = '\0';
		if (clen > 0x7fffffffu)
			return eid_error__set(EID_EFORMAT, "PNG: chunk '%s' has a length beyond 2^31-1", t);
		if (clen > len - pos - 12)
			return eid_error__set(EID_EFORMAT, "PNG: chunk '%s' is truncated", t);
		d = p + pos + 8;
		if (crc32(crc32(0, Z_NULL, 0), p + pos + 4, (uInt)clen + 4) != be32(d + clen))
			return eid_error__set(EID_EFORMAT, "PNG: chunk '%s' has a bad CRC", t);
		pos += 12 + (size_t)clen;
		if ((n == 0) != (strcmp(t, "IHDR") == 0))
			return eid_error__set(EID_EFORMAT, n == 0 ? "PNG: the first chunk is not 'IHDR'"
								  : "PNG: more than one 'IHDR' chunk");
		if (idat == 1 && strcmp(t, "IDAT") != 0)
			idat = 2;
		if (strcmp(t, "IHDR") == 0) {
			rc = png_ihdr(g, d, clen);
		} else if (strcmp(t, "IDAT") == 0) {
			if (idat == 2)
				return eid_error__set(EID_EFORMAT, "PNG: the 'IDAT' chunks are not consecutive");
			idat = 1;
			rc = eid_buf__append(&g->z, d, clen);
		} else if (strcmp(t, "IEND") == 0) {
			break;
		} else if (strcmp(t, "PLTE") == 0 || strcmp(t, "tRNS") == 0) {
			if (idat)
				return eid_error__set(EID_EFORMAT, "PNG: chunk '%s' comes after the image data", t);
			if (t[0] == 't') {
				rc = png_trns(g, d, clen);
			} else if (g->npal != 0 || clen == 0 || clen % 3 != 0 || clen > 768) {
				rc = eid_error__set(EID_EFORMAT, "PNG: bad or repeated chunk 'PLTE'");
			} else {
				memcpy(g->pal, d, clen);
				g->npal = clen / 3;
			}
		} else if (!(t[0] & 0x20)) { /* lower case first letter: ancillary, skipped */
			return eid_error__set(EID_EFORMAT, "PNG: unknown critical chunk '%s'", t);
		}
		if (rc < 0)
			return rc;
	}
	if (!idat)
		return eid_error__set(EID_EFORMAT, "PNG: no 'IDAT' chunk");
	if (g->ctype == 3 && g->npal == 0)
		return eid_error__set(EID_EFORMAT, "PNG: a palette image without a 'PLTE' chunk");
	return EID_OK;
}

static unsigned paeth(unsigned a, unsigned b, unsigned c)
{
	int p = (int)a + (int)b - (int)c, pa = abs(p - (int)a), pb = abs(p - (int)b), pc = abs(p - (int)c);

	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/*
 * Undo the filter of row @y (@cur: filter byte, then @n bytes; @prev the row
 * before, zeros for the first), then bring its samples to 8 bits in @tmp
 * (palette indices as they are) and set *@colour to the row's 8-bit colour
 * (@tmp, the row itself or @col) and @alp to its alpha.  Loops are kept
 * free of per-sample branches: a full-size image goes through here.
 */
static int png_row(const png *g, uint32_t y, unsigned char *cur, const unsigned char *prev, size_t n,
		   unsigned char *tmp, unsigned char *col, unsigned char *alp, const unsigned char **colour)
{
	size_t bpp = (g->ch * g->depth + 7) / 8, ns = (size_t)g->w * g->ch, i;
	unsigned char *r = cur + 1;
	const unsigned char *u = prev + 1, *s = r;
	unsigned nc = g->ctype & 2 ? 3 : 1, d = g->depth, max = (1u << d) - 1, mul = g->ctype == 3 ? 1 : 255 / max, c;
	uint32_t x;

	switch (cur[0]) {
	case 0:
		break;
	case 1:
		for (i = bpp; i < n; i++)
			r[i] = (unsigned char)(r[i] + r[i - bpp]);
		break;
	case 2:
		for (i = 0; i < n; i++)
			r[i] = (unsigned char)(r[i] + u[i]);
		break;
	case 3:
		for (i = 0; i < n; i++)
			r[i] = (unsigned char)(r[i] + ((i >= bpp ? r[i - bpp] : 0) + u[i]) / 2);
		break;
	case 4:
		for (i = 0; i < n; i++)
			r[i] = (unsigned char)(r[i] + paeth(i >= bpp ? r[i - bpp] : 0, u[i],
							    i >= bpp ? u[i - bpp] : 0));
		break;
	default:
		return eid_error__set(EID_EFORMAT, "PNG: unknown filter type %u in row %lu", cur[0],
				      (unsigned long)y);
	}
	if (d == 16) {
		for (i = 0; i < ns; i++)
			tmp[i] = r[2 * i]; /* the high byte */
		s = tmp;
	} else if (d < 8) {
		for (i = 0; i < ns; i++)
			tmp[i] = (unsigned char)(((r[i * d / 8] >> (8 - d - i * d % 8)) & max) * mul);
		s = tmp;
	}
	*colour = s;
	if (g->ctype == 3) {
		for (x = 0; x < g->w; x++) {
			if (s[x] >= g->npal)
				return eid_error__set(EID_EFORMAT,
						      "PNG: palette index %u is beyond the %u colours of 'PLTE'", s[x],
						      g->npal);
			memcpy(col + 3 * (size_t)x, g->pal + 3 * s[x], 3);
			alp[x] = g->trns[s[x]];
		}
		*colour = col;
	} else if (g->ctype & 4) {
		for (x = 0; x < g->w; x++) {
			memcpy(col + (size_t)x * nc, s + (size_t)x * g->ch, nc);
			alp[x] = s[(size_t)x * g->ch + nc];
		}
		*colour = col;
	} else if (g->has_key) {
		/* Compared at the file's depth: the 8-bit samples stand for it below 16 bits. */
		for (x = 0; x < g->w; x++) {
			unsigned match = 1;

			for (c = 0; c < nc; c++) {
				i = (size_t)x * nc + c;
				match &= (d == 16 ? (unsigned)r[2 * i] << 8 | r[2 * i + 1] : s[i]) == g->key[c];
			}
			alp[x] = match ? 0 : 255;
		}
	}
	return EID_OK;
}

/* Deflate @n bytes at @p onto @out; Z_FINISH ends the stream. */
static int zput(z_stream *zs, eid_buf *out, const unsigned char *p, size_t n, int flush)
{
	int zrc, rc;

	zs->next_in = (unsigned char *)p;
	zs->avail_in = (uInt)n;
	do {
		rc = eid_buf__reserve(out, ZCHUNK);
		if (rc < 0)
			return rc;
		zs->next_out = out->data + out->len;
		zs->avail_out = (uInt)(out->cap - out->len - 1);
		zrc = deflate(zs, flush);
		out->len = (size_t)(zs->next_out - out->data);
		if (zrc == Z_STREAM_ERROR)
			return eid_error__set(EID_EINTERNAL, "PNG: zlib compression failed");
	} while (zs->avail_out == 0 || zs->avail_in > 0 || (flush == Z_FINISH && zrc != Z_STREAM_END));
	return EID_OK;
}

static int png_decode(png *g, pdf_image *img)
{
	size_t n = ((size_t)g->w * g->ch * g->depth + 7) / 8; /* at most 10000 x 4 x 16 bits */
	unsigned nc = g->ctype & 2 ? 3 : 1;
	int has_alpha = (g->ctype & 4) || g->ntrns > 0 || g->has_key, opaque = 1, zrc, rc;
	unsigned char *mem, *prev, *cur, *tmp, *col, *alp, extra;
	const unsigned char *colour = NULL;
	z_stream in, zc, za;
	uint32_t y, i;

	rc = check_size("PNG", g->w, g->h, nc + (has_alpha ? 1 : 0));
	if (rc < 0)
		return rc;
	mem = calloc(1, 2 * (n + 1) + (size_t)g->w * (g->ch + nc + 1));
	if (mem == NULL)
		return eid_error__set(EID_ENOMEM, "PNG: out of memory");
	prev = mem;
	cur = mem + n + 1;
	tmp = cur + n + 1;
	col = tmp + (size_t)g->w * g->ch;
	alp = col + (size_t)g->w * nc;
	/* Zeroed streams: inflateEnd() and deflateEnd() are harmless on those never initialised. */
	memset(&in, 0, sizeof(in));
	memset(&zc, 0, sizeof(zc));
	memset(&za, 0, sizeof(za));
	if (inflateInit(&in) != Z_OK || deflateInit(&zc, Z_DEFAULT_COMPRESSION) != Z_OK ||
	    (has_alpha && deflateInit(&za, Z_DEFAULT_COMPRESSION) != Z_OK)) {
		rc = eid_error__set(EID_ENOMEM, "PNG: zlib initialisation failed");
		goto out_end;
	}
	in.next_in = g->z.data;
	in.avail_in = (uInt)g->z.len;
	for (y = 0; y < g->h && rc == EID_OK; y++) {
		unsigned char *t;

		in.next_out = cur;
		in.avail_out = (uInt)(n + 1);
		zrc = inflate(&in, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END && zrc != Z_BUF_ERROR)
			rc = eid_error__set(EID_EFORMAT, "PNG: corrupt image data (%s)",
				    in.msg ? in.msg : "zlib error");
		else if (in.avail_out != 0)
			rc = eid_error__set(EID_EFORMAT, "PNG: the image data ends after %lu of %lu rows",
					    (unsigned long)y, (unsigned long)g->h);
		else
			rc = png_row(g, y, cur, prev, n, tmp, col, alp, &colour);
		if (rc == EID_OK)
			rc = zput(&zc, &img->data, colour, (size_t)g->w * nc, Z_NO_FLUSH);
		if (rc == EID_OK && has_alpha) {
			for (i = 0; i < g->w && opaque; i++)
				opaque = alp[i] == 255;
			rc = zput(&za, &img->alpha, alp, g->w, Z_NO_FLUSH);
		}
		t = prev;
		prev = cur;
		cur = t;
	}
	if (rc < 0)
		goto out_end;
	/* Nothing but the end of the zlib stream may follow the last row. */
	in.next_out = &extra;
	in.avail_out = 1;
	zrc = inflate(&in, Z_NO_FLUSH);
	if (in.avail_out == 0)
		rc = eid_error__set(EID_EFORMAT, "PNG: there is more image data than 'IHDR' implies");
	else if (zrc == Z_BUF_ERROR)
		rc = eid_error__set(EID_EFORMAT, "PNG: the image data ends before the end of its zlib stream");
	else if (zrc != Z_STREAM_END)
		rc = eid_error__set(EID_EFORMAT, "PNG: corrupt image data (%s)",
				    in.msg ? in.msg : "zlib error");
	if (rc == EID_OK)
		rc = zput(&zc, &img->data, NULL, 0, Z_FINISH);
	if (rc == EID_OK && has_alpha && !opaque)
		rc = zput(&za, &img->alpha, NULL, 0, Z_FINISH);
	else
		eid_buf_clear(&img->alpha);
	img->width = g->w;
	img->height = g->h;
	img->color_space = nc == 1 ? "DeviceGray" : "DeviceRGB";
	img->bpc = 8;
	img->filter = "FlateDecode";
out_end:
	inflateEnd(&in);
	deflateEnd(&zc);
	deflateEnd(&za);
	free(mem);
	return rc;
}

static int png_parse(pdf_image *img, const unsigned char *p, size_t len)
{
	png g;
	int rc;

	memset(&g, 0, sizeof(g));
	memset(g.trns, 255, sizeof(g.trns));
	rc = png_chunks(&g, p, len);
	if (rc == EID_OK)
		rc = png_decode(&g, img);
	eid_buf_clear(&g.z);
	return rc;
}

/* ---- interface ---- */

int pdf_image_parse(pdf_image *img, const unsigned char *p, size_t len)
{
	int rc;

	if (img == NULL || (p == NULL && len > 0))
		return eid_error__set(EID_EINVAL, "pdf_image_parse: NULL argument");
	memset(img, 0, sizeof(*img));
	if (len > PDF_IMAGE_MAX_FILE)
		return eid_error__set(EID_ETOOBIG, "image: the file is larger than %u bytes", PDF_IMAGE_MAX_FILE);
	if (len >= 8 && memcmp(p, png_sig, 8) == 0)
		rc = png_parse(img, p, len);
	else if (len >= 2 && p[0] == 0xff && p[1] == 0xd8)
		rc = jpeg_parse(img, p, len);
	else
		rc = eid_error__set(EID_EUNSUPPORTED, "image: not a PNG or JPEG file");
	if (rc < 0)
		pdf_image_clear(img);
	return rc;
}

int pdf_image_load(pdf_image *img, const char *path)
{
	eid_buf file = EID_BUF_INIT;
	int rc;

	if (img == NULL)
		return eid_error__set(EID_EINVAL, "pdf_image_load: NULL argument");
	memset(img, 0, sizeof(*img));
	rc = eid_io__read_file(path, PDF_IMAGE_MAX_FILE, &file);
	if (rc == EID_OK && (rc = pdf_image_parse(img, file.data, file.len)) < 0)
		eid_error__wrap("'%s'", path);
	eid_buf_clear(&file);
	return rc;
}

void pdf_image_clear(pdf_image *img)
{
	if (img == NULL)
		return;
	eid_buf_clear(&img->data);
	eid_buf_clear(&img->alpha);
	memset(img, 0, sizeof(*img));
}
