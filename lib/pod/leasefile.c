/* Reading and parsing the node's lease file (leasefile.h).  The file is
 * replaced by rename, so one open+read sees a whole version of it. */
#include "pod/leasefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/cleanup.h"

int loom_leasefile_path(const char *run_dir, const char *network, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.env", run_dir, network);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int loom_leasefile_read(const char *path, char **out)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	ssize_t n;
	size_t got = 0;

	if (fd < 0)
		return -errno;
	buf = malloc(LOOM_LEASEFILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	while (got < LOOM_LEASEFILE_MAX &&
	       (n = read(fd, buf + got, LOOM_LEASEFILE_MAX - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = LOOM_TAKE_PTR(buf);
	return 0;
}

/* The value of `VAR=...` on a line of its own, copied into val.  0,
 * -ENOENT, -EINVAL (longer than the buffer). */
static int get_value(const char *text, const char *var, char *val, size_t len)
{
	size_t vl = strlen(var);
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line) : strlen(line);

		if (ll > vl && strncmp(line, var, vl) == 0 && line[vl] == '=') {
			size_t n = ll - vl - 1;

			if (n >= len)
				return -EINVAL;
			memcpy(val, line + vl + 1, n);
			val[n] = '\0';
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int loom_leasefile_get_prefix(const char *text, const char *var, struct loom_prefix *out)
{
	char val[LOOM_PREFIX_STRLEN];
	int r = get_value(text, var, val, sizeof(val));

	if (r < 0)
		return r;
	return loom_prefix_parse(val, out) < 0 ? -EINVAL : 0;
}

/* A network prefix of the family wanted (AF_UNSPEC: any). */
static int need_prefix(const char *text, const char *var, const char *path, int family,
		       bool required, struct loom_prefix *out, struct loom_err *err)
{
	char buf[LOOM_PREFIX_STRLEN];
	int r = loom_leasefile_get_prefix(text, var, out);

	if (r == -ENOENT && !required)
		return 0;
	if (r == -ENOENT)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "lease file %s: %s is missing",
				    path, var);
	if (r < 0 || (family != AF_UNSPEC && out->ip.family != family))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "lease file %s: %s is not an %s prefix", path, var,
				    family == AF_INET6 ? "IPv6" : "IPv4");
	if (!loom_prefix_is_network(out))
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "lease file %s: %s=%s has host bits set", path, var,
				    loom_prefix_fmt(out, buf));
	return 1;
}

static int inside(const struct loom_prefix *outer, const struct loom_prefix *inner,
		  const char *path, const char *what, struct loom_err *err)
{
	char a[LOOM_PREFIX_STRLEN], b[LOOM_PREFIX_STRLEN];

	if (inner->len >= outer->len && loom_prefix_contains(outer, &inner->ip))
		return 0;
	return loom_err_set(err, LOOM_ERR_INVALID_CONFIG, "lease file %s: %s %s is not inside %s",
			    path, what, loom_prefix_fmt(inner, a), loom_prefix_fmt(outer, b));
}

int loom_lease_parse(const char *text, const char *path, struct loom_lease *out,
		     struct loom_err *err)
{
	char val[16];
	int r6n, r6s, r;

	memset(out, 0, sizeof(*out));
	out->ipmasq = true;
	if (need_prefix(text, "LOOM_NETWORK", path, AF_INET, true, &out->network, err) < 0 ||
	    need_prefix(text, "LOOM_SUBNET", path, AF_INET, true, &out->subnet, err) < 0 ||
	    inside(&out->network, &out->subnet, path, "LOOM_SUBNET", err) < 0)
		return -1;
	r6n = need_prefix(text, "LOOM_IPV6_NETWORK", path, AF_INET6, false, &out->network6, err);
	if (r6n < 0)
		return -1;
	r6s = need_prefix(text, "LOOM_IPV6_SUBNET", path, AF_INET6, false, &out->subnet6, err);
	if (r6s < 0)
		return -1;
	if (r6n != r6s)
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"lease file %s: LOOM_IPV6_NETWORK and LOOM_IPV6_SUBNET go together", path);
	out->has_ipv6 = r6n == 1;
	if (out->has_ipv6 &&
	    inside(&out->network6, &out->subnet6, path, "LOOM_IPV6_SUBNET", err) < 0)
		return -1;

	r = get_value(text, "LOOM_MTU", val, sizeof(val));
	if (r != -ENOENT) {
		char *end;
		unsigned long m;

		errno = 0;
		m = r == 0 && val[0] >= '0' && val[0] <= '9' ? strtoul(val, &end, 10) : 0;
		if (r < 0 || errno || m < 68 || m > 65535 || *end)
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "lease file %s: LOOM_MTU is not an MTU (68..65535)",
					    path);
		out->mtu = (uint32_t)m;
	}
	r = get_value(text, "LOOM_IPMASQ", val, sizeof(val));
	if (r != -ENOENT) {
		if (r == 0 && strcmp(val, "true") == 0)
			out->ipmasq = true;
		else if (r == 0 && strcmp(val, "false") == 0)
			out->ipmasq = false;
		else
			return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
					    "lease file %s: LOOM_IPMASQ is neither true nor false",
					    path);
	}
	return 0;
}
