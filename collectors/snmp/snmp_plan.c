/* A device's read plan and the bookkeeping of table walks. No library calls: unit-tested
 * with hand-made replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snmp_plan.h"

static void walk_free(dcm_snmp_walk *w)
{
    free(w->cols);
    free(w->val);
    free(w->hel_a);
    free(w->hel_b);
    free(w->hel_f);
    free(w->mean_slots);
    free(w->cursor);
    free(w->done);
    free(w->rows);
    free(w->cells);
    free(w->got);
    free(w->slots);
    free(w->sum_slots);
    memset(w, 0, sizeof *w);
}

void dcm_snmp_plan_free(dcm_snmp_plan *plan)
{
    for (size_t i = 0; i < plan->nwalks; i++)
        walk_free(&plan->walks[i]);
    free(plan->walks);
    free(plan->scalars);
    memset(plan, 0, sizeof *plan);
}

static int col_index(dcm_snmp_walk *w, const dcm_snmp_oid *o)
{
    for (size_t i = 0; i < w->ncols; i++)
        if (dcm_snmp_oid_cmp(&w->cols[i], o) == 0)
            return (int)i;
    w->cols[w->ncols] = *o;
    return (int)w->ncols++;
}

static bool walk_init(dcm_snmp_walk *w, const dcm_snmp_table *t)
{
    size_t n = t->column_count;
    memset(w, 0, sizeof *w);
    w->t = t;
    w->cols = calloc(4 * n, sizeof *w->cols);
    w->hel_f = calloc(n, sizeof *w->hel_f);
    w->mean_slots = calloc(n, sizeof *w->mean_slots);
    w->val = calloc(n, sizeof *w->val);
    w->hel_a = calloc(n, sizeof *w->hel_a);
    w->hel_b = calloc(n, sizeof *w->hel_b);
    w->sum_slots = calloc(n, sizeof *w->sum_slots);
    if (!w->cols || !w->val || !w->hel_a || !w->hel_b || !w->sum_slots || !w->hel_f ||
        !w->mean_slots)
        return false;
    for (size_t k = 0; k < n; k++)
        w->val[k] = col_index(w, &t->columns[k].oid);
    for (size_t k = 0; k < n; k++) {
        const dcm_snmp_point *p = &t->columns[k];
        w->hel_a[k] = p->devscale ? col_index(w, &p->helpers->scale_oid) : -1;
        w->hel_b[k] = p->devscale == DCM_SNMP_DEVSCALE_ENTITY
                          ? col_index(w, &p->helpers->precision_oid)
                                                              : -1;
        w->hel_f[k] = p->has_filter ? col_index(w, &p->helpers->filter_oid) : -1;
        w->sum_slots[k] = UINT32_MAX;
        w->mean_slots[k] = UINT32_MAX;
    }
    w->cursor = calloc(w->ncols, sizeof *w->cursor);
    w->done = calloc(w->ncols, sizeof *w->done);
    return w->cursor && w->done;
}

static const dcm_snmp_point *own_point(const dcm_snmp_instance *inst, const char *name)
{
    for (size_t i = 0; inst && i < inst->point_count; i++)
        if (strcmp(inst->points[i].name, name) == 0)
            return &inst->points[i];
    return NULL;
}

static const dcm_snmp_table *own_table(const dcm_snmp_instance *inst, const char *name)
{
    for (size_t i = 0; inst && i < inst->table_count; i++)
        if (strcmp(inst->tables[i].name, name) == 0)
            return &inst->tables[i];
    return NULL;
}

dcm_snmp_err dcm_snmp_plan_build(dcm_snmp_plan *plan, const dcm_snmp_profile *profile,
                                 const dcm_snmp_instance *inst)
{
    memset(plan, 0, sizeof *plan);
    size_t ps = profile ? profile->point_count : 0, pt = profile ? profile->table_count : 0;
    size_t os = inst ? inst->point_count : 0, ot = inst ? inst->table_count : 0;
    plan->scalars = calloc(ps + os + 1, sizeof *plan->scalars);
    plan->walks = calloc(pt + ot + 1, sizeof *plan->walks);
    if (!plan->scalars || !plan->walks)
        goto nomem;
    for (size_t i = 0; i < ps; i++)
        if (!own_point(inst, profile->points[i].name))
            plan->scalars[plan->nscalars++].p = &profile->points[i];
    for (size_t i = 0; i < os; i++)
        plan->scalars[plan->nscalars++].p = &inst->points[i];
    for (size_t i = 0; i < plan->nscalars; i++)
        plan->scalars[i].slot = UINT32_MAX;
    for (size_t i = 0; i < pt + ot; i++) {
        const dcm_snmp_table *t = i < pt ? &profile->tables[i] : &inst->tables[i - pt];
        if (i < pt && own_table(inst, t->name))
            continue;
        if (!walk_init(&plan->walks[plan->nwalks++], t))
            goto nomem;
    }
    return DCM_SNMP_OK;
nomem:
    dcm_snmp_plan_free(plan);
    return DCM_SNMP_ENOMEM;
}

void dcm_snmp_walk_reset(dcm_snmp_walk *w)
{
    for (size_t c = 0; c < w->ncols; c++) {
        w->cursor[c] = w->cols[c];
        w->done[c] = false;
    }
    for (size_t r = 0; r < w->nrows; r++)
        w->rows[r].seen = false;
    if (w->got)
        memset(w->got, 0, w->nrows * w->ncols);
    w->hint = 0;
}

static bool same_index(const dcm_snmp_row *r, const uint32_t *idx, size_t n)
{
    return r->n == n && memcmp(r->idx, idx, n * sizeof *idx) == 0;
}

/* The row of idx: found where the previous walk had it (usually the next one), or
 * appended. SIZE_MAX on memory exhaustion. */
static size_t find_row(dcm_snmp_walk *w, const uint32_t *idx, size_t n)
{
    if (w->hint < w->nrows && same_index(&w->rows[w->hint], idx, n))
        return w->hint++;
    for (size_t r = 0; r < w->nrows; r++)
        if (same_index(&w->rows[r], idx, n)) {
            w->hint = r + 1;
            return r;
        }
    if (w->nrows == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        size_t nt = w->t->column_count;
        dcm_snmp_row *rows = realloc(w->rows, cap * sizeof *rows);
        if (rows)
            w->rows = rows;
        dcm_snmp_value *cells = realloc(w->cells, cap * w->ncols * sizeof *cells);
        if (cells)
            w->cells = cells;
        uint8_t *got = realloc(w->got, cap * w->ncols);
        if (got)
            w->got = got;
        uint32_t *slots = realloc(w->slots, cap * nt * sizeof *slots);
        if (slots)
            w->slots = slots;
        if (!rows || !cells || !got || !slots)
            return SIZE_MAX;
        w->cap = cap;
    }
    size_t r = w->nrows++;
    memset(&w->rows[r], 0, sizeof w->rows[r]);
    memcpy(w->rows[r].idx, idx, n * sizeof *idx);
    w->rows[r].n = (uint8_t)n;
    memset(w->got + r * w->ncols, 0, w->ncols);
    for (size_t k = 0; k < w->t->column_count; k++)
        w->slots[r * w->t->column_count + k] = UINT32_MAX;
    w->hint = r + 1;
    return r;
}

bool dcm_snmp_walk_cell(dcm_snmp_walk *w, size_t c, const dcm_snmp_oid *name,
                        const dcm_snmp_value *v, bool *oom)
{
    uint32_t idx[DCM_SNMP_INDEX_MAX];
    size_t n;
    if (v->type == DCM_SNMP_V_ENDOFMIBVIEW || v->type == DCM_SNMP_V_NOSUCHOBJECT ||
        v->type == DCM_SNMP_V_NOSUCHINSTANCE ||
        !dcm_snmp_oid_index(name, &w->cols[c], idx, DCM_SNMP_INDEX_MAX, &n) ||
        dcm_snmp_oid_cmp(name, &w->cursor[c]) <= 0)
        return false;
    w->cursor[c] = *name;
    size_t r = find_row(w, idx, n);
    if (r == SIZE_MAX) {
        *oom = true;
        return false;
    }
    w->rows[r].seen = true;
    w->cells[r * w->ncols + c] = *v;
    w->got[r * w->ncols + c] = 1;
    return true;
}

static bool cell_number(const dcm_snmp_walk *w, size_t r, int c, long *out)
{
    double d;
    if (c < 0 || !w->got[r * w->ncols + (size_t)c] ||
        dcm_snmp_value_number(&w->cells[r * w->ncols + (size_t)c], &d) != DCM_QUALITY_OK)
        return false;
    *out = (long)d;
    return true;
}

void dcm_snmp_walk_emit(dcm_snmp_walk *w, const dcm_snmp_dev_events *ev)
{
    const dcm_snmp_table *t = w->t;
    size_t nt = t->column_count;
    for (size_t k = 0; k < nt; k++) {
        const dcm_snmp_point *p = &t->columns[k];
        double sum = 0;
        dcm_quality sum_q = DCM_QUALITY_OK;
        size_t summed = 0;
        for (size_t r = 0; r < w->nrows; r++) {
            const dcm_snmp_row *row = &w->rows[r];
            size_t c = (size_t)w->val[k];
            if (!row->seen || !w->got[r * w->ncols + c])
                continue;
            if (p->has_select && (row->n < 2 || row->idx[row->n - 1] != p->select))
                continue;
            double fv;
            if (p->has_filter &&
                (w->hel_f[k] < 0 || !w->got[r * w->ncols + (size_t)w->hel_f[k]] ||
                 dcm_snmp_value_number(&w->cells[r * w->ncols + (size_t)w->hel_f[k]], &fv) !=
                     DCM_QUALITY_OK ||
                 fv != p->filter_value))
                continue;
            char rowname[96], name[256];
            if (!dcm_snmp_index_name(row->idx, row->n, p->has_select, rowname, sizeof rowname))
                continue;
            snprintf(name, sizeof name, "%s.%s.%s", t->name, rowname, p->name);
            const dcm_snmp_value *raw = &w->cells[r * w->ncols + c];
            double x = 0, v = 0;
            long a = 0, b = 0;
            dcm_quality q = dcm_snmp_value_number(raw, &x);
            if (q == DCM_QUALITY_OK && p->devscale &&
                (!cell_number(w, r, w->hel_a[k], &a) ||
                 (p->devscale == DCM_SNMP_DEVSCALE_ENTITY && !cell_number(w, r, w->hel_b[k], &b))))
                q = DCM_QUALITY_INVALID; /* the scale is unknown: so is the value */
            if (q == DCM_QUALITY_OK)
                q = dcm_snmp_point_value(p, x, a, b, &v);
            ev->value(ev->ud, &w->slots[r * nt + k], name, p, raw, v, q);
            summed++;
            if (q == DCM_QUALITY_OK)
                sum += v;
            else
                sum_q = DCM_QUALITY_INVALID;
        }
        if (p->sum && summed)
            ev->value(ev->ud, &w->sum_slots[k], p->sum, p, NULL, sum, sum_q);
        if (p->mean && summed)
            ev->value(ev->ud, &w->mean_slots[k], p->mean, p, NULL, sum / (double)summed, sum_q);
    }
    size_t seen = 0;
    for (size_t r = 0; r < w->nrows; r++)
        seen += w->rows[r].seen;
    w->last_rows = seen;
}

void dcm_snmp_scalar_emit(dcm_snmp_scalar *s, const dcm_snmp_value *v,
                          const dcm_snmp_dev_events *ev)
{
    double x = 0, out = 0;
    dcm_quality q = dcm_snmp_value_number(v, &x);
    if (q == DCM_QUALITY_OK)
        q = dcm_snmp_point_value(s->p, x, 0, 0, &out);
    ev->value(ev->ud, &s->slot, s->p->name, s->p, v, out, q);
}
