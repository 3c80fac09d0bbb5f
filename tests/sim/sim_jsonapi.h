/* JSON:API list conventions a profile can switch on: the filter expression language
 * (equals/any/greater-than terms combined with and() or commas) over fields the profile declares,
 * and opaque page cursors.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_JSONAPI_H
#define SIM_JSONAPI_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "sim_expr.h"

#define SIM_JF_MAX_TERMS  8
#define SIM_JF_MAX_VALUES 16
#define SIM_JF_VALUE_LEN  96

enum sim_jf_type { JF_STRING, JF_BOOL, JF_TIME };
enum sim_jf_op { JF_EQUALS, JF_ANY, JF_GREATER_THAN };

struct sim_jf_term {
    char field[32];
    enum sim_jf_type type;
    enum sim_jf_op op;
    int n; /* number of values */
    char values[SIM_JF_MAX_VALUES][SIM_JF_VALUE_LEN];
    int bools[SIM_JF_MAX_VALUES];
    long long epoch; /* greater-than operand */
};

/* All terms must match (AND). */
struct sim_jfilter {
    int n;
    struct sim_jf_term terms[SIM_JF_MAX_TERMS];
};

/* Parse a filter parameter against the profile's field declarations
 * ({"name": {"type": "string"|"bool"|"time", "ops": ["equals", "any", "greater-than"]}}).
 * 0 on success; -1 with a human-readable reason in err. */
int sim_jfilter_parse(const char *s, const cJSON *fields, struct sim_jfilter *out, char *err,
                      size_t errn);
/* 1 when the record whose fields are bound in c matches every term. */
int sim_jfilter_match(const struct sim_jfilter *f, const struct sim_ctx *c);

/* Opaque cursor for a list offset: base64url("segsim:<offset>") without padding. */
int sim_jcursor_encode(long long offset, char *buf, size_t n);
/* 0 and *offset on success, -1 for anything that is not a cursor this simulator produced. */
int sim_jcursor_decode(const char *s, long *offset);

#endif
