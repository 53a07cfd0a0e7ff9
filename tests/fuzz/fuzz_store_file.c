/* Fuzz the file datastore's on-disk parsers with arbitrary bytes, as if
 * found in data/ or in the event log: every record either parses into
 * bounded, NUL-free keys and values or is refused, and a log walk never
 * reads past its buffer.  Random bytes almost never carry a valid crc32, so
 * the first input byte picks raw bytes or bytes with the checksums fixed up,
 * which lets the fuzzer reach the length and field checks behind them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int i = 0; i < 8; i++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void check_kv(const struct loom_kv *kv)
{
	size_t klen = strlen(kv->key);

	if (klen == 0 || klen > LOOM_STORE_KEY_MAX || kv->value_len > LOOM_STORE_VALUE_MAX ||
	    kv->value[kv->value_len] != '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct loom_err err;
	struct loom_kv kv;
	uint8_t *buf;
	size_t pos = 0;
	int fix;

	if (size < 1)
		return 0;
	fix = data[0] & 1;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, --size);

	if (fix && size >= 8)
		put32(buf + 4, crc32(buf + 8, size - 8));
	if (loom_store_file_parse_kv(buf, size, &kv, &err) == 0) {
		check_kv(&kv);
		if (kv.mod_revision < kv.create_revision || kv.create_revision < 1)
			abort();
		loom_kv_clear(&kv);
	}

	memcpy(buf, data + 1, size);
	while (pos < size) {
		struct loom_event ev;
		size_t n;

		/* give each frame a correct checksum over what it claims to hold */
		if (fix && size - pos >= 8 && get32(buf + pos) <= size - pos - 8)
			put32(buf + pos + 4, crc32(buf + pos + 8, get32(buf + pos)));
		n = loom_store_file_parse_event(buf + pos, size - pos, &ev);
		if (n == 0)
			break;
		if (n > size - pos || ev.kv.mod_revision < 1 ||
		    (ev.type != LOOM_EV_PUT && ev.type != LOOM_EV_DELETE) ||
		    (ev.type == LOOM_EV_DELETE && ev.kv.value_len != 0))
			abort();
		check_kv(&ev.kv);
		loom_kv_clear(&ev.kv);
		pos += n;
	}
	free(buf);
	return 0;
}
