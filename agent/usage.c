/* Block usage (usage.h). */
#include "usage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"

#define RECORD_MAX (64 * 1024) /* a larger record is not one of ours */

uint64_t loomd_block_capacity(const struct loom_prefix *block)
{
	int host = loom_ip_bits(&block->ip) - block->len;
	uint64_t size, reserved = block->ip.family == AF_INET ? 3 : 2;

	if (host >= 64)
		return UINT64_MAX;
	size = (uint64_t)1 << host;
	/* /31, /32 (and IPv6 /127, /128): ipam/config.c keeps every address */
	return host <= 1 ? size : size > reserved ? size - reserved : 0;
}

static int count_record(int dirfd, const char *name, const struct loom_prefix *block,
			uint64_t *used)
{
	json_t *o, *ip;
	json_error_t jerr;
	char buf[RECORD_MAX + 1];
	ssize_t n;
	size_t i;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0; /* gone since the readdir */
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || n > RECORD_MAX)
		return 0;
	o = json_loadb(buf, (size_t)n, 0, &jerr);
	json_array_foreach(json_object_get(o, "ips"), i, ip) {
		struct loom_prefix p;

		if (json_is_string(ip) && loom_prefix_parse(json_string_value(ip), &p) == 0 &&
		    loom_prefix_contains(block, &p.ip))
			(*used)++;
	}
	json_decref(o);
	return 0;
}

int loomd_block_used_records(const char *state_dir, const char *network,
			     const struct loom_prefix *block, uint64_t *used)
{
	DIR *d = opendir(state_dir);
	struct dirent *e;

	*used = 0;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		struct loomd_record_id id;

		if (loomd_record_name_parse(e->d_name, &id) < 0 || strcmp(id.network, network))
			continue;
		count_record(dirfd(d), e->d_name, block, used);
	}
	closedir(d);
	return 0;
}

int loomd_block_used_ipam(const char *data_dir, const char *network,
			  const struct loom_prefix *block, uint64_t *used)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	*used = 0;
	if (snprintf(path, sizeof(path), "%s/%s", data_dir, network) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	/* one file per reservation, named by its address; "lock",
	 * "last_reserved_ip.N" and dot files do not parse as addresses */
	while ((e = readdir(d))) {
		struct loom_ip ip;

		if (loom_ip_parse(e->d_name, &ip) == 0 && loom_prefix_contains(block, &ip))
			(*used)++;
	}
	closedir(d);
	return 0;
}
