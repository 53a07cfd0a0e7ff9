/* The rtnetlink socket and its one request/answer loop.
 *
 * libnl turns the kernel's errno into its own NLE_* codes and loses some on
 * the way (ENODEV and ENOENT both become NLE_OBJ_NOTFOUND), so the error
 * callback keeps the kernel's errno and its extended-ack text itself. */
#include "nl_priv.h"

#include <linux/netlink.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "base/cleanup.h"
#include "kernel/netns.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Dumps arrive in skbs of at most 32 KiB; a receive buffer this large
 * never truncates them, so libnl need not MSG_PEEK every message (which
 * costs a second recvmsg per read). */
#define RECV_BUF 65536

struct loom_nl {
	struct nl_sock *sk;
	struct nl_cb *cb;
	/* state of the request in flight */
	loom_nl_parse_fn parse;
	void *parse_arg;
	int parse_err;
	int kernel_err;
	bool done;
	char ext_msg[160];
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct loom_nl *nl = arg;
	int r;

	if (nl->parse && nl->parse_err == 0) {
		r = nl->parse(nlmsg_hdr(msg), nl->parse_arg);
		if (r < 0)
			nl->parse_err = r;
	}
	return NL_OK;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	struct loom_nl *nl = arg;

	(void)msg;
	nl->done = true;
	return NL_STOP;
}

/* The error message follows the echoed request (all of it, or only its
 * header when the kernel capped it) as NLMSGERR_ATTR_* attributes. */
static void keep_ext_msg(struct loom_nl *nl, struct nlmsgerr *e)
{
	struct nlmsghdr *h = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	struct nlattr *a;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < NLMSG_HDRLEN)
			return;
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	}
	if (off >= h->nlmsg_len)
		return;
	a = nla_find((struct nlattr *)((char *)h + off), (int)(h->nlmsg_len - off),
		     NLMSGERR_ATTR_MSG);
	if (a && nla_len(a) > 0)
		nla_strlcpy(nl->ext_msg, a, sizeof(nl->ext_msg));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct loom_nl *nl = arg;

	(void)who;
	nl->kernel_err = e->error < 0 ? e->error : -EPROTO;
	keep_ext_msg(nl, e);
	nl->done = true;
	return NL_STOP;
}

/* For failures that did not come from the kernel's answer. */
static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_MSGSIZE:
		return -EMSGSIZE;
	case NLE_MSG_TRUNC:
		return -EMSGSIZE;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_DUMP_INTR:
		return -EINTR;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_INTR:
		return -EINTR;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	default:
		return -EIO;
	}
}

int loom_nl_talk(struct loom_nl *nl, struct nl_msg *msg, loom_nl_parse_fn parse, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	bool dump = (h->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	int r;

	if (!dump)
		h->nlmsg_flags |= NLM_F_ACK;
	nl->parse = parse;
	nl->parse_arg = arg;
	nl->parse_err = 0;
	nl->kernel_err = 0;
	nl->done = false;
	nl->ext_msg[0] = '\0';

	r = nl_send_auto(nl->sk, msg);
	if (r < 0)
		return nle_to_errno(r);
	while (!nl->done) {
		r = nl_recvmsgs(nl->sk, nl->cb);
		if (nl->kernel_err)
			return nl->kernel_err;
		/* A dump the kernel restarted because the table changed under
		 * it: libnl still reads it to the end, then says so. */
		if (r < 0)
			return nle_to_errno(r);
	}
	return nl->parse_err;
}

struct nl_msg *loom_nlmsg_new(int type, int flags, const void *hdr, size_t hdrlen)
{
	struct nl_msg *m = nlmsg_alloc_simple(type, flags);

	if (!m)
		return NULL;
	if (nlmsg_append(m, (void *)hdr, hdrlen, NLMSG_ALIGNTO) < 0) {
		nlmsg_free(m);
		return NULL;
	}
	return m;
}

struct nl_msg *loom_nlmsg_newlink(bool up)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };

	if (up) {
		ifi.ifi_flags = IFF_UP;
		ifi.ifi_change = IFF_UP;
	}
	return loom_nlmsg_new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof(ifi));
}

const char *loom_nl_last_msg(const struct loom_nl *nl)
{
	return nl ? nl->ext_msg : "";
}

void loom_nl_close(struct loom_nl *nl)
{
	if (!nl)
		return;
	if (nl->sk)
		nl_socket_free(nl->sk); /* closes the fd */
	if (nl->cb)
		nl_cb_put(nl->cb);
	free(nl);
}

static void set_opt(int fd, int opt)
{
	int one = 1;

	/* Older kernels lack some of these; loom works without them, only
	 * with less precise errors and unfiltered dumps. */
	(void)setsockopt(fd, SOL_NETLINK, opt, &one, sizeof(one));
}

int loom_nl_open(struct loom_nl **out)
{
	struct loom_nl *nl;
	int r, fd;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = nl_socket_alloc();
	nl->cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!nl->sk || !nl->cb) {
		loom_nl_close(nl);
		return -ENOMEM;
	}
	r = nl_connect(nl->sk, NETLINK_ROUTE);
	if (r < 0) {
		loom_nl_close(nl);
		return nle_to_errno(r);
	}
	fd = nl_socket_get_fd(nl->sk);
	set_opt(fd, NETLINK_EXT_ACK);
	set_opt(fd, NETLINK_CAP_ACK);        /* errors need not echo our whole request */
	set_opt(fd, NETLINK_GET_STRICT_CHK); /* dumps honour the ifindex/table filters */
	nl_socket_disable_msg_peek(nl->sk);
	nl_socket_set_msg_buf_size(nl->sk, RECV_BUF);

	nl_cb_set(nl->cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, nl);
	nl_cb_set(nl->cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, nl);
	nl_cb_set(nl->cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, nl);
	nl_cb_err(nl->cb, NL_CB_CUSTOM, on_error, nl);
	*out = nl;
	return 0;
}

static int open_here(void *out)
{
	return loom_nl_open(out);
}

int loom_nl_open_netns(int netns_fd, struct loom_nl **out)
{
	int r;

	*out = NULL;
	/* The socket binds to the netns current at its creation. */
	r = loom_netns_run_fd(netns_fd, open_here, out);
	if (r == -ENOTRECOVERABLE && *out) {
		/* opened, but this thread could not get back */
		loom_nl_close(*out);
		*out = NULL;
	}
	return r;
}

void *loom_vec_push(struct loom_vec *v)
{
	char *slot;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		void *p = realloc(v->items, cap * v->elsize);

		if (!p)
			return NULL;
		v->items = p;
		v->cap = cap;
	}
	slot = (char *)v->items + v->n * v->elsize;
	memset(slot, 0, v->elsize);
	v->n++;
	return slot;
}

int loom_vec_finish(struct loom_vec *v, int r, void **items)
{
	if (r < 0) {
		free(v->items);
		return r;
	}
	*items = v->items;
	return (int)v->n;
}
