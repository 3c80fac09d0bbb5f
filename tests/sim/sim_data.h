/* Deterministic provider data served by segsim and used by tests to compute expected results.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_DATA_H
#define SIM_DATA_H

#include <stddef.h>

#define SIM_KLAVIYO_SEGMENTS  25 /* 3 pages of 10,10,5 */
#define SIM_SENDGRID_SEGMENTS 12

/* Time rendering variants used for Klaviyo "created"/"updated". */
#define SIM_KTIME_UTC   0 /* 2026-01-02T03:04:05+00:00 */
#define SIM_KTIME_PLUS2 1 /* same instant written with a +02:00 offset */
#define SIM_KTIME_MICROS                                                                           \
    2 /* 2026-01-02T03:04:05.123456+00:00 (fraction is decoration; epoch is truth) */

struct sim_klaviyo_segment {
    char id[16]; /* 6 alphanumerics, e.g. "Xk3aP9" */
    char name[64];
    long long created_epoch;
    long long updated_epoch;
    int is_active;
    int is_processing;
    int is_starred;
    long profile_count;
};

/* Fill *out with Klaviyo segment i (0 <= i < SIM_KLAVIYO_SEGMENTS); out of range zeroes *out. */
void sim_klaviyo_segment(int i, struct sim_klaviyo_segment *out);
/* Index of the segment with this id, or -1. */
int sim_klaviyo_find(const char *id);
/* Render epoch seconds the way the sim does for the given variant (SIM_KTIME_*). */
void sim_klaviyo_time(long long epoch, int variant, char *buf, size_t n);
/* Variant used for segment i: which = 0 for "created", 1 for "updated". */
int sim_klaviyo_time_variant(int i, int which);
/* Static JSON text of attributes.definition for segment i, or NULL when the sim sends null. */
const char *sim_klaviyo_definition_json(int i);

struct sim_sendgrid_segment {
    char id[37]; /* lower-case UUID */
    char name[64];
    long contacts_count;
    long long created_epoch, updated_epoch;
    long long sample_updated_epoch; /* 0 => null */
    long long next_sample_epoch;    /* 0 => null */
    const char *query_validation;   /* "VALID" | "PENDING" | "INVALID" */
    const char *error_message;      /* NULL unless INVALID */
    char query_dsl[160];
    char parent_list_id[37]; /* "" => parent_list_ids is null */
};

/* Fill *out with SendGrid v2 segment i (0 <= i < SIM_SENDGRID_SEGMENTS); out of range zeroes *out.
 */
void sim_sendgrid_segment(int i, struct sim_sendgrid_segment *out);
/* Index of the segment with this id, or -1. */
int sim_sendgrid_find(const char *id);
/* Render epoch seconds as SendGrid does: 2026-01-02T03:04:05Z. */
void sim_sendgrid_time(long long epoch, char *buf, size_t n);

/* ---- the data set of the table-driven profiles (sim_profile.h): one set of segments and
 * members, rendered by each profile in its provider's shape and ids. ---- */
#define SIM_GEN_SEGMENTS 7 /* pages of 3, 3, 1 with page_size 3 */

enum sim_gen_state {
    SIM_GEN_ACTIVE = 0,
    SIM_GEN_PENDING,
    SIM_GEN_PROCESSING,
    SIM_GEN_INACTIVE,
    SIM_GEN_FAILED
};

struct sim_gen_segment {
    char name[48];
    char description[48];
    long long created_epoch;
    long long updated_epoch;
    long long calculated_epoch;
    long member_count; /* also the number of members the profiles list (2..5) */
    enum sim_gen_state state;
};

struct sim_gen_member {
    char email[64];
    char first_name[24];
    char last_name[24];
    long long created_epoch;
};

/* Segment i (0 <= i < SIM_GEN_SEGMENTS); out of range zeroes *out. */
void sim_gen_segment(int i, struct sim_gen_segment *out);
/* Member k (0 <= k < member_count) of segment i. */
void sim_gen_member(int i, int k, struct sim_gen_member *out);

#endif
