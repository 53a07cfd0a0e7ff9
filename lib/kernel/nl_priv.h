/* Shared inside the nl_*.c files only: the request/answer transport and
 * small message helpers.  Not part of loom's API (see nl.h). */
#ifndef LOOM_NL_PRIV_H
#define LOOM_NL_PRIV_H

#include <errno.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <string.h>

#include "base/ip.h"
#include "kernel/nl.h"

/* Called for every answer message (a reply, or each part of a dump).
 * Return 0, or -errno to fail the request (the rest of the answer is still
 * read so the socket stays in step). */
typedef int (*loom_nl_parse_fn)(struct nlmsghdr *h, void *arg);

/* Send msg (NLM_F_ACK is added unless it is a dump) and read the answer
 * through the final ACK, error or NLMSG_DONE.  Returns the kernel's -errno,
 * the first parse error, or 0.  Does not free msg. */
int loom_nl_talk(struct loom_nl *nl, struct nl_msg *msg, loom_nl_parse_fn parse, void *arg);

/* A message with the family header hdr (hdrlen bytes) appended; NULL on
 * out of memory. */
struct nl_msg *loom_nlmsg_new(int type, int flags, const void *hdr, size_t hdrlen);
/* RTM_NEWLINK that creates a link (NLM_F_CREATE | NLM_F_EXCL), up in the
 * same request when `up`. */
struct nl_msg *loom_nlmsg_newlink(bool up);

static inline void loom_nlmsg_freep(struct nl_msg **m)
{
	if (*m)
		nlmsg_free(*m);
}
#define _cleanup_nlmsg_ __attribute__((cleanup(loom_nlmsg_freep)))

/* 0 for a usable interface name (1..IFNAMSIZ-1 bytes), else -EINVAL. */
static inline int loom_nl_check_name(const char *name)
{
	size_t n = name ? strnlen(name, IFNAMSIZ) : 0;

	return n == 0 || n >= IFNAMSIZ ? -EINVAL : 0;
}

/* Put an address attribute of the ip's family size. */
static inline int loom_nla_put_ip(struct nl_msg *m, int type, const struct loom_ip *ip)
{
	return nla_put(m, type, loom_ip_bytes(ip), ip->addr);
}

/* Read an address attribute: 0, or -EPROTO when its size does not match
 * the family (never trust a length from the kernel). */
static inline int loom_nla_get_ip(const struct nlattr *a, int family, struct loom_ip *out)
{
	int want = family == AF_INET ? 4 : family == AF_INET6 ? 16 : -1;

	if (want < 0 || nla_len(a) != want)
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	memcpy(out->addr, nla_data(a), (size_t)want);
	return 0;
}

/* IFLA_LINKINFO's members (kind, data, slave kind and data), for
 * nla_parse_nested (nl_link.c). */
extern const struct nla_policy loom_nl_linkinfo_policy[];

/* A growable array for dump results. */
struct loom_vec {
	void *items;
	size_t n, cap, elsize;
};
/* Pointer to a new zeroed element, or NULL on out of memory. */
void *loom_vec_push(struct loom_vec *v);
/* The end of a dump whose talk returned r: on error (r < 0) frees the
 * items and returns r; else sets *items (the caller's now) and returns the
 * count. */
int loom_vec_finish(struct loom_vec *v, int r, void **items);

#endif
