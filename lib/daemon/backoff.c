/* Exponential backoff with jitter (daemon.h). */
#include "daemon/daemon.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

void loom_backoff_init(struct loom_backoff *b, int64_t min_ms, int64_t max_ms, uint64_t seed)
{
	b->min_ms = min_ms > 0 ? min_ms : 1;
	b->max_ms = max_ms >= b->min_ms ? max_ms : b->min_ms;
	b->base_ms = 0;
	b->failures = 0;
	if (seed == 0 && getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)loom_now_ms() ^ ((uint64_t)getpid() << 32);
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

int64_t loom_backoff_next(struct loom_backoff *b)
{
	int64_t half, spread;

	if (b->base_ms == 0)
		b->base_ms = b->min_ms;
	else
		b->base_ms = b->base_ms > b->max_ms / 2 ? b->max_ms : b->base_ms * 2;
	b->failures++;
	/* uniform in [base/2, base] */
	half = b->base_ms / 2;
	spread = b->base_ms - half;
	return half + (int64_t)(xorshift(&b->rng) % (uint64_t)(spread + 1));
}

void loom_backoff_reset(struct loom_backoff *b)
{
	b->base_ms = 0;
	b->failures = 0;
}

int64_t loom_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
