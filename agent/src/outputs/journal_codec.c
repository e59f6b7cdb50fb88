/*
 * journal_codec.c - reading the journal's bytes back: record payloads (see the layout in
 * journal_int.h) and the frame scanner that recovery and the readers share. Everything
 * here treats the file as untrusted: lengths, ids and varints are bounded before use.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outputs/crc32c.h"
#include "outputs/journal_int.h"

/* ---------------------------------------------------------------- codec */

typedef struct rd {
    const uint8_t *p, *end;
} rd;

static bool get_varint(rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return false;
        uint8_t b = *r->p++;
        if (shift == 63 && b > 1)
            return false;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void dcm_jdec_reset(dcm_jdec *d, uint64_t base)
{
    for (size_t i = 0; i < d->dict_cap; i++) {
        free(d->dict[i]);
        d->dict[i] = NULL;
    }
    d->base = base;
    d->prev_ts = 0;
    d->synced = false;
}

void dcm_jdec_free(dcm_jdec *d)
{
    dcm_jdec_reset(d, 0);
    free(d->dict);
    d->dict = NULL;
    d->dict_cap = 0;
}

bool dcm_jrec_peek_seq(const uint8_t *p, size_t len, uint64_t base, uint64_t *seq)
{
    if (len < DCM_J_MIN_PAYLOAD)
        return false;
    rd r = {p + 2, p + len};
    uint64_t d;
    if (!get_varint(&r, &d) || d > UINT64_MAX - base)
        return false;
    *seq = base + d;
    return true;
}

/* Reads a ref: *s is the string, or NULL when its id is not defined (lost). */
static dcm_jdecode get_ref(dcm_jdec *d, rd *r, const char **s)
{
    uint64_t id;
    if (!get_varint(r, &id))
        return DCM_JD_BAD;
    if (id == 0) {
        uint64_t len;
        if (!get_varint(r, &id) || !get_varint(r, &len) || id == 0 || id > DCM_J_MAX_DICT_ID ||
            len > (uint64_t)(r->end - r->p) || memchr(r->p, '\0', (size_t)len))
            return DCM_JD_BAD;
        if (id >= d->dict_cap) {
            size_t cap = d->dict_cap ? d->dict_cap : 64;
            while (cap <= id)
                cap *= 2;
            char **grown = realloc(d->dict, cap * sizeof *grown);
            if (!grown)
                return DCM_JD_ENOMEM;
            memset(grown + d->dict_cap, 0, (cap - d->dict_cap) * sizeof *grown);
            d->dict = grown;
            d->dict_cap = cap;
        }
        char *copy = malloc((size_t)len + 1);
        if (!copy)
            return DCM_JD_ENOMEM;
        memcpy(copy, r->p, (size_t)len);
        copy[len] = '\0';
        r->p += len;
        free(d->dict[id]);
        d->dict[id] = copy;
    } else if (id > DCM_J_MAX_DICT_ID) {
        return DCM_JD_BAD;
    }
    *s = id < d->dict_cap ? d->dict[id] : NULL;
    return DCM_JD_OK;
}

static dcm_jdecode get_value(rd *r, unsigned enc, unsigned scale, double *v)
{
    static const double pow10[] = {1.0, 10.0, 100.0, 1000.0};
    if (scale && enc != DCM_J_VAL_INT)
        return DCM_JD_BAD;
    switch (enc) {
    case DCM_J_VAL_ZERO:
        *v = 0.0;
        return DCM_JD_OK;
    case DCM_J_VAL_INT: {
        uint64_t z;
        if (!get_varint(r, &z))
            return DCM_JD_BAD;
        *v = (double)unzigzag(z) / pow10[scale];
        return DCM_JD_OK;
    }
    case DCM_J_VAL_F32: {
        if (r->end - r->p < 4)
            return DCM_JD_BAD;
        uint32_t u = dcm_j_get_u32(r->p);
        float f;
        memcpy(&f, &u, sizeof f);
        r->p += 4;
        *v = (double)f;
        break;
    }
    default: {
        if (r->end - r->p < 8)
            return DCM_JD_BAD;
        uint64_t u = (uint64_t)dcm_j_get_u32(r->p) | (uint64_t)dcm_j_get_u32(r->p + 4) << 32;
        memcpy(v, &u, sizeof *v);
        r->p += 8;
        break;
    }
    }
    /* Only the writer's finite values are valid: anything else is damage. */
    return isfinite(*v) ? DCM_JD_OK : DCM_JD_BAD;
}

dcm_jdecode dcm_jrec_decode(dcm_jdec *d, const uint8_t *p, size_t len, dcm_jrec *out)
{
    if (len < DCM_J_MIN_PAYLOAD || (p[0] & 0xF0u) != DCM_J_TAG_MAGIC)
        return DCM_JD_BAD;
    unsigned type = p[0] & 0x0Fu, flags = p[1];
    if (type < DCM_JREC_SAMPLE || type > DCM_JREC_ALERT || (flags & 0x80u))
        return DCM_JD_BAD;
    rd r = {p + 2, p + len};
    uint64_t dseq, zts;
    if (!get_varint(&r, &dseq) || dseq > UINT64_MAX - d->base || !get_varint(&r, &zts))
        return DCM_JD_BAD;
    memset(out, 0, sizeof *out);
    out->seq = d->base + dseq;
    out->type = (dcm_jrec_type)type;
    bool ts_known = (flags & DCM_J_FLAG_ABS) || d->synced;
    int64_t ts = unzigzag(zts);
    if (!(flags & DCM_J_FLAG_ABS))
        ts = (int64_t)((uint64_t)d->prev_ts + (uint64_t)ts);
    out->ts_ns = ts;
    bool resolved = ts_known;
    dcm_jdecode e;
    if (type == DCM_JREC_SAMPLE) {
        out->quality = (uint8_t)(flags & 3u);
        if ((e = get_ref(d, &r, &out->point)) != DCM_JD_OK ||
            (e = get_ref(d, &r, &out->unit)) != DCM_JD_OK ||
            (e = get_value(&r, (flags >> 2) & 3u, (flags >> 5) & 3u, &out->value)) !=
                DCM_JD_OK)
            return e;
        resolved = resolved && out->point && out->unit;
    } else {
        uint64_t blen;
        if ((flags & ~DCM_J_FLAG_ABS) != 0)
            return DCM_JD_BAD;
        if ((e = get_ref(d, &r, &out->key)) != DCM_JD_OK)
            return e;
        if (!get_varint(&r, &blen) || blen != (uint64_t)(r.end - r.p))
            return DCM_JD_BAD;
        out->body = (const char *)r.p;
        out->body_len = (size_t)blen;
        r.p += blen;
        resolved = resolved && out->key;
    }
    if (r.p != r.end)
        return DCM_JD_BAD;
    if (ts_known) {
        d->prev_ts = ts;
        d->synced = true;
    }
    return resolved ? DCM_JD_OK : DCM_JD_SKIP;
}

/* -------------------------------------------------------------- scanner */

#define SCAN_CHUNK (256u * 1024u)

void dcm_jscan_init(dcm_jscan *s, int fd, uint64_t limit)
{
    s->fd = fd;
    s->limit = limit;
    s->off = 0;
    s->buf_len = 0;
    s->buf_off = 0;
}

void dcm_jscan_free(dcm_jscan *s)
{
    free(s->buf);
    s->buf = NULL;
    s->buf_cap = s->buf_len = 0;
}

/* Makes [pos, pos + need) available in the buffer (need <= limit - pos). */
static dcm_jscan_res fill(dcm_jscan *s, uint64_t pos, size_t need, const uint8_t **out)
{
    if (pos >= s->buf_off && pos + need <= s->buf_off + s->buf_len) {
        *out = s->buf + (pos - s->buf_off);
        return DCM_JS_REC;
    }
    size_t want = need > SCAN_CHUNK ? need : SCAN_CHUNK;
    if ((uint64_t)want > s->limit - pos)
        want = (size_t)(s->limit - pos);
    if (want > s->buf_cap) {
        uint8_t *grown = realloc(s->buf, want);
        if (!grown)
            return DCM_JS_ENOMEM;
        s->buf = grown;
        s->buf_cap = want;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(s->fd, s->buf + got, want - got, (off_t)(pos + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            s->buf_len = 0;
            return DCM_JS_EIO; /* the file is shorter than the segment table says */
        }
        got += (size_t)n;
    }
    s->buf_off = pos;
    s->buf_len = got;
    *out = s->buf;
    return got >= need ? DCM_JS_REC : DCM_JS_EIO;
}

/* The frame at pos, checked: REC, TORN, CORRUPT or an error. */
static dcm_jscan_res frame_at(dcm_jscan *s, uint64_t pos, const uint8_t **payload,
                              uint32_t *len)
{
    if (pos >= s->limit)
        return DCM_JS_END;
    if (s->limit - pos < DCM_J_HDR + 1)
        return DCM_JS_TORN;
    const uint8_t *h;
    dcm_jscan_res r = fill(s, pos, DCM_J_HDR + 1, &h);
    if (r != DCM_JS_REC)
        return r;
    uint32_t n = dcm_j_get_u32(h), crc = dcm_j_get_u32(h + 4);
    if (n < DCM_J_MIN_PAYLOAD || n > DCM_J_MAX_PAYLOAD || (h[8] & 0xF0u) != DCM_J_TAG_MAGIC)
        return DCM_JS_CORRUPT;
    if (s->limit - pos < DCM_J_HDR + (uint64_t)n)
        return DCM_JS_TORN;
    if ((r = fill(s, pos, DCM_J_HDR + n, &h)) != DCM_JS_REC)
        return r;
    if (dcm_crc32c(0, h + DCM_J_HDR, n) != crc)
        return DCM_JS_CORRUPT;
    *payload = h + DCM_J_HDR;
    *len = n;
    return DCM_JS_REC;
}

dcm_jscan_res dcm_jscan_next(dcm_jscan *s, const uint8_t **payload, uint32_t *len)
{
    return frame_at(s, s->off, payload, len);
}

bool dcm_jscan_resync(dcm_jscan *s, dcm_jscan_res *err)
{
    const uint8_t *p;
    uint32_t n;
    *err = DCM_JS_REC;
    for (uint64_t pos = s->off + 1; pos + DCM_J_HDR + DCM_J_MIN_PAYLOAD <= s->limit; pos++) {
        /* Most positions fail on the length or the tag without a CRC computed. */
        const uint8_t *h;
        dcm_jscan_res r = fill(s, pos, DCM_J_HDR + 1, &h);
        if (r != DCM_JS_REC) {
            *err = r;
            return false;
        }
        uint32_t cand = dcm_j_get_u32(h);
        if (cand < DCM_J_MIN_PAYLOAD || cand > DCM_J_MAX_PAYLOAD ||
            (h[8] & 0xF0u) != DCM_J_TAG_MAGIC || s->limit - pos < DCM_J_HDR + (uint64_t)cand)
            continue;
        r = frame_at(s, pos, &p, &n);
        if (r == DCM_JS_REC) {
            s->off = pos;
            return true;
        }
        if (r == DCM_JS_EIO || r == DCM_JS_ENOMEM) {
            *err = r;
            return false;
        }
    }
    return false;
}
