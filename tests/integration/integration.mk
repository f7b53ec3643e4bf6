EID_INTEGRATION_TESTS += tests/integration/sign_verify.sh tests/integration/bad_input.sh \
	tests/integration/verdicts.sh tests/integration/secrets.sh \
	tests/integration/always_auth.sh
EID_INTEROP_TESTS += tests/interop/openssl_cms.sh tests/interop/pades.sh tests/interop/signpdf.sh tests/interop/pdf_attacks.sh \
	tests/interop/xades.sh tests/interop/asic.sh tests/interop/cards.sh tests/interop/pinpad.sh \
	tests/card/selftest.sh \
	tests/pki/servers-selftest.sh tests/interop/timestamps.sh tests/interop/revocation.sh \
	tests/interop/longterm.sh tests/interop/lt-pades.sh tests/interop/lt-xades.sh \
	tests/interop/lt-cades.sh
