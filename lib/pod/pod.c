/* Small pieces every step uses: netlink error messages, MAC addresses,
 * forwarding. */
#include "pod/pod.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int loom_pod_nl_err(struct loom_err *err, struct loom_nl *nl, int r, const char *fmt, ...)
{
	const char *kmsg = loom_nl_last_msg(nl);
	char msg[LOOM_ERR_MSG_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "%s%s%s", msg,
			      kmsg && kmsg[0] ? ": " : "", kmsg ? kmsg : "");
}

/* Locally administered unicast, as the kernel's own random MACs. */
int loom_mac_random(uint8_t mac[LOOM_MAC_LEN], struct loom_err *err)
{
	if (getrandom(mac, LOOM_MAC_LEN, 0) != LOOM_MAC_LEN)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, errno,
				      "cannot get random bytes for a MAC");
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	return 0;
}

int loom_mac_parse(const char *s, uint8_t mac[LOOM_MAC_LEN])
{
	char sep = 0;
	int i;

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (i = 0; i < LOOM_MAC_LEN; i++) {
		const char *p = s + i * 3;
		int hi, lo;

		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return -EINVAL;
		if (i < LOOM_MAC_LEN - 1) {
			if (p[2] != ':' && p[2] != '-')
				return -EINVAL;
			if (sep && p[2] != sep)
				return -EINVAL;
			sep = p[2];
		}
		hi = isdigit((unsigned char)p[0]) ? p[0] - '0'
						  : (tolower((unsigned char)p[0]) - 'a' + 10);
		lo = isdigit((unsigned char)p[1]) ? p[1] - '0'
						  : (tolower((unsigned char)p[1]) - 'a' + 10);
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

const char *loom_mac_fmt(const uint8_t mac[LOOM_MAC_LEN], char buf[LOOM_MAC_STRLEN])
{
	snprintf(buf, LOOM_MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
	return buf;
}

static int forwarding_enable(int family, struct loom_err *err)
{
	const char *key =
		family == AF_INET ? "net/ipv4/ip_forward" : "net/ipv6/conf/all/forwarding";
	char buf[8];
	int r;

	/* A write is a netns-wide event (IPv6 resets every interface's
	 * router state on it): only when needed. */
	if (loom_sysctl_read(key, buf, sizeof(buf)) == 0 && strcmp(buf, "1") == 0)
		return 0;
	r = loom_sysctl_write(key, "1");
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r, "cannot enable forwarding (%s)",
				      key);
	return 0;
}

int loom_pod_forwarding_enable(const bool family[2], struct loom_err *err)
{
	if (family[0] && forwarding_enable(AF_INET, err) < 0)
		return -1;
	if (family[1] && forwarding_enable(AF_INET6, err) < 0)
		return -1;
	return 0;
}
