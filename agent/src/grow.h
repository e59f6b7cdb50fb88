/*
 * grow.h - the one way the agent grows a dynamic array: doubling, overflow-checked, and
 * leaving the array untouched when memory runs out (the caller reports it).
 */
#ifndef DCM_GROW_H
#define DCM_GROW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* Makes room for at least `need` elements of `size` bytes in *items (capacity *cap),
 * starting at `initial` and doubling. Returns false (nothing changed) on overflow or
 * when allocation fails. */
static inline bool dcm_grow(void **items, size_t *cap, size_t need, size_t size, size_t initial)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : (initial ? initial : 1);
    while (n < need) {
        if (n > SIZE_MAX / 2)
            return false;
        n *= 2;
    }
    if (n > SIZE_MAX / size)
        return false;
    void *grown = realloc(*items, n * size);
    if (!grown)
        return false;
    *items = grown;
    *cap = n;
    return true;
}

#endif
