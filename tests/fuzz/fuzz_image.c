/*
 * libFuzzer harness for the signature-picture loader (PNG and JPEG): any
 * bytes must end in a clean error that leaves the image empty, or in an
 * image within the limits whose FlateDecode data inflates to exactly
 * width x height x components bytes (and its soft mask to width x height).
 * A PNG is also tried with its chunk CRCs made right, so that mutations
 * reach the decoder instead of stopping at the first bad CRC.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <eid/eid.h>

#include "pdf/image.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define MAX_CHECKED (4u << 20) /* inflate the output back only up to this size */

/* @z must inflate to exactly @want bytes. */
static void check_inflates_to(const eid_buf *z, size_t want)
{
	unsigned char *out;
	uLongf n = want + 1;

	if (want > MAX_CHECKED)
		return;
	out = malloc(want + 1);
	if (out == NULL)
		abort();
	if (uncompress(out, &n, z->data, z->len) != Z_OK || n != want)
		abort();
	free(out);
}

/* A copy of a PNG with the CRC of every complete chunk recomputed; NULL if not a PNG. */
static unsigned char *fix_crcs(const unsigned char *data, size_t size)
{
	unsigned char *p;
	size_t pos = 8;

	if (size < 8 || memcmp(data, "\x89PNG\r\n\x1a\n", 8) != 0)
		return NULL;
	p = malloc(size);
	if (p == NULL)
		abort();
	memcpy(p, data, size);
	while (size - pos >= 12) {
		size_t len = (size_t)p[pos] << 24 | (size_t)p[pos + 1] << 16 | (size_t)p[pos + 2] << 8 | p[pos + 3];
		uLong crc;

		if (len > size - pos - 12)
			break;
		crc = crc32(0, p + pos + 4, (uInt)len + 4);
		p[pos + 8 + len] = (unsigned char)(crc >> 24);
		p[pos + 9 + len] = (unsigned char)(crc >> 16);
		p[pos + 10 + len] = (unsigned char)(crc >> 8);
		p[pos + 11 + len] = (unsigned char)crc;
		pos += 12 + len;
	}
	return p;
}

static void exercise(const unsigned char *data, size_t size)
{
	pdf_image img;
	size_t npix, nc;
	int rc;

	rc = pdf_image_parse(&img, data, size);
	if (rc != EID_OK) {
		if (rc != eid_error_last()->code || img.data.data != NULL || img.alpha.data != NULL || img.width != 0)
			abort();
		pdf_image_clear(&img);
		return;
	}
	if (img.width == 0 || img.height == 0 || img.width > PDF_IMAGE_MAX_DIM || img.height > PDF_IMAGE_MAX_DIM ||
	    img.bpc != 8 || img.color_space == NULL || img.filter == NULL || img.data.len == 0)
		abort();
	nc = strcmp(img.color_space, "DeviceGray") == 0 ? 1 : strcmp(img.color_space, "DeviceRGB") == 0 ? 3 : 4;
	npix = (size_t)img.width * img.height;
	if ((uint64_t)npix * nc > PDF_IMAGE_MAX_SAMPLES)
		abort();
	if (strcmp(img.filter, "DCTDecode") == 0) {
		if (img.data.len != size || memcmp(img.data.data, data, size) != 0 || img.alpha.len != 0 ||
		    (img.invert_cmyk && nc != 4))
			abort();
	} else {
		if (nc == 4 || img.invert_cmyk)
			abort();
		check_inflates_to(&img.data, npix * nc);
		if (img.alpha.len > 0)
			check_inflates_to(&img.alpha, npix);
	}
	pdf_image_clear(&img);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	unsigned char *fixed;

	eid_log_set_level(EID_LOG_NONE);
	exercise(data, size);
	fixed = fix_crcs(data, size);
	if (fixed != NULL) {
		exercise(fixed, size);
		free(fixed);
	}
	return 0;
}
