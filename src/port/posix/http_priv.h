/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to src/port/posix: what every libcurl transfer of smpdfu shares
 * (http.c's whole download, stream_src.c's streamed one). Only with
 * SMPDFU_HAVE_CURL. */
#ifndef SMPDFU_POSIX_HTTP_PRIV_H
#define SMPDFU_POSIX_HTTP_PRIV_H

#include <curl/curl.h>

/* curl_global_init(), once for the process (it is not thread-safe); its
 * result, the same at every call. */
CURLcode smpdfu_posix_curl_global(void);

/* The options every transfer sets: the URL, no signals (the resolver's
 * SIGALRM), redirects followed (at most 10) but never away from http and
 * https (no file://, ftp://), smpdfu's user agent. */
void smpdfu_posix_curl_common(CURL *c, const char *url);

#endif /* SMPDFU_POSIX_HTTP_PRIV_H */
