/*
 * ifd-pinpad.c: an emulated PC/SC part 10 pinpad reader for the tests.
 *
 * A pcsc-lite IFD handler that wraps vsmartcard's vpcd driver: it dlopen()s
 * libifdvpcd.so and forwards every IFDH* call to it, except IFDHControl:
 *
 *   CM_IOCTL_GET_FEATURE_REQUEST  TLVs FEATURE_VERIFY_PIN_DIRECT and
 *                                 FEATURE_MODIFY_PIN_DIRECT, with their ioctl
 *                                 codes SCARD_CTL_CODE(3500 + feature)
 *   the VERIFY / MODIFY ioctls    parse PIN_VERIFY_STRUCTURE /
 *                                 PIN_MODIFY_STRUCTURE (PC/SC part 10 v2.02,
 *                                 CCID 1.1 6.1.11), insert the PIN(s) "typed
 *                                 on the pinpad" into the APDU template of
 *                                 abData as the structure says, send it to
 *                                 the card through vpcd and return the card's
 *                                 R-APDU.
 *
 * The keys typed on the pinpad come from the file named by the environment
 * variable EID_TEST_PINPAD_FILE (read by pcscd, at each PIN entry): line 1 the
 * PIN (for MODIFY: the current PIN), line 2 the new PIN, line 3 its
 * confirmation (absent: the same as line 2).  An empty or missing file, or
 * the word "cancel" = Cancel pressed (SW 6401, nothing sent to the card);
 * "timeout" = no entry in time (6400).  The two new PINs differ: 6402; a PIN
 * length outside wPINMaxExtraDigit: 6403 (part 10, 2.5.x status words).
 * The PIN is never logged.
 *
 * Environment: IFD_PINPAD_VPCD (default /usr/lib/pcsc/drivers/serial/libifdvpcd.so).
 *
 * Build:
 *   cc -shared -fPIC -O2 -Wall $(pkg-config --cflags libpcsclite) \
 *      -o libifdpinpad.so tests/card/pinpad/ifd-pinpad.c -ldl
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ifdhandler.h>
#include <reader.h>

#define VPCD_DEFAULT "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
#define IOCTL_VERIFY SCARD_CTL_CODE(3500 + FEATURE_VERIFY_PIN_DIRECT)
#define IOCTL_MODIFY SCARD_CTL_CODE(3500 + FEATURE_MODIFY_PIN_DIRECT)
#define MAX_LUNS 16

static void *lib;
static struct {
	RESPONSECODE (*CreateChannelByName)(DWORD, LPSTR);
	RESPONSECODE (*CreateChannel)(DWORD, DWORD);
	RESPONSECODE (*CloseChannel)(DWORD);
	RESPONSECODE (*GetCapabilities)(DWORD, DWORD, PDWORD, PUCHAR);
	RESPONSECODE (*SetCapabilities)(DWORD, DWORD, DWORD, PUCHAR);
	RESPONSECODE (*SetProtocolParameters)(DWORD, DWORD, UCHAR, UCHAR, UCHAR, UCHAR);
	RESPONSECODE (*PowerICC)(DWORD, DWORD, PUCHAR, PDWORD);
	RESPONSECODE (*TransmitToICC)(DWORD, SCARD_IO_HEADER, PUCHAR, DWORD, PUCHAR, PDWORD, PSCARD_IO_HEADER);
	RESPONSECODE (*ICCPresence)(DWORD);
	RESPONSECODE (*Control)(DWORD, DWORD, PUCHAR, DWORD, PUCHAR, DWORD, LPDWORD);
} v;
static DWORD proto[MAX_LUNS];

static void logf_(const char *fmt, ...)
{
	va_list ap;

	fputs("ifd-pinpad: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

static void wipe(void *p, size_t n)
{
	volatile unsigned char *q = p;

	while (n--)
		*q++ = 0;
}

static int load(void)
{
	const char *path = getenv("IFD_PINPAD_VPCD");

	if (lib != NULL)
		return 0;
	if (path == NULL || *path == '\0')
		path = VPCD_DEFAULT;
	if ((lib = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		logf_("cannot load %s: %s", path, dlerror());
		return -1;
	}
#define SYM(n) *(void **)&v.n = dlsym(lib, "IFDH" #n)
	SYM(CreateChannelByName);
	SYM(CreateChannel);
	SYM(CloseChannel);
	SYM(GetCapabilities);
	SYM(SetCapabilities);
	SYM(SetProtocolParameters);
	SYM(PowerICC);
	SYM(TransmitToICC);
	SYM(ICCPresence);
	SYM(Control);
#undef SYM
	if (!v.CreateChannel || !v.CloseChannel || !v.GetCapabilities || !v.PowerICC || !v.TransmitToICC ||
	    !v.ICCPresence) {
		logf_("%s lacks IFDH functions", path);
		dlclose(lib);
		lib = NULL;
		return -1;
	}
	logf_("wrapping %s", path);
	return 0;
}

RESPONSECODE IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
	if (load() < 0)
		return IFD_COMMUNICATION_ERROR;
	if (v.CreateChannelByName == NULL)
		return IFD_NOT_SUPPORTED;
	return v.CreateChannelByName(Lun, DeviceName);
}

RESPONSECODE IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
	if (load() < 0)
		return IFD_COMMUNICATION_ERROR;
	return v.CreateChannel(Lun, Channel);
}

RESPONSECODE IFDHCloseChannel(DWORD Lun)
{
	return lib ? v.CloseChannel(Lun) : IFD_COMMUNICATION_ERROR;
}

RESPONSECODE IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
	return lib ? v.GetCapabilities(Lun, Tag, Length, Value) : IFD_COMMUNICATION_ERROR;
}

RESPONSECODE IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
{
	if (!lib || v.SetCapabilities == NULL)
		return IFD_NOT_SUPPORTED;
	return v.SetCapabilities(Lun, Tag, Length, Value);
}

RESPONSECODE IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1, UCHAR PTS2, UCHAR PTS3)
{
	if (!lib || v.SetProtocolParameters == NULL)
		return IFD_NOT_SUPPORTED;
	proto[(Lun & 0xffff) % MAX_LUNS] = Protocol;
	return v.SetProtocolParameters(Lun, Protocol, Flags, PTS1, PTS2, PTS3);
}

RESPONSECODE IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
	return lib ? v.PowerICC(Lun, Action, Atr, AtrLength) : IFD_COMMUNICATION_ERROR;
}

RESPONSECODE IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer, DWORD TxLength, PUCHAR RxBuffer,
			       PDWORD RxLength, PSCARD_IO_HEADER RecvPci)
{
	return lib ? v.TransmitToICC(Lun, SendPci, TxBuffer, TxLength, RxBuffer, RxLength, RecvPci)
		   : IFD_COMMUNICATION_ERROR;
}

RESPONSECODE IFDHICCPresence(DWORD Lun)
{
	return lib ? v.ICCPresence(Lun) : IFD_COMMUNICATION_ERROR;
}

/* ---- the pinpad ---- */

/* The keys typed: up to 3 lines of digits.  0 ok, else the SW to answer. */
static unsigned int read_keys(char lines[3][40], int *nlines)
{
	const char *path = getenv("EID_TEST_PINPAD_FILE");
	char buf[256];
	size_t n = 0;
	FILE *f;
	char *p, *e;
	int i;

	*nlines = 0;
	memset(lines, 0, 3 * 40);
	if (path == NULL || (f = fopen(path, "r")) == NULL) {
		logf_("no pinpad file (EID_TEST_PINPAD_FILE): Cancel");
		return 0x6401;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (p = buf, i = 0; i < 3 && *p != '\0'; i++) {
		size_t l;

		e = strchr(p, '\n');
		l = e ? (size_t)(e - p) : strlen(p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l >= sizeof(lines[0]))
			l = sizeof(lines[0]) - 1;
		memcpy(lines[i], p, l);
		lines[i][l] = '\0';
		*nlines = i + 1;
		if (strcmp(lines[i], "cancel") == 0) {
			wipe(buf, sizeof(buf));
			logf_("the user pressed Cancel");
			return 0x6401;
		}
		if (strcmp(lines[i], "timeout") == 0) {
			wipe(buf, sizeof(buf));
			logf_("no PIN entered in time");
			return 0x6400;
		}
		if (!e)
			break;
		p = e + 1;
	}
	wipe(buf, sizeof(buf));
	if (*nlines == 0 || lines[0][0] == '\0') {
		logf_("nothing typed: Cancel");
		return 0x6401;
	}
	return 0;
}

/* Write the low @nbits of @val at bit offset @bit (from the MSB of buf[0]). */
static int put_bits(unsigned char *buf, size_t len, size_t bit, unsigned int val, unsigned int nbits)
{
	unsigned int i;

	if (bit + nbits > len * 8)
		return -1;
	for (i = 0; i < nbits; i++) {
		size_t b = bit + i;
		unsigned int one = (val >> (nbits - 1 - i)) & 1;
		unsigned char m = (unsigned char)(0x80 >> (b % 8));

		buf[b / 8] = (unsigned char)(one ? buf[b / 8] | m : buf[b / 8] & ~m);
	}
	return 0;
}

struct fmt {
	unsigned int unit_bytes, pos, right, type; /* bmFormatString */
	unsigned int len_bits, block;              /* bmPINBlockString */
	unsigned int lenpos;                       /* bmPINLengthFormat (in its own units) */
	unsigned int len_unit_bytes;
	unsigned int min, max;                     /* wPINMaxExtraDigit */
};

/* Insert @pin into the APDU data field @data (@dlen bytes) at byte offset @off. 0 ok, else an SW. */
static unsigned int insert_pin(const struct fmt *f, unsigned char *data, size_t dlen, size_t off, const char *pin)
{
	size_t n = strlen(pin), i, start, dbits, blockbits;
	unsigned int w = f->type == 1 ? 4 : 8; /* BCD: a nibble a digit; ASCII and binary: a byte */

	for (i = 0; i < n; i++)
		if (pin[i] < '0' || pin[i] > '9')
			return 0x6403;
	if (n < f->min || n > f->max)
		return 0x6403;
	if (f->type == 3)
		return 0x6A80; /* reserved format */
	start = off * 8 + (f->unit_bytes ? f->pos * 8 : f->pos);
	dbits = n * w;
	blockbits = f->block * 8;
	if (blockbits == 0)
		blockbits = dbits;
	if (dbits > blockbits)
		return 0x6403; /* more digits than the block holds */
	if (f->right)
		start += blockbits - dbits;
	for (i = 0; i < n; i++) {
		unsigned int d = (unsigned int)(pin[i] - '0');

		if (put_bits(data, dlen, start + i * w, f->type == 2 ? 0x30 + d : d, w) < 0)
			return 0x6700; /* the template is too short for the PIN */
	}
	if (f->len_bits > 0) {
		size_t lbit = off * 8 + (f->len_unit_bytes ? f->lenpos * 8 : f->lenpos);

		if (put_bits(data, dlen, lbit, (unsigned int)n, f->len_bits) < 0)
			return 0x6700;
	}
	return 0;
}

static unsigned int sw_out(unsigned int sw, PUCHAR rx, DWORD rxmax, LPDWORD rxlen)
{
	if (rxmax < 2)
		return IFD_COMMUNICATION_ERROR;
	rx[0] = (unsigned char)(sw >> 8);
	rx[1] = (unsigned char)sw;
	*rxlen = 2;
	return IFD_SUCCESS;
}

static RESPONSECODE pin_entry(DWORD Lun, int modify, PUCHAR tx, DWORD txlen, PUCHAR rx, DWORD rxmax, LPDWORD rxlen)
{
	/* offsets of the fields: VERIFY 19-byte header, MODIFY 24-byte header (part 10, 2.5.2 / 2.5.3) */
	size_t hdr = modify ? 24 : 19, dl_at = modify ? 20 : 15, mx_at = modify ? 7 : 5;
	struct fmt f;
	unsigned long dl;
	unsigned char apdu[300];
	char keys[3][40];
	unsigned int sw, off_old = 0, off_new = 0, confirm = 0;
	int nk;
	SCARD_IO_HEADER pci, rpci;
	DWORD alen;
	RESPONSECODE rv;

	if (txlen < hdr)
		return IFD_COMMUNICATION_ERROR;
	dl = (unsigned long)tx[dl_at] | (unsigned long)tx[dl_at + 1] << 8 | (unsigned long)tx[dl_at + 2] << 16 |
	     (unsigned long)tx[dl_at + 3] << 24;
	if (dl != txlen - hdr || dl < 5 || dl > sizeof(apdu)) {
		logf_("%s: ulDataLength %lu, %lu bytes of abData: malformed structure", modify ? "MODIFY" : "VERIFY",
		      dl, (unsigned long)(txlen - hdr));
		return IFD_COMMUNICATION_ERROR;
	}
	f.unit_bytes = tx[2] >> 7;
	f.pos = (tx[2] >> 3) & 0x0f;
	f.right = (tx[2] >> 2) & 1;
	f.type = tx[2] & 3;
	f.len_bits = tx[3] >> 4;
	f.block = tx[3] & 0x0f;
	f.len_unit_bytes = (tx[4] >> 4) & 1;
	f.lenpos = tx[4] & 0x0f;
	f.max = tx[mx_at];           /* wPINMaxExtraDigit little-endian: 0xXXYY, YY = max */
	f.min = tx[mx_at + 1];       /* XX = min */
	if (modify) {
		off_old = tx[5];
		off_new = tx[6];
		confirm = tx[9];
	}
	logf_("%s: bmFormatString %02X (%s, position %u, %s, %s), bmPINBlockString %02X, bmPINLengthFormat %02X, "
	      "digits %u-%u%s, APDU %02X %02X %02X %02X, Lc %u",
	      modify ? "MODIFY" : "VERIFY", tx[2], f.unit_bytes ? "bytes" : "bits", f.pos, f.right ? "right" : "left",
	      f.type == 0 ? "binary" : f.type == 1 ? "BCD" : f.type == 2 ? "ASCII" : "RFU", tx[3], tx[4], f.min, f.max,
	      modify ? (confirm & 2 ? ", current PIN asked" : ", current PIN not asked") : "", tx[hdr], tx[hdr + 1],
	      tx[hdr + 2], tx[hdr + 3], tx[hdr + 4]);
	if (f.min > f.max || f.max == 0) {
		logf_("wPINMaxExtraDigit: min %u > max %u (byte order?)", f.min, f.max);
		return sw_out(0x6403, rx, rxmax, rxlen);
	}
	if ((sw = read_keys(keys, &nk)) != 0)
		return sw_out(sw, rx, rxmax, rxlen);
	memcpy(apdu, tx + hdr, dl);
	if (!modify) {
		sw = insert_pin(&f, apdu + 5, dl - 5, 0, keys[0]);
	} else {
		const char *cur = keys[0], *nw = keys[1], *cf = nk >= 3 ? keys[2] : keys[1];

		sw = 0;
		if (nw[0] == '\0')
			sw = 0x6401; /* no new PIN typed: Cancel */
		else if ((confirm & 1) && strcmp(nw, cf) != 0)
			sw = 0x6402;
		if (sw == 0 && (confirm & 2))
			sw = insert_pin(&f, apdu + 5, dl - 5, off_old, cur);
		if (sw == 0)
			sw = insert_pin(&f, apdu + 5, dl - 5, off_new, nw);
	}
	wipe(keys, sizeof(keys));
	if (sw != 0) {
		wipe(apdu, sizeof(apdu));
		logf_("%s: not sent to the card, SW %04X", modify ? "MODIFY" : "VERIFY", sw);
		return sw_out(sw, rx, rxmax, rxlen);
	}
	pci.Protocol = proto[(Lun & 0xffff) % MAX_LUNS];
	pci.Length = sizeof(pci);
	rpci = pci;
	alen = rxmax;
	rv = v.TransmitToICC(Lun, pci, apdu, dl, rx, &alen, &rpci);
	wipe(apdu, sizeof(apdu));
	if (rv != IFD_SUCCESS) {
		logf_("%s: transmit failed (%ld)", modify ? "MODIFY" : "VERIFY", (long)rv);
		return rv;
	}
	*rxlen = alen;
	logf_("%s: PIN entered on the pinpad, the card answered SW %02X%02X", modify ? "MODIFY" : "VERIFY",
	      alen >= 2 ? rx[alen - 2] : 0, alen >= 2 ? rx[alen - 1] : 0);
	return IFD_SUCCESS;
}

RESPONSECODE IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength, PUCHAR RxBuffer,
			 DWORD RxLength, LPDWORD pdwBytesReturned)
{
	if (pdwBytesReturned)
		*pdwBytesReturned = 0;
	if (!lib)
		return IFD_COMMUNICATION_ERROR;
	if (dwControlCode == CM_IOCTL_GET_FEATURE_REQUEST) {
		static const struct {
			unsigned char tag;
			DWORD code;
		} feat[] = { { FEATURE_VERIFY_PIN_DIRECT, IOCTL_VERIFY }, { FEATURE_MODIFY_PIN_DIRECT, IOCTL_MODIFY } };
		size_t i, n = 0;

		if (RxLength < 6 * sizeof(feat) / sizeof(feat[0]))
			return IFD_ERROR_INSUFFICIENT_BUFFER;
		for (i = 0; i < sizeof(feat) / sizeof(feat[0]); i++) {
			RxBuffer[n++] = feat[i].tag;
			RxBuffer[n++] = 4;
			RxBuffer[n++] = (unsigned char)(feat[i].code >> 24); /* big-endian (part 10, 2.2) */
			RxBuffer[n++] = (unsigned char)(feat[i].code >> 16);
			RxBuffer[n++] = (unsigned char)(feat[i].code >> 8);
			RxBuffer[n++] = (unsigned char)feat[i].code;
		}
		*pdwBytesReturned = n;
		return IFD_SUCCESS;
	}
	if (dwControlCode == IOCTL_VERIFY || dwControlCode == IOCTL_MODIFY) {
		RESPONSECODE rv;

		if (TxBuffer == NULL || RxBuffer == NULL || pdwBytesReturned == NULL)
			return IFD_COMMUNICATION_ERROR;
		rv = pin_entry(Lun, dwControlCode == IOCTL_MODIFY, TxBuffer, TxLength, RxBuffer, RxLength,
			       pdwBytesReturned);
		return rv;
	}
	if (v.Control != NULL)
		return v.Control(Lun, dwControlCode, TxBuffer, TxLength, RxBuffer, RxLength, pdwBytesReturned);
	return IFD_ERROR_NOT_SUPPORTED;
}
