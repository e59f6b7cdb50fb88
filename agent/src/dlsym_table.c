/* Run-time symbol resolution shared by the libraries loaded with dlopen. */
#include "dlsym_table.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void *dcm_dl_open(const char *path, char *why, size_t why_size)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *e = dlerror();
        snprintf(why, why_size, "%s", e ? e : path);
    }
    return handle;
}

/* dlsym returns void *; ISO C has no conversion to a function pointer, POSIX guarantees
 * this copy works. */
bool dcm_dl_resolve(void *handle, const char *name, void *fn_ptr_out)
{
    void *sym = dlsym(handle, name);
    if (!sym)
        return false;
    memcpy(fn_ptr_out, &sym, sizeof sym);
    return true;
}

const char *dcm_dl_resolve_table(void *handle, const dcm_dl_symbol *syms, size_t count,
                                 void *table)
{
    for (size_t i = 0; i < count; i++)
        if (!dcm_dl_resolve(handle, syms[i].name, (char *)table + syms[i].offset))
            return syms[i].name;
    return NULL;
}
