/*
 * accumulate.c - increments -> per-point window sums -> role totals.
 *
 * An increment is spread over the windows it overlaps in proportion to time, so that
 * splitting a period into smaller windows never changes its totals.
 */
#include <string.h>

#include "internal.h"

double dcm_point_acc_add(dcm_point_acc *acc, int64_t start_ns, int64_t end_ns,
                         const dcm_increment *inc)
{
    if (!acc || !inc || end_ns <= start_ns)
        return 0.0;
    double share;
    int64_t overlap = 0;
    if (inc->t1_ns <= inc->t0_ns) {
        if (!(start_ns < inc->t1_ns && inc->t1_ns <= end_ns))
            return 0.0;
        share = 1.0;
    } else {
        int64_t lo = inc->t0_ns > start_ns ? inc->t0_ns : start_ns;
        int64_t hi = inc->t1_ns < end_ns ? inc->t1_ns : end_ns;
        if (hi <= lo)
            return 0.0;
        overlap = hi - lo;
        int64_t len = inc->t1_ns - inc->t0_ns;
        share = overlap == len ? 1.0 : (double)overlap / (double)len;
    }
    if (!(inc->flags & DCM_INC_MISSING) && isfinite(inc->amount)) {
        double part = inc->amount * share;
        acc->amount += part;
        if (inc->flags & DCM_INC_ESTIMATED)
            acc->estimated += part;
        acc->covered_s += dcm__ns_to_s(overlap);
    }
    acc->samples++;
    if (inc->correction != DCM_CORR_NONE)
        acc->corrections++;
    return share;
}

double dcm_role_coverage(const dcm_role_sum *r)
{
    if (!r || !(r->expected_s > 0) || !isfinite(r->expected_s) || !isfinite(r->covered_s))
        return 0.0;
    double c = r->covered_s / r->expected_s;
    if (!(c > 0))
        return 0.0;
    return c > 1.0 ? 1.0 : c;
}

void dcm_totals_init(dcm_totals *t, int64_t start_ns, int64_t end_ns, uint32_t zone_count)
{
    if (!t)
        return;
    memset(t, 0, sizeof(*t));
    t->start_ns = start_ns;
    t->end_ns = end_ns;
    t->zone_count = zone_count > DCM_MAX_ZONES ? DCM_MAX_ZONES : zone_count;
}

static void sum_add(dcm_role_sum *r, const dcm_point_acc *acc, bool derived)
{
    r->amount += acc->amount;
    r->estimated += acc->estimated;
    if (derived)
        r->derived += acc->amount;
    r->covered_s += acc->covered_s;
    r->corrections += acc->corrections;
}

/* The zone sum a point belongs to, or NULL. */
static dcm_role_sum *zone_sum(dcm_totals *t, const dcm_point_def *def)
{
    if (def->zone < 0 || (uint32_t)def->zone >= t->zone_count)
        return NULL;
    if (def->zone_part == DCM_ZONE_IT)
        return &t->zone_it[def->zone];
    if (def->zone_part == DCM_ZONE_OVERHEAD)
        return &t->zone_overhead[def->zone];
    return NULL;
}

void dcm__fold_sums(dcm_totals *t, const dcm_point_def *def, const dcm_point_acc *acc)
{
    if (def->quantity == DCM_QTY_OTHER || dcm__is_util(def))
        return;
    bool derived = def->kind == DCM_KIND_GAUGE;
    uint32_t roles = def->roles & DCM__ALL_ROLES;
    for (int r = 0; roles && r < DCM_ROLE_COUNT; r++) {
        if (!(roles & DCM_ROLE_BIT(r)))
            continue;
        roles &= ~DCM_ROLE_BIT(r);
        sum_add(&t->role[r], acc, derived);
    }
    dcm_role_sum *z = zone_sum(t, def);
    if (z)
        sum_add(z, acc, derived);
}

void dcm__fold_util(dcm_totals *t, const dcm_point_def *def, double amount, double covered_s)
{
    if (!dcm__is_util(def) || !(covered_s > 0))
        return;
    double mean = amount / (covered_s / 3600.0);
    if (!isfinite(mean))
        return;
    uint32_t roles = def->roles & DCM__ALL_ROLES;
    for (int r = 0; roles && r < DCM_ROLE_COUNT; r++) {
        if (!(roles & DCM_ROLE_BIT(r)))
            continue;
        roles &= ~DCM_ROLE_BIT(r);
        t->role[r].amount += mean;
        t->role[r].covered_s += covered_s;
        t->role[r].points++;
    }
}

void dcm__fold_shape(dcm_totals *t, const dcm_point_def *def, double window_s)
{
    if (def->quantity == DCM_QTY_OTHER)
        return;
    bool util = dcm__is_util(def);
    uint32_t roles = def->roles & DCM__ALL_ROLES;
    for (int r = 0; roles && r < DCM_ROLE_COUNT; r++) {
        if (!(roles & DCM_ROLE_BIT(r)))
            continue;
        roles &= ~DCM_ROLE_BIT(r);
        t->role[r].expected_s += window_s;
        if (!util)
            t->role[r].points++;
    }
    dcm_role_sum *z = util ? NULL : zone_sum(t, def);
    if (z) {
        z->expected_s += window_s;
        z->points++;
    }
}

void dcm_totals_fold_point(dcm_totals *t, const dcm_point_def *def, const dcm_point_acc *acc)
{
    if (!t || !def || !acc)
        return;
    double window_s = dcm__ns_to_s(t->end_ns - t->start_ns);
    if (!(window_s > 0))
        window_s = 0.0;
    /* Overlapping increments from a confused source must not claim more than the window. */
    dcm_point_acc a = *acc;
    if (a.covered_s > window_s)
        a.covered_s = window_s;
    dcm__fold_shape(t, def, window_s);
    if (dcm__is_util(def))
        dcm__fold_util(t, def, a.amount, a.covered_s);
    else
        dcm__fold_sums(t, def, &a);
}

static void role_add_sums(dcm_role_sum *a, const dcm_role_sum *b)
{
    a->amount += b->amount;
    a->estimated += b->estimated;
    a->derived += b->derived;
    a->covered_s += b->covered_s;
    a->corrections += b->corrections;
}

static bool is_util_role(int r)
{
    return (DCM_ROLE_BIT(r) & DCM__UTIL_ROLES) != 0;
}

void dcm__totals_add_sums(dcm_totals *a, const dcm_totals *b)
{
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        if (!is_util_role(r))
            role_add_sums(&a->role[r], &b->role[r]);
    uint32_t zones = a->zone_count < b->zone_count ? a->zone_count : b->zone_count;
    for (uint32_t z = 0; z < zones; z++) {
        role_add_sums(&a->zone_it[z], &b->zone_it[z]);
        role_add_sums(&a->zone_overhead[z], &b->zone_overhead[z]);
    }
    a->instruments.certificates_kwh += b->instruments.certificates_kwh;
    a->instruments.ppa_kwh += b->instruments.ppa_kwh;
}

/* Consecutive windows: sums add, the point set is the larger of the two. */
static void role_merge(dcm_role_sum *a, const dcm_role_sum *b)
{
    role_add_sums(a, b);
    a->expected_s += b->expected_s;
    if (b->points > a->points)
        a->points = b->points;
}

/* Utilisation: the merged value (amount / points) is the mean of the two windows'
 * values weighted by their covered time. */
static void util_merge(dcm_role_sum *a, const dcm_role_sum *b)
{
    uint32_t points = a->points > b->points ? a->points : b->points;
    double va = a->points ? a->amount / a->points : 0.0;
    double vb = b->points ? b->amount / b->points : 0.0;
    double wa = a->points ? a->covered_s : 0.0;
    double wb = b->points ? b->covered_s : 0.0;
    double mean = 0.0;
    if (wa + wb > 0)
        mean = (va * wa + vb * wb) / (wa + wb);
    else if (a->points && b->points)
        mean = 0.5 * (va + vb);
    else
        mean = a->points ? va : vb;
    a->amount = isfinite(mean) ? mean * points : 0.0;
    a->points = points;
    a->estimated += b->estimated;
    a->derived += b->derived;
    a->covered_s += b->covered_s;
    a->expected_s += b->expected_s;
    a->corrections += b->corrections;
}

void dcm_totals_merge(dcm_totals *a, const dcm_totals *b)
{
    if (!a || !b)
        return;
    for (int r = 0; r < DCM_ROLE_COUNT; r++) {
        if (is_util_role(r))
            util_merge(&a->role[r], &b->role[r]);
        else
            role_merge(&a->role[r], &b->role[r]);
    }
    uint32_t bz = b->zone_count > DCM_MAX_ZONES ? DCM_MAX_ZONES : b->zone_count;
    if (bz > a->zone_count)
        a->zone_count = bz;
    for (uint32_t z = 0; z < bz; z++) {
        role_merge(&a->zone_it[z], &b->zone_it[z]);
        role_merge(&a->zone_overhead[z], &b->zone_overhead[z]);
    }
    a->instruments.certificates_kwh += b->instruments.certificates_kwh;
    a->instruments.ppa_kwh += b->instruments.ppa_kwh;
    if (b->start_ns < a->start_ns)
        a->start_ns = b->start_ns;
    if (b->end_ns > a->end_ns)
        a->end_ns = b->end_ns;
}
