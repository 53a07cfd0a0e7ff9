/* `show protocols all`, codes stripped: a protocol starts on a line at
 * column 0 ("node_192_0_2_12 BGP --- up 12:00:01.123 Established"),
 * its details follow indented ("BGP state: Established",
 * "Neighbor address: 192.0.2.12", "Routes: 1 imported, 1 exported, ..."). */
#include "bird.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *after(const char *line, const char *key)
{
	size_t n = strlen(key);

	while (*line == ' ' || *line == '\t')
		line++;
	if (strncmp(line, key, n) != 0)
		return NULL;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

static void detail(struct loom_bird_proto *p, const char *line)
{
	const char *v;
	char ip[LOOM_IP_STRLEN];
	long a, b;

	if ((v = after(line, "BGP state:")))
		sscanf(v, "%31s", p->bgp_state);
	else if ((v = after(line, "Neighbor address:")) && sscanf(v, "%45s", ip) == 1)
		p->has_neighbor = loom_ip_parse(ip, &p->neighbor) == 0;
	else if ((v = after(line, "Neighbor AS:")))
		p->neighbor_as = (uint32_t)strtoul(v, NULL, 10);
	else if ((v = after(line, "Routes:")) &&
		 sscanf(v, "%ld imported, %ld exported", &a, &b) == 2) {
		p->imported = a;
		p->exported = b;
	}
}

int loom_bird_status_parse(const char *text, struct loom_bird_proto **out, size_t *n)
{
	struct loom_bird_proto *v = NULL, *cur = NULL;
	size_t k = 0, cap = 0;
	const char *s = text;

	*out = NULL;
	*n = 0;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char line[512];

		snprintf(line, sizeof(line), "%.*s",
			 (int)(len < sizeof(line) ? len : sizeof(line) - 1), s);
		s += len + (nl ? 1 : 0);
		if (line[0] == ' ' || line[0] == '\t') {
			if (cur)
				detail(cur, line);
			continue;
		}
		if (strncmp(line, "Name ", 5) == 0 || !line[0]) {
			cur = NULL;
			continue;
		}
		if (k == cap) {
			struct loom_bird_proto *t = realloc(v, (cap ? cap * 2 : 8) * sizeof(*v));

			if (!t) {
				free(v);
				return -ENOMEM;
			}
			v = t;
			cap = cap ? cap * 2 : 8;
		}
		cur = &v[k++];
		memset(cur, 0, sizeof(*cur));
		cur->imported = cur->exported = -1;
		if (sscanf(line, "%63s %15s %*s %15s", cur->name, cur->proto, cur->state) < 1)
			k--, cur = NULL;
	}
	*out = v;
	*n = k;
	return 0;
}
