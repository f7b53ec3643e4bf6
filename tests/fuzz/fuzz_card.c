/*
 * libFuzzer harness for what a card (or something posing as one) sends back:
 * BER-TLV walked to any depth, the Belgian eID identity and address files
 * into the identity structure and its JSON, and the input as a PIN for every
 * PIN block format.  Every input must end in a clean error or a result,
 * never a crash, hang or leak.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <eid/eid.h>

#include "card/card.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void walk(const unsigned char *p, size_t len, int depth)
{
	const unsigned char *end = p + len;
	eid_tlv t;

	if (depth > 16)
		return;
	while (eid_tlv__next(&p, end, &t) == EID_OK)
		if (t.constructed)
			walk(t.value, t.len, depth + 1);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	eid_identity *id = eid_identity__new("fuzz");
	eid_belpic_hashes h;
	eid_buf json = EID_BUF_INIT;
	unsigned char block[64];
	char pin[32];
	size_t half = size / 2, n, f;

	eid_log_set_level(EID_LOG_NONE);
	if (id == NULL)
		abort();
	walk(data, size, 0);
	(void)eid_tlv__find(data, size, 0x9f65, &(eid_tlv){ 0 });
	if (eid_belpic__parse_identity(id, data, half, &h) == EID_OK &&
	    ((h.photo != NULL && (h.photo < data || h.photo + h.photo_len > data + half)) ||
	     (h.basic_key != NULL && (h.basic_key < data || h.basic_key + h.basic_key_len > data + half))))
		abort(); /* a hash pointing outside the file */
	(void)eid_belpic__parse_address(id, data + half, size - half);
	if (eid_identity_to_json(id, &json) == EID_OK && json.len != strlen((const char *)json.data))
		abort();
	n = size < sizeof(pin) - 1 ? size : sizeof(pin) - 1;
	memcpy(pin, data, n);
	pin[n] = '\0';
	for (f = 0; f < 3; f++) {
		size_t len = 0;

		if (eid_card__pin_block(pin, (eid_pin_format)f, 0, 31, 12, block, &len) == EID_OK && len > sizeof(block))
			abort();
	}
	eid_buf_clear(&json);
	eid_identity_free(id);
	eid_error_clear();
	return 0;
}
