/*
 * log.c - levelled, tagged, rate-limited logging to stderr.
 *
 * Rate limiting keys on (tag, format string): one dead PDU polled every second produces one
 * line a minute, not sixty, and the line that gets through says how many were dropped.
 * The table is small and fixed (no allocation, so logging works when memory is short);
 * when it is full the oldest slot is reused.
 */
#include "dcm/log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DCM_LOG_SLOTS 128

typedef struct limit_slot {
    const char *fmt;   /* format strings are literals: compared by address, then text */
    char tag[48];
    int64_t last_ms;
    unsigned suppressed;
} limit_slot;

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static dcm_log_level log_level = DCM_LOG_INFO;
static int64_t rate_interval_ms = 60000;
static limit_slot slots[DCM_LOG_SLOTS];

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int dcm_log_level_from_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    if (strcmp(name, "warning") == 0)
        return DCM_LOG_WARN;
    return -1;
}

const char *dcm_log_level_name(dcm_log_level level)
{
    return (unsigned)level < 4 ? level_names[level] : "?";
}

void dcm_log_set_level(dcm_log_level level) { log_level = level; }
dcm_log_level dcm_log_get_level(void) { return log_level; }
void dcm_log_set_rate_interval_ms(int64_t ms) { rate_interval_ms = ms > 0 ? ms : 0; }

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes one line; the caller holds log_lock so lines from threads never interleave. */
static void emit_line(dcm_log_level level, const char *tag, unsigned suppressed, const char *fmt,
                      va_list ap) __attribute__((format(printf, 4, 0)));
static void emit_line(dcm_log_level level, const char *tag, unsigned suppressed, const char *fmt,
                      va_list ap)
{
    struct timespec now;
    struct tm tm;
    char stamp[32];
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %-5s %s: ", stamp, now.tv_nsec / 1000000L, level_names[level],
            tag ? tag : "dcmetrics");
    vfprintf(stderr, fmt, ap);
    if (suppressed)
        fprintf(stderr, " (%u similar messages suppressed)", suppressed);
    fputc('\n', stderr);
    fflush(stderr);
}

void dcm_logv(dcm_log_level level, const char *tag, const char *fmt, va_list ap)
{
    if (level > log_level || (unsigned)level >= 4)
        return;
    pthread_mutex_lock(&log_lock);
    emit_line(level, tag, 0, fmt, ap);
    pthread_mutex_unlock(&log_lock);
}

void dcm_log(dcm_log_level level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dcm_logv(level, tag, fmt, ap);
    va_end(ap);
}

static limit_slot *find_slot(const char *tag, const char *fmt, int64_t now)
{
    limit_slot *oldest = &slots[0];
    for (size_t i = 0; i < DCM_LOG_SLOTS; i++) {
        limit_slot *s = &slots[i];
        if (!s->fmt) {
            oldest = s;
            break;
        }
        if ((s->fmt == fmt || strcmp(s->fmt, fmt) == 0) &&
            strncmp(s->tag, tag, sizeof s->tag - 1) == 0)
            return s;
        if (s->last_ms < oldest->last_ms)
            oldest = s;
    }
    oldest->fmt = fmt;
    snprintf(oldest->tag, sizeof oldest->tag, "%s", tag);
    oldest->last_ms = now - rate_interval_ms - 1;
    oldest->suppressed = 0;
    return oldest;
}

void dcm_log_limitedv(dcm_log_level level, const char *tag, const char *fmt, va_list ap)
{
    if (level > log_level || (unsigned)level >= 4)
        return;
    if (!tag)
        tag = "dcmetrics";
    int64_t now = mono_ms();
    pthread_mutex_lock(&log_lock);
    limit_slot *s = find_slot(tag, fmt, now);
    if (now - s->last_ms >= rate_interval_ms) {
        emit_line(level, tag, s->suppressed, fmt, ap);
        s->last_ms = now;
        s->suppressed = 0;
    } else {
        s->suppressed++;
    }
    pthread_mutex_unlock(&log_lock);
}

void dcm_log_limited(dcm_log_level level, const char *tag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dcm_log_limitedv(level, tag, fmt, ap);
    va_end(ap);
}
