/* MQTT topics and JSON payloads (the contract is docs/mqtt.md and docs/schemas/). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/metrics.h"
#include "json.h"
#include "mqtt_int.h"
#include "timestamp.h"

typedef struct topic_buf {
    char *buf;
    size_t size, len;
    bool overflow;
} topic_buf;

static void put_raw(topic_buf *t, const char *s, size_t n)
{
    if (t->overflow || t->len + n >= t->size) {
        t->overflow = true;
        return;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

/* One topic level: a '/' would split it, '+' and '#' are wildcards no publisher may use. */
static void put_level(topic_buf *t, const char *s, size_t n)
{
    put_raw(t, "/", 1);
    for (size_t i = 0; i < n && !t->overflow; i++) {
        unsigned char c = (unsigned char)s[i];
        char out = (c == '/' || c == '+' || c == '#' || c < 0x20 || c == 0x7f) ? '_' : (char)c;
        put_raw(t, &out, 1);
    }
}

static size_t finish(topic_buf *t)
{
    return t->overflow ? 0 : t->len;
}

static void put_base(topic_buf *t, const char *prefix, const char *site)
{
    put_raw(t, prefix, strlen(prefix));
    put_level(t, site, strlen(site));
}

size_t dcm_mqtt_topic(char *buf, size_t size, const char *prefix, const char *site,
                      const dcm_jrec *rec)
{
    topic_buf t = {.buf = buf, .size = size};
    if (size == 0)
        return 0;
    buf[0] = '\0';
    put_base(&t, prefix, site);
    switch (rec->type) {
    case DCM_JREC_SAMPLE: {
        const char *dot = rec->point ? strchr(rec->point, '.') : NULL;
        if (!dot || dot == rec->point || !dot[1])
            return 0;
        put_raw(&t, "/point", 6);
        put_level(&t, rec->point, (size_t)(dot - rec->point));
        put_level(&t, dot + 1, strlen(dot + 1));
        break;
    }
    case DCM_JREC_KPI:
        if (!rec->key || !rec->key[0])
            return 0;
        put_raw(&t, "/kpi", 4);
        put_level(&t, rec->key, strlen(rec->key));
        break;
    case DCM_JREC_ALERT:
        put_raw(&t, "/alert", 6);
        break;
    default:
        return 0;
    }
    return finish(&t);
}

size_t dcm_mqtt_status_topic(char *buf, size_t size, const char *prefix, const char *site)
{
    topic_buf t = {.buf = buf, .size = size};
    if (size == 0)
        return 0;
    buf[0] = '\0';
    put_base(&t, prefix, site);
    put_raw(&t, "/status", 7);
    return finish(&t);
}

static char *release(dcm_json *j, size_t *len)
{
    char *out = dcm_json_release(j, len);
    dcm_json_free(j);
    return out;
}

char *dcm_mqtt_point_payload(const dcm_jrec *rec, size_t *len)
{
    char ts[DCM_TS_RFC3339_MAX];
    dcm_ts_format_rfc3339(rec->ts_ns, NULL, ts, sizeof ts);
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "ts");
    dcm_json_string(&j, ts);
    dcm_json_key(&j, "point");
    dcm_json_string(&j, rec->point);
    dcm_json_key(&j, "value");
    /* An invalid sample carries no reading: null, never a number that could pass for one. */
    if (rec->quality == DCM_QUALITY_INVALID || !isfinite(rec->value))
        dcm_json_null(&j);
    else
        dcm_json_number(&j, rec->value);
    dcm_json_key(&j, "unit");
    dcm_json_string(&j, rec->unit ? rec->unit : "");
    dcm_json_key(&j, "quality");
    dcm_json_string(&j, dcm_quality_name(isfinite(rec->value) ? (dcm_quality)rec->quality
                                                              : DCM_QUALITY_INVALID));
    dcm_json_end_object(&j);
    return release(&j, len);
}

char *dcm_mqtt_status_payload(const char *status, int64_t ts_ns, const char *client_id,
                              size_t *len)
{
    char ts[DCM_TS_RFC3339_MAX];
    dcm_ts_format_rfc3339(ts_ns, NULL, ts, sizeof ts);
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "ts");
    dcm_json_string(&j, ts);
    dcm_json_key(&j, "status");
    dcm_json_string(&j, status);
    dcm_json_key(&j, "client_id");
    dcm_json_string(&j, client_id);
    dcm_json_end_object(&j);
    return release(&j, len);
}

/* ------------------------------------------------------- top-level members */

typedef struct scan {
    const char *p, *end;
} scan;

static void skip_ws(scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* At an opening quote: moves past the closing one; the raw contents in *str / *n. */
static bool skip_string(scan *s, const char **str, size_t *n)
{
    if (s->p >= s->end || *s->p != '"')
        return false;
    const char *start = ++s->p;
    while (s->p < s->end) {
        if (*s->p == '\\') {
            s->p += 2;
            continue;
        }
        if (*s->p == '"') {
            if (str)
                *str = start;
            if (n)
                *n = (size_t)(s->p - start);
            s->p++;
            return true;
        }
        s->p++;
    }
    return false;
}

/* Any value: strings, nested objects and arrays (brackets counted, strings skipped), or a
 * bare literal up to the next ',' '}' or ']'. */
static bool skip_value(scan *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    if (*s->p == '"')
        return skip_string(s, NULL, NULL);
    if (*s->p == '{' || *s->p == '[') {
        int depth = 0;
        while (s->p < s->end) {
            char c = *s->p;
            if (c == '"') {
                if (!skip_string(s, NULL, NULL))
                    return false;
                continue;
            }
            if (c == '{' || c == '[')
                depth++;
            else if (c == '}' || c == ']')
                depth--;
            s->p++;
            if (depth == 0)
                return true;
        }
        return false;
    }
    const char *start = s->p;
    while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']' && *s->p != ' ' &&
           *s->p != '\n' && *s->p != '\t' && *s->p != '\r')
        s->p++;
    return s->p > start;
}

int dcm_mqtt_json_has_member(const char *text, size_t len, const char *key)
{
    scan s = {text, text + len};
    size_t klen = strlen(key);
    int found = 0;
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return -1;
    s.p++;
    skip_ws(&s);
    if (s.p < s.end && *s.p == '}') {
        s.p++;
        goto tail;
    }
    for (;;) {
        const char *name;
        size_t n;
        skip_ws(&s);
        if (!skip_string(&s, &name, &n))
            return -1;
        if (n == klen && memcmp(name, key, n) == 0)
            found = 1;
        skip_ws(&s);
        if (s.p >= s.end || *s.p != ':')
            return -1;
        s.p++;
        if (!skip_value(&s))
            return -1;
        skip_ws(&s);
        if (s.p >= s.end)
            return -1;
        if (*s.p == ',') {
            s.p++;
            continue;
        }
        if (*s.p != '}')
            return -1;
        s.p++;
        break;
    }
tail:
    skip_ws(&s);
    return s.p == s.end ? found : -1;
}

char *dcm_mqtt_body_payload(const char *body, size_t body_len, int64_t ts_ns, size_t *len)
{
    int has = dcm_mqtt_json_has_member(body, body_len, "ts");
    if (has < 0)
        return NULL;
    if (has) {
        char *copy = malloc(body_len + 1);
        if (!copy)
            return NULL;
        memcpy(copy, body, body_len);
        copy[body_len] = '\0';
        *len = body_len;
        return copy;
    }
    char ts[DCM_TS_RFC3339_MAX];
    size_t tl = dcm_ts_format_rfc3339(ts_ns, NULL, ts, sizeof ts);
    const char *open = memchr(body, '{', body_len);
    size_t after = body_len - (size_t)(open + 1 - body);
    const char *rest = open + 1;
    /* An empty object ("{}" with blanks) gets no comma after "ts". */
    const char *q = rest;
    while (q < body + body_len && (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r'))
        q++;
    bool empty = q < body + body_len && *q == '}';
    size_t need = 1 + 6 + tl + 1 + (empty ? 0 : 1) + after + 1;
    char *out = malloc(need);
    if (!out)
        return NULL;
    size_t o = 0;
    out[o++] = '{';
    memcpy(out + o, "\"ts\":\"", 6);
    o += 6;
    memcpy(out + o, ts, tl);
    o += tl;
    out[o++] = '"';
    if (!empty)
        out[o++] = ',';
    memcpy(out + o, rest, after);
    o += after;
    out[o] = '\0';
    *len = o;
    return out;
}
