/* The MQTT sink's window of messages in flight and its reconnect backoff. */
#include <stdlib.h>

#include "mqtt_int.h"

int dcm_mqtt_window_init(dcm_mqtt_window *w, size_t cap, uint64_t delivered, void *owner)
{
    *w = (dcm_mqtt_window){0};
    if (cap == 0)
        return -1;
    w->slots = calloc(cap, sizeof *w->slots);
    if (!w->slots)
        return -1;
    for (size_t i = 0; i < cap; i++)
        w->slots[i].owner = owner;
    w->cap = cap;
    w->delivered = delivered;
    w->epoch = 1;
    return 0;
}

void dcm_mqtt_window_free(dcm_mqtt_window *w)
{
    free(w->slots);
    *w = (dcm_mqtt_window){0};
}

size_t dcm_mqtt_window_inflight(const dcm_mqtt_window *w)
{
    return (size_t)(w->head - w->tail);
}

size_t dcm_mqtt_window_room(const dcm_mqtt_window *w)
{
    return w->cap - dcm_mqtt_window_inflight(w);
}

dcm_mqtt_slot *dcm_mqtt_window_reserve(dcm_mqtt_window *w, uint64_t seq)
{
    if (dcm_mqtt_window_room(w) == 0)
        return NULL;
    dcm_mqtt_slot *s = &w->slots[w->head % w->cap];
    w->head++;
    s->seq = seq;
    s->epoch = w->epoch;
    s->token = 0;
    s->state = DCM_MQTT_SLOT_SENDING;
    s->early = false;
    s->early_ok = false;
    s->early_token = 0;
    return s;
}

void dcm_mqtt_window_sent(dcm_mqtt_window *w, dcm_mqtt_slot *slot, int token)
{
    if (slot->epoch != w->epoch || slot->state != DCM_MQTT_SLOT_SENDING)
        return;
    slot->token = token;
    slot->state = DCM_MQTT_SLOT_SENT;
    /* Paho may confirm a fast QoS 0 write, or even a PUBACK on loopback, before the send
     * call has returned the token to us. */
    if (slot->early && slot->early_token == token) {
        slot->state = slot->early_ok ? DCM_MQTT_SLOT_DONE : DCM_MQTT_SLOT_FAILED;
        if (!slot->early_ok)
            w->failed = true;
    }
}

void dcm_mqtt_window_send_failed(dcm_mqtt_window *w, dcm_mqtt_slot *slot)
{
    if (slot->epoch != w->epoch)
        return;
    slot->state = DCM_MQTT_SLOT_FAILED;
    w->failed = true;
}

bool dcm_mqtt_window_complete(dcm_mqtt_window *w, dcm_mqtt_slot *slot, int token, bool ok)
{
    /* A slot re-used after a reset carries the new epoch and a new token: a completion
     * from the old connection matches neither state nor token and is dropped. */
    if (slot->epoch != w->epoch)
        return false;
    if (slot->state == DCM_MQTT_SLOT_SENDING) {
        if (slot->early)
            return false;
        slot->early = true;
        slot->early_ok = ok;
        slot->early_token = token;
        return true;
    }
    if (slot->state != DCM_MQTT_SLOT_SENT || slot->token != token)
        return false;
    slot->state = ok ? DCM_MQTT_SLOT_DONE : DCM_MQTT_SLOT_FAILED;
    if (!ok)
        w->failed = true;
    return true;
}

size_t dcm_mqtt_window_advance(dcm_mqtt_window *w)
{
    size_t n = 0;
    while (w->tail < w->head) {
        dcm_mqtt_slot *s = &w->slots[w->tail % w->cap];
        if (s->state != DCM_MQTT_SLOT_DONE)
            break;
        w->delivered = s->seq;
        s->state = DCM_MQTT_SLOT_FREE;
        w->tail++;
        n++;
    }
    return n;
}

void dcm_mqtt_window_reset(dcm_mqtt_window *w)
{
    for (uint64_t i = w->tail; i < w->head; i++)
        w->slots[i % w->cap].state = DCM_MQTT_SLOT_FREE;
    w->tail = w->head;
    w->epoch++;
    w->failed = false;
}

/* ------------------------------------------------------------------ backoff */

static uint64_t next_random(uint64_t *state)
{
    /* xorshift64*: plenty for spreading reconnects, and reproducible from a seed. */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

void dcm_mqtt_backoff_init(dcm_mqtt_backoff *b, int64_t min_ns, int64_t max_ns, uint64_t seed)
{
    b->min_ns = min_ns > 0 ? min_ns : 1;
    b->max_ns = max_ns > b->min_ns ? max_ns : b->min_ns;
    b->cur_ns = b->min_ns;
    b->rng = seed ? seed : UINT64_C(0x9E3779B97F4A7C15);
}

int64_t dcm_mqtt_backoff_next(dcm_mqtt_backoff *b)
{
    int64_t d = b->cur_ns;
    int64_t half = d / 2;
    int64_t delay = half + (int64_t)(next_random(&b->rng) % (uint64_t)(d - half + 1));
    b->cur_ns = d > b->max_ns / 2 ? b->max_ns : d * 2;
    return delay;
}

void dcm_mqtt_backoff_reset(dcm_mqtt_backoff *b)
{
    b->cur_ns = b->min_ns;
}
