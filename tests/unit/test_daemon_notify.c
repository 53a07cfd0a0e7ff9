/* lib/daemon/notify.c against a stand-in service manager: a datagram
 * socket named by $NOTIFY_SOCKET, as systemd gives a Type=notify service. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/notify.h"

static int manager;
static char sock_path[108];

static int setup(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char pid[32];

	(void)state;
	snprintf(sock_path, sizeof(sock_path), "/tmp/loom-notify-%d.sock", (int)getpid());
	unlink(sock_path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	manager = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (manager < 0 || bind(manager, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("NOTIFY_SOCKET", sock_path, 1);
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close(manager);
	unlink(sock_path);
	return 0;
}

/* The next datagram the daemon sent, "" when none is waiting. */
static const char *next_msg(void)
{
	static char buf[1024];
	ssize_t n = recv(manager, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_ready_once(void **state)
{
	(void)state;
	assert_int_equal(loom_notify_ready("in sync"), 1);
	assert_string_equal(next_msg(), "READY=1\nSTATUS=in sync");
	/* a daemon that falls out of sync and back must not say it twice */
	assert_int_equal(loom_notify_ready("in sync"), 0);
	assert_string_equal(next_msg(), "");
	assert_true(loom_notify_status("resyncing") > 0);
	assert_string_equal(next_msg(), "STATUS=resyncing");
}

static void test_watchdog(void **state)
{
	(void)state;
	/* half of WATCHDOG_USEC, in ms */
	assert_int_equal(loom_notify_watchdog_interval_ms(), 1000);
	assert_int_equal(loom_notify_watchdog_tick(5000), 6000);
	assert_string_equal(next_msg(), "WATCHDOG=1");
	/* not due yet: no ping, same deadline */
	assert_int_equal(loom_notify_watchdog_tick(5500), 6000);
	assert_string_equal(next_msg(), "");
	assert_int_equal(loom_notify_watchdog_tick(6000), 7000);
	assert_string_equal(next_msg(), "WATCHDOG=1");
	assert_true(loom_notify_stopping() > 0);
	assert_string_equal(next_msg(), "STOPPING=1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_once),
		cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
