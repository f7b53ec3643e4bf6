if HAVE_CHECK
# Check unit suites: one program per library source file (tests/unit/check_<file>.c).
# Included from tests/Makefile.inc; paths are relative to the top of the tree.
# Each suite links the internal convenience library so that it can call the
# internal eid_<layer>__* functions.  check_pkcs11 also covers pkcs11.c's
# login rules through tests/unit/p11shim.c; check_signer covers pkcs12.c.

EID_UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS) $(JSONC_CFLAGS) $(P11KIT_CFLAGS) $(LIBXML_CFLAGS) \
	$(LIBZIP_CFLAGS) $(PCSC_CFLAGS)
EID_UNIT_LDADD = tests/unit/libunit.la libeid/libeid-internal.la $(CHECK_LIBS) $(OPENSSL_LIBS) $(JSONC_LIBS) $(ZLIB_LIBS) \
	$(LIBXML_LIBS) $(LIBZIP_LIBS) $(PCSC_LIBS)

# Helpers shared by the suites (paths, scratch folders, main()).
check_LTLIBRARIES = tests/unit/libunit.la tests/unit/p11shim.la
tests_unit_libunit_la_SOURCES = tests/unit/unit.c tests/unit/unit.h
tests_unit_libunit_la_CFLAGS = $(EID_UNIT_CFLAGS)

# A PKCS#11 module forwarding to SoftHSM that lets check_pkcs11 count logins
# and fake token flags.  -rpath makes libtool build a shared module.
tests_unit_p11shim_la_SOURCES = tests/unit/p11shim.c tests/unit/p11shim.h
tests_unit_p11shim_la_CFLAGS = $(AM_CFLAGS) $(P11KIT_CFLAGS)
tests_unit_p11shim_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
EID_P11SHIM = $(abs_top_builddir)/tests/unit/.libs/p11shim.so

EID_UNIT_TESTS = \
	tests/unit/check_error \
	tests/unit/check_mem \
	tests/unit/check_io \
	tests/unit/check_log \
	tests/unit/check_signer \
	tests/unit/check_pkcs11 \
	tests/unit/check_cades \
	tests/unit/check_verify \
	tests/unit/check_trust \
	tests/unit/check_pdf \
	tests/unit/check_image \
	tests/unit/check_xml \
	tests/unit/check_xades \
	tests/unit/check_zip \
	tests/unit/check_pades \
	tests/unit/check_card

check_PROGRAMS += $(EID_UNIT_TESTS)
TESTS += $(EID_UNIT_TESTS)

tests_unit_check_error_SOURCES = tests/unit/check_error.c
tests_unit_check_error_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_error_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_mem_SOURCES = tests/unit/check_mem.c
tests_unit_check_mem_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_mem_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_io_SOURCES = tests/unit/check_io.c
tests_unit_check_io_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_io_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_log_SOURCES = tests/unit/check_log.c
tests_unit_check_log_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_log_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_signer_SOURCES = tests/unit/check_signer.c
tests_unit_check_signer_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_signer_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_pkcs11_SOURCES = tests/unit/check_pkcs11.c
tests_unit_check_pkcs11_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_pkcs11_LDADD = $(EID_UNIT_LDADD)
tests_unit_check_pkcs11_CPPFLAGS = $(AM_CPPFLAGS) -DP11SHIM_PATH='"$(EID_P11SHIM)"'
EXTRA_tests_unit_check_pkcs11_DEPENDENCIES = tests/unit/p11shim.la

tests_unit_check_cades_SOURCES = tests/unit/check_cades.c
tests_unit_check_cades_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_cades_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_verify_SOURCES = tests/unit/check_verify.c
tests_unit_check_verify_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_verify_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_trust_SOURCES = tests/unit/check_trust.c
tests_unit_check_trust_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_trust_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_pdf_SOURCES = tests/unit/check_pdf.c
tests_unit_check_pdf_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_pdf_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_image_SOURCES = tests/unit/check_image.c
tests_unit_check_image_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_image_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_xml_SOURCES = tests/unit/check_xml.c
tests_unit_check_xml_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_xml_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_xades_SOURCES = tests/unit/check_xades.c
tests_unit_check_xades_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_xades_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_zip_SOURCES = tests/unit/check_zip.c
tests_unit_check_zip_CFLAGS = $(EID_UNIT_CFLAGS) $(ZLIB_CFLAGS)
tests_unit_check_zip_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_pades_SOURCES = tests/unit/check_pades.c
tests_unit_check_pades_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_pades_LDADD = $(EID_UNIT_LDADD)

tests_unit_check_card_SOURCES = tests/unit/check_card.c
tests_unit_check_card_CFLAGS = $(EID_UNIT_CFLAGS)
tests_unit_check_card_LDADD = $(EID_UNIT_LDADD)

endif
