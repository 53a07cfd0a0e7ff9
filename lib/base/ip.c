/* IP address and prefix arithmetic.
 *
 * Parsing leans on inet_pton, which is strict in the ways Go's parser is
 * (four dotted parts, no leading zeros in an octet, no zone).  Formatting is
 * our own: glibc's inet_ntop prints "::a.b.c.d" for IPv4-compatible
 * addresses where Go prints hex, and the store's file names must match Go. */
#include "base/ip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool is_v4_mapped(const uint8_t a[16])
{
	return memcmp(a, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

/* Parse an address; *was_v6_text tells the prefix parser whether the length
 * that follows counts IPv6 bits even though the result is IPv4. */
static int ip_parse(const char *s, struct loom_ip *out, bool *was_v6_text)
{
	struct loom_ip ip = { 0 };

	if (!s || !out)
		return -EINVAL;
	*was_v6_text = strchr(s, ':') != NULL;
	if (*was_v6_text) {
		if (inet_pton(AF_INET6, s, ip.addr) != 1)
			return -EINVAL;
		ip.family = AF_INET6;
		if (is_v4_mapped(ip.addr)) {
			memmove(ip.addr, ip.addr + 12, 4);
			memset(ip.addr + 4, 0, 12);
			ip.family = AF_INET;
		}
	} else {
		if (inet_pton(AF_INET, s, ip.addr) != 1)
			return -EINVAL;
		ip.family = AF_INET;
	}
	*out = ip;
	return 0;
}

int loom_ip_parse(const char *s, struct loom_ip *out)
{
	bool v6_text;

	return ip_parse(s, out, &v6_text);
}

int loom_prefix_parse(const char *s, struct loom_prefix *out)
{
	char addr[LOOM_IP_STRLEN];
	const char *slash, *p;
	struct loom_ip ip;
	unsigned len = 0;
	size_t alen;
	bool v6_text;
	int max;

	if (!s || !out)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash)
		return -EINVAL;
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (ip_parse(addr, &ip, &v6_text) < 0)
		return -EINVAL;

	/* Decimal digits only: no sign, no space, no second slash.  Leading
	 * zeros are accepted, as Go's ParseCIDR does. */
	p = slash + 1;
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		len = len * 10 + (unsigned)(*p - '0');
		if (len > 128)
			return -EINVAL;
	}

	max = v6_text ? 128 : 32;
	if (len > (unsigned)max)
		return -EINVAL;
	if (v6_text && ip.family == AF_INET) {
		/* "::ffff:a.b.c.d/LEN": the length counts the 96-bit mapping
		 * prefix; Go prints it as an IPv4 prefix of LEN-96. */
		if (len < 96)
			return -EINVAL;
		len -= 96;
	}
	out->ip = ip;
	out->len = (uint8_t)len;
	return 0;
}

const char *loom_ip_fmt(const struct loom_ip *ip, char buf[LOOM_IP_STRLEN])
{
	const uint8_t *a = ip->addr;
	int best = -1, best_len = 0, i;
	char *p = buf;

	if (ip->family != AF_INET && ip->family != AF_INET6) {
		snprintf(buf, LOOM_IP_STRLEN, "<nil>"); /* what Go prints for a nil IP */
		return buf;
	}
	if (ip->family == AF_INET6 && is_v4_mapped(a))
		a += 12; /* Go prints a mapped address as IPv4 */
	if (ip->family == AF_INET || a != ip->addr) {
		snprintf(buf, LOOM_IP_STRLEN, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
		return buf;
	}

	/* RFC 5952: the longest run of two or more zero groups becomes "::",
	 * the first one on a tie. */
	for (i = 0; i < 8;) {
		int j = i;

		while (j < 8 && a[2 * j] == 0 && a[2 * j + 1] == 0)
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (best_len < 2) {
		best = -1;
		best_len = 0;
	}

	for (i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && i != best + best_len)
			*p++ = ':';
		p += sprintf(p, "%x", (unsigned)(a[2 * i] << 8 | a[2 * i + 1]));
	}
	*p = '\0';
	return buf;
}

const char *loom_prefix_fmt(const struct loom_prefix *p, char buf[LOOM_PREFIX_STRLEN])
{
	char ip[LOOM_IP_STRLEN];

	snprintf(buf, LOOM_PREFIX_STRLEN, "%s/%u", loom_ip_fmt(&p->ip, ip), (unsigned)p->len);
	return buf;
}

int loom_ip_cmp(const struct loom_ip *a, const struct loom_ip *b)
{
	int r;

	/* AF_INET < AF_INET6 numerically, and unset (0) sorts first. */
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	return r < 0 ? -1 : r > 0;
}

bool loom_ip_eq(const struct loom_ip *a, const struct loom_ip *b)
{
	return loom_ip_cmp(a, b) == 0;
}

bool loom_ip_next(struct loom_ip *ip)
{
	int i, n = loom_ip_bytes(ip);

	for (i = 0; i < n && ip->addr[i] == 0xff; i++)
		;
	if (i == n)
		return false; /* all ones: the top of the space */
	for (i = n - 1; i >= 0; i--)
		if (++ip->addr[i] != 0)
			break;
	return true;
}

bool loom_ip_prev(struct loom_ip *ip)
{
	int i, n = loom_ip_bytes(ip);

	for (i = 0; i < n && ip->addr[i] == 0; i++)
		;
	if (i == n)
		return false;
	for (i = n - 1; i >= 0; i--)
		if (ip->addr[i]-- != 0)
			break;
	return true;
}

uint64_t loom_ip_span(const struct loom_ip *a, const struct loom_ip *b)
{
	uint8_t d[16];
	int i, n, borrow = 0;
	uint64_t v = 0;

	if (a->family != b->family || (a->family != AF_INET && a->family != AF_INET6))
		return 0;
	if (loom_ip_cmp(b, a) < 0)
		return 0;
	n = loom_ip_bytes(a);
	for (i = n - 1; i >= 0; i--) {
		int x = b->addr[i] - a->addr[i] - borrow;

		borrow = x < 0;
		d[i] = (uint8_t)(x + (borrow ? 256 : 0));
	}
	for (i = 0; i < n - 8; i++)
		if (d[i])
			return UINT64_MAX;
	for (i = n > 8 ? n - 8 : 0; i < n; i++)
		v = v << 8 | d[i];
	return v == UINT64_MAX ? UINT64_MAX : v + 1;
}

/* Host bits of byte i for a prefix of `len` bits: a mask of the bits to keep. */
static uint8_t net_mask_byte(int len, int i)
{
	int bits = len - 8 * i;

	if (bits >= 8)
		return 0xff;
	if (bits <= 0)
		return 0;
	return (uint8_t)(0xff << (8 - bits));
}

static int prefix_len(const struct loom_prefix *p)
{
	int bits = loom_ip_bits(&p->ip);

	return p->len > bits ? bits : p->len;
}

struct loom_ip loom_prefix_first(const struct loom_prefix *p)
{
	struct loom_ip ip = p->ip;
	int i, len = prefix_len(p);

	for (i = 0; i < loom_ip_bytes(&ip); i++)
		ip.addr[i] &= net_mask_byte(len, i);
	return ip;
}

struct loom_ip loom_prefix_last(const struct loom_prefix *p)
{
	struct loom_ip ip = p->ip;
	int i, len = prefix_len(p);

	for (i = 0; i < loom_ip_bytes(&ip); i++)
		ip.addr[i] |= (uint8_t)~net_mask_byte(len, i);
	return ip;
}

bool loom_prefix_is_network(const struct loom_prefix *p)
{
	struct loom_ip first = loom_prefix_first(p);

	return loom_ip_eq(&first, &p->ip);
}

/* Do a and b agree on their first `len` bits? */
static bool same_bits(const struct loom_ip *a, const struct loom_ip *b, int len)
{
	int i;

	for (i = 0; i < loom_ip_bytes(a); i++) {
		uint8_t m = net_mask_byte(len, i);

		if ((a->addr[i] & m) != (b->addr[i] & m))
			return false;
	}
	return true;
}

bool loom_prefix_contains(const struct loom_prefix *p, const struct loom_ip *ip)
{
	if (p->ip.family != ip->family || !p->ip.family)
		return false;
	return same_bits(&p->ip, ip, prefix_len(p));
}

bool loom_prefix_overlaps(const struct loom_prefix *a, const struct loom_prefix *b)
{
	int la = prefix_len(a), lb = prefix_len(b);

	if (a->ip.family != b->ip.family || !a->ip.family)
		return false;
	return same_bits(&a->ip, &b->ip, la < lb ? la : lb);
}
