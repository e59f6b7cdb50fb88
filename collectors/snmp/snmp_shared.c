/* Profiles shared by every instance in the process: the compiled-in ones by name, profile
 * files by their real path. Each is parsed once, on first use, and kept until exit, so a
 * thousand PDUs of one model hold one copy of its points. A profile that failed to parse
 * is remembered as well: its errors are reported once, by the first entry that names it,
 * and the file is not read again for every other entry. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"
#include "grow.h"
#include "snmp_config.h"

typedef struct shared_entry {
    char *key;                  /* compiled-in: its name; file: its real path */
    bool file;
    dcm_snmp_profile *profile;  /* NULL: it did not parse (reported once) */
} shared_entry;

static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_entry *shared;
static size_t shared_count, shared_cap;

bool dcm_snmp_profile_is_file(const char *value)
{
    if (!value)
        return false;
    size_t n = strlen(value);
    return strchr(value, '/') || (n > 5 && strcmp(value + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(value + n - 4, ".yml") == 0);
}

char *dcm_snmp_profile_path(const char *value, const char *config_file)
{
    /* A configuration that is not a file ("<config>", a bare name) has no directory of its
     * own: its relative paths are the current directory's, as open() reads them. */
    const char *slash = value[0] == '/' || !config_file ? NULL : strrchr(config_file, '/');
    size_t dir = slash ? (size_t)(slash - config_file) + 1 : 0;
    size_t n = strlen(value);
    char *out = malloc(dir + n + 1);
    if (!out)
        return NULL;
    if (dir)
        memcpy(out, config_file, dir);
    memcpy(out + dir, value, n + 1);
    return out;
}

static shared_entry *find(const char *key, bool file)
{
    for (size_t i = 0; i < shared_count; i++)
        if (shared[i].file == file && strcmp(shared[i].key, key) == 0)
            return &shared[i];
    return NULL;
}

/* Remembers key -> profile (NULL: failed); takes key. False when out of memory (the
 * caller still owns profile). */
static bool remember(char *key, bool file, dcm_snmp_profile *profile)
{
    if (!dcm_grow((void **)&shared, &shared_cap, shared_count + 1, sizeof *shared, 16))
        return false;
    shared[shared_count++] = (shared_entry){.key = key, .file = file, .profile = profile};
    return true;
}

/* Reads a whole profile file. OK, ENOTFOUND (why says so) or ENOMEM. */
static dcm_snmp_err read_file(const char *path, char **text, size_t *len, char *why,
                              size_t why_size)
{
    dcm_snmp_err e = DCM_SNMP_ENOTFOUND;
    char *buf = NULL;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, why_size, "%s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(why, why_size, "not a regular file");
        goto fail;
    }
    if ((uintmax_t)st.st_size > DCM_CONFIG_MAX_BYTES) {
        snprintf(why, why_size, "larger than %u bytes", DCM_CONFIG_MAX_BYTES);
        goto fail;
    }
    size_t size = (size_t)st.st_size, got = 0;
    if (!(buf = malloc(size + 1))) {
        e = DCM_SNMP_ENOMEM;
        goto fail;
    }
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            snprintf(why, why_size, "%s",
                     r < 0 ? strerror(errno) : "the file changed while being read");
            goto fail;
        }
        got += (size_t)r;
    }
    buf[size] = '\0';
    close(fd);
    *text = buf;
    *len = size;
    return DCM_SNMP_OK;
fail:
    if (fd >= 0)
        close(fd);
    free(buf);
    return e;
}

/* A file that cannot be read: at the `profile:` value, or, when it was not written in a
 * configuration (the command line), at the file itself. */
static void unreadable(dcm_diags *diags, const dcm_node *where, const char *path,
                       const char *file, const char *why)
{
    if (where)
        dcm_diag_at(diags, DCM_DIAG_ERROR, where, path, "cannot read profile file %s: %s", file,
                    why);
    else
        dcm_diags_add(diags, DCM_DIAG_ERROR, file, 0, 0, path, "cannot read: %s", why);
}

/* Called with the lock held. */
static dcm_snmp_err get_embedded(const char *name, const dcm_node *where, const char *path,
                                 const dcm_snmp_profile **out, dcm_diags *diags)
{
    const shared_entry *s = find(name, false);
    if (s) {
        if (!s->profile) {
            dcm_diag_at(diags, DCM_DIAG_ERROR, where, path,
                        "compiled-in profile '%s' is invalid (see its own errors)", name);
            return DCM_SNMP_EINVALID;
        }
        *out = s->profile;
        return DCM_SNMP_OK;
    }
    dcm_snmp_profile *p = NULL;
    dcm_snmp_err e = dcm_snmp_profile_load(name, where, path, &p, diags);
    /* An unknown name is told at each entry that writes it, with a suggestion; memory
     * may be found again later. */
    if (e == DCM_SNMP_ENOTFOUND || e == DCM_SNMP_ENOMEM)
        return e;
    char *key = strdup(name);
    if (!key || !remember(key, false, p)) {
        free(key);
        dcm_snmp_profile_destroy(p);
        return DCM_SNMP_ENOMEM;
    }
    *out = p;
    return e;
}

/* Called with the lock held. */
static dcm_snmp_err get_file(const char *value, const dcm_node *where, const char *path,
                             const dcm_snmp_profile **out, dcm_diags *diags)
{
    dcm_snmp_err e = DCM_SNMP_ENOMEM;
    char *text = NULL, *real = NULL, why[160];
    size_t len = 0;
    dcm_snmp_profile *p = NULL;
    char *resolved = dcm_snmp_profile_path(value, where ? dcm_node_file(where) : NULL);
    if (!resolved)
        goto done;
    if (!(real = realpath(resolved, NULL))) {
        if (errno == ENOMEM)
            goto done;
        e = DCM_SNMP_ENOTFOUND;
        unreadable(diags, where, path, resolved, strerror(errno));
        goto done;
    }
    const shared_entry *s = find(real, true);
    if (s) {
        e = s->profile ? DCM_SNMP_OK : DCM_SNMP_EINVALID;
        if (s->profile)
            *out = s->profile;
        else
            dcm_diag_at(diags, DCM_DIAG_ERROR, where, path,
                        "profile file %s is invalid (see its own errors)", resolved);
        goto done;
    }
    e = read_file(real, &text, &len, why, sizeof why);
    if (e == DCM_SNMP_ENOTFOUND)
        unreadable(diags, where, path, resolved, why);
    if (e != DCM_SNMP_OK)
        goto done;
    /* Its diagnostics name the file as the configuration's directory makes it, which is
     * the path the user can open. */
    e = dcm_snmp_profile_parse_text(text, len, resolved, &p, diags);
    if (e == DCM_SNMP_ENOMEM)
        goto done;
    if (!remember(real, true, p)) {
        dcm_snmp_profile_destroy(p);
        e = DCM_SNMP_ENOMEM;
        goto done;
    }
    real = NULL; /* the cache's now */
    *out = p;
done:
    free(text);
    free(real);
    free(resolved);
    return e;
}

dcm_snmp_err dcm_snmp_profile_get(const char *value, const dcm_node *where, const char *path,
                                  const dcm_snmp_profile **out, dcm_diags *diags)
{
    *out = NULL;
    pthread_mutex_lock(&shared_lock);
    dcm_snmp_err e = dcm_snmp_profile_is_file(value)
                         ? get_file(value, where, path, out, diags)
                         : get_embedded(value ? value : "", where, path, out, diags);
    pthread_mutex_unlock(&shared_lock);
    if (e != DCM_SNMP_OK)
        *out = NULL;
    return e;
}

const dcm_snmp_profile *dcm_snmp_profile_shared(const char *name)
{
    if (!dcm_snmp_profile_find(name))
        return NULL;
    dcm_diags scratch;
    dcm_diags_init(&scratch);
    const dcm_snmp_profile *p = NULL;
    dcm_snmp_profile_get(name, NULL, "profile", &p, &scratch);
    dcm_diags_free(&scratch);
    return p;
}
