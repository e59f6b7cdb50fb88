/*
 * journal_int.h - what the journal's source files share: the record codec, the segment
 * scanner used by recovery and by the readers, and the journal's own state.
 *
 * A record's payload (the bytes the frame's CRC covers):
 *   u8      tag     0xD0 | type (1 sample, 2 KPI, 3 alert); the fixed high nibble makes
 *                   re-synchronising after a damaged record cheap and safe
 *   u8      flags   bits 0-1 quality, bits 2-3 value encoding, bits 5-6 its decimal
 *                   scale (samples), bit 4 the time stamp is absolute
 *   varint  seq - first seq of the segment
 *   varint  time stamp: zigzag, absolute, or the difference to the previous record's
 *   sample: ref point, ref unit, value (f64 | f32 | zigzag integer / 10^scale |
 *           nothing for 0)
 *   KPI / alert: ref key, varint body length, body bytes
 * A ref is a varint id of a string in the segment's dictionary, or 0 followed by
 * (varint id, varint length, bytes) defining it. Ids are written explicitly so that a
 * record lost to damage leaves the ids of later definitions intact, and every 64th
 * record carries an absolute time stamp so that a reader can resume after damage.
 */
#ifndef DCM_JOURNAL_INT_H
#define DCM_JOURNAL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs/journal.h"

#define DCM_J_HDR 8u                    /* u32 length | u32 CRC-32C */
#define DCM_J_MAX_PAYLOAD (1u << 20)    /* larger appends are refused (EINVAL) */
#define DCM_J_MIN_PAYLOAD 4u            /* tag, flags, seq, time stamp */
#define DCM_J_TAG_MAGIC 0xD0u
#define DCM_J_ABS_EVERY 64u
#define DCM_J_MAX_DICT_ID (1u << 20)
#define DCM_J_FLAG_ABS 0x10u
#define DCM_J_VAL_F64 0u
#define DCM_J_VAL_F32 1u
#define DCM_J_VAL_INT 2u
#define DCM_J_VAL_ZERO 3u
#define DCM_J_CURSOR_EVERY_NS (100 * INT64_C(1000000)) /* cursor writes, at most */
#define DCM_J_SPILL_BYTES (1u << 20)    /* pending bytes written out before a commit */
#define DCM_J_MAX_SINKS 16
#define DCM_J_SEG_NAME_LEN 28           /* "seg-" 20 digits ".log" */
#define DCM_J_TAG "journal"

/* ---------------------------------------------------------------- codec */

static inline size_t dcm_j_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline uint64_t dcm_j_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline void dcm_j_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t dcm_j_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A reader's view of one segment's dictionary and time base. */
typedef struct dcm_jdec {
    uint64_t base;   /* the segment's first seq (from its name) */
    char **dict;     /* by id; NULL where not (yet) defined */
    size_t dict_cap;
    int64_t prev_ts;
    bool synced;     /* prev_ts is known (false at start and after damage) */
} dcm_jdec;

void dcm_jdec_reset(dcm_jdec *d, uint64_t base);
void dcm_jdec_free(dcm_jdec *d);

typedef enum dcm_jdecode {
    DCM_JD_OK = 0,
    DCM_JD_SKIP,   /* well formed but not resolvable (its time base or a string was lost) */
    DCM_JD_BAD,    /* malformed although its CRC matched */
    DCM_JD_ENOMEM,
} dcm_jdecode;

/* The seq a payload carries (false if it cannot be read). */
bool dcm_jrec_peek_seq(const uint8_t *p, size_t len, uint64_t base, uint64_t *seq);
/* Decodes a payload, applying its dictionary definitions. Strings point into the
 * dictionary, body into p. */
dcm_jdecode dcm_jrec_decode(dcm_jdec *d, const uint8_t *p, size_t len, dcm_jrec *out);

/* -------------------------------------------------------------- scanner */

typedef enum dcm_jscan_res {
    DCM_JS_REC = 0, /* a frame whose CRC matches */
    DCM_JS_END,     /* s->off reached the limit */
    DCM_JS_TORN,    /* a frame that runs past the limit */
    DCM_JS_CORRUPT, /* a frame whose length is impossible or whose CRC does not match */
    DCM_JS_EIO,
    DCM_JS_ENOMEM,
} dcm_jscan_res;

/* Sequential buffered reading of one segment file, frame by frame. */
typedef struct dcm_jscan {
    int fd;
    uint64_t limit;   /* bytes of the file that may be read */
    uint64_t off;     /* the next frame */
    uint8_t *buf;
    size_t buf_cap, buf_len;
    uint64_t buf_off; /* file offset of buf[0] */
} dcm_jscan;

void dcm_jscan_init(dcm_jscan *s, int fd, uint64_t limit);
void dcm_jscan_free(dcm_jscan *s);
/* The frame at s->off: on REC, *payload (valid until the next call) and *len. The caller
 * moves on with s->off += DCM_J_HDR + *len. */
dcm_jscan_res dcm_jscan_next(dcm_jscan *s, const uint8_t **payload, uint32_t *len);
/* After TORN or CORRUPT (or a frame the caller rejects): moves s->off to the next valid
 * frame after it and returns true, or returns false (s->off unchanged) if there is none
 * before the limit. *err is set on an I/O or memory failure. */
bool dcm_jscan_resync(dcm_jscan *s, dcm_jscan_res *err);

/* ------------------------------------------------------------- journal */

typedef struct dcm_jseg {
    uint64_t first; /* from the file name */
    uint64_t last;  /* newest seq written to it; first - 1 while empty */
    uint64_t bytes; /* complete frames in the file */
} dcm_jseg;

/* A reader's position: its own descriptor of the segment it is in, so that a segment
 * deleted under it stays readable until it moves on. */
typedef struct dcm_jreader {
    bool open;
    uint64_t seg_first;
    dcm_jscan scan;
    dcm_jdec dec;
    uint64_t last_seq; /* newest seq decoded */
    uint64_t pos_lo;   /* the position serves any after_seq >= pos_lo */
    /* Bodies of the records handed out by the last read (chunks never move). */
    struct dcm_jarena {
        char **chunks;
        size_t *used, *size;
        size_t count, cap;
    } arena;
    uint64_t lost;     /* records skipped as damaged since open */
} dcm_jreader;

typedef struct dcm_jsink {
    char *name;
    uint64_t acked;     /* in memory */
    uint64_t persisted; /* in cursor-<name> */
    int64_t last_persist_ns;
    pthread_mutex_t persist_lock;
    dcm_jreader rd;
} dcm_jsink;

/* Writer state: touched by the writer thread only (and by close). */
typedef struct dcm_jwriter {
    int fd;              /* current segment; -1 before the first append */
    uint64_t seg_first;
    uint64_t seg_bytes;  /* written to the file */
    uint64_t next_seq;
    uint8_t *pend;       /* framed records not yet written */
    size_t pend_len, pend_cap;
    uint8_t *scratch;    /* one encoded record */
    size_t scratch_cap;
    struct dcm_jdict_slot {
        char *s;
        uint32_t id, hash;
    } *slots;            /* string -> id for the current segment (open addressing) */
    size_t slot_cap, slot_used;
    uint32_t next_id;
    int64_t prev_ts;
    uint32_t since_abs;
    bool unsynced;       /* data written since the last fsync */
    bool dir_dirty;      /* a segment was created since the last directory fsync */
    int64_t last_sync_ns;
} dcm_jwriter;

struct dcm_journal {
    pthread_mutex_t lock;
    pthread_cond_t committed_cv; /* readers wait here for commits */
    pthread_cond_t idle_cv;      /* close waits here for readers to leave */
    char *dir;
    int dirfd;                   /* also holds the flock */
    dcm_journal_options opt;     /* sinks points into sinks[].name */
    dcm_jsink *sinks;
    size_t sink_count;
    dcm_jseg *segs;
    size_t seg_count, seg_cap;
    uint64_t disk_bytes;         /* sum of segs[].bytes */
    uint64_t committed;          /* newest committed seq */
    dcm_journal_stats st;        /* counters (bytes, segments, seqs filled on demand) */
    uint64_t corrupt_bytes;      /* damaged bytes skipped in segments at open */
    bool closed;
    int active;                  /* calls in progress on reader threads */
    dcm_jwriter w;
};

/* Segment file path into buf. */
void dcm_j_seg_path(const dcm_journal *j, uint64_t first, char *buf, size_t size);
/* Index of the segment that holds seq (the last with first <= seq); 0 if seq precedes
 * them all; SIZE_MAX if there is none. Lock held. */
size_t dcm_j_find_seg(const dcm_journal *j, uint64_t seq);
/* Deletes segments every sink's persisted cursor is past (never the newest). Lock held. */
void dcm_j_release_locked(dcm_journal *j);
/* Removes segs[0] and its file. Lock held. */
void dcm_j_drop_first_locked(dcm_journal *j);
/* Writes what is pending and syncs per policy (force: always fsync). */
dcm_journal_err dcm_j_commit(dcm_journal *j, bool force_sync);
void dcm_j_writer_free(dcm_jwriter *w);
void dcm_j_reader_free(dcm_jreader *rd);
/* Persists the sink's cursor if it moved (always when force, else at most every
 * DCM_J_CURSOR_EVERY_NS). */
dcm_journal_err dcm_j_persist_cursor(dcm_journal *j, size_t sink, bool force);
int dcm_j_fsync_dir(dcm_journal *j);

#endif
