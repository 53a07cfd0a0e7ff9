/* loomd's log: one line per event on stderr, with a UTC timestamp and the
 * node name, so the logs of several simulated nodes can be merged and
 * sorted. */
#include "agent.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static char log_node[LOOMD_NAME_MAX];

void loomd_log_init(const char *node)
{
	snprintf(log_node, sizeof(log_node), "%s", node);
}

void loomd_log(const char *fmt, ...)
{
	char line[2048], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ loomd[%s]: ", ts, now.tv_nsec / 1000000L,
		     log_node);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line: lines of concurrent loomds never interleave. */
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}
