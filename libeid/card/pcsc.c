/*
 * The PC/SC transport: context, readers, waiting for a card, connecting,
 * transmitting APDUs (with T=0's GET RESPONSE and Le correction), PC/SC
 * transactions and part 10 pinpad features.  APDUs are traced at the TRACE
 * log level, PIN-bearing commands without their data.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <reader.h>

#include <openssl/crypto.h>

#include "card.h"

#define PNP_READER "\\\\?PnP?\\Notification"

int eid_card__pcsc_error(long rv, const char *what)
{
	const char *w = what ? what : "the card";

	switch (rv) {
	case (long)SCARD_E_NO_SERVICE:
	case (long)SCARD_E_SERVICE_STOPPED:
		return eid_error__set(EID_ECARD, "%s: the PC/SC service (pcscd) is not running", w);
	case (long)SCARD_E_NO_READERS_AVAILABLE:
		return eid_error__set(EID_ENOTFOUND, "%s: no card reader is connected", w);
	case (long)SCARD_E_NO_SMARTCARD:
	case (long)SCARD_W_REMOVED_CARD:
		return eid_error__set(EID_ETOKEN_REMOVED, "%s: the card was removed", w);
	case (long)SCARD_E_READER_UNAVAILABLE:
	case (long)SCARD_E_UNKNOWN_READER:
		return eid_error__set(EID_ECARD, "%s: the card reader is gone", w);
	case (long)SCARD_E_SHARING_VIOLATION:
		return eid_error__set(EID_ECARD, "%s: another program is using the card exclusively", w);
	case (long)SCARD_W_RESET_CARD:
		return eid_error__set(EID_ECARD, "%s: another program reset the card; try again", w);
	case (long)SCARD_W_UNRESPONSIVE_CARD:
	case (long)SCARD_W_UNPOWERED_CARD:
		return eid_error__set(EID_ECARD, "%s: the card does not respond", w);
	case (long)SCARD_E_TIMEOUT:
		return eid_error__set(EID_ENOTFOUND, "%s: timed out", w);
	case (long)SCARD_E_NO_MEMORY:
		return eid_error__set(EID_ENOMEM, NULL);
	default:
		return eid_error__set(EID_ECARD, "%s: %s (0x%08lX)", w, pcsc_stringify_error((LONG)rv),
				      (unsigned long)rv);
	}
}

/* ---- context and readers ---- */

EID_EXTERN int eid_card_ctx_new(eid_card_ctx **out)
{
	eid_card_ctx *ctx;
	LONG rv;

	if (out == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_ctx_new: NULL argument");
	*out = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx->h);
	if (rv != SCARD_S_SUCCESS) {
		free(ctx);
		return eid_card__pcsc_error(rv, "PC/SC");
	}
	*out = ctx;
	return EID_OK;
}

static void readers_clear(eid_card_ctx *ctx)
{
	free(ctx->names);
	free(ctx->readers);
	free(ctx->has_card);
	ctx->names = NULL;
	ctx->readers = NULL;
	ctx->has_card = NULL;
	ctx->n = 0;
}

EID_EXTERN void eid_card_ctx_free(eid_card_ctx *ctx)
{
	if (ctx == NULL)
		return;
	readers_clear(ctx);
	SCardReleaseContext(ctx->h);
	free(ctx);
}

EID_EXTERN int eid_card_ctx_readers(eid_card_ctx *ctx, size_t *count)
{
	SCARD_READERSTATE *st = NULL;
	DWORD len = 0;
	size_t n = 0, i;
	char *p;
	LONG rv;

	if (ctx == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_ctx_readers: NULL argument");
	readers_clear(ctx);
	if (count != NULL)
		*count = 0;
	rv = SCardListReaders(ctx->h, NULL, NULL, &len);
	if (rv == (LONG)SCARD_E_NO_READERS_AVAILABLE)
		return EID_OK;
	if (rv != SCARD_S_SUCCESS)
		return eid_card__pcsc_error(rv, "listing the readers");
	if ((ctx->names = calloc(1, (size_t)len + 1)) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	rv = SCardListReaders(ctx->h, NULL, ctx->names, &len);
	if (rv == (LONG)SCARD_E_NO_READERS_AVAILABLE) {
		readers_clear(ctx);
		return EID_OK;
	}
	if (rv != SCARD_S_SUCCESS) {
		readers_clear(ctx);
		return eid_card__pcsc_error(rv, "listing the readers");
	}
	for (p = ctx->names; *p != '\0'; p += strlen(p) + 1)
		n++;
	ctx->readers = calloc(n + 1, sizeof(*ctx->readers));
	ctx->has_card = calloc(n + 1, sizeof(*ctx->has_card));
	st = calloc(n + 1, sizeof(*st));
	if (ctx->readers == NULL || ctx->has_card == NULL || st == NULL) {
		free(st);
		readers_clear(ctx);
		return eid_error__set(EID_ENOMEM, NULL);
	}
	for (p = ctx->names, i = 0; *p != '\0'; p += strlen(p) + 1, i++) {
		ctx->readers[i] = p;
		st[i].szReader = p;
		st[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	ctx->n = n;
	if (n > 0 && SCardGetStatusChange(ctx->h, 0, st, (DWORD)n) == SCARD_S_SUCCESS)
		for (i = 0; i < n; i++)
			ctx->has_card[i] = (st[i].dwEventState & SCARD_STATE_PRESENT) != 0 &&
					   (st[i].dwEventState & SCARD_STATE_MUTE) == 0;
	free(st);
	if (count != NULL)
		*count = n;
	return EID_OK;
}

EID_EXTERN const char *eid_card_ctx_reader(const eid_card_ctx *ctx, size_t i)
{
	return ctx != NULL && i < ctx->n ? ctx->readers[i] : NULL;
}

EID_EXTERN int eid_card_ctx_reader_has_card(const eid_card_ctx *ctx, size_t i)
{
	return ctx != NULL && i < ctx->n ? ctx->has_card[i] : 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

EID_EXTERN int eid_card_ctx_wait_removed(eid_card_ctx *ctx, const char *reader, int timeout_ms)
{
	long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	SCARD_READERSTATE st;
	LONG rv;

	if (ctx == NULL || reader == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_ctx_wait_removed: NULL argument");
	memset(&st, 0, sizeof(st));
	st.szReader = reader;
	st.dwCurrentState = SCARD_STATE_UNAWARE;
	for (;;) {
		long left = timeout_ms >= 0 ? deadline - now_ms() : -1;

		rv = SCardGetStatusChange(ctx->h, left < 0 ? INFINITE : (DWORD)(left > 0 ? left : 0), &st, 1);
		if (rv == (LONG)SCARD_E_TIMEOUT)
			return eid_error__set(EID_ECANCELED, "the card in '%s' was not removed within %d ms", reader,
					      timeout_ms);
		if (rv == (LONG)SCARD_E_UNKNOWN_READER || rv == (LONG)SCARD_E_READER_UNAVAILABLE)
			return EID_OK; /* the reader itself went: so did its card */
		if (rv != SCARD_S_SUCCESS)
			return eid_card__pcsc_error(rv, "waiting for the card's removal");
		if (st.dwEventState & (SCARD_STATE_EMPTY | SCARD_STATE_UNAVAILABLE))
			return EID_OK;
		st.dwCurrentState = st.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	}
}

EID_EXTERN int eid_card_ctx_wait(eid_card_ctx *ctx, const char *reader, int timeout_ms)
{
	long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	SCARD_READERSTATE *st = NULL;
	int rc;

	if (ctx == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_ctx_wait: NULL argument");
	for (;;) {
		size_t i, k = 0;
		long left = timeout_ms >= 0 ? deadline - now_ms() : -1;
		LONG rv;

		if ((rc = eid_card_ctx_readers(ctx, NULL)) < 0)
			return rc;
		for (i = 0; i < ctx->n; i++)
			if ((reader == NULL || strcmp(reader, ctx->readers[i]) == 0) && ctx->has_card[i])
				return EID_OK;
		if (timeout_ms >= 0 && left <= 0)
			return eid_error__set(EID_ENOTFOUND, "no card was inserted%s%s within %d ms", reader ? " in " : "",
					      reader ? reader : "", timeout_ms);
		/* wait for a change on the readers we know, or for a new reader */
		if ((st = calloc(ctx->n + 1, sizeof(*st))) == NULL)
			return eid_error__set(EID_ENOMEM, NULL);
		for (i = 0; i < ctx->n; i++) {
			st[k].szReader = ctx->readers[i];
			st[k++].dwCurrentState = SCARD_STATE_EMPTY;
		}
		st[k].szReader = PNP_READER;
		st[k++].dwCurrentState = (DWORD)(ctx->n << 16);
		rv = SCardGetStatusChange(ctx->h, left < 0 ? INFINITE : (DWORD)(left > 1000 ? 1000 : left), st, (DWORD)k);
		free(st);
		st = NULL;
		if (rv != SCARD_S_SUCCESS && rv != (LONG)SCARD_E_TIMEOUT && rv != (LONG)SCARD_E_UNKNOWN_READER)
			return eid_card__pcsc_error(rv, "waiting for a card");
	}
}

/* ---- the card ---- */

int eid_card__atr_extended(const unsigned char *atr, size_t len)
{
	size_t i = 2, k, end;
	unsigned int td;

	if (len < 2)
		return 0;
	k = atr[1] & 0x0f;
	/* the interface bytes: each TDi says which of TA, TB, TC, TD(i+1) follow */
	for (td = atr[1]; i <= len;) {
		i += (size_t)((td >> 4 & 1) + (td >> 5 & 1) + (td >> 6 & 1));
		if (!(td & 0x80))
			break;
		if (i >= len)
			return 0;
		td = atr[i++];
	}
	if (i + k > len || k == 0)
		return 0;
	/* historical bytes: category 0x80 or 0x00 (then three status bytes at the end), compact-TLV */
	end = i + k;
	if (atr[i] == 0x00 && k >= 4)
		end -= 3;
	else if (atr[i] != 0x80)
		return 0;
	for (i++; i < end;) {
		unsigned int tag = atr[i] >> 4, n = atr[i] & 0x0f;

		if (i + 1 + n > end)
			return 0;
		/* card capabilities: the third software function byte, b7 = extended Lc and Le */
		if (tag == 0x7 && n >= 3)
			return (atr[i + 3] & 0x40) != 0;
		i += 1 + n;
	}
	return 0;
}

static const eid_card_ops *const profiles[] = { &eid_card__belpic, &eid_card__esteid, &eid_card__pkcs15 };

/* PC/SC part 10: the ioctl codes of the pinpad features, if the reader has them. */
static void pinpad_features(eid_card *c)
{
	unsigned char buf[256];
	DWORD len = 0, i;

	if (SCardControl(c->h, CM_IOCTL_GET_FEATURE_REQUEST, NULL, 0, buf, sizeof(buf), &len) != SCARD_S_SUCCESS)
		return;
	for (i = 0; i + 6 <= len; i += 6) {
		DWORD code = ((DWORD)buf[i + 2] << 24) | ((DWORD)buf[i + 3] << 16) | ((DWORD)buf[i + 4] << 8) | buf[i + 5];

		if (buf[i + 1] != 4)
			break;
		if (buf[i] == FEATURE_VERIFY_PIN_DIRECT)
			c->verify_ioctl = code;
		else if (buf[i] == FEATURE_MODIFY_PIN_DIRECT)
			c->modify_ioctl = code;
	}
}

EID_EXTERN int eid_card_open(eid_card_ctx *ctx, const char *reader, eid_card **out)
{
	eid_card *c;
	DWORD state = 0, proto = 0, rlen = 0, alen;
	size_t i;
	int rc;
	LONG rv;

	if (ctx == NULL || out == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_open: NULL argument");
	*out = NULL;
	if ((rc = eid_card_ctx_readers(ctx, NULL)) < 0)
		return rc;
	if (ctx->n == 0)
		return eid_error__set(EID_ENOTFOUND, "no card reader is connected");
	for (i = 0; reader == NULL && i < ctx->n; i++)
		if (ctx->has_card[i])
			reader = ctx->readers[i];
	if (reader == NULL)
		return eid_error__set(EID_ENOTFOUND, "no reader holds a card");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return eid_error__set(EID_ENOMEM, NULL);
	c->ctx = ctx;
	c->max_le = 256;
	snprintf(c->reader, sizeof(c->reader), "%s", reader);
	rv = SCardConnect(ctx->h, reader, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &c->h, &c->proto);
	if (rv != SCARD_S_SUCCESS) {
		free(c);
		return eid_card__pcsc_error(rv, reader);
	}
	alen = sizeof(c->atr);
	rv = SCardStatus(c->h, NULL, &rlen, &state, &proto, c->atr, &alen);
	if (rv != SCARD_S_SUCCESS) {
		rc = eid_card__pcsc_error(rv, reader);
		eid_card_free(c);
		return rc;
	}
	c->atr_len = alen;
	if ((c->extended = eid_card__atr_extended(c->atr, c->atr_len)) != 0)
		c->max_le = 4096; /* READ BINARY in larger steps; a response stays within EID_CARD_MAX_RESP */
	pinpad_features(c);
	rc = eid_card__begin(c);
	/* the profiles whose ATRs it is first, then the others */
	for (i = 0; rc == EID_OK && i < 2 * EID_ARRAY_SIZE(profiles); i++) {
		const eid_card_ops *prof = profiles[i % EID_ARRAY_SIZE(profiles)];
		int known = prof->atr_known != NULL && prof->atr_known(c->atr, c->atr_len);

		if ((i < EID_ARRAY_SIZE(profiles)) != known)
			continue;
		rc = prof->probe(c);
		if (rc == EID_OK) {
			c->profile = prof;
			break;
		}
		if (rc == EID_ENOTFOUND) {
			eid_error_clear();
			rc = EID_OK;
		}
	}
	eid_card__end(c);
	if (rc == EID_OK && c->profile == NULL) {
		char *hex = eid_hex__encode(c->atr, c->atr_len);

		rc = eid_error__set(EID_EUNSUPPORTED, "the card in '%s' (ATR %s) is not one libeid knows", reader,
				    hex ? hex : "?");
		free(hex);
	}
	if (rc < 0) {
		eid_card_free(c);
		return rc;
	}
	EID_LOG_I("card in '%s': %s", c->reader, c->description);
	*out = c;
	return EID_OK;
}

EID_EXTERN void eid_card_free(eid_card *c)
{
	if (c == NULL)
		return;
	if (c->profile != NULL && c->profile->release != NULL)
		c->profile->release(c);
	while (c->tx_depth > 0)
		eid_card__end(c);
	SCardDisconnect(c->h, SCARD_LEAVE_CARD);
	free(c);
}

EID_EXTERN const char *eid_card_profile(const eid_card *c)
{
	return c && c->profile ? c->profile->name : NULL;
}

EID_EXTERN const char *eid_card_description(const eid_card *c)
{
	return c ? c->description : NULL;
}

EID_EXTERN const char *eid_card_reader(const eid_card *c)
{
	return c ? c->reader : NULL;
}

EID_EXTERN int eid_card_atr(const eid_card *c, const unsigned char **atr, size_t *len)
{
	if (c == NULL || atr == NULL || len == NULL)
		return eid_error__set(EID_EINVAL, "eid_card_atr: NULL argument");
	*atr = c->atr;
	*len = c->atr_len;
	return EID_OK;
}

EID_EXTERN int eid_card_has_pinpad(const eid_card *c)
{
	return c != NULL && c->verify_ioctl != 0;
}

EID_EXTERN unsigned long eid_card_apdu_count(const eid_card *c)
{
	return c ? c->napdu : 0;
}

int eid_card__atr_in(const unsigned char *atr, size_t len, const char *const *known)
{
	size_t i;

	for (; *known != NULL; known++) {
		if (strlen(*known) != 2 * len)
			continue;
		for (i = 0; i < len; i++)
			if ((eid_hex__digit((*known)[2 * i]) << 4 | eid_hex__digit((*known)[2 * i + 1])) != atr[i])
				break;
		if (i == len)
			return 1;
	}
	return 0;
}

int eid_card__begin(eid_card *c)
{
	LONG rv;

	if (c->tx_depth++ > 0)
		return EID_OK;
	rv = SCardBeginTransaction(c->h);
	if (rv != SCARD_S_SUCCESS) {
		c->tx_depth = 0;
		return eid_card__pcsc_error(rv, c->reader);
	}
	return EID_OK;
}

void eid_card__end(eid_card *c)
{
	if (c->tx_depth > 0 && --c->tx_depth == 0)
		SCardEndTransaction(c->h, SCARD_LEAVE_CARD);
}

/* ---- APDUs ---- */

static void trace(const char *dir, const unsigned char *p, size_t n, int secret)
{
	char *hex;

	if (!eid_log__enabled(EID_LOG_TRACE))
		return;
	if (secret) {
		/* the header only: CLA INS P1 P2 Lc */
		hex = eid_hex__encode(p, n < 5 ? n : 5);
		EID_LOG_T("apdu %s %s [%zu bytes of PIN data not shown]", dir, hex ? hex : "", n > 5 ? n - 5 : 0);
	} else {
		hex = eid_hex__encode(p, n);
		EID_LOG_T("apdu %s %s", dir, hex ? hex : "");
	}
	free(hex);
}

/* Encode @a (short, or extended when needed) into @buf; returns its length or 0 when it cannot be sent. */
static size_t encode(const eid_card *c, const eid_apdu *a, unsigned char *buf, size_t size)
{
	int ext = a->lc > 255 || a->le > 256;
	size_t n = 4;

	if ((ext && !c->extended) || a->lc > 65535 || a->le > 65536 || a->lc + 9 > size)
		return 0;
	buf[0] = a->cla;
	buf[1] = a->ins;
	buf[2] = a->p1;
	buf[3] = a->p2;
	if (a->lc > 0) {
		if (ext) {
			buf[n++] = 0;
			buf[n++] = (unsigned char)(a->lc >> 8);
		}
		buf[n++] = (unsigned char)a->lc;
		memcpy(buf + n, a->data, a->lc);
		n += a->lc;
	}
	if (a->le > 0) {
		if (ext) {
			if (a->lc == 0)
				buf[n++] = 0;
			buf[n++] = (unsigned char)(a->le >> 8); /* 65536 encodes as 00 00 */
		}
		buf[n++] = (unsigned char)a->le;             /* 256 encodes as 00 */
	}
	return n;
}

/* One exchange, no status word handling. */
static int exchange(eid_card *c, const unsigned char *cmd, size_t n, int secret, unsigned char *resp, DWORD *rlen)
{
	const SCARD_IO_REQUEST *pci = c->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	LONG rv;

	trace(">", cmd, n, secret);
	*rlen = EID_CARD_MAX_RESP;
	c->napdu++;
	rv = SCardTransmit(c->h, pci, cmd, (DWORD)n, NULL, resp, rlen);
	if (rv != SCARD_S_SUCCESS)
		return eid_card__pcsc_error(rv, c->reader);
	if (*rlen < 2)
		return eid_error__set(EID_ECARD, "%s: the card answered without a status word", c->reader);
	trace("<", resp, *rlen, 0);
	return EID_OK;
}

int eid_card__transmit(eid_card *c, const eid_apdu *a, eid_buf *out, unsigned int *sw)
{
	unsigned char *cmd = NULL, *resp = NULL;
	size_t n, rounds;
	DWORD rlen = 0;
	int rc = EID_OK;

	*sw = 0;
	if (out != NULL)
		out->len = 0;
	cmd = malloc(a->lc + 16);
	resp = malloc(EID_CARD_MAX_RESP);
	if (cmd == NULL || resp == NULL) {
		rc = eid_error__set(EID_ENOMEM, NULL);
		goto done;
	}
	if ((n = encode(c, a, cmd, a->lc + 16)) == 0) {
		rc = eid_error__set(EID_EUNSUPPORTED, "%s: a command of %zu bytes (Le %zu) needs extended length, which "
				    "this card does not take", c->reader, a->lc, a->le);
		goto done;
	}
	rc = exchange(c, cmd, n, a->secret, resp, &rlen);
	if (a->secret)
		OPENSSL_cleanse(cmd, n);
	/* T=0: the right Le, once */
	if (rc == EID_OK && resp[rlen - 2] == 0x6c) {
		eid_apdu again = *a;

		again.le = resp[rlen - 1] ? resp[rlen - 1] : 256;
		if ((n = encode(c, &again, cmd, a->lc + 16)) > 0)
			rc = exchange(c, cmd, n, a->secret, resp, &rlen);
		if (a->secret)
			OPENSSL_cleanse(cmd, n);
	}
	/* T=0: more data waiting */
	for (rounds = 0; rc == EID_OK; rounds++) {
		unsigned char gr[5] = { (unsigned char)(a->cla & 0x03), 0xc0, 0, 0, 0 };

		if (out != NULL && rlen > 2)
			rc = eid_buf__append(out, resp, rlen - 2);
		if (rc < 0 || resp[rlen - 2] != 0x61)
			break;
		if (rounds >= 256 || (out != NULL && out->len > EID_CARD_MAX_RESP)) {
			rc = eid_error__set(EID_ECARD, "%s: the card keeps announcing more data", c->reader);
			break;
		}
		gr[4] = resp[rlen - 1];
		rc = exchange(c, gr, sizeof(gr), 0, resp, &rlen);
	}
	if (rc == EID_OK)
		*sw = ((unsigned int)resp[rlen - 2] << 8) | resp[rlen - 1];
done:
	free(cmd);
	free(resp);
	return rc;
}

int eid_card__pinpad(eid_card *c, int modify, const unsigned char *block, size_t len, unsigned int *sw)
{
	DWORD code = modify ? c->modify_ioctl : c->verify_ioctl, rlen = 0;
	unsigned char resp[64];
	LONG rv;

	*sw = 0;
	if (code == 0)
		return eid_error__set(EID_EUNSUPPORTED, "the reader '%s' has no pinpad", c->reader);
	EID_LOG_D("pinpad %s on '%s': the PIN is entered on the reader", modify ? "MODIFY" : "VERIFY", c->reader);
	c->napdu++;
	rv = SCardControl(c->h, code, block, (DWORD)len, resp, sizeof(resp), &rlen);
	if (rv != SCARD_S_SUCCESS)
		return eid_card__pcsc_error(rv, c->reader);
	if (rlen < 2)
		return eid_error__set(EID_ECARD, "%s: the pinpad answered without a status word", c->reader);
	*sw = ((unsigned int)resp[rlen - 2] << 8) | resp[rlen - 1];
	if (*sw == 0x6400 || *sw == 0x6401)
		return eid_error__set(EID_ECANCELED, "the PIN entry on the reader was %s",
				      *sw == 0x6400 ? "not completed in time" : "cancelled");
	/* the reader's own refusals: nothing reached the card */
	if (*sw == 0x6402)
		return eid_error__set(EID_EPIN_INVALID, "the new PIN and its confirmation on the reader differ");
	if (*sw == 0x6403)
		return eid_error__set(EID_EPIN_INVALID, "the PIN entered on the reader is too short or too long");
	return EID_OK;
}
