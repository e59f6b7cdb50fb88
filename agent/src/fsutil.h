/*
 * fsutil.h - file-system chores shared by commands, benchmarks and tests.
 */
#ifndef DCM_FSUTIL_H
#define DCM_FSUTIL_H

/* Removes path and everything below it, without following symbolic links. Returns 0, or
 * -1 if something could not be removed (errno says why); a missing path is not an error. */
int dcm_remove_tree(const char *path);

#endif
