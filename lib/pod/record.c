/* The endpoint record: one small JSON file per attachment, written when an
 * ADD succeeds and removed by DEL.  DEL needs it to find the host veth and
 * the firewall elements when the pod's netns is already gone; loomd watches
 * the directory to publish endpoints.
 *
 * Written as a temp file renamed over the final name, so a reader (loomd,
 * a DEL) sees the old record, the new one or none, never half of one (and
 * loomd's IN_MOVED_TO sees a whole one).  A writer killed between the two
 * leaves ".<network>:<containerID>:<ifname>.<pid>.tmp": the attachment's DEL
 * removes it, GC removes those whose writer is dead.  No
 * fsync: a record describes a pod of this boot, and after a crash every pod
 * it could describe is gone with its netns. */
#include "pod/record.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cleanup.h"
#include "base/file_replace.h"
#include "base/json_util.h"

#define RECORD_MAX (64 * 1024)

int loom_endpoint_record_path(const char *dir, const char *network, const char *container_id,
			      const char *ifname, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s:%s:%s.json", dir, network, container_id, ifname);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static json_t *to_json(const struct loom_endpoint_record *r)
{
	json_t *o = json_object(), *ips = json_array();
	char buf[LOOM_PREFIX_STRLEN];
	size_t i;
	int e = 0;

	if (!o || !ips) {
		json_decref(o);
		json_decref(ips);
		return NULL;
	}
	for (i = 0; i < r->n_ips; i++)
		e |= json_array_append_new(ips, json_string(loom_prefix_fmt(&r->ips[i], buf)));
	e |= json_object_set_new(o, "plugin", json_string("loom-bridge"));
	e |= json_object_set_new(o, "network", json_string(r->network));
	e |= json_object_set_new(o, "containerID", json_string(r->container_id));
	e |= json_object_set_new(o, "ifname", json_string(r->ifname));
	e |= json_object_set_new(o, "hostVeth", json_string(r->host_veth));
	e |= json_object_set_new(o, "bridge", json_string(r->bridge));
	e |= json_object_set_new(o, "mac", json_string(r->mac));
	e |= json_object_set_new(o, "ips", ips);
	e |= json_object_set_new(o, "netns", json_string(r->netns));
	e |= json_object_set_new(o, "podNamespace", json_string(r->pod_namespace));
	e |= json_object_set_new(o, "podName", json_string(r->pod_name));
	e |= json_object_set_new(o, "ipMasq", json_boolean(r->masq));
	e |= json_object_set_new(o, "macspoofchk", json_boolean(r->spoofchk));
	if (r->n_masq_exempt) {
		json_t *ex = json_array();

		for (i = 0; ex && i < r->n_masq_exempt; i++)
			e |= json_array_append_new(ex,
						   json_string(loom_prefix_fmt(&r->masq_exempt[i],
									       buf)));
		e |= ex ? json_object_set_new(o, "ipMasqExempt", ex) : -1;
	}
	if (r->antispoof_ifindex > 0) {
		e |= json_object_set_new(o, "antiSpoofIfindex", json_integer(r->antispoof_ifindex));
		e |= json_object_set_new(o, "bpfPinDir", json_string(r->antispoof_pin_dir));
	}
	if (e) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int loom_endpoint_record_write(const char *dir, const struct loom_endpoint_record *r,
			       struct loom_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	_cleanup_close_ int fd = -1;
	char *text;
	size_t len;
	json_t *j;
	ssize_t n;
	int e;

	if (loom_endpoint_record_path(dir, r->network, r->container_id, r->ifname, path,
				      sizeof(path)) < 0 ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s:%s:%s.%d.tmp", dir, r->network, r->container_id,
		     r->ifname, (int)getpid()) >= (int)sizeof(tmp))
		return loom_err_set(err, LOOM_ERR_IO,
				    "stateDir: %s makes the record's path too long", dir);
	j = to_json(r);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return loom_err_set(err, LOOM_ERR_INTERNAL,
				    "out of memory writing the endpoint record");
	len = strlen(text);

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		/* First pod on this host: the directory is made once. */
		e = loom_mkdir_p(dir, 0755);
		if (e < 0) {
			free(text);
			return loom_err_errno(err, LOOM_ERR_IO, -e, "cannot create stateDir %s",
					      dir);
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0) {
		e = errno;
		free(text);
		return loom_err_errno(err, LOOM_ERR_IO, e, "cannot write the endpoint record %s",
				      tmp);
	}
	n = write(fd, text, len);
	e = errno;
	free(text);
	if (n != (ssize_t)len || rename(tmp, path) < 0) {
		if (n == (ssize_t)len)
			e = errno;
		else if (n >= 0)
			e = EIO;
		unlink(tmp);
		return loom_err_errno(err, LOOM_ERR_IO, e, "cannot write the endpoint record %s",
				      path);
	}
	return 0;
}

static int str_field(const json_t *o, const char *key, char *buf, size_t len, bool required)
{
	const json_t *j = json_object_get(o, key);

	if (!j)
		return required ? -EINVAL : 0;
	if (!json_is_string(j) || json_string_length(j) >= len)
		return -EINVAL;
	snprintf(buf, len, "%s", json_string_value(j));
	return 0;
}

static int from_json(const json_t *o, struct loom_endpoint_record *r)
{
	const json_t *ips = json_object_get(o, "ips"), *ip;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(o) ||
	    str_field(o, "network", r->network, sizeof(r->network), true) < 0 ||
	    str_field(o, "containerID", r->container_id, sizeof(r->container_id), true) < 0 ||
	    str_field(o, "ifname", r->ifname, sizeof(r->ifname), true) < 0 ||
	    str_field(o, "hostVeth", r->host_veth, sizeof(r->host_veth), true) < 0 ||
	    str_field(o, "bridge", r->bridge, sizeof(r->bridge), false) < 0 ||
	    str_field(o, "mac", r->mac, sizeof(r->mac), false) < 0 ||
	    str_field(o, "netns", r->netns, sizeof(r->netns), false) < 0 ||
	    str_field(o, "podNamespace", r->pod_namespace, sizeof(r->pod_namespace), false) < 0 ||
	    str_field(o, "podName", r->pod_name, sizeof(r->pod_name), false) < 0)
		return -EINVAL;
	if (ips && (!json_is_array(ips) || json_array_size(ips) > LOOM_RESULT_MAX_IPS))
		return -EINVAL;
	json_array_foreach(ips, i, ip) {
		if (!json_is_string(ip) || loom_prefix_parse(json_string_value(ip), &r->ips[i]) < 0)
			return -EINVAL;
		r->n_ips++;
	}
	r->masq = json_is_true(json_object_get(o, "ipMasq"));
	r->spoofchk = json_is_true(json_object_get(o, "macspoofchk"));
	ips = json_object_get(o, "ipMasqExempt");
	if (ips && (!json_is_array(ips) || json_array_size(ips) > LOOM_RECORD_MASQ_EXEMPT_MAX))
		return -EINVAL;
	json_array_foreach(ips, i, ip) {
		if (!json_is_string(ip) ||
		    loom_prefix_parse(json_string_value(ip), &r->masq_exempt[i]) < 0 ||
		    !loom_prefix_is_network(&r->masq_exempt[i]))
			return -EINVAL;
		r->n_masq_exempt++;
	}
	ip = json_object_get(o, "antiSpoofIfindex");
	if (ip) {
		if (!json_is_integer(ip) || json_integer_value(ip) <= 0 ||
		    json_integer_value(ip) > INT_MAX ||
		    str_field(o, "bpfPinDir", r->antispoof_pin_dir, sizeof(r->antispoof_pin_dir),
			      true) < 0)
			return -EINVAL;
		r->antispoof_ifindex = (int)json_integer_value(ip);
	}
	return 0;
}

int loom_endpoint_record_read(const char *dir, const char *network, const char *container_id,
			      const char *ifname, struct loom_endpoint_record *out,
			      struct loom_err *err)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *j;
	int r;

	if (loom_endpoint_record_path(dir, network, container_id, ifname, path, sizeof(path)) < 0)
		return -ENOENT;
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		if (access(path, F_OK) < 0 && errno == ENOENT)
			return -ENOENT;
		loom_err_set(err, LOOM_ERR_IO, "endpoint record %s is unreadable: %s", path,
			     jerr.text);
		return -EINVAL;
	}
	r = from_json(j, out);
	json_decref(j);
	if (r == 0 &&
	    (strcmp(out->network, network) != 0 || strcmp(out->container_id, container_id) != 0 ||
	     strcmp(out->ifname, ifname) != 0))
		r = -EINVAL;
	if (r < 0)
		loom_err_set(err, LOOM_ERR_IO, "endpoint record %s is not a loom-bridge record",
			     path);
	return r;
}

int loom_endpoint_record_remove(const char *dir, const char *network, const char *container_id,
				const char *ifname, struct loom_err *err)
{
	char path[PATH_MAX];

	if (loom_endpoint_record_path(dir, network, container_id, ifname, path, sizeof(path)) < 0)
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return loom_err_errno(err, LOOM_ERR_IO, errno,
				      "cannot remove the endpoint record %s", path);
	return 0;
}

bool loom_endpoint_record_any(const char *dir, const char *container_id, const char *ifname)
{
	char suffix[300];
	struct dirent *de;
	size_t sl;
	bool found = false;
	DIR *d;

	if (snprintf(suffix, sizeof(suffix), ":%s:%s.json", container_id, ifname) >=
	    (int)sizeof(suffix))
		return false;
	sl = strlen(suffix);
	d = opendir(dir);
	if (!d)
		return false;
	/* Network names hold no ':', so the suffix is matched exactly. */
	while (!found && (de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);

		found = de->d_name[0] != '.' && nl > sl &&
			strcmp(de->d_name + nl - sl, suffix) == 0 &&
			memchr(de->d_name, ':', nl - sl) == NULL;
	}
	closedir(d);
	return found;
}

/* ".<stem>.<pid>.tmp" -> pid, or 0 when `name` is not a record temp file
 * (of stem, when stem is not NULL). */
static long temp_pid(const char *name, const char *stem)
{
	size_t nl = strlen(name), sl;
	const char *dot;
	char *end;
	long pid;

	if (name[0] != '.' || nl < 6 || strcmp(name + nl - 4, ".tmp") != 0)
		return 0;
	/* the pid is between the last two dots */
	for (dot = name + nl - 5; dot > name && *dot != '.'; dot--)
		;
	if (dot <= name)
		return 0;
	if (stem) {
		sl = strlen(stem);
		if ((size_t)(dot - name - 1) != sl || strncmp(name + 1, stem, sl) != 0)
			return 0;
	}
	pid = strtol(dot + 1, &end, 10);
	return pid > 0 && end == name + nl - 4 ? pid : 0;
}

/* Unlink dir's record temp files (of stem, or all; with only_dead, those
 * whose writer is gone). */
static int remove_temps(const char *dir, const char *stem, bool only_dead, struct loom_err *err)
{
	struct dirent *de;
	int fd, e = 0;
	DIR *d;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0
				       : loom_err_errno(err, LOOM_ERR_IO, errno,
							"cannot open stateDir %s", dir);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return loom_err_errno(err, LOOM_ERR_IO, errno, "cannot read stateDir %s", dir);
	}
	while ((de = readdir(d)) != NULL) {
		long pid = temp_pid(de->d_name, stem);

		if (!pid)
			continue;
		/* ESRCH only: EPERM is a live process of someone else's */
		if (only_dead && (pid > INT_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && !e)
			e = errno;
	}
	closedir(d);
	if (e)
		return loom_err_errno(err, LOOM_ERR_IO, e, "cannot remove a temp file of %s", dir);
	return 0;
}

int loom_endpoint_record_remove_temps(const char *dir, const char *network,
				      const char *container_id, const char *ifname,
				      struct loom_err *err)
{
	char stem[PATH_MAX];

	if (snprintf(stem, sizeof(stem), "%s:%s:%s", network, container_id, ifname) >=
	    (int)sizeof(stem))
		return 0;
	return remove_temps(dir, stem, false, err);
}

int loom_endpoint_record_sweep_temps(const char *dir, struct loom_err *err)
{
	return remove_temps(dir, NULL, true, err);
}
