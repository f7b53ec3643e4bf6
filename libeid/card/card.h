/*
 * Internal interface of the card layer: the PC/SC transport (pcsc.c), ISO
 * 7816-4 commands and PIN blocks (iso.c), BER-TLV (tlv.c), the identity
 * structure (identity.c) and the card profiles, one file each.
 */
#ifndef EID_INTERNAL_CARD_H
#define EID_INTERNAL_CARD_H

#include <stddef.h>
#include <stdint.h>

#include <winscard.h>

#include "eid/card.h"
#include "../common/common.h"

#define EID_CARD_MAX_FILE (256u << 10) /* bytes of one elementary file read whole */
#define EID_CARD_MAX_RESP 65538u       /* one response, data and status */

typedef struct eid_card_ops eid_card_ops;

struct eid_card_ctx {
	SCARDCONTEXT h;
	char *names;      /* the multi-string of SCardListReaders */
	char **readers;
	int *has_card;
	size_t n;
};

struct eid_card {
	eid_card_ctx *ctx;
	SCARDHANDLE h;
	DWORD proto;                 /* SCARD_PROTOCOL_T0 or _T1 */
	char reader[256];
	unsigned char atr[36];
	size_t atr_len;
	const eid_card_ops *profile;
	void *pdata;                 /* the profile's own state */
	char description[96];
	size_t max_le;               /* the largest Le one READ BINARY may ask: 256, or more with extended length */
	int extended;                /* the card takes extended-length APDUs */
	unsigned long napdu;
	int tx_depth;                /* nested eid_card__begin */
	DWORD verify_ioctl, modify_ioctl; /* PC/SC part 10 pinpad features, 0 when absent */
};

/* One command.  @le: 0 none expected, up to 256 short ("00" = 256), more needs extended length. */
typedef struct eid_apdu {
	unsigned char cla, ins, p1, p2;
	const unsigned char *data;
	size_t lc;
	size_t le;
	int secret; /* the data is a PIN block: never traced, and the encoded copy is wiped */
} eid_apdu;

/* ---- pcsc.c ---- */

/* Is @atr (@len bytes) one of the NULL-terminated hex strings in @known? */
int eid_card__atr_in(const unsigned char *atr, size_t len, const char *const *known);

/* Does the ATR's card capabilities byte (historical bytes, compact-TLV 7x) announce extended Lc/Le? */
int eid_card__atr_extended(const unsigned char *atr, size_t len);
/* A PC/SC error as a library error, naming @what. */
int eid_card__pcsc_error(long rv, const char *what);
/*
 * Send one command; follow 61xx with GET RESPONSE and 6Cxx with the right Le,
 * so that T=0 cards answer like T=1 ones.  @resp receives the data (may be
 * NULL to drop it), @sw the final status word.  Returns <0 only for transport
 * failures; every status word is the caller's to judge.
 */
int eid_card__transmit(eid_card *c, const eid_apdu *a, eid_buf *resp, unsigned int *sw);
/* PC/SC transactions (nested calls count). */
int eid_card__begin(eid_card *c);
void eid_card__end(eid_card *c);
/* Pinpad: send a part 10 VERIFY (@modify 0) or MODIFY PIN structure; the card's status word in @sw. */
int eid_card__pinpad(eid_card *c, int modify, const unsigned char *block, size_t len, unsigned int *sw);

/* ---- iso.c ---- */

/* Status words. */
#define EID_SW_OK 0x9000u
#define EID_SW_IS_TRIES(sw) (((sw) & 0xfff0u) == 0x63c0u)
#define EID_SW_TRIES(sw) ((int)((sw) & 0x0fu))
/* A failing status word as a library error, naming @what. */
int eid_card__sw_error(unsigned int sw, const char *what);

/* SELECT: by AID (P1 04), file id (00), path from the MF (08) or the current DF (09); no answer data asked. */
int eid_card__select(eid_card *c, unsigned char p1, const unsigned char *id, size_t len, unsigned int *sw);
/* READ BINARY from offset 0 to the end of the currently selected file, at most @max bytes. */
int eid_card__read_binary(eid_card *c, size_t max, eid_buf *out);
/* The length of the DER SEQUENCE at the start of @p (@n bytes known), or 0 when it cannot be told. */
size_t eid_card__der_len(const unsigned char *p, size_t n);
/* The same, stopping once a DER element at the file's start is complete (a certificate in a zero-padded file). */
int eid_card__read_binary_upto(eid_card *c, size_t max, int stop_at_der_end, eid_buf *out);
/* SELECT by path from the MF (2-byte file ids, hex string "3F00DF014031"), then read the file whole. */
int eid_card__read_path(eid_card *c, const char *hexpath, size_t max, eid_buf *out);
/* The same for a file holding one DER element (a certificate), read only as far as the element goes. */
int eid_card__read_der(eid_card *c, const char *hexpath, size_t max, eid_buf *out);

/* PIN blocks.  Each returns EID_EPIN_INVALID for a PIN outside @min..@max digits. */
typedef enum eid_pin_format {
	EID_PIN_FORMAT_ASCII = 0,  /* the digits as ASCII, unpadded */
	EID_PIN_FORMAT_ASCII_FF,   /* ASCII, padded with 0xFF to the block length */
	EID_PIN_FORMAT_2           /* ISO 9564 format 2: 0x2N, BCD digits, 0xF padding, 8 bytes */
} eid_pin_format;
int eid_card__pin_block(const char *pin, eid_pin_format f, size_t min, size_t max, size_t block_len,
			unsigned char *out, size_t *out_len);

/* A card's rules for one PIN. */
typedef struct eid_pin_rule {
	eid_pin_format format;
	size_t min, max;    /* digits */
	size_t block_len;   /* bytes of one block on the wire (0: the PIN's length) */
} eid_pin_rule;

/*
 * VERIFY (20), CHANGE REFERENCE DATA (24) or RESET RETRY COUNTER (2C) with
 * the PIN @a (rule @r) and, for the last two, @b (rule @rb, NULL: @r).  @a
 * NULL: on the pinpad.  The blocks are wiped after sending and never traced.
 * A wrong PIN is EID_EPIN_WRONG with @tries set; a PIN blocked by this very
 * try is EID_EPIN_LOCKED.
 */
int eid_card__pin_command(eid_card *c, unsigned char ins, unsigned char p1, unsigned char p2, const eid_pin_rule *r,
			  const char *a, const eid_pin_rule *rb, const char *b, int *tries);

/* ---- tlv.c ---- */

/* One BER-TLV element.  Tags up to 3 bytes, definite lengths up to 3 bytes. */
typedef struct eid_tlv {
	unsigned int tag;
	const unsigned char *value;
	size_t len;
	int constructed;
} eid_tlv;
/* The next element of [*p, end): EID_OK (advances *p), EID_ENOTFOUND at the end, EID_EFORMAT. */
int eid_tlv__next(const unsigned char **p, const unsigned char *end, eid_tlv *t);
/* The first element with @tag among [p, p+len) (not descending): EID_OK or EID_ENOTFOUND/EID_EFORMAT. */
int eid_tlv__find(const unsigned char *p, size_t len, unsigned int tag, eid_tlv *t);

/* ---- identity.c ---- */

struct eid_identity {
	char *field[EID_ID_FIELD_COUNT];
	unsigned char *photo;
	size_t photo_len;
	eid_integrity integrity;
	char *reason;
	unsigned char *signer;   /* the identity signer's certificate (DER), or NULL */
	size_t signer_len;
	unsigned char *root;     /* the card's root certificate (DER), or NULL */
	size_t root_len;
	int signer_trusted;      /* -1 not checked, 0 no, 1 chains to the caller's anchors */
	const char *profile;
};
eid_identity *eid_identity__new(const char *profile);
/* Set a field from @len bytes of UTF-8 (trailing spaces and NULs dropped; invalid UTF-8 is EID_EFORMAT). */
int eid_identity__set(eid_identity *id, eid_identity_field f, const void *p, size_t len);
/* Record a failed check (the first reason wins). */
void eid_identity__fail(eid_identity *id, const char *fmt, ...) EID_PRINTF(2, 3);

/* ---- profiles ---- */

enum { EID_PIN_OP_VERIFY = 1, EID_PIN_OP_CHANGE, EID_PIN_OP_UNBLOCK };

struct eid_card_ops {
	const char *name;
	/* Is the card this profile's?  EID_OK (sets description, pdata), EID_ENOTFOUND, or an error. */
	int (*probe)(eid_card *c);
	/* Does the ATR name one of this profile's cards?  A hint of the order to probe in; may be NULL. */
	int (*atr_known)(const unsigned char *atr, size_t len);
	void (*release)(eid_card *c);
	int (*certificate)(eid_card *c, eid_card_key which, eid_buf *der);
	int (*identity)(eid_card *c, eid_identity *id);           /* NULL: none */
	int (*pin_tries)(eid_card *c, eid_card_pin which, int *tries);
	/* verify, change or unblock; @a/@b the PINs (NULL: pinpad); inside a transaction */
	int (*pin_cmd)(eid_card *c, int op, eid_card_pin which, const char *a, const char *b, int *tries);
	eid_card_pin (*pin_for)(eid_card_key which);              /* the PIN that unlocks a key */
	/*
	 * Sign a digest with a key, verifying @pin (NULL: on the pinpad) where
	 * the card's rules want it (some want the VERIFY right before the
	 * signature); inside a transaction.  @tries: after a wrong PIN.
	 */
	int (*sign)(eid_card *c, eid_card_key which, eid_sig_scheme scheme, eid_hash hash, const unsigned char *digest,
		    size_t len, const char *pin, int *tries, eid_buf *out);
};

/* Belgian eID files (belpic.c): the identity file and the address file into @id. */
typedef struct eid_belpic_hashes {
	const unsigned char *photo, *basic_key; /* inside the identity file, or NULL */
	size_t photo_len, basic_key_len;
} eid_belpic_hashes;
int eid_belpic__parse_identity(eid_identity *id, const unsigned char *p, size_t len, eid_belpic_hashes *h);
int eid_belpic__parse_address(eid_identity *id, const unsigned char *p, size_t len);

extern const eid_card_ops eid_card__belpic;
extern const eid_card_ops eid_card__esteid;
extern const eid_card_ops eid_card__pkcs15;

#endif
