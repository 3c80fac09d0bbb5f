/* Klaviyo list query helpers: filter expressions, opaque cursors, URL building (providers.md §1.3).
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_KQUERY_H
#define SIM_KQUERY_H

#include <stddef.h>

#include "sim_data.h"

#define SIM_KF_MAX_TERMS  8
#define SIM_KF_MAX_VALUES 16
#define SIM_KF_VALUE_LEN  96

enum sim_kf_field { KF_NAME, KF_ID, KF_IS_ACTIVE, KF_IS_STARRED, KF_CREATED, KF_UPDATED };
enum sim_kf_op { KF_EQUALS, KF_ANY, KF_GREATER_THAN };

struct sim_kf_term {
    enum sim_kf_field field;
    enum sim_kf_op op;
    int n; /* number of values */
    char values[SIM_KF_MAX_VALUES][SIM_KF_VALUE_LEN];
    int bools[SIM_KF_MAX_VALUES];
    long long epoch; /* greater-than operand */
};

/* All terms must match (AND). */
struct sim_kfilter {
    int n;
    struct sim_kf_term terms[SIM_KF_MAX_TERMS];
};

/* Parse a filter parameter. 0 on success; -1 with a human-readable reason in err. */
int sim_kfilter_parse(const char *s, struct sim_kfilter *out, char *err, size_t errn);
/* 1 when segment s matches every term. */
int sim_kfilter_match(const struct sim_kfilter *f, const struct sim_klaviyo_segment *s);

/* Opaque cursor for a list offset: base64url("segsim:<offset>") without padding. */
int sim_kcursor_encode(long offset, char *buf, size_t n);
/* 0 and *offset on success, -1 for anything that is not a cursor this sim produced. */
int sim_kcursor_decode(const char *s, long *offset);

/* Append the percent-encoding of s (RFC 3986 unreserved kept) to buf at *len; -1 on overflow. */
int sim_url_append_encoded(char *buf, size_t n, size_t *len, const char *s);
/* Append plain text; -1 on overflow. */
int sim_url_append(char *buf, size_t n, size_t *len, const char *s);

#endif
