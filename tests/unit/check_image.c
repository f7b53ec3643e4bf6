/*
 * Unit tests of libeid/pdf/image.c: PNGs built here with zlib (every colour
 * type, bit depths 1 to 16, palettes and tRNS, the five row filters, split
 * IDAT) decoded and compared sample by sample; a small real JPEG and header
 * variants spliced from it; hostile files (truncated at every length, bad
 * CRCs, huge or overflowing dimensions, wrong amounts of image data, unknown
 * critical chunks, unsupported variants).
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <zlib.h>

#include "common/common.h"
#include "pdf/image.h"
#include "unit.h"

/* An 8x8 baseline RGB JPEG (pdftoppm -jpeg): SOI APP0 DQT DQT SOF0 DHT*4 SOS ... EOI. */
static const unsigned char jpeg_rgb[] = {
	0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x01, 0x00, 0x48,
	0x00, 0x48, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x43, 0x00, 0x1b, 0x12, 0x14, 0x17, 0x14, 0x11, 0x1b,
	0x17, 0x16, 0x17, 0x1e, 0x1c, 0x1b, 0x20, 0x28, 0x42, 0x2b, 0x28, 0x25, 0x25, 0x28, 0x51, 0x3a,
	0x3d, 0x30, 0x42, 0x60, 0x55, 0x65, 0x64, 0x5f, 0x55, 0x5d, 0x5b, 0x6a, 0x78, 0x99, 0x81, 0x6a,
	0x71, 0x90, 0x73, 0x5b, 0x5d, 0x85, 0xb5, 0x86, 0x90, 0x9e, 0xa3, 0xab, 0xad, 0xab, 0x67, 0x80,
	0xbc, 0xc9, 0xba, 0xa6, 0xc7, 0x99, 0xa8, 0xab, 0xa4, 0xff, 0xdb, 0x00, 0x43, 0x01, 0x1c, 0x1e,
	0x1e, 0x28, 0x23, 0x28, 0x4e, 0x2b, 0x2b, 0x4e, 0xa4, 0x6e, 0x5d, 0x6e, 0xa4, 0xa4, 0xa4, 0xa4,
	0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4,
	0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4,
	0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xa4, 0xff, 0xc0,
	0x00, 0x11, 0x08, 0x00, 0x08, 0x00, 0x08, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11,
	0x01, 0xff, 0xc4, 0x00, 0x1f, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
	0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05,
	0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21,
	0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23,
	0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a,
	0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a,
	0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
	0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99,
	0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5,
	0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1,
	0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xff, 0xc4, 0x00, 0x1f, 0x01, 0x00, 0x03,
	0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0xff, 0xc4, 0x00, 0xb5, 0x11, 0x00,
	0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02, 0x77, 0x00,
	0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13,
	0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15,
	0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27,
	0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
	0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
	0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
	0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
	0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4,
	0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2,
	0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
	0xfa, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0x8a,
	0x28, 0xa2, 0xbf, 0x09, 0x3f, 0xde, 0x8f, 0xff, 0xd9,
};

/* ---- helpers ---- */

static void put(eid_buf *b, const void *p, size_t n)
{
	ck_assert_int_eq(eid_buf__append(b, p, n), EID_OK);
}

static void put32(eid_buf *b, uint32_t v)
{
	unsigned char c[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
			       (unsigned char)v };

	put(b, c, 4);
}

/* A chunk with its length and CRC. */
static void chunk(eid_buf *b, const char *type, const void *data, size_t n)
{
	uLong crc = crc32(0, (const Bytef *)type, 4);

	if (n > 0)
		crc = crc32(crc, data, (uInt)n);
	put32(b, (uint32_t)n);
	put(b, type, 4);
	put(b, data, n);
	put32(b, (uint32_t)crc);
}

static void png_head(eid_buf *b, uint32_t w, uint32_t h, unsigned depth, unsigned ctype, unsigned interlace)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char ihdr[13];

	ihdr[0] = (unsigned char)(w >> 24); ihdr[1] = (unsigned char)(w >> 16);
	ihdr[2] = (unsigned char)(w >> 8); ihdr[3] = (unsigned char)w;
	ihdr[4] = (unsigned char)(h >> 24); ihdr[5] = (unsigned char)(h >> 16);
	ihdr[6] = (unsigned char)(h >> 8); ihdr[7] = (unsigned char)h;
	ihdr[8] = (unsigned char)depth;
	ihdr[9] = (unsigned char)ctype;
	ihdr[10] = ihdr[11] = 0;
	ihdr[12] = (unsigned char)interlace;
	b->len = 0;
	put(b, sig, 8);
	chunk(b, "IHDR", ihdr, 13);
}

static unsigned char *zcompress(const unsigned char *in, size_t len, size_t *outlen)
{
	uLongf n = compressBound(len);
	unsigned char *out = malloc(n);

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(compress(out, &n, in, len), Z_OK);
	*outlen = n;
	return out;
}

/* Inflate a whole zlib stream that must hold exactly @want bytes; malloc'd. */
static unsigned char *zexpand(const eid_buf *z, size_t want)
{
	uLongf n = want + 1;
	unsigned char *out = malloc(want + 1);

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(uncompress(out, &n, z->data, z->len), Z_OK);
	ck_assert_uint_eq(n, want);
	return out;
}

/* Parse; on failure the image must be left empty.  Returns the code. */
static int parse_rc(const unsigned char *p, size_t len)
{
	pdf_image img;
	int rc;

	memset(&img, 0xa5, sizeof(img)); /* need not be initialised */
	rc = pdf_image_parse(&img, p, len);
	if (rc < 0) {
		ck_assert_int_eq(eid_error_last()->code, rc);
		ck_assert_ptr_null(img.data.data);
		ck_assert_ptr_null(img.alpha.data);
		ck_assert_uint_eq(img.width, 0);
	}
	pdf_image_clear(&img);
	return rc;
}

static void assert_fails(const eid_buf *b, int code, const char *needle)
{
	int rc = parse_rc(b->data, b->len);

	ck_assert_msg(rc == code, "expected %d, got %d (%s)", code, rc, eid_error_last()->message);
	ck_assert_msg(strstr(eid_error_last()->message, needle) != NULL, "\"%s\" not in \"%s\"", needle,
		      eid_error_last()->message);
}

/* ---- PNGs from a description ---- */

typedef struct spec {
	uint32_t w, h;
	unsigned depth, ctype;
	int filter;      /* 0..4, or -1: row y uses filter y % 5 */
	size_t split;    /* IDAT chunk size; 0: one chunk */
	unsigned npal;   /* palette entries (type 3) */
	unsigned ntrns;  /* tRNS entries (type 3) */
	int key;         /* tRNS colour key (types 0 and 2): the colour of pixel (1, 1) */
	int opaque;      /* every alpha sample and tRNS entry at its maximum */
} spec;

static const unsigned channels[7] = { 1, 0, 3, 1, 2, 0, 4 };

static unsigned pal_byte(unsigned i, unsigned c)
{
	return (i * 7 + c * 101 + (i * c) * 13) & 0xff;
}

static unsigned trns_byte(const spec *s, unsigned i)
{
	return s->opaque ? 255 : (i * 37 + 5) & 0xff;
}

/* Sample @c of pixel (@x, @y) at the file's bit depth. */
static unsigned sample_at(const spec *s, uint32_t x, uint32_t y, unsigned c)
{
	unsigned max = (1u << s->depth) - 1;

	if (s->ctype == 3)
		return (x * 3 + y * 5) % s->npal;
	if (s->opaque && c == channels[s->ctype] - 1 && (s->ctype & 4))
		return max;
	return (x * 2741u + y * 977u + c * 12345u + (x ^ y) * 31u) & max;
}

static unsigned char expect8(const spec *s, unsigned v)
{
	switch (s->depth) {
	case 1: return v ? 255 : 0;
	case 2: return (unsigned char)(v * 85);
	case 4: return (unsigned char)(v * 17);
	case 8: return (unsigned char)v;
	default: return (unsigned char)(v >> 8);
	}
}

static unsigned paeth(int a, int b, int c)
{
	int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

	if (pa <= pb && pa <= pc)
		return (unsigned)a;
	return (unsigned)(pb <= pc ? b : c);
}

/* The filtered image data (a filter byte before each row); malloc'd. */
static unsigned char *png_raw(const spec *s, size_t *len)
{
	unsigned ch = channels[s->ctype];
	size_t n = ((size_t)s->w * ch * s->depth + 7) / 8, bpp = (ch * s->depth + 7) / 8, i;
	unsigned char *rows = calloc((size_t)s->h + 1, n), *out = malloc((size_t)s->h * (n + 1));
	uint32_t x, y;
	unsigned c;

	ck_assert(rows != NULL && out != NULL);
	for (y = 0; y < s->h; y++) {
		unsigned char *r = rows + (size_t)(y + 1) * n; /* row 0 stays zero: the one above the first */
		const unsigned char *u = r - n;
		unsigned char *o = out + (size_t)y * (n + 1);
		int f = s->filter < 0 ? (int)(y % 5) : s->filter;

		for (x = 0; x < s->w; x++)
			for (c = 0; c < ch; c++) {
				size_t k = (size_t)x * ch + c;
				unsigned v = sample_at(s, x, y, c);

				if (s->depth == 16) {
					r[2 * k] = (unsigned char)(v >> 8);
					r[2 * k + 1] = (unsigned char)v;
				} else if (s->depth == 8) {
					r[k] = (unsigned char)v;
				} else {
					r[k * s->depth / 8] |= (unsigned char)(v << (8 - s->depth - k * s->depth % 8));
				}
			}
		o[0] = (unsigned char)f;
		for (i = 0; i < n; i++) {
			int a = i >= bpp ? r[i - bpp] : 0, b = u[i], cc = i >= bpp ? u[i - bpp] : 0;
			int pred = f == 0 ? 0 : f == 1 ? a : f == 2 ? b : f == 3 ? (a + b) / 2 : (int)paeth(a, b, cc);

			o[1 + i] = (unsigned char)(r[i] - pred);
		}
	}
	free(rows);
	*len = (size_t)s->h * (n + 1);
	return out;
}

/* The whole file around the zlib data @z. */
static void png_emit(eid_buf *b, const spec *s, const unsigned char *z, size_t zlen)
{
	unsigned char tmp[768];
	unsigned i, c;
	size_t at;

	png_head(b, s->w, s->h, s->depth, s->ctype, 0);
	chunk(b, "tEXt", "Software\0check_image", 20);
	if (s->ctype == 3) {
		for (i = 0; i < s->npal; i++)
			for (c = 0; c < 3; c++)
				tmp[3 * i + c] = (unsigned char)pal_byte(i, c);
		chunk(b, "PLTE", tmp, 3 * (size_t)s->npal);
		for (i = 0; i < s->ntrns; i++)
			tmp[i] = (unsigned char)trns_byte(s, i);
		if (s->ntrns > 0)
			chunk(b, "tRNS", tmp, s->ntrns);
	} else if (s->key) {
		for (c = 0; c < channels[s->ctype]; c++) {
			unsigned v = sample_at(s, 1, 1, c);

			tmp[2 * c] = (unsigned char)(v >> 8);
			tmp[2 * c + 1] = (unsigned char)v;
		}
		chunk(b, "tRNS", tmp, 2 * (size_t)channels[s->ctype]);
	}
	for (at = 0; at < zlen || at == 0; at += s->split ? s->split : zlen) {
		size_t n = s->split && zlen - at > s->split ? s->split : zlen - at;

		chunk(b, "IDAT", z + at, n);
		if (n == 0)
			break;
	}
	chunk(b, "IEND", NULL, 0);
}

static void png_make(eid_buf *b, const spec *s)
{
	size_t len, zlen;
	unsigned char *raw = png_raw(s, &len), *z = zcompress(raw, len, &zlen);

	png_emit(b, s, z, zlen);
	free(z);
	free(raw);
}

/* Build, parse and compare every decoded sample with the expected values. */
static void check_png(const spec *s)
{
	eid_buf b = EID_BUF_INIT;
	pdf_image img;
	unsigned nc = s->ctype & 2 ? 3 : 1, c;
	size_t npix = (size_t)s->w * s->h, k;
	unsigned char *want_col = malloc(npix * nc), *want_alpha = malloc(npix), *col, *alpha;
	int rc, translucent = 0;
	uint32_t x, y;

	ck_assert(want_col != NULL && want_alpha != NULL);
	for (y = 0; y < s->h; y++)
		for (x = 0; x < s->w; x++) {
			unsigned a = 255;

			k = (size_t)y * s->w + x;
			if (s->ctype == 3) {
				unsigned idx = sample_at(s, x, y, 0);

				for (c = 0; c < 3; c++)
					want_col[3 * k + c] = (unsigned char)pal_byte(idx, c);
				if (idx < s->ntrns)
					a = trns_byte(s, idx);
			} else {
				int keyed = s->key;

				for (c = 0; c < nc; c++) {
					want_col[nc * k + c] = expect8(s, sample_at(s, x, y, c));
					keyed = keyed && sample_at(s, x, y, c) == sample_at(s, 1, 1, c);
				}
				if (s->ctype & 4)
					a = expect8(s, sample_at(s, x, y, nc));
				else if (keyed)
					a = 0;
			}
			want_alpha[k] = (unsigned char)a;
			translucent |= a != 255;
		}
	png_make(&b, s);
	rc = pdf_image_parse(&img, b.data, b.len);
	ck_assert_msg(rc == EID_OK, "%ux%u, depth %u, type %u, filter %d: %s", (unsigned)s->w, (unsigned)s->h,
		      s->depth, s->ctype, s->filter, eid_error_last()->message);
	ck_assert_uint_eq(img.width, s->w);
	ck_assert_uint_eq(img.height, s->h);
	ck_assert_int_eq(img.bpc, 8);
	ck_assert_int_eq(img.invert_cmyk, 0);
	ck_assert_str_eq(img.filter, "FlateDecode");
	ck_assert_str_eq(img.color_space, nc == 1 ? "DeviceGray" : "DeviceRGB");
	col = zexpand(&img.data, npix * nc);
	for (k = 0; k < npix * nc; k++)
		ck_assert_msg(col[k] == want_col[k], "type %u depth %u: sample %zu is %u, not %u", s->ctype,
			      s->depth, k, col[k], want_col[k]);
	if (translucent) {
		alpha = zexpand(&img.alpha, npix);
		for (k = 0; k < npix; k++)
			ck_assert_msg(alpha[k] == want_alpha[k], "type %u depth %u: alpha %zu is %u, not %u",
				      s->ctype, s->depth, k, alpha[k], want_alpha[k]);
		free(alpha);
	} else {
		ck_assert_uint_eq(img.alpha.len, 0);
	}
	free(col);
	free(want_col);
	free(want_alpha);
	pdf_image_clear(&img);
	eid_buf_clear(&b);
}

/* A small valid PNG: 5x3 RGB, 8-bit. */
static const spec small = { 5, 3, 8, 2, -1, 0, 0, 0, 0, 0 };

/* ---- JPEGs spliced from jpeg_rgb ---- */

/* A frame header segment (marker included) into @seg; returns its size. */
static size_t sof_seg(unsigned char *seg, unsigned marker, unsigned precision, unsigned w, unsigned h,
		      unsigned ncomp)
{
	unsigned i;

	seg[0] = 0xff;
	seg[1] = (unsigned char)marker;
	seg[2] = 0;
	seg[3] = (unsigned char)(8 + 3 * ncomp);
	seg[4] = (unsigned char)precision;
	seg[5] = (unsigned char)(h >> 8); seg[6] = (unsigned char)h;
	seg[7] = (unsigned char)(w >> 8); seg[8] = (unsigned char)w;
	seg[9] = (unsigned char)ncomp;
	for (i = 0; i < ncomp; i++) {
		seg[10 + 3 * i] = (unsigned char)(i + 1);
		seg[11 + 3 * i] = 0x11;
		seg[12 + 3 * i] = 0;
	}
	return 10 + 3 * (size_t)ncomp;
}

/*
 * jpeg_rgb with its SOF0 segment replaced by @sof (NULL: dropped) and, with
 * @adobe, an Adobe APP14 segment after SOI.
 */
static void jpeg_make(eid_buf *b, const unsigned char *sof, size_t soflen, int adobe)
{
	static const unsigned char app14[] = { 0xff, 0xee, 0x00, 0x0e, 'A', 'd', 'o', 'b', 'e', 0x00,
					       0x64, 0x00, 0x00, 0x00, 0x00, 0x02 };
	size_t pos = 2, seglen;

	b->len = 0;
	put(b, jpeg_rgb, 2);
	if (adobe)
		put(b, app14, sizeof(app14));
	for (;;) {
		seglen = 2 + ((size_t)jpeg_rgb[pos + 2] << 8 | jpeg_rgb[pos + 3]);
		if (jpeg_rgb[pos + 1] == 0xda) {
			put(b, jpeg_rgb + pos, sizeof(jpeg_rgb) - pos);
			return;
		}
		if (jpeg_rgb[pos + 1] != 0xc0)
			put(b, jpeg_rgb + pos, seglen);
		else if (sof != NULL)
			put(b, sof, soflen);
		pos += seglen;
	}
}

static void check_jpeg(const eid_buf *b, uint32_t w, uint32_t h, const char *cs, int invert)
{
	pdf_image img;

	ck_assert_msg(pdf_image_parse(&img, b->data, b->len) == EID_OK, "%s", eid_error_last()->message);
	ck_assert_uint_eq(img.width, w);
	ck_assert_uint_eq(img.height, h);
	ck_assert_str_eq(img.color_space, cs);
	ck_assert_int_eq(img.invert_cmyk, invert);
	ck_assert_int_eq(img.bpc, 8);
	ck_assert_str_eq(img.filter, "DCTDecode");
	ck_assert_uint_eq(img.data.len, b->len);
	ck_assert_mem_eq(img.data.data, b->data, b->len);
	ck_assert_uint_eq(img.alpha.len, 0);
	pdf_image_clear(&img);
}

/* ---- PNG decoding ---- */

START_TEST(test_pdf_image_parse__png_gray)
{
	static const unsigned depths[] = { 1, 2, 4, 8, 16 };
	static const uint32_t widths[] = { 1, 3, 13, 64 };
	size_t i, j;

	for (i = 0; i < 5; i++)
		for (j = 0; j < 4; j++) {
			spec s = { widths[j], 7, depths[i], 0, -1, 0, 0, 0, 0, 0 };

			check_png(&s);
		}
}
END_TEST

START_TEST(test_pdf_image_parse__png_rgb)
{
	spec s = { 17, 11, 8, 2, -1, 0, 0, 0, 0, 0 };

	check_png(&s);
	s.depth = 16;
	check_png(&s);
	s.w = 1;
	check_png(&s);
}
END_TEST

START_TEST(test_pdf_image_parse__png_gray_alpha)
{
	spec s = { 9, 6, 8, 4, -1, 0, 0, 0, 0, 0 };

	check_png(&s);
	s.depth = 16;
	check_png(&s);
}
END_TEST

START_TEST(test_pdf_image_parse__png_rgba)
{
	spec s = { 12, 10, 8, 6, -1, 0, 0, 0, 0, 0 };

	check_png(&s);
	s.depth = 16;
	check_png(&s);
}
END_TEST

START_TEST(test_pdf_image_parse__png_palette)
{
	static const unsigned depths[] = { 1, 2, 4, 8 }, npal[] = { 2, 3, 16, 200 };
	size_t i;

	for (i = 0; i < 4; i++) {
		spec s = { 11, 5, depths[i], 3, -1, 0, npal[i], 0, 0, 0 };

		check_png(&s);
		s.npal = 1u << depths[i]; /* a full palette */
		check_png(&s);
	}
}
END_TEST

START_TEST(test_pdf_image_parse__png_palette_trns)
{
	spec s = { 11, 5, 8, 3, -1, 0, 200, 50, 0, 0 };

	check_png(&s);
	s.ntrns = 200;
	check_png(&s);
	s.depth = 2;
	s.npal = 3;
	s.ntrns = 1;
	check_png(&s);
}
END_TEST

START_TEST(test_pdf_image_parse__png_colour_key)
{
	static const struct {
		unsigned depth, ctype;
	} cases[] = { { 1, 0 }, { 4, 0 }, { 8, 0 }, { 16, 0 }, { 8, 2 }, { 16, 2 } };
	size_t i;

	for (i = 0; i < EID_ARRAY_SIZE(cases); i++) {
		spec s = { 13, 9, cases[i].depth, cases[i].ctype, -1, 0, 0, 0, 1, 0 };

		check_png(&s);
	}
	/* A key beyond the bit depth matches nothing: no soft mask. */
	{
		spec s = { 13, 9, 1, 0, -1, 0, 0, 0, 0, 0 };
		eid_buf b = EID_BUF_INIT;
		pdf_image img;
		size_t len, zlen;
		unsigned char *raw = png_raw(&s, &len), *z = zcompress(raw, len, &zlen);

		png_head(&b, s.w, s.h, s.depth, s.ctype, 0);
		chunk(&b, "tRNS", "\0\2", 2);
		chunk(&b, "IDAT", z, zlen);
		chunk(&b, "IEND", NULL, 0);
		ck_assert_int_eq(pdf_image_parse(&img, b.data, b.len), EID_OK);
		ck_assert_uint_eq(img.alpha.len, 0);
		pdf_image_clear(&img);
		free(z);
		free(raw);
		eid_buf_clear(&b);
	}
}
END_TEST

START_TEST(test_pdf_image_parse__png_opaque_alpha_dropped)
{
	/* An alpha channel or tRNS that is opaque everywhere gives no soft mask. */
	spec s = { 7, 4, 8, 6, -1, 0, 0, 0, 0, 1 };

	check_png(&s);
	s.ctype = 4;
	s.depth = 16;
	check_png(&s);
	s.ctype = 3;
	s.depth = 8;
	s.npal = 10;
	s.ntrns = 10;
	check_png(&s);
}
END_TEST

START_TEST(test_pdf_image_parse__png_filters)
{
	/* Each filter alone, for 1 (sub-byte and 8-bit), 2, 3 and 8 bytes per pixel. */
	static const struct {
		unsigned depth, ctype;
	} cases[] = { { 1, 0 }, { 8, 0 }, { 8, 4 }, { 8, 2 }, { 16, 6 }, { 4, 3 } };
	size_t i;
	int f;

	for (i = 0; i < EID_ARRAY_SIZE(cases); i++)
		for (f = 0; f < 5; f++) {
			spec s = { 21, 6, cases[i].depth, cases[i].ctype, f, 0, 16, 0, 0, 0 };

			check_png(&s);
		}
}
END_TEST

START_TEST(test_pdf_image_parse__png_split_idat)
{
	static const size_t splits[] = { 1, 2, 7, 100 };
	eid_buf b = EID_BUF_INIT;
	size_t i, len, zlen, half;
	unsigned char *raw, *z;
	spec s = { 16, 16, 8, 6, -1, 0, 0, 0, 0, 0 };

	for (i = 0; i < EID_ARRAY_SIZE(splits); i++) {
		s.split = splits[i];
		check_png(&s);
	}
	/* Empty IDAT chunks are fine; anything between two IDAT chunks is not. */
	s = small;
	raw = png_raw(&s, &len);
	z = zcompress(raw, len, &zlen);
	half = zlen / 2;
	png_head(&b, s.w, s.h, s.depth, s.ctype, 0);
	chunk(&b, "IDAT", NULL, 0);
	chunk(&b, "IDAT", z, half);
	chunk(&b, "IDAT", NULL, 0);
	chunk(&b, "IDAT", z + half, zlen - half);
	chunk(&b, "IEND", NULL, 0);
	ck_assert_int_eq(parse_rc(b.data, b.len), EID_OK);
	png_head(&b, s.w, s.h, s.depth, s.ctype, 0);
	chunk(&b, "IDAT", z, half);
	chunk(&b, "tEXt", "a\0b", 3);
	chunk(&b, "IDAT", z + half, zlen - half);
	chunk(&b, "IEND", NULL, 0);
	assert_fails(&b, EID_EFORMAT, "not consecutive");
	free(z);
	free(raw);
	eid_buf_clear(&b);
}
END_TEST

/* ---- JPEG ---- */

START_TEST(test_pdf_image_parse__jpeg)
{
	eid_buf b = EID_BUF_INIT;

	put(&b, jpeg_rgb, sizeof(jpeg_rgb));
	check_jpeg(&b, 8, 8, "DeviceRGB", 0);
	/* Trailing bytes after EOI are kept as they are. */
	put(&b, "\0\0", 2);
	check_jpeg(&b, 8, 8, "DeviceRGB", 0);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_pdf_image_parse__jpeg_variants)
{
	eid_buf b = EID_BUF_INIT;
	unsigned char sof[64];

	/* Progressive, extended sequential, grayscale, other sizes. */
	jpeg_make(&b, sof, sof_seg(sof, 0xc2, 8, 640, 480, 3), 0);
	check_jpeg(&b, 640, 480, "DeviceRGB", 0);
	jpeg_make(&b, sof, sof_seg(sof, 0xc1, 8, 1, 10000, 3), 0);
	check_jpeg(&b, 1, 10000, "DeviceRGB", 0);
	jpeg_make(&b, sof, sof_seg(sof, 0xc0, 8, 300, 100, 1), 0);
	check_jpeg(&b, 300, 100, "DeviceGray", 0);
	/* CMYK: inverted when written by Adobe software (an APP14 "Adobe" segment). */
	jpeg_make(&b, sof, sof_seg(sof, 0xc0, 8, 8, 8, 4), 1);
	check_jpeg(&b, 8, 8, "DeviceCMYK", 1);
	jpeg_make(&b, sof, sof_seg(sof, 0xc2, 8, 8, 8, 4), 0);
	check_jpeg(&b, 8, 8, "DeviceCMYK", 0);
	jpeg_make(&b, sof, sof_seg(sof, 0xc0, 8, 8, 8, 3), 1);
	check_jpeg(&b, 8, 8, "DeviceRGB", 0);
	/* Fill bytes before a marker, a stand-alone marker (TEM). */
	b.len = 0;
	put(&b, jpeg_rgb, 2);
	put(&b, "\xff\xff\xff\x01\xff", 5);
	put(&b, jpeg_rgb + 2, sizeof(jpeg_rgb) - 2);
	check_jpeg(&b, 8, 8, "DeviceRGB", 0);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_pdf_image_parse__jpeg_unsupported)
{
	eid_buf b = EID_BUF_INIT;
	unsigned char sof[64];
	size_t n;

	jpeg_make(&b, sof, sof_seg(sof, 0xc1, 12, 8, 8, 3), 0);
	assert_fails(&b, EID_EUNSUPPORTED, "12-bit");
	jpeg_make(&b, sof, sof_seg(sof, 0xc9, 8, 8, 8, 3), 0);
	assert_fails(&b, EID_EUNSUPPORTED, "arithmetic-coded images (SOF9)");
	jpeg_make(&b, sof, sof_seg(sof, 0xca, 8, 8, 8, 3), 0);
	assert_fails(&b, EID_EUNSUPPORTED, "arithmetic-coded");
	jpeg_make(&b, sof, sof_seg(sof, 0xc3, 8, 8, 8, 3), 0);
	assert_fails(&b, EID_EUNSUPPORTED, "lossless");
	jpeg_make(&b, sof, sof_seg(sof, 0xc0, 8, 8, 8, 2), 0);
	assert_fails(&b, EID_EUNSUPPORTED, "2 colour components");
	jpeg_make(&b, sof, sof_seg(sof, 0xc0, 8, 8, 0, 3), 0);
	assert_fails(&b, EID_EFORMAT, "no pixels");
	jpeg_make(&b, sof, sof_seg(sof, 0xc0, 8, 0, 8, 3), 0);
	assert_fails(&b, EID_EFORMAT, "no pixels");
	jpeg_make(&b, sof, sof_seg(sof, 0xc0, 8, 10001, 8, 3), 0);
	assert_fails(&b, EID_ETOOBIG, "10001x8");
	jpeg_make(&b, sof, sof_seg(sof, 0xc0, 8, 10000, 10000, 1), 0);
	assert_fails(&b, EID_ETOOBIG, "Mi samples");
	jpeg_make(&b, NULL, 0, 0);
	assert_fails(&b, EID_EFORMAT, "no frame header");
	/* A frame header too short for its components, and two of them. */
	n = sof_seg(sof, 0xc0, 8, 8, 8, 3);
	sof[3] = 16;
	jpeg_make(&b, sof, n - 1, 0);
	assert_fails(&b, EID_EFORMAT, "too short");
	n = sof_seg(sof, 0xc0, 8, 8, 8, 3);
	n += sof_seg(sof + n, 0xc2, 8, 8, 8, 3);
	jpeg_make(&b, sof, n, 0);
	assert_fails(&b, EID_EFORMAT, "more than one frame header");
	/* No EOI: cut in the scan data. */
	b.len = 0;
	put(&b, jpeg_rgb, sizeof(jpeg_rgb) - 2);
	assert_fails(&b, EID_EFORMAT, "no end-of-image marker");
	/* EOI before any scan. */
	b.len = 0;
	put(&b, jpeg_rgb, 20);
	put(&b, "\xff\xd9", 2);
	assert_fails(&b, EID_EFORMAT, "unexpected marker 0xffd9");
	/* Garbage between segments. */
	b.len = 0;
	put(&b, jpeg_rgb, 20);
	put(&b, "x", 1);
	put(&b, jpeg_rgb + 20, sizeof(jpeg_rgb) - 20);
	assert_fails(&b, EID_EFORMAT, "no marker at offset 20");
	eid_buf_clear(&b);
}
END_TEST

/* ---- hostile files ---- */

START_TEST(test_pdf_image_parse__truncated)
{
	eid_buf b = EID_BUF_INIT;
	spec s = { 6, 5, 4, 3, -1, 9, 10, 4, 0, 0 }; /* palette, tRNS, tEXt, split IDAT */
	size_t cut;
	int rc;

	png_make(&b, &s);
	for (cut = 0; cut < b.len; cut++) {
		rc = parse_rc(b.data, cut);
		ck_assert_msg(rc == EID_EFORMAT || (cut < 8 && rc == EID_EUNSUPPORTED), "PNG cut at %zu: %d %s",
			      cut, rc, eid_error_last()->message);
	}
	ck_assert_int_eq(parse_rc(b.data, b.len), EID_OK);
	for (cut = 0; cut < sizeof(jpeg_rgb); cut++) {
		rc = parse_rc(jpeg_rgb, cut);
		ck_assert_msg(rc == EID_EFORMAT || (cut < 2 && rc == EID_EUNSUPPORTED), "JPEG cut at %zu: %d %s",
			      cut, rc, eid_error_last()->message);
	}
	ck_assert_int_eq(parse_rc(jpeg_rgb, sizeof(jpeg_rgb)), EID_OK);
	png_make(&b, &small);
	b.len -= 12; /* IEND */
	assert_fails(&b, EID_EFORMAT, "no 'IEND' chunk");
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_pdf_image_parse__bad_crc)
{
	eid_buf b = EID_BUF_INIT;
	size_t i, idat;
	int bit;

	/* Any bit flipped after the signature is caught, by the CRC or the layout. */
	png_make(&b, &small);
	for (i = 8; i < b.len; i++)
		for (bit = 0; bit < 8; bit += 3) {
			b.data[i] ^= (unsigned char)(1 << bit);
			ck_assert_msg(parse_rc(b.data, b.len) == EID_EFORMAT, "byte %zu bit %d: %s", i, bit,
				      eid_error_last()->message);
			b.data[i] ^= (unsigned char)(1 << bit);
		}
	idat = 8 + 25 + 32; /* after IHDR and tEXt */
	ck_assert_mem_eq(b.data + idat + 4, "IDAT", 4);
	b.data[idat + 8] ^= 1;
	assert_fails(&b, EID_EFORMAT, "PNG: chunk 'IDAT' has a bad CRC");
	b.data[idat + 8] ^= 1;
	b.data[8 + 4 + 4 + 3] ^= 1; /* width */
	assert_fails(&b, EID_EFORMAT, "PNG: chunk 'IHDR' has a bad CRC");
	eid_buf_clear(&b);
}
END_TEST

/* A file with only an IHDR that matters: the limits are checked before the data. */
static void assert_header_fails(uint32_t w, uint32_t h, unsigned depth, unsigned ctype, int code, const char *needle)
{
	eid_buf b = EID_BUF_INIT;

	png_head(&b, w, h, depth, ctype, 0);
	chunk(&b, "IDAT", "\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
	chunk(&b, "IEND", NULL, 0);
	assert_fails(&b, code, needle);
	eid_buf_clear(&b);
}

START_TEST(test_pdf_image_parse__huge_dimensions)
{
	assert_header_fails(10001, 1, 8, 0, EID_ETOOBIG, "10001x1 pixels is beyond the limit of 10000x10000");
	assert_header_fails(1, 10001, 8, 0, EID_ETOOBIG, "beyond the limit of 10000x10000");
	assert_header_fails(10000, 10000, 8, 6, EID_ETOOBIG, "10000x10000 pixels of 4 samples");
	assert_header_fails(10000, 6711, 8, 0, EID_ETOOBIG, "beyond the limit of 64 Mi samples");
	assert_header_fails(8192, 8192, 8, 4, EID_ETOOBIG, "of 2 samples");
	assert_header_fails(0, 5, 8, 0, EID_EFORMAT, "no pixels");
	assert_header_fails(5, 0, 8, 0, EID_EFORMAT, "no pixels");
}
END_TEST

START_TEST(test_pdf_image_parse__dimension_overflow)
{
	assert_header_fails(0xffffffffu, 0xffffffffu, 16, 6, EID_ETOOBIG, "beyond the limit");
	assert_header_fails(0x80000000u, 2, 16, 6, EID_ETOOBIG, "beyond the limit");
	assert_header_fails(0x40000001u, 0x40000001u, 1, 0, EID_ETOOBIG, "beyond the limit");
	assert_header_fails(1, 0xffffffffu, 8, 2, EID_ETOOBIG, "beyond the limit");
}
END_TEST

/* The PNG of spec @s around the filtered data @raw, @len bytes. */
static void assert_raw_fails(const spec *s, const unsigned char *raw, size_t len, const char *needle)
{
	eid_buf b = EID_BUF_INIT;
	size_t zlen;
	unsigned char *z = zcompress(raw, len, &zlen);

	png_emit(&b, s, z, zlen);
	assert_fails(&b, EID_EFORMAT, needle);
	free(z);
	eid_buf_clear(&b);
}

START_TEST(test_pdf_image_parse__idat_size)
{
	eid_buf b = EID_BUF_INIT;
	spec s = small;
	size_t len, zlen, row = 5 * 3 + 1;
	unsigned char *raw = png_raw(&s, &len), *big = calloc(1, len + 2 * row), *z;
	z_stream zs;

	ck_assert_ptr_nonnull(big);
	memcpy(big, raw, len);
	assert_raw_fails(&s, raw, 0, "ends after 0 of 3 rows");
	assert_raw_fails(&s, raw, len - row, "ends after 2 of 3 rows");
	assert_raw_fails(&s, raw, len - 1, "ends after 2 of 3 rows");
	assert_raw_fails(&s, big, len + 1, "more image data than 'IHDR' implies");
	assert_raw_fails(&s, big, len + row, "more image data than 'IHDR' implies");
	/* A zlib stream that stops after the data without its end. */
	zlen = compressBound(len);
	z = malloc(zlen);
	ck_assert_ptr_nonnull(z);
	memset(&zs, 0, sizeof(zs));
	ck_assert_int_eq(deflateInit(&zs, 9), Z_OK);
	zs.next_in = raw;
	zs.avail_in = (uInt)len;
	zs.next_out = z;
	zs.avail_out = (uInt)zlen;
	ck_assert_int_eq(deflate(&zs, Z_SYNC_FLUSH), Z_OK);
	png_emit(&b, &s, z, zlen - zs.avail_out);
	assert_fails(&b, EID_EFORMAT, "before the end of its zlib stream");
	deflateEnd(&zs);
	free(z);
	/* A wrong Adler-32 and a stream that is not zlib at all. */
	z = zcompress(raw, len, &zlen);
	z[zlen - 1] ^= 1;
	png_emit(&b, &s, z, zlen);
	assert_fails(&b, EID_EFORMAT, "corrupt image data (incorrect data check)");
	png_emit(&b, &s, (const unsigned char *)"garbage!", 8);
	assert_fails(&b, EID_EFORMAT, "corrupt image data");
	free(z);
	/* A bad filter type. */
	raw[row] = 5;
	assert_raw_fails(&s, raw, len, "unknown filter type 5 in row 1");
	free(big);
	free(raw);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_pdf_image_parse__bad_chunks)
{
	eid_buf b = EID_BUF_INIT, ok = EID_BUF_INIT;
	size_t ihdr_end = 8 + 25, iend;
	spec s = { 4, 2, 8, 3, 0, 0, 4, 0, 0, 0 };
	size_t len;
	unsigned char *raw;

	png_make(&ok, &small);
	iend = ok.len - 12;
	/* An unknown critical chunk is refused, an unknown ancillary one skipped. */
	b.len = 0;
	put(&b, ok.data, ihdr_end);
	chunk(&b, "ABCD", "x", 1);
	put(&b, ok.data + ihdr_end, ok.len - ihdr_end);
	assert_fails(&b, EID_EFORMAT, "unknown critical chunk 'ABCD'");
	b.len = 0;
	put(&b, ok.data, ihdr_end);
	chunk(&b, "aBCD", "x", 1);
	put(&b, ok.data + ihdr_end, ok.len - ihdr_end);
	ck_assert_int_eq(parse_rc(b.data, b.len), EID_OK);
	/* Data after IEND is ignored. */
	put(&b, "junk", 4);
	ck_assert_int_eq(parse_rc(b.data, b.len), EID_OK);
	/* A length beyond 2^31 - 1, an invalid type. */
	b.len = 0;
	put(&b, ok.data, ihdr_end);
	put(&b, "\x80\x00\x00\x00tEXt", 8);
	put(&b, ok.data + ihdr_end, ok.len - ihdr_end);
	assert_fails(&b, EID_EFORMAT, "chunk 'tEXt' has a length beyond 2^31-1");
	memcpy(b.data + ihdr_end, "\x00\x00\x00\x00te#t", 8);
	assert_fails(&b, EID_EFORMAT, "invalid chunk type");
	/* IHDR not first, twice; no IDAT; no IEND. */
	b.len = 0;
	put(&b, ok.data, 8);
	put(&b, ok.data + iend, 12);
	put(&b, ok.data + 8, ok.len - 8);
	assert_fails(&b, EID_EFORMAT, "the first chunk is not 'IHDR'");
	b.len = 0;
	put(&b, ok.data, ihdr_end);
	put(&b, ok.data + 8, ok.len - 8);
	assert_fails(&b, EID_EFORMAT, "more than one 'IHDR'");
	b.len = 0;
	put(&b, ok.data, ihdr_end);
	put(&b, ok.data + iend, 12);
	assert_fails(&b, EID_EFORMAT, "no 'IDAT' chunk");
	/* Invalid headers. */
	png_head(&b, 1, 1, 4, 2, 0);
	assert_fails(&b, EID_EFORMAT, "bit depth 4 is invalid for colour type 2");
	png_head(&b, 1, 1, 16, 3, 0);
	assert_fails(&b, EID_EFORMAT, "bit depth 16 is invalid for colour type 3");
	png_head(&b, 1, 1, 3, 0, 0);
	assert_fails(&b, EID_EFORMAT, "bit depth 3");
	png_head(&b, 1, 1, 8, 7, 0);
	assert_fails(&b, EID_EFORMAT, "unknown colour type 7");
	png_head(&b, 1, 1, 8, 0, 2);
	assert_fails(&b, EID_EFORMAT, "unknown interlace method 2");
	b.len = 8;
	chunk(&b, "IHDR", "\0\0\0\1\0\0\0\1\x08\0\1\0\0", 13);
	assert_fails(&b, EID_EFORMAT, "unknown compression or filter method");
	b.len = 8;
	chunk(&b, "IHDR", "\0\0\0\1\0\0\0\1\x08", 9);
	assert_fails(&b, EID_EFORMAT, "chunk 'IHDR' has a bad length (9)");
	/* Palettes: missing, out of range, after IDAT, tRNS longer than the palette. */
	raw = png_raw(&s, &len);
	png_head(&b, 4, 2, 8, 3, 0);
	{
		size_t zlen;
		unsigned char *z = zcompress(raw, len, &zlen);
		eid_buf c = EID_BUF_INIT;

		chunk(&b, "IDAT", z, zlen);
		put(&c, b.data, b.len);
		chunk(&b, "IEND", NULL, 0);
		assert_fails(&b, EID_EFORMAT, "a palette image without a 'PLTE' chunk");
		b.len = c.len;
		chunk(&b, "PLTE", "abcdefghijkl", 12);
		chunk(&b, "IEND", NULL, 0);
		assert_fails(&b, EID_EFORMAT, "chunk 'PLTE' comes after the image data");
		png_head(&b, 4, 2, 8, 3, 0);
		chunk(&b, "PLTE", "abcdefghi", 9);
		chunk(&b, "IDAT", z, zlen);
		chunk(&b, "IEND", NULL, 0);
		assert_fails(&b, EID_EFORMAT, "palette index 3 is beyond the 3 colours of 'PLTE'");
		png_head(&b, 4, 2, 8, 3, 0);
		chunk(&b, "PLTE", "abcdefghijkl", 12);
		chunk(&b, "tRNS", "12345", 5);
		chunk(&b, "IDAT", z, zlen);
		chunk(&b, "IEND", NULL, 0);
		assert_fails(&b, EID_EFORMAT, "chunk 'tRNS' has more entries than the palette");
		png_head(&b, 4, 2, 8, 3, 0);
		chunk(&b, "tRNS", "1", 1);
		assert_fails(&b, EID_EFORMAT, "chunk 'tRNS' comes before 'PLTE'");
		png_head(&b, 4, 2, 8, 3, 0);
		chunk(&b, "PLTE", "abcdefghij", 10);
		assert_fails(&b, EID_EFORMAT, "bad or repeated chunk 'PLTE'");
		png_head(&b, 4, 2, 8, 0, 0);
		chunk(&b, "tRNS", "123", 3);
		assert_fails(&b, EID_EFORMAT, "chunk 'tRNS' has a bad length (3)");
		free(z);
		eid_buf_clear(&c);
	}
	free(raw);
	eid_buf_clear(&ok);
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_pdf_image_parse__interlaced)
{
	eid_buf b = EID_BUF_INIT;

	png_head(&b, 5, 3, 8, 2, 1);
	chunk(&b, "IDAT", "\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
	chunk(&b, "IEND", NULL, 0);
	assert_fails(&b, EID_EUNSUPPORTED, "interlaced (Adam7) images are not supported");
	eid_buf_clear(&b);
}
END_TEST

START_TEST(test_pdf_image_parse__not_an_image)
{
	static const unsigned char gif[] = "GIF89a\1\0\1\0\0\0\0;";
	pdf_image img;

	ck_assert_int_eq(parse_rc(gif, sizeof(gif)), EID_EUNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "not a PNG or JPEG"));
	ck_assert_int_eq(parse_rc((const unsigned char *)"", 0), EID_EUNSUPPORTED);
	ck_assert_int_eq(parse_rc(NULL, 0), EID_EUNSUPPORTED);
	ck_assert_int_eq(pdf_image_parse(NULL, gif, sizeof(gif)), EID_EINVAL);
	ck_assert_int_eq(pdf_image_parse(&img, NULL, 5), EID_EINVAL);
	ck_assert_int_eq(pdf_image_parse(&img, gif, PDF_IMAGE_MAX_FILE + 1u), EID_ETOOBIG);
	ck_assert_ptr_null(img.data.data);
}
END_TEST

/* ---- pdf_image_load, pdf_image_clear ---- */

START_TEST(test_pdf_image_load__files)
{
	char *dir = unit_tmpdir(), *path;
	eid_buf b = EID_BUF_INIT;
	pdf_image img;
	int fd;

	path = unit_join(dir, "sig.png");
	png_make(&b, &small);
	unit_write(path, b.data, b.len);
	ck_assert_int_eq(pdf_image_load(&img, path), EID_OK);
	ck_assert_uint_eq(img.width, 5);
	ck_assert_str_eq(img.color_space, "DeviceRGB");
	pdf_image_clear(&img);
	b.data[b.len - 20] ^= 1;
	unit_write(path, b.data, b.len);
	ck_assert_int_eq(pdf_image_load(&img, path), EID_EFORMAT);
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "sig.png"));
	ck_assert_ptr_nonnull(strstr(eid_error_last()->message, "bad CRC"));
	ck_assert_ptr_null(img.data.data);
	free(path);

	path = unit_join(dir, "logo.jpg");
	unit_write(path, jpeg_rgb, sizeof(jpeg_rgb));
	ck_assert_int_eq(pdf_image_load(&img, path), EID_OK);
	ck_assert_str_eq(img.filter, "DCTDecode");
	ck_assert_mem_eq(img.data.data, jpeg_rgb, sizeof(jpeg_rgb));
	pdf_image_clear(&img);
	free(path);

	/* Too large (a sparse file), missing. */
	path = unit_join(dir, "big.png");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)PDF_IMAGE_MAX_FILE + 1), 0);
	close(fd);
	ck_assert_int_eq(pdf_image_load(&img, path), EID_ETOOBIG);
	free(path);
	path = unit_join(dir, "missing.png");
	ck_assert_int_eq(pdf_image_load(&img, path), EID_EIO);
	ck_assert_ptr_null(img.data.data);
	free(path);
	ck_assert_int_eq(pdf_image_load(NULL, "x"), EID_EINVAL);
	eid_buf_clear(&b);
	unit_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_pdf_image_clear__zeroed_and_twice)
{
	pdf_image img;
	eid_buf b = EID_BUF_INIT;

	pdf_image_clear(NULL);
	memset(&img, 0, sizeof(img));
	pdf_image_clear(&img);
	png_make(&b, &small);
	ck_assert_int_eq(pdf_image_parse(&img, b.data, b.len), EID_OK);
	pdf_image_clear(&img);
	ck_assert_ptr_null(img.data.data);
	ck_assert_ptr_null(img.color_space);
	pdf_image_clear(&img);
	eid_buf_clear(&b);
}
END_TEST

static Suite *image_suite(void)
{
	Suite *s = suite_create("image");
	TCase *tc;

	tc = tcase_create("pdf_image_parse");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pdf_image_parse__png_gray);
	tcase_add_test(tc, test_pdf_image_parse__png_rgb);
	tcase_add_test(tc, test_pdf_image_parse__png_gray_alpha);
	tcase_add_test(tc, test_pdf_image_parse__png_rgba);
	tcase_add_test(tc, test_pdf_image_parse__png_palette);
	tcase_add_test(tc, test_pdf_image_parse__png_palette_trns);
	tcase_add_test(tc, test_pdf_image_parse__png_colour_key);
	tcase_add_test(tc, test_pdf_image_parse__png_opaque_alpha_dropped);
	tcase_add_test(tc, test_pdf_image_parse__png_filters);
	tcase_add_test(tc, test_pdf_image_parse__png_split_idat);
	tcase_add_test(tc, test_pdf_image_parse__jpeg);
	tcase_add_test(tc, test_pdf_image_parse__jpeg_variants);
	tcase_add_test(tc, test_pdf_image_parse__jpeg_unsupported);
	tcase_add_test(tc, test_pdf_image_parse__truncated);
	tcase_add_test(tc, test_pdf_image_parse__bad_crc);
	tcase_add_test(tc, test_pdf_image_parse__huge_dimensions);
	tcase_add_test(tc, test_pdf_image_parse__dimension_overflow);
	tcase_add_test(tc, test_pdf_image_parse__idat_size);
	tcase_add_test(tc, test_pdf_image_parse__bad_chunks);
	tcase_add_test(tc, test_pdf_image_parse__interlaced);
	tcase_add_test(tc, test_pdf_image_parse__not_an_image);
	suite_add_tcase(s, tc);

	tc = tcase_create("pdf_image_load");
	tcase_add_test(tc, test_pdf_image_load__files);
	suite_add_tcase(s, tc);

	tc = tcase_create("pdf_image_clear");
	tcase_add_test(tc, test_pdf_image_clear__zeroed_and_twice);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(image_suite());
}
