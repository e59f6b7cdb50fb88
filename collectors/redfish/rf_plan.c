/* What to read from a BMC, chosen once from what discovery found. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rf_bmc.h"

/* Indices of the chosen targets for one chassis. */
typedef struct choice {
    int power[64], energy[64];
    size_t np, ne;
    rf_kind pk, ek;
} choice;

/* Every target of kind k on chassis c, when all were read and show the quantity. */
static size_t all_of(const rf_bmc *b, int c, rf_kind k, bool energy, int *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < b->target_count; i++) {
        const rf_target *t = &b->targets[i];
        if (t->chassis != c || t->kind != k)
            continue;
        if (!t->ok || !(energy ? t->r.has_energy : t->r.has_power) || n >= max)
            return 0; /* one supply unread would under-report the sum */
        out[n++] = (int)i;
    }
    return n;
}

/* The sensor of kind k with the lowest member order on chassis c, or -1. */
static int first_sensor(const rf_bmc *b, int c, rf_kind k)
{
    int best = -1;
    for (size_t i = 0; i < b->target_count; i++) {
        const rf_target *t = &b->targets[i];
        if (t->chassis == c && t->kind == k && t->ok &&
            (k == RF_K_SENSOR_P ? t->r.has_power : t->r.has_energy) &&
            (best < 0 || t->order < b->targets[best].order))
            best = (int)i;
    }
    return best;
}

static bool choose_chassis(const rf_bmc *b, int c, choice *ch)
{
    memset(ch, 0, sizeof *ch);
    static const rf_kind power_order[] = {RF_K_ENV, RF_K_PSU, RF_K_SENSOR_P, RF_K_LEGACY};
    static const rf_kind energy_order[] = {RF_K_ENV, RF_K_PSU, RF_K_SENSOR_E};
    for (size_t k = 0; k < 4 && !ch->np; k++) {
        rf_kind kind = power_order[k];
        if (kind == RF_K_SENSOR_P) {
            int s = first_sensor(b, c, kind);
            if (s >= 0)
                ch->power[ch->np++] = s;
        } else {
            ch->np = all_of(b, c, kind, false, ch->power, 64);
        }
        ch->pk = kind;
    }
    for (size_t k = 0; k < 3 && !ch->ne; k++) {
        rf_kind kind = energy_order[k];
        if (kind == RF_K_SENSOR_E) {
            int s = first_sensor(b, c, kind);
            if (s >= 0)
                ch->energy[ch->ne++] = s;
        } else {
            ch->ne = all_of(b, c, kind, true, ch->energy, 64);
        }
        ch->ek = kind;
    }
    return ch->np > 0;
}

static void mark(rf_bmc *b, const choice *ch)
{
    for (size_t i = 0; i < ch->np; i++)
        b->targets[ch->power[i]].use_power = true;
    for (size_t i = 0; i < ch->ne; i++)
        b->targets[ch->energy[i]].use_energy = true;
}

static const char *chassis_id(const rf_bmc *b, int c)
{
    const char *p = b->chassis[c].path;
    const char *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

static bool configured(const rf_bmc *b, const char *id)
{
    for (size_t i = 0; i < b->spec->chassis_count; i++)
        if (strcmp(b->spec->chassis[i], id) == 0)
            return true;
    return false;
}

bool rf_plan_choose(rf_bmc *b, char *err, size_t err_size)
{
    for (size_t i = 0; i < b->target_count; i++)
        b->targets[i].use_power = b->targets[i].use_energy = false;
    choice ch;
    size_t chosen = 0;
    char text[sizeof b->plan_text] = "";

    /* A rack PDU service: every PDU it manages, summed. */
    size_t npdu = all_of(b, -1, RF_K_PDU, false, ch.power, 64);
    if (npdu) {
        memset(&ch, 0, sizeof ch);
        ch.np = all_of(b, -1, RF_K_PDU, false, ch.power, 64);
        ch.ne = all_of(b, -1, RF_K_PDU, true, ch.energy, 64);
        mark(b, &ch);
        snprintf(text, sizeof text, "%zu rack PDU%s: power%s from RackPDUs Metrics", ch.np,
                 ch.np == 1 ? "" : "s", ch.ne ? " and energy" : "");
        chosen = 1;
    } else {
        size_t want = b->spec->chassis_count;
        for (size_t w = 0; w < want; w++) {
            bool found = false;
            for (size_t c = 0; c < b->chassis_count && !found; c++)
                found = strcmp(chassis_id(b, (int)c), b->spec->chassis[w]) == 0;
            if (!found) {
                snprintf(err, err_size, "chassis '%s' is not in the service's Chassis collection",
                         b->spec->chassis[w]);
                return false;
            }
        }
        for (size_t c = 0; c < b->chassis_count; c++) {
            if (want && !configured(b, chassis_id(b, (int)c)))
                continue;
            if (!choose_chassis(b, (int)c, &ch)) {
                if (want) {
                    snprintf(err, err_size, "chassis '%.64s' reports no power", chassis_id(b, (int)c));
                    return false;
                }
                continue;
            }
            mark(b, &ch);
            size_t used = strlen(text);
            snprintf(text + used, sizeof text - used, "%schassis %.64s: power from %s%s%s",
                     chosen ? "; " : "", chassis_id(b, (int)c), rf_kind_name(ch.pk),
                     ch.ne ? ", energy from " : "", ch.ne ? rf_kind_name(ch.ek) : "");
            chosen++;
            if (!want)
                break; /* by default the first chassis that reports power */
        }
    }
    if (!chosen) {
        snprintf(err, err_size, "no chassis reports power (looked at %zu: EnvironmentMetrics, "
                 "PowerSubsystem, Sensors, Power)", b->chassis_count);
        return false;
    }
    /* Keep only what the plan reads. */
    size_t n = 0;
    for (size_t i = 0; i < b->target_count; i++)
        if (b->targets[i].use_power || b->targets[i].use_energy)
            b->targets[n++] = b->targets[i];
    b->target_count = n;
    snprintf(b->plan_text, sizeof b->plan_text, "%s", text);
    return true;
}

void rf_plan_sum(rf_bmc *b)
{
    double p = 0, e = 0;
    size_t np = 0, ne = 0;
    bool p_ok = true, e_ok = true;
    for (size_t i = 0; i < b->target_count; i++) {
        const rf_target *t = &b->targets[i];
        if (t->use_power) {
            np++;
            if (t->ok && t->r.has_power)
                p += t->r.power_w;
            else
                p_ok = false;
        }
        if (t->use_energy) {
            ne++;
            if (t->ok && t->r.has_energy)
                e += t->r.energy_kwh;
            else
                e_ok = false;
        }
    }
    /* A sum with a part missing would look like a drop in load: no value instead. */
    b->has_power = np > 0 && p_ok;
    b->power_w = b->has_power ? p : 0.0;
    b->has_energy = ne > 0 && e_ok;
    b->energy_kwh = b->has_energy ? e : 0.0;
}
