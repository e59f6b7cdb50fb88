/*
 * dcm/log.h - logging: levels, a tag per instance, and rate limiting so that one dead
 * device cannot flood the log (collectd's habit). Thread-safe. Writes to stderr.
 */
#ifndef DCM_LOG_H
#define DCM_LOG_H

#include <stdarg.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dcm_log_level {
    DCM_LOG_ERROR = 0,
    DCM_LOG_WARN,
    DCM_LOG_INFO,
    DCM_LOG_DEBUG,
} dcm_log_level;

/* "error", "warn", "info", "debug" -> level; -1 if unknown. */
int dcm_log_level_from_name(const char *name);
const char *dcm_log_level_name(dcm_log_level level);

void dcm_log_set_level(dcm_log_level level);
dcm_log_level dcm_log_get_level(void);

/* Logs "LEVEL tag: message". */
void dcm_log(dcm_log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void dcm_logv(dcm_log_level level, const char *tag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Rate-limited: the same (tag, fmt) pair logs at most once per interval; the next line
 * that gets through says how many were suppressed. */
void dcm_log_limited(dcm_log_level level, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void dcm_log_limitedv(dcm_log_level level, const char *tag, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Interval for rate limiting (default 60 s). */
void dcm_log_set_rate_interval_ms(int64_t ms);

#ifdef __cplusplus
}
#endif
#endif /* DCM_LOG_H */
