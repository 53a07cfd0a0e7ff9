/* The start-up sweep (contract in sweep.h). */
#include "sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipam_store.h"

struct sweep_net {
	struct loom_ipam_sweep *sw;
	const char *network;
	time_t now;
	int rc;
};

static int sweep_file(struct loom_ipam_store *s, const char *name, const struct loom_ip *ip,
		      const struct loom_holder *h, void *user)
{
	struct sweep_net *c = user;
	struct loom_ipam_reservation r = {
		.network = c->network,
		.address = name,
		.container_id = h->valid ? h->id : "",
		.ifname = h->valid && !h->legacy ? h->ifname : "",
	};
	struct stat st;
	int rc;

	(void)ip;
	if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0; /* gone under our feet: nothing to sweep */
	r.mtime = st.st_mtime;
	/* Garbage has no owner to ask; everything else waits out the grace
	 * (an ADD between its reservation and its endpoint record) and then
	 * stays only when its owner is alive. */
	if (h->valid &&
	    (c->now - r.mtime < (time_t)c->sw->grace_s || c->sw->in_use(&r, c->sw->user))) {
		c->sw->n_kept++;
		return 0;
	}
	rc = loom_ipam_store_release_name(s, name);
	if (rc < 0) {
		c->rc = rc;
		return 1;
	}
	if (h->valid && !h->legacy)
		(void)loom_ipam_store_index_put(s, h->id, h->ifname, NULL, 0);
	c->sw->n_released++;
	if (c->sw->released)
		c->sw->released(&r, c->sw->user);
	return 0;
}

static int sweep_network(struct loom_ipam_sweep *sw, const char *network, struct loom_err *err)
{
	struct sweep_net c = { .sw = sw, .network = network, .now = time(NULL) };
	struct loom_ipam_store s;
	int rc;

	if (loom_ipam_store_open(&s, sw->data_dir, network, err) < 0)
		return -1;
	rc = loom_ipam_store_remove_temps(&s);
	if (rc > 0)
		sw->n_temps += (size_t)rc;
	rc = loom_ipam_store_walk(&s, true, sweep_file, &c);
	if (rc == 1)
		rc = c.rc;
	loom_ipam_store_close(&s);
	if (rc < 0)
		return loom_err_errno(err, LOOM_ERR_STORE, -rc, "sweep of %s/%s failed: %s",
				      sw->data_dir, network, strerror(-rc));
	return 0;
}

/* A directory under data_dir that holds a store: host-local and loom both
 * create "lock" on first use; anything else is not ours to open. */
static bool is_store(int dfd, const char *name)
{
	char lock[NAME_MAX + 8];
	struct stat st;

	if (name[0] == '.' || snprintf(lock, sizeof(lock), "%s/lock", name) >= (int)sizeof(lock))
		return false;
	return fstatat(dfd, lock, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int loom_ipam_sweep(struct loom_ipam_sweep *sw, struct loom_err *err)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	sw->n_released = sw->n_kept = sw->n_temps = 0;
	if (!sw->in_use)
		return loom_err_set(err, LOOM_ERR_INTERNAL, "sweep without an in_use predicate");
	if (sw->network)
		return sweep_network(sw, sw->network, err);
	d = opendir(sw->data_dir);
	if (!d && errno == ENOENT)
		return 0;
	if (!d)
		return loom_err_errno(err, LOOM_ERR_STORE, errno, "cannot list %s: %s",
				      sw->data_dir, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (is_store(dirfd(d), de->d_name))
			rc = sweep_network(sw, de->d_name, err);
	}
	closedir(d);
	return rc;
}

bool loom_ipam_sweep_has_record(const struct loom_ipam_reservation *r, void *record_dir)
{
	const char *dir = record_dir;
	char path[PATH_MAX], prefix[NAME_MAX + 1];
	struct dirent *de;
	bool found = false;
	size_t len;
	DIR *d;
	int n;

	if (r->ifname[0]) {
		n = snprintf(path, sizeof(path), "%s/%s:%s:%s.json", dir, r->network,
			     r->container_id, r->ifname);
		/* A name too long to be a record: no record can exist. */
		return n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
	}
	n = snprintf(prefix, sizeof(prefix), "%s:%s:", r->network, r->container_id);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return false;
	len = (size_t)n;
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, prefix, len) == 0 && strstr(de->d_name + len, ".json");
	closedir(d);
	return found;
}
