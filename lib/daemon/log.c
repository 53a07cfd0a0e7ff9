/* Levelled, timestamped log lines on stderr (daemon.h). */
#include "daemon/daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static char log_prog[64] = "loom";
static char log_instance[256];
static enum loom_log_level log_min = LOOM_LOG_INFO;

static const char *const level_names[] = {
	[LOOM_LOG_DEBUG] = "debug",
	[LOOM_LOG_INFO] = "info",
	[LOOM_LOG_WARN] = "warn",
	[LOOM_LOG_ERROR] = "error",
};

void loom_log_init(const char *prog, const char *instance)
{
	snprintf(log_prog, sizeof(log_prog), "%s", prog ? prog : "loom");
	snprintf(log_instance, sizeof(log_instance), "%s", instance ? instance : "");
}

void loom_log_set_level(enum loom_log_level min)
{
	log_min = min;
}

enum loom_log_level loom_log_get_level(void)
{
	return log_min;
}

const char *loom_log_level_name(enum loom_log_level l)
{
	return (unsigned)l <= LOOM_LOG_ERROR ? level_names[l] : "?";
}

int loom_log_level_parse(const char *s, enum loom_log_level *out)
{
	size_t i;

	if (!s)
		return -EINVAL;
	if (strcasecmp(s, "warning") == 0) {
		*out = LOOM_LOG_WARN;
		return 0;
	}
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum loom_log_level)i;
			return 0;
		}
	return -EINVAL;
}

static size_t format_v(char *buf, size_t len, int64_t ts_ms, const char *prog, const char *instance,
		       enum loom_log_level level, const char *fmt, va_list ap)
{
	time_t secs = (time_t)(ts_ms / 1000);
	char ts[32];
	struct tm tm;
	int n, m;

	if (len == 0)
		return 0;
	gmtime_r(&secs, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (instance && *instance)
		n = snprintf(buf, len, "%s.%03dZ %s[%s] %s: ", ts, (int)(ts_ms % 1000), prog,
			     instance, loom_log_level_name(level));
	else
		n = snprintf(buf, len, "%s.%03dZ %s %s: ", ts, (int)(ts_ms % 1000), prog,
			     loom_log_level_name(level));
	if (n < 0)
		n = 0;
	if ((size_t)n >= len)
		return len - 1;
	m = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n >= len)
		n = (int)len - 1;
	/* one event, one line: a message holding newlines is folded */
	for (char *p = buf; p < buf + n; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return (size_t)n;
}

size_t loom_log_format(char *buf, size_t len, int64_t ts_ms, const char *prog, const char *instance,
		       enum loom_log_level level, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = format_v(buf, len, ts_ms, prog, instance, level, fmt, ap);
	va_end(ap);
	return n;
}

void loom_logv(enum loom_log_level level, const char *fmt, va_list ap)
{
	char line[LOOM_LOG_LINE_MAX + 1];
	struct timespec now;
	size_t n;
	int saved = errno;

	if (level < log_min)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	n = format_v(line, sizeof(line) - 1, (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000,
		     log_prog, log_instance, level, fmt, ap);
	line[n++] = '\n';
	/* One write per line: lines of concurrent daemons never interleave.
	 * A log that cannot be written has nowhere to complain to. */
	if (write(STDERR_FILENO, line, n) < 0) {
	}
	errno = saved;
}

void loom_log(enum loom_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	loom_logv(level, fmt, ap);
	va_end(ap);
}
