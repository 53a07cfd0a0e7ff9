/* loomd's log: the daemon runtime's (lib/daemon), one line per event on
 * stderr with a UTC timestamp, "loomd[<node>]" and the level, so the logs
 * of several simulated nodes can be merged and sorted.  loomd_log is the
 * info level, for the steps and controllers that report what they did;
 * failures are logged by main.c at warn or error. */
#include "agent.h"
#include "daemon/daemon.h"

#include <stdarg.h>

void loomd_log_init(const char *node)
{
	loom_log_init("loomd", node);
}

void loomd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	loom_logv(LOOM_LOG_INFO, fmt, ap);
	va_end(ap);
}
