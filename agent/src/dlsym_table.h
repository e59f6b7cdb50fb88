/*
 * dlsym_table.h - filling a struct of function pointers from a library opened at run time
 * (the GPU collectors load their vendor library with dlopen so that the agent has no
 * link-time dependency on it).
 */
#ifndef DCM_DLSYM_TABLE_H
#define DCM_DLSYM_TABLE_H

#include <stdbool.h>
#include <stddef.h>

/* One entry point: its symbol name and the offsetof() of its function pointer in the
 * caller's table struct. */
typedef struct dcm_dl_symbol {
    const char *name;
    size_t offset;
} dcm_dl_symbol;

/* dlopen(path, RTLD_NOW | RTLD_LOCAL): the library's symbols resolve nothing else in the
 * process. NULL on failure, with dlerror()'s text (or path) in why. The caller dlclose()s
 * the handle. */
void *dcm_dl_open(const char *path, char *why, size_t why_size);

/* Copies the address of symbol name into the function pointer at fn_ptr_out (left
 * unchanged when the library lacks it); false when it does. */
bool dcm_dl_resolve(void *handle, const char *name, void *fn_ptr_out);

/* Resolves syms[0..count) into table; NULL when all are there, else the first name the
 * library lacks (the table is then partly filled). */
const char *dcm_dl_resolve_table(void *handle, const dcm_dl_symbol *syms, size_t count,
                                 void *table);

#endif
