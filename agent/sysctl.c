/* The node's sysctls loomd owns: forwarding for every mode, and for the
 * bridged modes (vxlan, none) bridged IPv4/IPv6 through netfilter so that
 * loom-policyd's rules see pod-to-pod traffic on one bridge.  The
 * bridge-nf keys exist only while br_netfilter is loaded; loading a kernel
 * module is the host's decision, not ours, so their absence is said once. */
#include "daemon.h"

#include <string.h>

#include "kernel/nl.h"

static void set(const char *key, const char *value, bool *said)
{
	int r = loom_sysctl_write(key, value);

	if (r == 0 || (said && *said))
		return;
	if (said)
		*said = true;
	loomd_log("cannot set %s=%s: %s%s, ignoring", key, value, strerror(-r),
		  said ? " (is br_netfilter loaded? NetworkPolicy will not see bridged traffic)" : "");
}

void loomd_sysctls(enum loomd_backend b)
{
	static bool said_brnf;

	set("net/ipv4/ip_forward", "1", NULL);
	if (b == LOOMD_BACKEND_BGP)
		return;
	set("net/bridge/bridge-nf-call-iptables", "1", &said_brnf);
	if (!said_brnf)
		set("net/bridge/bridge-nf-call-ip6tables", "1", &said_brnf);
}
