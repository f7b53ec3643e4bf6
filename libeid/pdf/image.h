/*
 * Pictures for the visible-signature appearance (a scanned handwritten
 * signature, a logo): a PNG or JPEG file turned into what a PDF image XObject
 * needs (ISO 32000-1 8.9.5).
 *
 * A JPEG is passed through as it is (/Filter /DCTDecode); only its headers
 * are read.  A PNG is decoded (bit depths 1 to 16, every colour type,
 * palette and tRNS transparency) and its samples re-deflated without a
 * predictor: 8-bit colour in @data and, when some pixel is not opaque, an
 * 8-bit DeviceGray soft mask in @alpha (an /SMask XObject of the same size,
 * /Filter /FlateDecode).  Interlaced PNGs are refused.
 *
 * Every size is bounded against hostile files (PDF_IMAGE_MAX_*): the file,
 * each dimension and the number of decoded samples (colour and alpha).
 * Not used outside libeid/pdf/.
 */
#ifndef EID_INTERNAL_PDF_IMAGE_H
#define EID_INTERNAL_PDF_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

#define PDF_IMAGE_MAX_FILE (16u << 20)    /* bytes of an image file */
#define PDF_IMAGE_MAX_DIM 10000u          /* pixels of width, and of height */
#define PDF_IMAGE_MAX_SAMPLES (64u << 20) /* width x height x samples per pixel (alpha included) */

typedef struct pdf_image {
	uint32_t width, height;
	const char *color_space; /* "DeviceGray", "DeviceRGB" or "DeviceCMYK" (static string) */
	int bpc;                 /* bits per component of @data: always 8 */
	const char *filter;      /* "DCTDecode" (a JPEG as it is) or "FlateDecode" */
	int invert_cmyk;         /* Adobe CMYK JPEG: needs /Decode [1 0 1 0 1 0 1 0] */
	eid_buf data;            /* the XObject's encoded stream data */
	eid_buf alpha;           /* FlateDecode'd 8-bit DeviceGray soft mask (same w x h); len 0 when opaque */
} pdf_image;

/*
 * Parse a PNG or JPEG image (told apart by its signature) from @len bytes at
 * @p into @img, which need not be initialised; on success release it with
 * pdf_image_clear(), on failure it is left empty.
 * Returns EID_OK, EID_EFORMAT (malformed), EID_EUNSUPPORTED (another format
 * or a variant this loader does not handle), EID_ETOOBIG (beyond the limits)
 * or EID_ENOMEM; the detail names the problem.
 */
int pdf_image_parse(pdf_image *img, const unsigned char *p, size_t len);

/* Read the file @path (at most PDF_IMAGE_MAX_FILE bytes) and parse it; also EID_EIO. */
int pdf_image_load(pdf_image *img, const char *path);

/* Free @img's buffers and zero it.  Accepts NULL and a zeroed struct. */
void pdf_image_clear(pdf_image *img);

#endif
