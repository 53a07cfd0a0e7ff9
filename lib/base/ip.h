/* IP address and prefix arithmetic, IPv4 and IPv6 alike.
 *
 * Addresses are stored in network byte order in a 16-byte array; an IPv4
 * address uses the first 4 bytes.  Formatting matches Go's net.IP.String()
 * (RFC 5952 for IPv6, dotted quad for IPv4) because the reference host-local
 * store names its files that way and loom's store must be byte-compatible. */
#ifndef LOOM_IP_H
#define LOOM_IP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define LOOM_IP_STRLEN 46     /* INET6_ADDRSTRLEN */
#define LOOM_PREFIX_STRLEN 50 /* address + "/128" + NUL */

struct loom_ip {
	uint8_t family;   /* AF_INET or AF_INET6; 0 = unset */
	uint8_t addr[16]; /* network byte order; IPv4 in addr[0..3], rest zero */
};

struct loom_prefix {
	struct loom_ip ip; /* as written: host bits are kept (an interface address) */
	uint8_t len;       /* prefix length, 0..32 or 0..128 */
};

/* Parse "192.0.2.1" or "2001:db8::1".  An IPv4-mapped IPv6 address
 * ("::ffff:192.0.2.1") becomes IPv4, as Go does.  0 or -EINVAL. */
int loom_ip_parse(const char *s, struct loom_ip *out);

/* Parse "ADDR/LEN".  LEN must be present and in range.  0 or -EINVAL. */
int loom_prefix_parse(const char *s, struct loom_prefix *out);

const char *loom_ip_fmt(const struct loom_ip *ip, char buf[LOOM_IP_STRLEN]);
const char *loom_prefix_fmt(const struct loom_prefix *p, char buf[LOOM_PREFIX_STRLEN]);

static inline int loom_ip_bits(const struct loom_ip *ip)
{
	return ip->family == AF_INET ? 32 : 128;
}
static inline int loom_ip_bytes(const struct loom_ip *ip)
{
	return ip->family == AF_INET ? 4 : 16;
}

/* Total order: IPv4 before IPv6, then numeric. */
int loom_ip_cmp(const struct loom_ip *a, const struct loom_ip *b);
bool loom_ip_eq(const struct loom_ip *a, const struct loom_ip *b);

/* ip + 1 / ip - 1 in place.  Return false (and leave ip unchanged) on
 * wrap-around past the top or bottom of the family's space. */
bool loom_ip_next(struct loom_ip *ip);
bool loom_ip_prev(struct loom_ip *ip);

/* Number of addresses from a to b inclusive, saturating at UINT64_MAX;
 * 0 when b < a or families differ. */
uint64_t loom_ip_span(const struct loom_ip *a, const struct loom_ip *b);

/* First address of the prefix (host bits cleared). */
struct loom_ip loom_prefix_first(const struct loom_prefix *p);
/* Last address of the prefix (all host bits set: the IPv4 broadcast). */
struct loom_ip loom_prefix_last(const struct loom_prefix *p);
/* True when the prefix has no host bits set. */
bool loom_prefix_is_network(const struct loom_prefix *p);
bool loom_prefix_contains(const struct loom_prefix *p, const struct loom_ip *ip);
bool loom_prefix_overlaps(const struct loom_prefix *a, const struct loom_prefix *b);

#endif
