/* sd_notify for the daemons (notify.h). */
#include "daemon/notify.h"

#include <stdbool.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

static bool ready_sent;
static int64_t next_ping = -1;   /* -1: not armed yet */
static int64_t interval_ms = -1; /* -1: not read yet */

int loom_notify_ready(const char *status)
{
	char msg[512];
	int r;

	if (ready_sent)
		return 0;
	snprintf(msg, sizeof(msg), "READY=1%s%s", status ? "\nSTATUS=" : "", status ? status : "");
	r = sd_notify(0, msg);
	if (r >= 0)
		ready_sent = true;
	return r;
}

int loom_notify_status(const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "STATUS=%s", status ? status : "");
	return sd_notify(0, msg);
}

int loom_notify_stopping(void)
{
	return sd_notify(0, "STOPPING=1");
}

int64_t loom_notify_watchdog_interval_ms(void)
{
	uint64_t usec = 0;

	if (interval_ms < 0) {
		/* > 0 only when $WATCHDOG_USEC is set for this very pid;
		 * systemd's advice is to ping at half the timeout. */
		if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
			interval_ms = (int64_t)(usec / 2000) > 0 ? (int64_t)(usec / 2000) : 1;
		else
			interval_ms = 0;
	}
	return interval_ms;
}

int64_t loom_notify_watchdog_tick(int64_t now_ms)
{
	int64_t every = loom_notify_watchdog_interval_ms();

	if (every == 0)
		return INT64_MAX;
	if (next_ping < 0 || now_ms >= next_ping) {
		(void)sd_notify(0, "WATCHDOG=1");
		next_ping = now_ms + every;
	}
	return next_ping;
}
