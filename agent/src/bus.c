/*
 * bus.c - the sample bus: a bounded ring between collector workers and the pipeline.
 * Bounded because a gateway has little memory: when the pipeline falls behind, producers
 * wait a little, then drop and count (the count is published; nothing is lost silently).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "runtime.h"

int dcm_bus_init(dcm_bus *b, size_t cap)
{
    b->ring = calloc(cap, sizeof *b->ring);
    if (!b->ring)
        return -1;
    b->cap = cap;
    b->head = b->count = 0;
    b->pushed = b->dropped = 0;
    b->closed = false;
    pthread_mutex_init(&b->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&b->not_empty, &attr);
    pthread_cond_init(&b->not_full, &attr);
    pthread_condattr_destroy(&attr);
    return 0;
}

void dcm_bus_destroy(dcm_bus *b)
{
    if (!b->ring)
        return;
    pthread_cond_destroy(&b->not_empty);
    pthread_cond_destroy(&b->not_full);
    pthread_mutex_destroy(&b->lock);
    free(b->ring);
    b->ring = NULL;
}

static void deadline_after_ms(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

size_t dcm_bus_push(dcm_bus *b, const dcm_sample *s, size_t n, int block_ms)
{
    size_t done = 0;
    struct timespec deadline;
    deadline_after_ms(&deadline, block_ms);
    pthread_mutex_lock(&b->lock);
    while (done < n && !b->closed) {
        if (b->count == b->cap) {
            if (pthread_cond_timedwait(&b->not_full, &b->lock, &deadline) == ETIMEDOUT)
                break;
            continue;
        }
        size_t tail = (b->head + b->count) % b->cap;
        b->ring[tail] = s[done++];
        b->count++;
    }
    b->pushed += done;
    b->dropped += n - done;
    pthread_cond_signal(&b->not_empty);
    pthread_mutex_unlock(&b->lock);
    return done;
}

size_t dcm_bus_pop(dcm_bus *b, dcm_sample *out, size_t max, int wait_ms)
{
    struct timespec deadline;
    deadline_after_ms(&deadline, wait_ms);
    pthread_mutex_lock(&b->lock);
    while (b->count == 0 && !b->closed) {
        if (pthread_cond_timedwait(&b->not_empty, &b->lock, &deadline) == ETIMEDOUT)
            break;
    }
    size_t n = 0;
    while (n < max && b->count > 0) {
        out[n++] = b->ring[b->head];
        b->head = (b->head + 1) % b->cap;
        b->count--;
    }
    if (n)
        pthread_cond_broadcast(&b->not_full);
    pthread_mutex_unlock(&b->lock);
    return n;
}

void dcm_bus_close(dcm_bus *b)
{
    pthread_mutex_lock(&b->lock);
    b->closed = true;
    pthread_cond_broadcast(&b->not_empty);
    pthread_cond_broadcast(&b->not_full);
    pthread_mutex_unlock(&b->lock);
}
