/* Load, pin and drive the anti-spoofing program (see bpf_antispoof.h).
 *
 * Cost of a pod's ADD once the node is set up: three bpf_obj_get, two map
 * updates, and the two netlink requests of the tc hook and filter.  The
 * verifier runs once per node, under a lock, when nothing is pinned yet. */
#include "kernel/bpf_antispoof.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "antispoof.skel.h"
#include "base/cleanup.h"

#define BPFFS_ROOT "/sys/fs/bpf"

struct loom_antispoof {
	struct antispoof *skel; /* private instances only */
	int prog, allowed, counters;
};

static const char *const drop_names[LOOM_ANTISPOOF_DROP_MAX] = {
	[LOOM_ANTISPOOF_DROP_MAC] = "mac",
	[LOOM_ANTISPOOF_DROP_IP4] = "ipv4",
	[LOOM_ANTISPOOF_DROP_IP6] = "ipv6",
	[LOOM_ANTISPOOF_DROP_ARP] = "arp",
	[LOOM_ANTISPOOF_DROP_ND] = "nd",
	[LOOM_ANTISPOOF_DROP_PROTO] = "ethertype",
	[LOOM_ANTISPOOF_DROP_MALFORMED] = "malformed",
	[LOOM_ANTISPOOF_DROP_UNKNOWN] = "no-entry",
};

const char *loom_antispoof_drop_name(int reason)
{
	return reason >= 0 && reason < LOOM_ANTISPOOF_DROP_MAX ? drop_names[reason] : "?";
}

/* libbpf would print to our stderr, which is the runtime's. */
static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static struct loom_antispoof *as_new(void)
{
	struct loom_antispoof *as = calloc(1, sizeof(*as));

	if (as)
		as->prog = as->allowed = as->counters = -1;
	libbpf_set_print(quiet);
	return as;
}

static void drop_fds(struct loom_antispoof *as)
{
	loom_closep(&as->prog);
	loom_closep(&as->allowed);
	loom_closep(&as->counters);
	as->prog = as->allowed = as->counters = -1;
}

void loom_antispoof_close(struct loom_antispoof *as)
{
	if (!as)
		return;
	if (as->skel)
		antispoof__destroy(as->skel);
	else
		drop_fds(as);
	free(as);
}

int loom_antispoof_prog_fd(const struct loom_antispoof *as)
{
	return as->prog;
}

static bool no_bpf(int e)
{
	return e == ENOSYS || e == ENODEV || e == EOPNOTSUPP;
}

static int no_bpf_err(struct loom_err *err, int e, const char *what)
{
	return loom_err_errno(err, LOOM_ERR_UNSUPPORTED_FIELD, e,
			      "antiSpoof: this kernel has no BPF support (%s); set \"antiSpoof\": "
			      "false in the network config to run without anti-spoofing",
			      what);
}

int loom_antispoof_pin_path(const char *pin_dir, char *buf, size_t len)
{
	struct stat st;
	int n;

	if (stat("/proc/thread-self/ns/net", &st) < 0)
		return -errno;
	n = snprintf(buf, len, "%s/net%llu", pin_dir, (unsigned long long)st.st_ino);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == BPF_FS_MAGIC;
}

/* Mount bpffs on /sys/fs/bpf when the pin dir wants it and it is missing,
 * then make <pin_dir>/net<ino>. */
static int ensure_dirs(const char *pin_dir, char *sub, size_t len, struct loom_err *err)
{
	size_t root_len = strlen(BPFFS_ROOT);
	int r;

	if (strncmp(pin_dir, BPFFS_ROOT, root_len) == 0 &&
	    (pin_dir[root_len] == '/' || pin_dir[root_len] == 0) && !is_bpffs(BPFFS_ROOT) &&
	    mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700") < 0) {
		if (errno == ENODEV)
			return no_bpf_err(err, errno, "no bpf filesystem");
		return loom_err_errno(err, LOOM_ERR_INTERNAL, errno,
				      "antiSpoof: cannot mount the BPF filesystem on %s",
				      BPFFS_ROOT);
	}
	if (mkdir(pin_dir, 0700) < 0 && errno != EEXIST)
		return loom_err_errno(err, LOOM_ERR_INVALID_CONFIG, errno,
				      "bpfPinDir: cannot create %s", pin_dir);
	if (!is_bpffs(pin_dir))
		return loom_err_set(
			err, LOOM_ERR_INVALID_CONFIG,
			"bpfPinDir: %s is not on a BPF filesystem (mount -t bpf bpf DIR)", pin_dir);
	r = loom_antispoof_pin_path(pin_dir, sub, len);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INVALID_CONFIG, -r,
				      "bpfPinDir: no room for the per-netns directory under %s",
				      pin_dir);
	if (mkdir(sub, 0700) < 0 && errno != EEXIST)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, errno, "antiSpoof: cannot create %s",
				      sub);
	return 0;
}

static int get_pinned(const char *sub, const char *name)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", sub, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* 0, or -errno of the first missing object. */
static int get_all(struct loom_antispoof *as, const char *sub, bool with_prog)
{
	as->allowed = get_pinned(sub, "allowed");
	if (as->allowed < 0)
		return as->allowed;
	as->counters = get_pinned(sub, "counters");
	if (as->counters < 0)
		return as->counters;
	if (!with_prog)
		return 0;
	as->prog = get_pinned(sub, "prog");
	return as->prog < 0 ? as->prog : 0;
}

static int load_skel(struct antispoof **out, struct loom_err *err)
{
	struct antispoof *s = antispoof__open();
	int r;

	if (!s) {
		r = errno;
		return no_bpf(r) ? no_bpf_err(err, r, "cannot open the BPF object")
				 : loom_err_errno(err, LOOM_ERR_INTERNAL, r,
						  "antiSpoof: cannot open the BPF object");
	}
	r = antispoof__load(s);
	if (r < 0) {
		antispoof__destroy(s);
		return no_bpf(-r) || -r == EPERM
			       ? no_bpf_err(err, -r, "the kernel refused to load the program")
			       : loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
						"antiSpoof: the kernel refused the BPF program");
	}
	*out = s;
	return 0;
}

static int pin_one(int fd, const char *sub, const char *name, struct loom_err *err)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/%s", sub, name);
	/* A leftover of a load that died half way. */
	unlink(path);
	if (bpf_obj_pin(fd, path) < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, errno, "antiSpoof: cannot pin %s",
				      path);
	return 0;
}

/* Under the lock: load, verify, pin maps then the program (the fast path
 * takes the program's pin as "all there"). */
static int load_and_pin(struct loom_antispoof *as, const char *sub, struct loom_err *err)
{
	struct antispoof *s = NULL;
	int r;

	if (load_skel(&s, err) < 0)
		return -1;
	r = pin_one(bpf_map__fd(s->maps.allowed), sub, "allowed", err);
	if (r == 0)
		r = pin_one(bpf_map__fd(s->maps.counters), sub, "counters", err);
	if (r == 0)
		r = pin_one(bpf_program__fd(s->progs.loom_antispoof), sub, "prog", err);
	if (r == 0 && get_all(as, sub, true) < 0)
		r = loom_err_errno(err, LOOM_ERR_INTERNAL, errno, "antiSpoof: cannot open %s", sub);
	antispoof__destroy(s);
	return r;
}

int loom_antispoof_open(const char *pin_dir, struct loom_antispoof **out, struct loom_err *err)
{
	char sub[PATH_MAX];
	_cleanup_close_ int lock = -1;
	struct loom_antispoof *as = as_new();

	if (!as)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (ensure_dirs(pin_dir, sub, sizeof(sub), err) < 0)
		goto fail;
	if (get_all(as, sub, true) == 0)
		goto done;
	drop_fds(as);
	lock = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		loom_err_errno(err, LOOM_ERR_INTERNAL, errno, "antiSpoof: cannot lock %s", sub);
		goto fail;
	}
	if (get_all(as, sub, true) == 0)
		goto done;
	drop_fds(as);
	if (load_and_pin(as, sub, err) < 0)
		goto fail;
done:
	*out = as;
	return 0;
fail:
	loom_antispoof_close(as);
	return -1;
}

int loom_antispoof_open_maps(const char *pin_dir, struct loom_antispoof **out, struct loom_err *err)
{
	char sub[PATH_MAX];
	struct loom_antispoof *as;
	int r = loom_antispoof_pin_path(pin_dir, sub, sizeof(sub));

	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INVALID_CONFIG, -r, "bpfPinDir: %s", pin_dir);
	as = as_new();
	if (!as)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	r = get_all(as, sub, false);
	if (r < 0) {
		loom_antispoof_close(as);
		if (r == -ENOENT || r == -ENOTDIR)
			return -ENOENT;
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
				      "antiSpoof: cannot open the maps in %s", sub);
	}
	*out = as;
	return 0;
}

int loom_antispoof_open_private(struct loom_antispoof **out, struct loom_err *err)
{
	struct loom_antispoof *as = as_new();

	if (!as)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (load_skel(&as->skel, err) < 0) {
		free(as);
		return -1;
	}
	as->prog = bpf_program__fd(as->skel->progs.loom_antispoof);
	as->allowed = bpf_map__fd(as->skel->maps.allowed);
	as->counters = bpf_map__fd(as->skel->maps.counters);
	*out = as;
	return 0;
}

static size_t counters_size(void)
{
	int n = libbpf_num_possible_cpus();

	return sizeof(struct loom_antispoof_counters) * (size_t)(n > 0 ? n : 1);
}

int loom_antispoof_set(struct loom_antispoof *as, const struct loom_antispoof_pod *p,
		       struct loom_err *err)
{
	struct loom_antispoof_allowed v;
	_cleanup_free_ void *zero = NULL;
	uint32_t key = (uint32_t)p->ifindex;
	size_t i;

	memset(&v, 0, sizeof(v));
	memcpy(v.mac, p->mac, sizeof(v.mac));
	for (i = 0; i < p->n_ips; i++) {
		const struct loom_ip *ip = &p->ips[i].ip;

		if (ip->family == AF_INET) {
			if (v.n_v4 >= LOOM_ANTISPOOF_MAX_V4)
				return loom_err_set(
					err, LOOM_ERR_INVALID_CONFIG,
					"antiSpoof: a pod may have at most %d IPv4 addresses",
					LOOM_ANTISPOOF_MAX_V4);
			memcpy(&v.v4[v.n_v4++], ip->addr, 4);
		} else if (ip->family == AF_INET6) {
			if (v.n_v6 >= LOOM_ANTISPOOF_MAX_V6)
				return loom_err_set(
					err, LOOM_ERR_INVALID_CONFIG,
					"antiSpoof: a pod may have at most %d IPv6 addresses",
					LOOM_ANTISPOOF_MAX_V6);
			memcpy(v.v6[v.n_v6++], ip->addr, 16);
		}
	}
	zero = calloc(1, counters_size());
	if (!zero)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	if (bpf_map_update_elem(as->counters, &key, zero, BPF_ANY) < 0 ||
	    bpf_map_update_elem(as->allowed, &key, &v, BPF_ANY) < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, errno,
				      "antiSpoof: cannot write the map element of ifindex %d",
				      p->ifindex);
	return 0;
}

int loom_antispoof_attach(struct loom_antispoof *as, int ifindex, struct loom_err *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = as->prog, .handle = 1, .priority = 1,
		    .flags = BPF_TC_F_REPLACE);
	int r;

	r = bpf_tc_hook_create(&hook);
	if (r < 0 && r != -EEXIST)
		return no_bpf(-r) ? no_bpf_err(err, -r, "no tc clsact qdisc")
				  : loom_err_errno(
					    err, LOOM_ERR_INTERNAL, -r,
					    "antiSpoof: cannot add the clsact qdisc to ifindex %d",
					    ifindex);
	r = bpf_tc_attach(&hook, &opts);
	if (r < 0)
		return no_bpf(-r) ? no_bpf_err(err, -r, "no tc BPF classifier")
				  : loom_err_errno(
					    err, LOOM_ERR_INTERNAL, -r,
					    "antiSpoof: cannot attach the tc filter to ifindex %d",
					    ifindex);
	return 0;
}

int loom_antispoof_forget(struct loom_antispoof *as, int ifindex)
{
	uint32_t key = (uint32_t)ifindex;
	int r = 0;

	if (bpf_map_delete_elem(as->allowed, &key) < 0 && errno != ENOENT)
		r = -errno;
	if (bpf_map_delete_elem(as->counters, &key) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}

/* Keys of one map; *keys malloc'd. */
static int map_keys(int fd, uint32_t **keys, size_t *n)
{
	uint32_t *k = NULL, *next_k;
	uint32_t cur, next;
	size_t cnt = 0, cap = 0;
	bool first = true;

	while (bpf_map_get_next_key(fd, first ? NULL : &cur, &next) == 0) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			next_k = realloc(k, cap * sizeof(*k));
			if (!next_k) {
				free(k);
				return -ENOMEM;
			}
			k = next_k;
		}
		k[cnt++] = next;
		cur = next;
		first = false;
	}
	if (errno != ENOENT) {
		free(k);
		return -errno;
	}
	*keys = k;
	*n = cnt;
	return 0;
}

int loom_antispoof_forget_stale(struct loom_antispoof *as)
{
	const int fds[2] = { as->allowed, as->counters };
	char name[IF_NAMESIZE];
	int i, r;

	for (i = 0; i < 2; i++) {
		uint32_t *keys = NULL;
		size_t n = 0, k;

		r = map_keys(fds[i], &keys, &n);
		if (r < 0)
			return r;
		for (k = 0; k < n; k++)
			if (!if_indextoname(keys[k], name) && errno == ENXIO)
				bpf_map_delete_elem(fds[i], &keys[k]);
		free(keys);
	}
	return 0;
}

static struct loom_antispoof_stats *stats_slot(struct loom_antispoof_stats **v, size_t *n,
					       uint32_t ifindex)
{
	struct loom_antispoof_stats *s;
	size_t i;

	for (i = 0; i < *n; i++)
		if ((*v)[i].ifindex == ifindex)
			return &(*v)[i];
	s = realloc(*v, (*n + 1) * sizeof(**v));
	if (!s)
		return NULL;
	*v = s;
	s = &s[(*n)++];
	memset(s, 0, sizeof(*s));
	s->ifindex = ifindex;
	return s;
}

int loom_antispoof_stats(struct loom_antispoof *as, struct loom_antispoof_stats **out,
			 size_t *n_out, struct loom_err *err)
{
	int ncpu = libbpf_num_possible_cpus();
	struct loom_antispoof_stats *v = NULL, *s;
	_cleanup_free_ struct loom_antispoof_counters *per = NULL;
	_cleanup_free_ uint32_t *ak = NULL;
	_cleanup_free_ uint32_t *ck = NULL;
	size_t na = 0, nc = 0, n = 0, i;
	int c, r;

	if (ncpu <= 0)
		ncpu = 1;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
	r = map_keys(as->allowed, &ak, &na);
	if (r == 0)
		r = map_keys(as->counters, &ck, &nc);
	if (r < 0)
		return loom_err_errno(err, LOOM_ERR_INTERNAL, -r,
				      "antiSpoof: cannot list the maps");
	for (i = 0; i < na; i++) {
		s = stats_slot(&v, &n, ak[i]);
		if (!s)
			goto oom;
		s->has_allowed = true;
	}
	for (i = 0; i < nc; i++) {
		if (bpf_map_lookup_elem(as->counters, &ck[i], per) < 0)
			continue; /* deleted meanwhile */
		s = stats_slot(&v, &n, ck[i]);
		if (!s)
			goto oom;
		for (c = 0; c < ncpu; c++) {
			int d;

			s->pass_packets += per[c].pass_packets;
			s->pass_bytes += per[c].pass_bytes;
			for (d = 0; d < LOOM_ANTISPOOF_DROP_MAX; d++)
				s->drop[d] += per[c].drop[d];
		}
	}
	*out = v;
	*n_out = n;
	return 0;
oom:
	free(v);
	return loom_err_set(err, LOOM_ERR_INTERNAL, "out of memory");
}
