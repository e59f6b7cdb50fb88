/*
 * web_assets.h - the live page's files (dashboards/web/), compiled into the binary at
 * build time by embed_web.cmake so the agent serves its dashboard with no files and no
 * internet at run time.
 */
#ifndef DCM_WEB_ASSETS_H
#define DCM_WEB_ASSETS_H

#include <stddef.h>

typedef struct dcm_web_asset {
    const char *path;          /* "/index.html": the file's path under dashboards/web */
    const unsigned char *data;
    size_t len;
    const char *etag;          /* "\"<first 16 hex digits of its SHA-256>\"" */
} dcm_web_asset;

extern const dcm_web_asset dcm_web_assets[];
extern const size_t dcm_web_asset_count;

#endif
