/*
 * The interactive form and the permissions of a document: a bounded walk
 * over the field tree, and the certification (DocMDP) the catalog names.
 */
#include "config.h"

#include <string.h>

#include "pdf.h"

typedef struct fwalk {
	pdf_doc *doc;
	pdf_field_cb cb;
	void *ctx;
	size_t visited;
} fwalk;

static int walk(fwalk *w, pdf_obj *fields, const char *inherited_ft, int depth)
{
	size_t i;
	int rc;

	fields = pdf_doc_resolve(w->doc, fields);
	if (fields == NULL || fields->type != PDF_ARRAY) {
		eid_error_clear();
		return 0;
	}
	if (depth > PDF_MAX_FIELDS_DEPTH)
		return eid_error__set(EID_EFORMAT, "the form's field tree is deeper than %d", PDF_MAX_FIELDS_DEPTH);
	for (i = 0; i < fields->u.arr.n; i++) {
		pdf_obj *f = pdf_doc_resolve(w->doc, fields->u.arr.items[i]), *ft;
		const char *type = inherited_ft;

		if (++w->visited > PDF_MAX_FIELDS)
			return eid_error__set(EID_ETOOBIG, "more than %d form fields (or a loop in /Kids)", PDF_MAX_FIELDS);
		if (f == NULL || f->type != PDF_DICT) {
			eid_error_clear();
			continue;
		}
		ft = pdf_doc_resolve(w->doc, pdf_dict_get(f, "FT"));
		if (ft != NULL && ft->type == PDF_NAME)
			type = ft->u.name;
		if ((rc = w->cb(w->doc, fields->u.arr.items[i], f, type, w->ctx)) != 0)
			return rc;
		if ((rc = walk(w, pdf_dict_get(f, "Kids"), type, depth + 1)) != 0)
			return rc;
	}
	return 0;
}

int pdf_doc_fields(pdf_doc *doc, pdf_field_cb cb, void *ctx)
{
	pdf_obj *root = pdf_doc_root(doc), *form;
	fwalk w;

	if (root == NULL)
		return eid_error_last()->code;
	form = pdf_doc_resolve(doc, pdf_dict_get(root, "AcroForm"));
	if (form == NULL || form->type != PDF_DICT) {
		eid_error_clear();
		return 0;
	}
	memset(&w, 0, sizeof(w));
	w.doc = doc;
	w.cb = cb;
	w.ctx = ctx;
	return walk(&w, pdf_dict_get(form, "Fields"), NULL, 0);
}

int pdf_sig_docmdp(pdf_doc *doc, const pdf_obj *sig)
{
	pdf_obj *refs = pdf_doc_resolve(doc, pdf_dict_get(sig, "Reference"));
	size_t i;

	if (refs == NULL || refs->type != PDF_ARRAY) {
		eid_error_clear();
		return 0;
	}
	for (i = 0; i < refs->u.arr.n; i++) {
		pdf_obj *r = pdf_doc_resolve(doc, refs->u.arr.items[i]), *params, *p;

		if (r == NULL || r->type != PDF_DICT ||
		    !pdf_name_is(pdf_doc_resolve(doc, pdf_dict_get(r, "TransformMethod")), "DocMDP"))
			continue;
		params = pdf_doc_resolve(doc, pdf_dict_get(r, "TransformParams"));
		p = params != NULL && params->type == PDF_DICT ? pdf_doc_resolve(doc, pdf_dict_get(params, "P")) : NULL;
		eid_error_clear();
		if (p == NULL)
			return 2; /* the default */
		if (p->type != PDF_INT || p->u.i < 1 || p->u.i > 3)
			return eid_error__set(EID_EFORMAT, "the certification's /P is not 1, 2 or 3");
		return (int)p->u.i;
	}
	eid_error_clear();
	return 0;
}

int pdf_doc_docmdp(pdf_doc *doc, uint32_t *sig_num, int *p)
{
	pdf_obj *root = pdf_doc_root(doc), *perms, *ref, *sig;
	int rc;

	*sig_num = 0;
	*p = 0;
	if (root == NULL)
		return eid_error_last()->code;
	perms = pdf_doc_resolve(doc, pdf_dict_get(root, "Perms"));
	if (perms == NULL || perms->type != PDF_DICT || (ref = pdf_dict_get(perms, "DocMDP")) == NULL) {
		eid_error_clear();
		return 0;
	}
	if (ref->type != PDF_REF)
		return eid_error__set(EID_EFORMAT, "/Perms /DocMDP is not a reference to a signature");
	sig = pdf_doc_resolve(doc, ref);
	if (sig == NULL || sig->type != PDF_DICT)
		return eid_error__set(EID_EFORMAT, "/Perms /DocMDP does not name a signature dictionary");
	if ((rc = pdf_sig_docmdp(doc, sig)) < 0)
		return rc;
	*sig_num = ref->u.ref.num;
	*p = rc > 0 ? rc : 2;
	return 1;
}
