/* The Network object as loomd reads it: the model's (model/network.h),
 * verified again since the store is a trust boundary, plus loomd's own
 * need of an IPv4 range to lease blocks from. */
#include "agent.h"

int loomd_network_parse(const char *text, size_t len, struct loom_network *out,
			struct loom_err *err)
{
	if (loom_network_parse(text, len, out, err) < 0)
		return -1;
	if (!out->has_cidr)
		return loom_err_set(err, LOOM_ERR_INVALID_CONFIG,
				    "spec.cidr: required: loomd leases IPv4 blocks (IPv6-only "
				    "Networks are not supported yet)");
	return 0;
}
