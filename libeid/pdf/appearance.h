/* Appearance of a visible signature: a form XObject with the signer's name,
 * the date and the reason, in Helvetica with an encoding built for its text,
 * and an optional picture on the left. */
#ifndef EID_INTERNAL_APPEARANCE_H
#define EID_INTERNAL_APPEARANCE_H

#include "pdf.h"

/*
 * Build the content stream of a @w x @h box showing @lines (UTF-8) into
 * @content, and the font dictionary they need into @font (a new object the
 * caller owns).  Characters outside Latin-1 and Latin Extended-A become '?'.
 * With @image (x, y, width, height in the box), the XObject /Im1 is drawn
 * there and the text starts to its right.
 */
int eid_pdf__appearance(const char *const *lines, size_t nlines, double w, double h, const double *image,
			eid_buf *content, pdf_obj **font);

#endif
