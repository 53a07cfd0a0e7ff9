/* Telling the service manager how a daemon is doing (systemd's Type=notify):
 * READY=1 once the daemon is in sync, WATCHDOG=1 pings while its loop
 * runs, STOPPING=1 on the way out.  Owns nothing but the readiness flag
 * and the next ping's deadline; uses libsystemd's sd_notify only, and is
 * linked into the daemons alone (never into a CNI plugin).  Outside
 * systemd ($NOTIFY_SOCKET unset) every call is a no-op returning 0.
 * Nothing here prints: callers log what they want. */
#ifndef LOOM_DAEMON_NOTIFY_H
#define LOOM_DAEMON_NOTIFY_H

#include <stdint.h>

/* READY=1 with STATUS=<status> (may be NULL), sent once per process:
 * later calls do nothing.  1 sent, 0 nothing to do, -errno. */
int loom_notify_ready(const char *status);

/* STATUS=<status>: the line `systemctl status` shows.  0/1 or -errno. */
int loom_notify_status(const char *status);

/* STOPPING=1.  0/1 or -errno. */
int loom_notify_stopping(void);

/* The watchdog ping interval systemd asked for ($WATCHDOG_USEC, checked
 * against $WATCHDOG_PID) halved, in ms; 0 when there is no watchdog. */
int64_t loom_notify_watchdog_interval_ms(void);

/* Drive the watchdog from a loop: sends WATCHDOG=1 when now_ms (any
 * monotonic clock in ms, the same on every call) has reached the next
 * ping's time, and returns that time (the loop sleeps no longer);
 * INT64_MAX when there is no watchdog. */
int64_t loom_notify_watchdog_tick(int64_t now_ms);

#endif
