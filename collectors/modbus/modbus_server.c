/*
 * modbus_server.c - the facility simulator's server: one thread, poll() over the listening
 * socket and every client, libmodbus doing the framing (modbus_receive / modbus_reply)
 * against one modbus_mapping_t per unit id, and the sim model advanced on the simulated
 * clock before each answer so that the registers always hold the latest emission.
 */
/* The simulator runs the sim collector's model: it is built with it. */
#ifdef DCM_WITH_SIM

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>

#include <modbus.h>

#include "grow.h"
#include "modbus_server.h"
#include "runtime.h"

#define MBS_UNITS 248
#define MBS_POLL_MAX_MS 200
#define MBS_MAX_STEPS 1000 /* emissions one refresh catches up one by one */
#define NS_PER_HOUR_D 3.6e12
/* Water: Q[kW] = 4.186 kJ/(kg K) x flow[L/s] x dT, at ~1 kg/L. */
#define WATER_KJ_PER_L_K 4.186

typedef struct unit_slot {
    const dcm_mbs_device *dev;
    modbus_mapping_t *map;
    /* First address of each table in map (the mapping's start addresses). */
    int start[DCM_MB_TABLE_COUNT];
    atomic_bool silent;
} unit_slot;

struct dcm_mbs {
    const dcm_mbs_config *cfg;
    modbus_t *ctx; /* framing only: its socket is set to the client being served */
    int listen_fd;
    int wake[2];   /* written by dcm_mbs_stop to end poll() at once */
    int port;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    dcm_clock clock;
    dcm_sim_run *run;
    size_t npoints;
    double *cur, *prev;   /* the last two emissions of every sim point */
    int64_t cur_ts, prev_ts;
    bool have_cur, have_prev;
    long chw_counter, heat_counter; /* sim points behind the loop flows; -1 if absent */
    unit_slot *units;
    size_t unit_count;
    unit_slot *by_unit[MBS_UNITS];
    struct pollfd *fds; /* [0] listen, [1] wake, then clients */
    size_t nfds, fds_cap;
    atomic_uint_fast64_t connections, requests, exceptions, ignored;
};

/* ------------------------------------------------------------- encoding */

static bool is_integer(dcm_mb_type t)
{
    return t != DCM_MB_F32 && t != DCM_MB_F64 && t != DCM_MB_BOOL;
}

bool dcm_mbs_encode_point(const dcm_mb_point *p, double value, uint16_t *regs)
{
    if (p->derive != DCM_MB_DERIVE_NONE || p->type == DCM_MB_BOOL || !isfinite(value))
        return false;
    if (p->kind == DCM_KIND_COUNTER && is_integer(p->type) && p->bit < 0) {
        /* A register counts modulo 2^counter_bits: past the top it starts again at 0,
         * where dcm_mb_encode would hold it at the maximum. */
        if (p->scale == 0.0)
            return false;
        int width = dcm_mb_type_bits(p->type);
        int bits = p->counter_bits > 0 && p->counter_bits < width ? p->counter_bits : width;
        double modulus = ldexp(1.0, bits);
        double raw = nearbyint((value - p->offset) / p->scale);
        if (!isfinite(raw))
            return false;
        raw = fmod(raw, modulus);
        if (raw < 0)
            raw += modulus;
        uint64_t bitsval = raw >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)raw;
        dcm_mb_unraw(bitsval, dcm_mb_type_registers(p->type), p->order, regs);
        return true;
    }
    return dcm_mb_encode(p, value, regs);
}

static double rate_of(const dcm_mbs *s, size_t i)
{
    if (!s->have_prev || s->cur_ts <= s->prev_ts)
        return 0.0;
    return (s->cur[i] - s->prev[i]) / ((double)(s->cur_ts - s->prev_ts) / NS_PER_HOUR_D);
}

/* m3/h of water carrying the thermal power of counter i at a temperature difference dt. */
static double loop_flow(const dcm_mbs *s, long counter, double dt)
{
    if (counter < 0)
        return 0.0;
    double kw = rate_of(s, (size_t)counter);
    return kw / (WATER_KJ_PER_L_K * dt) * 3.6;
}

static double source_value(const dcm_mbs *s, const dcm_mbs_value *v)
{
    const dcm_mbs_config *c = s->cfg;
    double x = 0.0;
    switch (v->source) {
    case DCM_MBS_SRC_NONE: return 0.0;
    case DCM_MBS_SRC_CONST: return v->constant;
    case DCM_MBS_SRC_POINT: x = s->cur[v->point]; break;
    case DCM_MBS_SRC_RATE: x = rate_of(s, v->point); break;
    case DCM_MBS_SRC_CHW_SUPPLY: x = c->chw_supply_c; break;
    case DCM_MBS_SRC_CHW_RETURN: x = c->chw_supply_c + c->chw_delta_k; break;
    case DCM_MBS_SRC_CHW_FLOW: x = loop_flow(s, s->chw_counter, c->chw_delta_k); break;
    case DCM_MBS_SRC_HEAT_SUPPLY: x = c->heat_supply_c; break;
    case DCM_MBS_SRC_HEAT_RETURN: x = c->heat_supply_c - c->heat_delta_k; break;
    case DCM_MBS_SRC_HEAT_FLOW: x = loop_flow(s, s->heat_counter, c->heat_delta_k); break;
    }
    return x * v->factor;
}

static void set_bit(modbus_mapping_t *m, dcm_mb_table t, int index, bool on)
{
    if (t == DCM_MB_COIL)
        m->tab_bits[index] = on ? 1 : 0;
    else
        m->tab_input_bits[index] = on ? 1 : 0;
}

static uint16_t *registers_at(unit_slot *u, dcm_mb_table t, uint16_t address)
{
    int index = (int)address - u->start[t];
    return t == DCM_MB_HOLDING ? &u->map->tab_registers[index]
                               : &u->map->tab_input_registers[index];
}

static void encode_device(dcm_mbs *s, unit_slot *u)
{
    const dcm_mbs_device *d = u->dev;
    for (size_t i = 0; i < d->point_count; i++) {
        const dcm_mb_point *p = &d->points[i];
        if (p->derive != DCM_MB_DERIVE_NONE)
            continue;
        double v = source_value(s, &d->values[i]);
        if (dcm_mb_table_is_bits(p->table)) {
            set_bit(u->map, p->table, (int)p->address - u->start[p->table], v != 0.0);
            continue;
        }
        uint16_t regs[4];
        uint16_t *at = registers_at(u, p->table, p->address);
        int n = dcm_mb_type_registers(p->type);
        if (p->bit >= 0)
            regs[0] = at[0]; /* a bit point changes one bit of a shared register */
        if (dcm_mbs_encode_point(p, v, regs))
            memcpy(at, regs, (size_t)n * sizeof regs[0]);
    }
}

/* ------------------------------------------------------------ the model */

static void on_sample(void *ud, size_t point, int64_t ts_ns, double value, dcm_quality q)
{
    dcm_mbs *s = ud;
    (void)q;
    if (!s->have_cur || ts_ns != s->cur_ts) {
        /* A new emission begins: the current one becomes the previous. */
        memcpy(s->prev, s->cur, s->npoints * sizeof *s->cur);
        s->prev_ts = s->cur_ts;
        s->have_prev = s->have_cur;
        s->cur_ts = ts_ns;
        s->have_cur = true;
    }
    if (point < s->npoints)
        s->cur[point] = value;
}

/* Brings the registers to the simulated now. One emission at a time: asked to jump
 * further, the sim run thins its samples out to one a minute (it was made for a fast
 * clock), and a simulator that fell a few emissions behind would then hold its registers
 * still until the next minute. Only a clock far ahead is left to the thinning. */
static void refresh(dcm_mbs *s)
{
    int64_t before = s->cur_ts, now = dcm_clock_now(&s->clock);
    int64_t emit = s->cfg->sim.emit_ns;
    bool had = s->have_cur;
    for (int steps = 0; s->have_cur && s->cur_ts + emit <= now && steps < MBS_MAX_STEPS;
         steps++) {
        int64_t at = s->cur_ts;
        dcm_sim_run_advance(s->run, at + emit, on_sample, s);
        if (s->cur_ts == at)
            break; /* integration carried over to the next call */
    }
    dcm_sim_run_advance(s->run, now, on_sample, s);
    if (s->have_cur && (!had || s->cur_ts != before))
        for (size_t i = 0; i < s->unit_count; i++)
            encode_device(s, &s->units[i]);
}

/* ----------------------------------------------------------- registers */

/* The address range [lo, hi) of table t among d's points; false when it has none. */
static bool table_range(const dcm_mbs_device *d, dcm_mb_table t, int *lo, int *hi)
{
    bool any = false;
    for (size_t i = 0; i < d->point_count; i++) {
        const dcm_mb_point *p = &d->points[i];
        if (p->derive != DCM_MB_DERIVE_NONE || p->table != t)
            continue;
        int a = p->address, b = a + (dcm_mb_table_is_bits(t) ? 1 : dcm_mb_point_registers(p));
        if (!any || a < *lo)
            *lo = a;
        if (!any || b > *hi)
            *hi = b;
        any = true;
    }
    return any;
}

static bool build_slot(unit_slot *u, const dcm_mbs_device *d)
{
    int lo[DCM_MB_TABLE_COUNT] = {0}, hi[DCM_MB_TABLE_COUNT] = {0};
    for (int t = 0; t < DCM_MB_TABLE_COUNT; t++) {
        if (!table_range(d, (dcm_mb_table)t, &lo[t], &hi[t]))
            lo[t] = hi[t] = 0;
        u->start[t] = lo[t];
    }
    u->dev = d;
    atomic_init(&u->silent, false);
    u->map = modbus_mapping_new_start_address(
        (unsigned)lo[DCM_MB_COIL], (unsigned)(hi[DCM_MB_COIL] - lo[DCM_MB_COIL]),
        (unsigned)lo[DCM_MB_DISCRETE], (unsigned)(hi[DCM_MB_DISCRETE] - lo[DCM_MB_DISCRETE]),
        (unsigned)lo[DCM_MB_HOLDING], (unsigned)(hi[DCM_MB_HOLDING] - lo[DCM_MB_HOLDING]),
        (unsigned)lo[DCM_MB_INPUT], (unsigned)(hi[DCM_MB_INPUT] - lo[DCM_MB_INPUT]));
    return u->map != NULL;
}

/* --------------------------------------------------------------- sockets */

static int open_listener(const char *host, const char *port, int *bound, char *why,
                         size_t why_size)
{
    struct addrinfo hints, *res = NULL;
    int fd = -1, gai;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(why, why_size, "%s:%s: %s", host, port, gai_strerror(gai));
        return -1;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 256) == 0)
            break;
        snprintf(why, why_size, "%s:%s: %s", host, port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    *bound = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET)
            *bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6)
            *bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    return fd;
}

static void drop_client(dcm_mbs *s, size_t i)
{
    close(s->fds[i].fd);
    s->fds[i] = s->fds[--s->nfds];
}

static void accept_clients(dcm_mbs *s)
{
    for (;;) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            return; /* EAGAIN: none left (the listener is non-blocking) */
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        if (!dcm_grow((void **)&s->fds, &s->fds_cap, s->nfds + 1, sizeof *s->fds, 64)) {
            close(fd);
            return;
        }
        s->fds[s->nfds++] = (struct pollfd){.fd = fd, .events = POLLIN};
        atomic_fetch_add(&s->connections, 1);
    }
}

/* Whether a read of function fc (1..4) at [address, address + count) must be refused:
 * outside the device's layout (as libmodbus would refuse it, but counted here), or inside
 * one of its exception ranges. */
static bool refused(const unit_slot *u, int fc, int address, int count)
{
    static const dcm_mb_table by_fc[5] = {DCM_MB_HOLDING, DCM_MB_COIL, DCM_MB_DISCRETE,
                                          DCM_MB_HOLDING, DCM_MB_INPUT};
    const dcm_mbs_device *d = u->dev;
    dcm_mb_table t = by_fc[fc];
    const modbus_mapping_t *m = u->map;
    int size = t == DCM_MB_HOLDING ? m->nb_registers
               : t == DCM_MB_INPUT ? m->nb_input_registers
               : t == DCM_MB_COIL  ? m->nb_bits
                                   : m->nb_input_bits;
    if (count < 1 || address < u->start[t] || address + count > u->start[t] + size)
        return true;
    for (size_t i = 0; i < d->exception_count; i++) {
        const dcm_mbs_range *r = &d->exceptions[i];
        if (r->table == t && address < r->address + r->count && r->address < address + count)
            return true;
    }
    return false;
}

/* Serves one request from client i. Returns false when the client has to go. */
static bool serve_one(dcm_mbs *s, size_t i)
{
    uint8_t req[MODBUS_TCP_MAX_ADU_LENGTH];
    modbus_set_socket(s->ctx, s->fds[i].fd);
    int len = modbus_receive(s->ctx, req);
    if (len < 0)
        return false; /* closed by the peer, or a broken frame */
    if (len == 0)
        return true;
    refresh(s);
    int hl = modbus_get_header_length(s->ctx);
    if (len < hl + 1)
        return false;
    int unit = req[hl - 1], fc = req[hl];
    unit_slot *u = unit < MBS_UNITS ? s->by_unit[unit] : NULL;
    int rc;
    if (!u) {
        /* As a gateway says it: nobody answers at that unit id. */
        atomic_fetch_add(&s->exceptions, 1);
        rc = modbus_reply_exception(s->ctx, req, MODBUS_EXCEPTION_GATEWAY_TARGET);
    } else if (atomic_load(&u->silent)) {
        atomic_fetch_add(&s->ignored, 1);
        return true;
    } else if (fc < 1 || fc > 4) {
        /* Simulated meters are read-only: their values come from the model. */
        atomic_fetch_add(&s->exceptions, 1);
        rc = modbus_reply_exception(s->ctx, req, MODBUS_EXCEPTION_ILLEGAL_FUNCTION);
    } else if (len >= hl + 5 && refused(u, fc, (req[hl + 1] << 8) | req[hl + 2],
                                        (req[hl + 3] << 8) | req[hl + 4])) {
        atomic_fetch_add(&s->exceptions, 1);
        rc = modbus_reply_exception(s->ctx, req, MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS);
    } else {
        atomic_fetch_add(&s->requests, 1); /* counted before the client can see it */
        rc = modbus_reply(s->ctx, req, len, u->map);
    }
    return rc >= 0;
}

static int poll_timeout_ms(const dcm_mbs *s)
{
    /* Wake at least once per emission so the registers move even when nobody asks. */
    double ms = (double)s->cfg->sim.emit_ns / s->clock.speed / 1e6;
    if (ms > MBS_POLL_MAX_MS)
        ms = MBS_POLL_MAX_MS;
    return ms < 1.0 ? 1 : (int)ms;
}

static void *server_main(void *arg)
{
    dcm_mbs *s = arg;
    while (!atomic_load(&s->stop)) {
        int n = poll(s->fds, s->nfds, poll_timeout_ms(s));
        if (n < 0 && errno != EINTR)
            break;
        refresh(s);
        if (n <= 0)
            continue;
        if (s->fds[1].revents)
            break;
        if (s->fds[0].revents & POLLIN)
            accept_clients(s);
        /* Backwards, so that dropping a client (moving the last one into its place)
         * never skips one that is ready. */
        for (size_t i = s->nfds; i-- > 2;) {
            short re = s->fds[i].revents;
            s->fds[i].revents = 0;
            if (!re)
                continue;
            if ((re & POLLIN) ? !serve_one(s, i) : (re & (POLLERR | POLLHUP | POLLNVAL)) != 0)
                drop_client(s, i);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------- lifecycle */

void dcm_mbs_stop(dcm_mbs *s)
{
    if (!s)
        return;
    if (s->thread_started) {
        atomic_store(&s->stop, true);
        ssize_t w = write(s->wake[1], "x", 1);
        (void)w;
        pthread_join(s->thread, NULL);
    }
    for (size_t i = 2; i < s->nfds; i++)
        close(s->fds[i].fd);
    free(s->fds);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    for (int i = 0; i < 2; i++)
        if (s->wake[i] >= 0)
            close(s->wake[i]);
    if (s->ctx) {
        modbus_set_socket(s->ctx, -1);
        modbus_free(s->ctx);
    }
    for (size_t i = 0; i < s->unit_count; i++)
        modbus_mapping_free(s->units[i].map);
    free(s->units);
    free(s->cur);
    free(s->prev);
    dcm_sim_run_destroy(s->run);
    free(s);
}

static dcm_mbs_err setup_model(dcm_mbs *s, const dcm_mbs_options *opt)
{
    const char *why = NULL;
    if (dcm_sim_run_create(&s->cfg->sim, &s->run, &why) != DCM_SIM_OK)
        return DCM_MBS_ENOMEM; /* the configuration was checked when it was loaded */
    s->npoints = dcm_sim_run_point_count(s->run);
    s->cur = calloc(s->npoints ? s->npoints : 1, sizeof *s->cur);
    s->prev = calloc(s->npoints ? s->npoints : 1, sizeof *s->prev);
    if (!s->cur || !s->prev)
        return DCM_MBS_ENOMEM;
    s->chw_counter = dcm_sim_run_find(s->run, "chw.thermal.energy");
    s->heat_counter = dcm_sim_run_find(s->run, "heat.reused.energy");
    dcm_clock_init(&s->clock, opt && opt->speed > 0 ? opt->speed : 1.0,
                   opt ? opt->start_ns : 0);
    /* Two emissions before the first request, so that mean powers and flows exist. */
    dcm_sim_run_advance(s->run, s->clock.start_ns - s->cfg->sim.emit_ns, on_sample, s);
    return DCM_MBS_OK;
}

dcm_mbs_err dcm_mbs_start(const dcm_mbs_config *cfg, const dcm_mbs_options *opt,
                          dcm_mbs **out, char *why, size_t why_size)
{
    char scratch[8];
    dcm_mbs_err rc = DCM_MBS_ENOMEM;
    dcm_mbs *s = NULL;
    if (!why || !why_size) {
        why = scratch;
        why_size = sizeof scratch;
    }
    why[0] = '\0';
    *out = NULL;
    s = calloc(1, sizeof *s);
    if (!s)
        goto fail;
    s->cfg = cfg;
    s->listen_fd = -1;
    s->wake[0] = s->wake[1] = -1;
    atomic_init(&s->stop, false);
    if ((rc = setup_model(s, opt)) != DCM_MBS_OK)
        goto fail;
    rc = DCM_MBS_ENOMEM;
    s->units = calloc(cfg->device_count ? cfg->device_count : 1, sizeof *s->units);
    if (!s->units)
        goto fail;
    for (size_t i = 0; i < cfg->device_count; i++) {
        const dcm_mbs_device *d = &cfg->devices[i];
        if (d->unit < 1 || d->unit >= MBS_UNITS || !build_slot(&s->units[i], d))
            goto fail;
        s->unit_count++;
        s->by_unit[d->unit] = &s->units[i];
    }
    refresh(s);

    s->ctx = modbus_new_tcp("127.0.0.1", 1502);
    if (!s->ctx)
        goto fail;
    /* A client that sends half a request holds the thread this long at most. */
    modbus_set_byte_timeout(s->ctx, 0, 200000);
    if (pipe(s->wake) != 0) {
        snprintf(why, why_size, "pipe: %s", strerror(errno));
        rc = DCM_MBS_ETHREAD;
        goto fail;
    }
    for (int i = 0; i < 2; i++)
        fcntl(s->wake[i], F_SETFD, FD_CLOEXEC);
    const char *host = opt && opt->host ? opt->host : "127.0.0.1";
    const char *port = opt && opt->port ? opt->port : "1502";
    s->listen_fd = open_listener(host, port, &s->port, why, why_size);
    if (s->listen_fd < 0) {
        rc = DCM_MBS_ELISTEN;
        goto fail;
    }
    fcntl(s->listen_fd, F_SETFL, fcntl(s->listen_fd, F_GETFL) | O_NONBLOCK);
    if (!dcm_grow((void **)&s->fds, &s->fds_cap, 2, sizeof *s->fds, 64))
        goto fail;
    s->fds[0] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
    s->fds[1] = (struct pollfd){.fd = s->wake[0], .events = POLLIN};
    s->nfds = 2;
    if (pthread_create(&s->thread, NULL, server_main, s) != 0) {
        snprintf(why, why_size, "pthread_create failed");
        rc = DCM_MBS_ETHREAD;
        goto fail;
    }
    s->thread_started = true;
    *out = s;
    return DCM_MBS_OK;
fail:
    if (!why[0])
        snprintf(why, why_size, "%s", dcm_mbs_strerror(rc));
    dcm_mbs_stop(s);
    return rc;
}

int dcm_mbs_port(const dcm_mbs *s) { return s->port; }

bool dcm_mbs_set_silent(dcm_mbs *s, int unit, bool silent)
{
    if (unit < 0 || unit >= MBS_UNITS || !s->by_unit[unit])
        return false;
    atomic_store(&s->by_unit[unit]->silent, silent);
    return true;
}

bool dcm_mbs_is_silent(const dcm_mbs *s, int unit)
{
    if (unit < 0 || unit >= MBS_UNITS || !s->by_unit[unit])
        return false;
    return atomic_load(&s->by_unit[unit]->silent);
}

void dcm_mbs_get_stats(const dcm_mbs *s, dcm_mbs_stats *out)
{
    /* The counters are only ever added to; reading them needs no lock. */
    dcm_mbs *m = (dcm_mbs *)s;
    out->connections = atomic_load(&m->connections);
    out->requests = atomic_load(&m->requests);
    out->exceptions = atomic_load(&m->exceptions);
    out->ignored = atomic_load(&m->ignored);
}

#endif /* DCM_WITH_SIM */
