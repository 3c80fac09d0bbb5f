/* URL pieces built from untrusted values: percent-encoding, query strings, and re-basing a
 * provider's pagination link onto the operator's base URL so a job or a provider can never
 * steer a request to another host.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_URL_H
#define SW_URL_H

#include "sw_buf.h"
#include "sw_err.h"

/* Append s percent-encoded: everything but RFC 3986 unreserved characters is escaped. */
int sw_url_encode(struct sw_buf *b, const char *s);

/* The longest value a job may put into one path segment. */
#define SW_URL_MAX_SEGMENT 512

/* Whether s may be one path segment before it is encoded: not empty, not "." or "..", at most
 * SW_URL_MAX_SEGMENT bytes, and neither s nor any percent-decoding of it (a gateway may decode
 * once or twice) holds a control character, '/', '\', '?' or '#', or is a dot segment. NULL when
 * it may; else why not, as a phrase ("contains '/'") for a message naming the parameter. */
const char *sw_url_segment_why(const char *s);

/* Append "name=value" (both encoded) with '?' or '&' as needed. */
int sw_url_add_query(struct sw_buf *b, const char *name, const char *value);

/* Split "scheme://authority/path?q" into the origin (scheme://authority) length and path start.
 * Returns 0 when the URL is absolute http(s). */
int sw_url_split(const char *url, size_t *origin_len, const char **path);

/* Build base + (link's path and query): link may be absolute (any host: only its path and query
 * are kept) or a path. When base has a path prefix and the link's path already starts with it,
 * the prefix is not doubled. A path with ".." or "." segments (also percent-encoded) or a
 * fragment/control characters is refused with SW_E_RESPONSE_INVALID. *out is malloc'd. */
sw_err_t sw_url_rebase(const char *base, const char *link, char **out, struct sw_status *st);

#endif
