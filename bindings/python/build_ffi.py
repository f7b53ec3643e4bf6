"""cffi builder for the ``eid._eid_cffi`` extension (API mode, out of line).

The extension is compiled against libeid's public headers, so that every
structure layout, enum value and prototype declared below is checked by the
C compiler.  Where libeid comes from, in this order:

1. ``EID_BUILD_DIR``: a libeid build tree (configured and built, not
   installed).  If it holds ``libeid-uninstalled.pc`` that is used through
   pkg-config; otherwise the headers are taken from the source tree
   (``EID_SRC_DIR``, else the ``abs_top_srcdir`` of the build tree's
   Makefile) and the build tree's ``include/``, and the library from
   ``libeid/.libs``.  The extension gets an RPATH to that folder, so the
   uninstalled library is found at run time.
2. pkg-config ``libeid`` (an installed libeid; ``PKG_CONFIG_PATH`` is
   honoured).  A library folder outside the linker's default ones is added
   as RPATH too.

Optional parts of the C API that appeared in later libeid versions are
detected in the headers and declared only when present.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

from cffi import FFI

SYSTEM_LIBDIRS = {"/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu"}


def _fail(msg: str) -> "None":
    sys.stderr.write("eid build: error: %s\n" % msg)
    raise SystemExit(1)


def _pkg_config(args: List[str], env: Dict[str, str] | None = None) -> List[str]:
    out = subprocess.run(["pkg-config"] + args, check=True, capture_output=True, text=True, env=env).stdout
    return shlex.split(out)


def _split_flags(flags: List[str]) -> Dict[str, List[str]]:
    cfg: Dict[str, List[str]] = {"include_dirs": [], "library_dirs": [], "libraries": [], "extra_compile_args": []}
    for f in flags:
        if f.startswith("-I"):
            cfg["include_dirs"].append(f[2:])
        elif f.startswith("-L"):
            cfg["library_dirs"].append(f[2:])
        elif f.startswith("-l"):
            cfg["libraries"].append(f[2:])
        else:
            cfg["extra_compile_args"].append(f)
    return cfg


def _srcdir_of(build: Path) -> Path:
    env = os.environ.get("EID_SRC_DIR")
    if env:
        return Path(env).resolve()
    mk = build / "Makefile"
    if mk.is_file():
        m = re.search(r"^abs_top_srcdir = (.*)$", mk.read_text(errors="replace"), re.M)
        if m:
            return Path(m.group(1).strip())
    if (build / "include" / "eid" / "eid.h").is_file():
        return build
    _fail("cannot tell the source tree of %s: set EID_SRC_DIR" % build)
    raise AssertionError


def find_libeid() -> Dict[str, List[str]]:
    """The compiler and linker settings for libeid (see the module docstring)."""
    build_env = os.environ.get("EID_BUILD_DIR")
    if build_env:
        build = Path(build_env).resolve()
        if (build / "libeid-uninstalled.pc").is_file():
            env = dict(os.environ)
            env["PKG_CONFIG_PATH"] = str(build) + os.pathsep + env.get("PKG_CONFIG_PATH", "")
            cfg = _split_flags(_pkg_config(["--cflags", "--libs", "libeid-uninstalled"], env))
        else:
            src = _srcdir_of(build)
            libdir = build / "libeid" / ".libs"
            if not (src / "include" / "eid" / "eid.h").is_file():
                _fail("no include/eid/eid.h under %s" % src)
            if not (build / "include" / "eid" / "version.h").is_file():
                _fail("%s is not a configured libeid build tree (no include/eid/version.h)" % build)
            if not any(libdir.glob("libeid.so*")):
                _fail("%s has no libeid.so: run make there first" % libdir)
            cfg = {"include_dirs": [str(build / "include"), str(src / "include")],
                   "library_dirs": [str(libdir)], "libraries": ["eid"], "extra_compile_args": []}
        cfg["runtime_library_dirs"] = list(cfg["library_dirs"])
        return cfg
    try:
        cfg = _split_flags(_pkg_config(["--cflags", "--libs", "libeid"]))
    except (OSError, subprocess.CalledProcessError):
        _fail("libeid not found: install it (pkg-config libeid), or set EID_BUILD_DIR to a libeid build tree")
        raise AssertionError
    cfg["runtime_library_dirs"] = [d for d in cfg["library_dirs"] if d not in SYSTEM_LIBDIRS]
    if "eid" not in cfg["libraries"]:
        cfg["libraries"].append("eid")
    return cfg


def _header_text(include_dirs: List[str]) -> str:
    text = []
    for d in include_dirs:
        for h in sorted(Path(d).glob("eid/**/*.h")):
            text.append(h.read_text(errors="replace"))
    return "\n".join(text)


CDEF_BASE = r"""
/* common.h */
typedef enum eid_error_code {
	EID_OK = 0, EID_EINVAL = -1, EID_ENOMEM = -2, EID_EIO = -3, EID_ENOTFOUND = -4, EID_EUNSUPPORTED = -5,
	EID_EFORMAT = -6, EID_ECANCELED = -7, EID_EVERSION = -8, EID_EINTERNAL = -9, EID_ETOOBIG = -10,
	EID_EMODULE = -100, EID_ENOTOKEN = -101, EID_ENOKEY = -102, EID_EPIN_WRONG = -103, EID_EPIN_LOCKED = -104,
	EID_EPIN_FINAL_TRY = -105, EID_EPIN_INVALID = -106, EID_ETOKEN = -107, EID_EMECHANISM = -108,
	EID_EPASSWORD = -109, EID_EEXTERNAL = -110, EID_ETOKEN_REMOVED = -111,
	EID_ECARD = -200, EID_ECERT = -300, EID_ENETWORK = -301, EID_ESIGFORMAT = -400
} eid_error_code;
typedef struct eid_error { int code; const char *message; } eid_error;
const eid_error *eid_error_last(void);
void eid_error_clear(void);
const char *eid_strerror(int code);
const char *eid_version(void);
typedef struct eid_buf { unsigned char *data; size_t len; size_t cap; } eid_buf;
void eid_buf_clear(eid_buf *buf);
int eid_buf_set(eid_buf *buf, const void *data, size_t len);
void eid_memzero(void *p, size_t len);
typedef enum eid_log_level { EID_LOG_NONE = 0, EID_LOG_ERROR = 1, EID_LOG_WARN = 2, EID_LOG_INFO = 3,
	EID_LOG_DEBUG = 4, EID_LOG_TRACE = 5 } eid_log_level;
typedef void (*eid_log_cb)(eid_log_level level, const char *msg, void *userdata);
void eid_log_set_level(eid_log_level level);
void eid_log_set_handler(eid_log_cb cb, void *userdata);
int eid_file_write_atomic(const char *path, const void *data, size_t len);
#define EID_VERSION_NUMBER ...

/* token.h */
typedef enum eid_hash { EID_HASH_DEFAULT = 0, EID_HASH_SHA256 = 1, EID_HASH_SHA384 = 2, EID_HASH_SHA512 = 3 } eid_hash;
typedef enum eid_key_type { EID_KEY_UNKNOWN = 0, EID_KEY_RSA = 1, EID_KEY_EC = 2 } eid_key_type;
typedef enum eid_sig_scheme { EID_SIG_DEFAULT = 0, EID_SIG_RSA_PKCS1 = 1, EID_SIG_RSA_PSS = 2,
	EID_SIG_ECDSA = 3 } eid_sig_scheme;
const char *eid_hash_name(eid_hash hash);
int eid_hash_from_name(eid_hash *out, const char *name);
size_t eid_hash_size(eid_hash hash);
int eid_digest_file(const char *path, eid_hash hash, eid_buf *out);
typedef struct eid_signer eid_signer;
#define EID_PIN_FLAG_COUNT_LOW ...
#define EID_PIN_FLAG_FINAL_TRY ...
#define EID_PIN_FLAG_CONTEXT ...
typedef struct eid_pin_request {
	const char *token_label; const char *key_label; unsigned int flags; size_t min_len; size_t max_len;
} eid_pin_request;
typedef int (*eid_pin_cb)(char *buf, size_t size, const eid_pin_request *req, void *userdata);
typedef struct eid_pkcs11 eid_pkcs11;
#define EID_TOKEN_LOGIN_REQUIRED ...
#define EID_TOKEN_PINPAD ...
#define EID_TOKEN_PIN_COUNT_LOW ...
#define EID_TOKEN_PIN_FINAL_TRY ...
#define EID_TOKEN_PIN_LOCKED ...
#define EID_TOKEN_PIN_TO_BE_CHANGED ...
typedef struct eid_token_info {
	unsigned long slot_id; const char *slot_description; const char *label; const char *manufacturer;
	const char *model; const char *serial; unsigned int flags;
} eid_token_info;
#define EID_CERT_NON_REPUDIATION ...
#define EID_CERT_DIGITAL_SIGNATURE ...
#define EID_CERT_CA ...
typedef struct eid_cert_info {
	size_t token_index; const char *label; const char *id_hex; const char *subject; const unsigned char *der;
	size_t der_len; eid_key_type key_type; unsigned int key_bits; unsigned int flags;
} eid_cert_info;
#define EID_KEYOBJ_PRIVATE ...
#define EID_KEYOBJ_HAS_CERT ...
typedef struct eid_key_info {
	size_t token_index; const char *label; const char *id_hex; eid_key_type key_type; unsigned int key_bits;
	unsigned int flags;
} eid_key_info;
int eid_pkcs11_open(eid_pkcs11 **out, const char *module);
void eid_pkcs11_free(eid_pkcs11 *p11);
const char *eid_pkcs11_module_path(const eid_pkcs11 *p11);
size_t eid_pkcs11_token_count(const eid_pkcs11 *p11);
const eid_token_info *eid_pkcs11_token(eid_pkcs11 *p11, size_t i);
size_t eid_pkcs11_cert_count(const eid_pkcs11 *p11);
const eid_cert_info *eid_pkcs11_cert(const eid_pkcs11 *p11, size_t i);
size_t eid_pkcs11_key_count(const eid_pkcs11 *p11);
const eid_key_info *eid_pkcs11_key(const eid_pkcs11 *p11, size_t i);
#define EID_SELECT_ALLOW_FINAL_TRY ...
#define EID_SELECT_NO_PINPAD ...
#define EID_SELECT_ANY_USAGE ...
typedef struct eid_pkcs11_select {
	unsigned int version; const char *token_label; const char *key_id_hex; const char *cert_label;
	eid_pin_cb pin_cb; void *pin_userdata; unsigned int flags;
} eid_pkcs11_select;
int eid_signer_new_pkcs11(eid_signer **out, eid_pkcs11 *p11, const eid_pkcs11_select *sel);
int eid_signer_new_pkcs12(eid_signer **out, const char *path, const char *password);
int eid_signer_new_external(eid_signer **out, const unsigned char *cert, size_t cert_len);
int eid_signer_add_chain_cert(eid_signer *signer, const unsigned char *cert, size_t cert_len);
void eid_signer_free(eid_signer *signer);
int eid_signer_certificate(const eid_signer *signer, const unsigned char **der, size_t *len);
size_t eid_signer_chain_count(const eid_signer *signer);
int eid_signer_chain_cert(const eid_signer *signer, size_t i, const unsigned char **der, size_t *len);
eid_key_type eid_signer_key_type(const eid_signer *signer);
unsigned int eid_signer_key_bits(const eid_signer *signer);
const char *eid_signer_name(const eid_signer *signer);
int eid_signer_sign_digest(eid_signer *signer, eid_sig_scheme scheme, eid_hash hash,
	const unsigned char *digest, size_t digest_len, eid_buf *out);

/* sys/signer.h */
typedef struct eid_signer_ops {
	unsigned int version;
	int (*sign_digest)(void *impl, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
			   size_t digest_len, eid_buf *out);
	void (*free)(void *impl);
} eid_signer_ops;
int eid_signer_new_custom(eid_signer **out, const eid_signer_ops *ops, void *impl, const unsigned char *cert,
	size_t cert_len);

/* pki.h */
typedef struct eid_trust eid_trust;
int eid_trust_new(eid_trust **out);
int eid_trust_add_file(eid_trust *trust, const char *path);
int eid_trust_add_cert(eid_trust *trust, const unsigned char *cert, size_t len);
int eid_trust_add_intermediates(eid_trust *trust, const char *path);
size_t eid_trust_count(const eid_trust *trust);
void eid_trust_free(eid_trust *trust);

/* online.h */
typedef struct eid_online eid_online;
int eid_online_new(eid_online **out);
void eid_online_free(eid_online *online);
int eid_online_set_tsa(eid_online *online, const char *url, const char *policy_oid);
int eid_online_set_timeout(eid_online *online, int seconds);
int eid_online_set_offline(eid_online *online, int offline);
int eid_online_timestamp(eid_online *online, eid_hash hash, const unsigned char *digest, size_t len, eid_buf *token);

/* cades.h */
typedef enum eid_level { EID_LEVEL_DEFAULT = 0, EID_LEVEL_B_B = 1, EID_LEVEL_B_T = 2, EID_LEVEL_B_LT = 3,
	EID_LEVEL_B_LTA = 4 } eid_level;
int eid_level_from_name(eid_level *out, const char *name);
const char *eid_level_name(eid_level level);
#define EID_CADES_NO_SIGNING_TIME ...
#define EID_CADES_NO_CHAIN ...
typedef struct eid_cades_opts {
	unsigned int version; eid_hash hash; eid_sig_scheme scheme; eid_level level; int64_t signing_time;
	unsigned int flags; eid_online *online;
} eid_cades_opts;
typedef struct eid_cades_prep eid_cades_prep;
int eid_cades_prepare_file(eid_cades_prep **out, const eid_signer *signer, const char *path,
	const eid_cades_opts *opts);
int eid_cades_prepare_digest(eid_cades_prep **out, const eid_signer *signer, const unsigned char *content_digest,
	size_t len, const eid_cades_opts *opts);
int eid_cades_prep_digest(const eid_cades_prep *prep, const unsigned char **digest, size_t *len, eid_hash *hash,
	eid_sig_scheme *scheme);
int eid_cades_complete(eid_cades_prep *prep, const unsigned char *sig, size_t sig_len, eid_buf *out);
void eid_cades_prep_free(eid_cades_prep *prep);
int eid_cades_sign_file(eid_signer *signer, const char *path, const eid_cades_opts *opts, eid_buf *out);

/* pades.h */
#define EID_PADES_LEGACY_SUBFILTER ...
typedef struct eid_pades_opts {
	unsigned int version; eid_hash hash; eid_sig_scheme scheme; eid_level level; int64_t signing_time;
	const char *reason; const char *location; const char *contact_info; const char *name;
	const char *field_name; unsigned int flags; unsigned int page; double rect[4];
	unsigned int certify; const char *image; eid_online *online;
} eid_pades_opts;
typedef struct eid_pades_prep eid_pades_prep;
int eid_pades_prepare(eid_pades_prep **out, const eid_signer *signer, const char *in_path, const char *out_path,
	const eid_pades_opts *opts);
int eid_pades_prep_digest(const eid_pades_prep *prep, const unsigned char **digest, size_t *len, eid_hash *hash,
	eid_sig_scheme *scheme);
int eid_pades_complete(eid_pades_prep *prep, const unsigned char *sig, size_t sig_len);
void eid_pades_prep_free(eid_pades_prep *prep);
int eid_pades_sign(eid_signer *signer, const char *in_path, const char *out_path, const eid_pades_opts *opts);

/* xades.h */
typedef enum eid_xades_packaging { EID_XADES_DETACHED = 0, EID_XADES_ENVELOPED = 1,
	EID_XADES_ENVELOPING = 2 } eid_xades_packaging;
#define EID_XADES_NO_CHAIN ...
#define EID_XADES_POLICY_IMPLIED ...
typedef struct eid_xades_opts {
	unsigned int version; eid_hash hash; eid_sig_scheme scheme; eid_level level; int64_t signing_time;
	eid_xades_packaging packaging; const char *claimed_role; unsigned int flags;
	const char *policy_id; eid_hash policy_hash; const unsigned char *policy_digest; size_t policy_digest_len;
	const char *policy_uri; eid_online *online;
} eid_xades_opts;
typedef struct eid_xades_data { const char *path; const char *uri; const char *mime_type; } eid_xades_data;
typedef struct eid_xades_prep eid_xades_prep;
int eid_xades_prepare(eid_xades_prep **out, const eid_signer *signer, const eid_xades_data *data, size_t n,
	const eid_xades_opts *opts);
int eid_xades_prep_digest(const eid_xades_prep *prep, const unsigned char **digest, size_t *len, eid_hash *hash,
	eid_sig_scheme *scheme);
int eid_xades_complete(eid_xades_prep *prep, const unsigned char *sig, size_t sig_len, eid_buf *out);
int eid_xades_complete_file(eid_xades_prep *prep, const unsigned char *sig, size_t sig_len, const char *out_path);
void eid_xades_prep_free(eid_xades_prep *prep);
int eid_xades_sign(eid_signer *signer, const eid_xades_data *data, size_t n, const eid_xades_opts *opts,
	eid_buf *out);
int eid_xades_sign_file(eid_signer *signer, const eid_xades_data *data, size_t n, const eid_xades_opts *opts,
	const char *out_path);

/* asic.h */
typedef enum eid_asic_type { EID_ASIC_E = 0, EID_ASIC_S = 1 } eid_asic_type;
typedef struct eid_asic_opts { unsigned int version; eid_asic_type type; eid_xades_opts xades; } eid_asic_opts;
typedef struct eid_asic_prep eid_asic_prep;
int eid_asic_prepare(eid_asic_prep **out, const eid_signer *signer, const char *const *paths, size_t n,
	const char *out_path, const eid_asic_opts *opts);
int eid_asic_prepare_add(eid_asic_prep **out, const eid_signer *signer, const char *container,
	const char *out_path, const eid_asic_opts *opts);
int eid_asic_prep_digest(const eid_asic_prep *prep, const unsigned char **digest, size_t *len, eid_hash *hash,
	eid_sig_scheme *scheme);
int eid_asic_complete(eid_asic_prep *prep, const unsigned char *sig, size_t sig_len);
void eid_asic_prep_free(eid_asic_prep *prep);
int eid_asic_sign(eid_signer *signer, const char *const *paths, size_t n, const char *out_path,
	const eid_asic_opts *opts);
int eid_asic_add_signature(eid_signer *signer, const char *container, const char *out_path,
	const eid_asic_opts *opts);

/* card.h */
typedef struct eid_card_ctx eid_card_ctx;
typedef struct eid_card eid_card;
typedef struct eid_identity eid_identity;
int eid_card_ctx_new(eid_card_ctx **out);
void eid_card_ctx_free(eid_card_ctx *ctx);
int eid_card_ctx_readers(eid_card_ctx *ctx, size_t *count);
const char *eid_card_ctx_reader(const eid_card_ctx *ctx, size_t i);
int eid_card_ctx_reader_has_card(const eid_card_ctx *ctx, size_t i);
int eid_card_ctx_wait(eid_card_ctx *ctx, const char *reader, int timeout_ms);
int eid_card_ctx_wait_removed(eid_card_ctx *ctx, const char *reader, int timeout_ms);
int eid_card_open(eid_card_ctx *ctx, const char *reader, eid_card **out);
void eid_card_free(eid_card *card);
const char *eid_card_profile(const eid_card *card);
const char *eid_card_description(const eid_card *card);
const char *eid_card_reader(const eid_card *card);
int eid_card_atr(const eid_card *card, const unsigned char **atr, size_t *len);
int eid_card_has_pinpad(const eid_card *card);
unsigned long eid_card_apdu_count(const eid_card *card);
typedef enum eid_card_key { EID_CARD_AUTH = 1, EID_CARD_SIGN = 2, EID_CARD_CA = 3, EID_CARD_ROOT = 4,
	EID_CARD_RRN = 5 } eid_card_key;
int eid_card_certificate(eid_card *card, eid_card_key which, eid_buf *der);
typedef enum eid_identity_field {
	EID_ID_SURNAME = 0, EID_ID_GIVEN_NAMES, EID_ID_NATIONALITY, EID_ID_BIRTH_DATE, EID_ID_BIRTH_PLACE, EID_ID_SEX,
	EID_ID_PERSONAL_CODE, EID_ID_DOCUMENT_NUMBER, EID_ID_DOCUMENT_TYPE, EID_ID_VALID_FROM, EID_ID_VALID_UNTIL,
	EID_ID_ISSUING_PLACE, EID_ID_ADDRESS_STREET, EID_ID_ADDRESS_ZIP, EID_ID_ADDRESS_MUNICIPALITY,
	EID_ID_FIELD_COUNT
} eid_identity_field;
typedef enum eid_integrity { EID_INTEGRITY_NONE = 0, EID_INTEGRITY_VALID = 1, EID_INTEGRITY_FAILED = 2 } eid_integrity;
int eid_card_identity(eid_card *card, eid_identity **out);
void eid_identity_free(eid_identity *id);
const char *eid_identity_get(const eid_identity *id, eid_identity_field field);
const char *eid_identity_field_name(eid_identity_field field);
int eid_identity_photo(const eid_identity *id, const unsigned char **jpeg, size_t *len);
eid_integrity eid_identity_integrity(const eid_identity *id, const char **reason);
int eid_identity_check_signer(eid_identity *id, const eid_trust *trust);
int eid_identity_to_json(const eid_identity *id, eid_buf *out);
typedef enum eid_card_pin { EID_PIN_AUTH = 1, EID_PIN_SIGN = 2, EID_PIN_PUK = 3 } eid_card_pin;
int eid_card_pin_tries(eid_card *card, eid_card_pin which, int *tries_left);
int eid_card_pin_verify(eid_card *card, eid_card_pin which, const char *pin, int *tries_left);
int eid_card_pin_change(eid_card *card, eid_card_pin which, const char *old_pin, const char *new_pin,
	int *tries_left);
int eid_card_pin_unblock(eid_card *card, eid_card_pin which, const char *puk, const char *new_pin,
	int *tries_left);
int eid_signer_new_card(eid_signer **out, eid_card *card, eid_card_key which, eid_pin_cb pin_cb,
	void *pin_userdata);

/* verify.h */
typedef enum eid_indication { EID_TOTAL_PASSED = 1, EID_INDETERMINATE = 2, EID_TOTAL_FAILED = 3 } eid_indication;
typedef enum eid_subindication { EID_SUB_NONE = 0, ... } eid_subindication;
const char *eid_indication_name(eid_indication ind);
const char *eid_subindication_name(eid_subindication sub);
typedef struct eid_verify_opts {
	unsigned int version; const eid_trust *trust; const char *data_path; int64_t validation_time;
	unsigned int flags; eid_online *online;
	%(verify_opts_v3)s
	...;
} eid_verify_opts;
typedef struct eid_report eid_report;
typedef struct eid_sig_report eid_sig_report;
int eid_verify_file(eid_report **out, const char *path, const eid_verify_opts *opts);
int eid_verify_cades(eid_report **out, const unsigned char *p7s, size_t len, const eid_verify_opts *opts);
void eid_report_free(eid_report *report);
eid_indication eid_report_indication(const eid_report *report);
const char *eid_report_file(const eid_report *report);
size_t eid_report_signature_count(const eid_report *report);
const eid_sig_report *eid_report_signature(const eid_report *report, size_t i);
eid_indication eid_sig_report_indication(const eid_sig_report *sig);
eid_subindication eid_sig_report_subindication(const eid_sig_report *sig);
const char *eid_sig_report_format(const eid_sig_report *sig);
const char *eid_sig_report_level(const eid_sig_report *sig);
const char *eid_sig_report_signer_name(const eid_sig_report *sig);
const char *eid_sig_report_signer_subject(const eid_sig_report *sig);
const char *eid_sig_report_signer_issuer(const eid_sig_report *sig);
const char *eid_sig_report_signer_serial(const eid_sig_report *sig);
const char *eid_sig_report_hash(const eid_sig_report *sig);
const char *eid_sig_report_algorithm(const eid_sig_report *sig);
int64_t eid_sig_report_claimed_time(const eid_sig_report *sig);
const char *eid_sig_report_field(const eid_sig_report *sig);
const char *eid_sig_report_policy(const eid_sig_report *sig);
int64_t eid_sig_report_timestamp(const eid_sig_report *sig, const char **tsa);
%(archive_timestamp)s
const char *eid_sig_report_role(const eid_sig_report *sig);
int eid_sig_report_certification(const eid_sig_report *sig);
size_t eid_sig_report_signed_data_count(const eid_sig_report *sig);
const char *eid_sig_report_signed_data(const eid_sig_report *sig, size_t i);
size_t eid_sig_report_chain_count(const eid_sig_report *sig);
const char *eid_sig_report_chain_subject(const eid_sig_report *sig, size_t i);
size_t eid_sig_report_warning_count(const eid_sig_report *sig);
const char *eid_sig_report_warning(const eid_sig_report *sig, size_t i);
size_t eid_sig_report_error_count(const eid_sig_report *sig);
const char *eid_sig_report_error(const eid_sig_report *sig, size_t i);
int eid_report_to_text(const eid_report *report, eid_buf *out);
int eid_report_to_json(const eid_report *report, eid_buf *out);

/* extend.h */
typedef struct eid_extend_opts {
	unsigned int version; eid_level level; eid_online *online; eid_hash hash; const char *data_path;
	unsigned int flags;
} eid_extend_opts;
int eid_extend_file(const char *in_path, const char *out_path, const eid_extend_opts *opts);

/* Options initialised from the headers' own _INIT macros (defined in the C source below). */
void eidpy_cades_opts_init(eid_cades_opts *o);
void eidpy_pades_opts_init(eid_pades_opts *o);
void eidpy_xades_opts_init(eid_xades_opts *o);
void eidpy_asic_opts_init(eid_asic_opts *o);
void eidpy_verify_opts_init(eid_verify_opts *o);
void eidpy_extend_opts_init(eid_extend_opts *o);
void eidpy_pkcs11_select_init(eid_pkcs11_select *o);
void eidpy_signer_ops_init(eid_signer_ops *o);

/* Callbacks into Python. */
extern "Python" int eidpy_pin_cb(char *buf, size_t size, const eid_pin_request *req, void *userdata);
extern "Python" void eidpy_log_cb(eid_log_level level, const char *msg, void *userdata);
extern "Python" int eidpy_sign_cb(void *impl, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
	size_t digest_len, eid_buf *out);
extern "Python" void eidpy_free_cb(void *impl);
"""

SOURCE = r"""
#include <eid/eid.h>
#include <eid/sys/signer.h>

#define EIDPY_INIT(type, name, init) static void name(type *o) { type i = init; *o = i; }
EIDPY_INIT(eid_cades_opts, eidpy_cades_opts_init, EID_CADES_OPTS_INIT)
EIDPY_INIT(eid_pades_opts, eidpy_pades_opts_init, EID_PADES_OPTS_INIT)
EIDPY_INIT(eid_xades_opts, eidpy_xades_opts_init, EID_XADES_OPTS_INIT)
EIDPY_INIT(eid_asic_opts, eidpy_asic_opts_init, EID_ASIC_OPTS_INIT)
EIDPY_INIT(eid_verify_opts, eidpy_verify_opts_init, EID_VERIFY_OPTS_INIT)
EIDPY_INIT(eid_extend_opts, eidpy_extend_opts_init, EID_EXTEND_OPTS_INIT)
EIDPY_INIT(eid_pkcs11_select, eidpy_pkcs11_select_init, EID_PKCS11_SELECT_INIT)
EIDPY_INIT(eid_signer_ops, eidpy_signer_ops_init, EID_SIGNER_OPS_INIT)
"""


def make_builder() -> FFI:
    """The configured FFI builder."""
    cfg = find_libeid()
    headers = _header_text(cfg["include_dirs"] or ["/usr/include", "/usr/local/include"])
    features = {
        "verify_opts_v3": "const char *crypto_policy;" if "crypto_policy" in headers else "",
        "archive_timestamp": ("int64_t eidpy_sig_report_archive_timestamp(const eid_sig_report *sig, const char **tsa);"
                              if "eid_sig_report_archive_timestamp" in headers else ""),
    }
    source = SOURCE
    if features["archive_timestamp"]:
        # Weak: a library older than its headers (a tree being worked on) still loads; -2 = not available.
        source += ("#pragma weak eid_sig_report_archive_timestamp\n"
                   "static int64_t eidpy_sig_report_archive_timestamp(const eid_sig_report *s, const char **tsa)\n"
                   "{ if (tsa) *tsa = NULL;\n"
                   "  return eid_sig_report_archive_timestamp ? eid_sig_report_archive_timestamp(s, tsa) : -2; }\n")
    ffi = FFI()
    ffi.cdef(CDEF_BASE % features)
    ffi.set_source("eid._eid_cffi", source,
                   include_dirs=cfg["include_dirs"], library_dirs=cfg["library_dirs"],
                   runtime_library_dirs=cfg.get("runtime_library_dirs", []), libraries=cfg["libraries"],
                   extra_compile_args=cfg["extra_compile_args"])
    return ffi


ffibuilder = make_builder()

if __name__ == "__main__":
    # Build in place (next to eid/), for development: python3 build_ffi.py
    here = Path(__file__).resolve().parent
    os.chdir(here)
    ffibuilder.compile(tmpdir=str(here / "build" / "cffi"), verbose=True)
