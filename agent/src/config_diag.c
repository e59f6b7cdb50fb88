/* Configuration diagnostics: collecting them, printing them, and suggesting the key the
 * user probably meant. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "grow.h"

const char *dcm_config_strerror(dcm_config_err err)
{
    switch (err) {
    case DCM_CONFIG_OK: return "ok";
    case DCM_CONFIG_EIO: return "the configuration file cannot be read";
    case DCM_CONFIG_ESYNTAX: return "YAML syntax error";
    case DCM_CONFIG_EINVALID: return "invalid configuration";
    case DCM_CONFIG_ENOMEM: return "out of memory";
    }
    return "unknown error";
}

void dcm_diags_init(dcm_diags *d)
{
    memset(d, 0, sizeof(*d));
}

void dcm_diags_free(dcm_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].file);
        free(d->items[i].path);
        free(d->items[i].message);
    }
    free(d->items);
    memset(d, 0, sizeof(*d));
}

/* A diagnostic is one line: keys and values quoted from the file may hold newlines or
 * terminal escapes, which must not reach the output as such. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = '?';
}

/* Formats with a va_list (printf-checked at the public entry points). */
__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

__attribute__((format(printf, 7, 0))) static void
diags_addv(dcm_diags *d, dcm_diag_severity sev, const char *file, int line, int column,
           const char *path, const char *fmt, va_list ap)
{
    /* Count first: a dropped error must still make the load fail. */
    if (sev == DCM_DIAG_ERROR)
        d->errors++;
    if (!dcm_grow((void **)&d->items, &d->cap, d->count + 1, sizeof *d->items, 16))
        return;
    dcm_diag *g = &d->items[d->count];
    memset(g, 0, sizeof(*g));
    g->severity = sev;
    g->line = line > 0 ? line : 0;
    g->column = column > 0 ? column : 0;
    g->file = strdup(file ? file : "");
    g->path = strdup(path ? path : "");
    g->message = vformat(fmt, ap);
    if (!g->file || !g->path || !g->message) {
        free(g->file);
        free(g->path);
        free(g->message);
        return;
    }
    one_line(g->path);
    one_line(g->message);
    d->count++;
}

void dcm_diags_add(dcm_diags *d, dcm_diag_severity sev, const char *file, int line, int column,
                   const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diags_addv(d, sev, file, line, column, path, fmt, ap);
    va_end(ap);
}

void dcm_diag_at(dcm_diags *d, dcm_diag_severity sev, const dcm_node *n, const char *path,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diags_addv(d, sev, n ? n->file : NULL, n ? n->line : 0, n ? n->column : 0, path, fmt, ap);
    va_end(ap);
}

void dcm_diags_print(const dcm_diags *d, FILE *out)
{
    for (size_t i = 0; i < d->count; i++) {
        const dcm_diag *g = &d->items[i];
        const char *sev = g->severity == DCM_DIAG_ERROR ? "error" : "warning";
        if (g->line > 0)
            fprintf(out, "%s:%d:%d: %s: ", g->file, g->line, g->column, sev);
        else
            fprintf(out, "%s: %s: ", g->file, sev);
        if (g->path[0])
            fprintf(out, "%s: ", g->path);
        fprintf(out, "%s\n", g->message);
    }
    /* Diagnostics that could not be stored are still counted: say so rather than
     * leaving the user with an error count and nothing to read. */
    size_t stored_errors = 0;
    for (size_t i = 0; i < d->count; i++)
        stored_errors += d->items[i].severity == DCM_DIAG_ERROR;
    if (d->errors > stored_errors)
        fprintf(out, "(%zu more errors could not be reported: out of memory)\n",
                d->errors - stored_errors);
}

/* ------------------------------------------------------------- suggestions */

#define SUGGEST_MAX_LEN 64

/* Optimal string alignment distance (Damerau-Levenshtein without repeated edits of one
 * substring), case-insensitive: a swapped pair of letters is one typo, not two. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t rows[3][SUGGEST_MAX_LEN + 1];
    size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            size_t cost = ca == cb ? 0 : 1;
            size_t v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *dcm_suggest(const char *word, const char *const *candidates, size_t n)
{
    if (!word || !candidates)
        return NULL;
    size_t lw = strlen(word);
    if (lw == 0 || lw > SUGGEST_MAX_LEN)
        return NULL;
    /* Short words tolerate one typo, longer ones a few: beyond that the "suggestion"
     * is a different word and only confuses. */
    size_t limit = lw <= 3 ? 1 : lw <= 6 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c)
            continue;
        size_t lc = strlen(c);
        if (lc == 0 || lc > SUGGEST_MAX_LEN || strcmp(c, word) == 0)
            continue;
        size_t d = edit_distance(word, lw, c, lc);
        /* Replacing every letter of a short candidate is not a typo of it. */
        if (d >= lc)
            continue;
        if (d < best_d) {
            best_d = d;
            best = c;
        }
    }
    return best;
}
