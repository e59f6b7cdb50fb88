/*
 * clock.c - the agent's clock. In the demo it runs faster than real time so that a
 * simulated year passes in minutes; every component asks this clock, never the system,
 * so the whole pipeline sees one consistent time.
 */
#include <time.h>

#include "runtime.h"

int64_t dcm_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * DCM_NS_PER_S + ts.tv_nsec;
}

int64_t dcm_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * DCM_NS_PER_S + ts.tv_nsec;
}

void dcm_clock_init(dcm_clock *c, double speed, int64_t start_ns)
{
    c->speed = speed > 0 ? speed : 1.0;
    c->start_ns = start_ns ? start_ns : dcm_realtime_ns();
    c->mono_start = dcm_monotonic_ns();
}

int64_t dcm_clock_now(const dcm_clock *c)
{
    int64_t elapsed = dcm_monotonic_ns() - c->mono_start;
    if (c->speed == 1.0)
        return c->start_ns + elapsed;
    return c->start_ns + (int64_t)((double)elapsed * c->speed);
}

int64_t dcm_clock_real_ns(const dcm_clock *c, int64_t d)
{
    int64_t real = c->speed == 1.0 ? d : (int64_t)((double)d / c->speed);
    return real < 1000000 ? 1000000 : real;
}

void dcm_sleep_ns(int64_t ns, const volatile bool *stop)
{
    const int64_t slice = 50 * 1000000LL;
    while (ns > 0 && !(stop && *stop)) {
        int64_t step = ns < slice ? ns : slice;
        struct timespec ts = {.tv_sec = step / DCM_NS_PER_S, .tv_nsec = step % DCM_NS_PER_S};
        nanosleep(&ts, NULL);
        ns -= step;
    }
}
