/* Deterministic provider data (see sim_data.h): fixed tables plus arithmetic on the index, no
 * state. SPDX-License-Identifier: Apache-2.0 */
#include "sim_data.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* 2026-01-05T09:00:00Z; all times are offsets from here so they stay plausible and ordered. */
#define SIM_EPOCH_BASE 1767603600LL

/* Names cover the cases mappers get wrong: a double quote, non-ASCII UTF-8, a slash, a backslash.
 */
static const char *const klaviyo_names[SIM_KLAVIYO_SEGMENTS] = {
    "Engaged 30 days",
    "VIP \"Gold\" buyers",
    "Caf\xc3\xa9 visitors",
    "EU/UK newsletter",
    "Abandoned cart",
    "New subscribers",
    "Lapsed customers",
    "High AOV",
    "Z\xc3\xbcrich shoppers",
    "Sale/Clearance fans",
    "Back\\slash test",
    "Birthday this month",
    "SMS opt-in",
    "Winback 90d",
    "Loyalty tier 1",
    "Loyalty tier 2",
    "Loyalty tier 3",
    "Product reviewers",
    "Mobile app users",
    "Na\xc3\xafve \"early\" birds",
    "Gift buyers",
    "Wholesale",
    "Newsletter only",
    "Unengaged 180d",
    "Test segment",
};

static const char *const sendgrid_names[SIM_SENDGRID_SEGMENTS] = {
    "All engaged",   "Opened last 7d", "Gmail users",    "Unengaged",
    "Europe/Paris",  "\"Quoted\" one", "Se\xc3\xb1ores", "Pending import",
    "Clicked promo", "Bad query",      "Recently added", "Bad column",
};

static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void klaviyo_id(int i, char *out)
{
    /* Multiplying by a constant coprime to 62 permutes the residues, so ids are distinct. */
    unsigned long long space = 62ULL * 62 * 62 * 62 * 62 * 62;
    unsigned long long x = ((unsigned long long)i * 3141592653ULL + 9876543211ULL) % space;
    int k;

    for (k = 5; k >= 0; k--) {
        out[k] = alnum[x % 62];
        x /= 62;
    }
    out[6] = '\0';
}

void sim_klaviyo_segment(int i, struct sim_klaviyo_segment *out)
{
    memset(out, 0, sizeof(*out));
    if (i < 0 || i >= SIM_KLAVIYO_SEGMENTS) {
        return;
    }
    klaviyo_id(i, out->id);
    snprintf(out->name, sizeof(out->name), "%s", klaviyo_names[i]);
    out->created_epoch = SIM_EPOCH_BASE + (long long)i * 86400 + (long long)i * 137;
    out->updated_epoch = out->created_epoch + 3600 + (long long)(i % 4) * 86400 * 3;
    out->is_active = !(i % 6 == 5);
    out->is_processing = (i % 7 == 2);
    out->is_starred = (i % 4 == 1);
    out->profile_count = (i % 9 == 8) ? 0 : 1000L + (long)i * 731L;
}

int sim_klaviyo_find(const char *id)
{
    char buf[8];
    int i;

    if (!id) {
        return -1;
    }
    for (i = 0; i < SIM_KLAVIYO_SEGMENTS; i++) {
        klaviyo_id(i, buf);
        if (strcmp(buf, id) == 0) {
            return i;
        }
    }
    return -1;
}

void sim_klaviyo_time(long long epoch, int variant, char *buf, size_t n)
{
    time_t t = (time_t)epoch;
    struct tm tm;

    if (n == 0) {
        return;
    }
    buf[0] = '\0';
    if (variant == SIM_KTIME_PLUS2) {
        t += 2 * 3600;
    }
    if (!gmtime_r(&t, &tm)) {
        return;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             variant == SIM_KTIME_PLUS2    ? "+02:00"
             : variant == SIM_KTIME_MICROS ? ".123456+00:00"
                                           : "+00:00");
}

int sim_klaviyo_time_variant(int i, int which)
{
    if (which == 0) {
        return (i % 5 == 3) ? SIM_KTIME_PLUS2 : SIM_KTIME_UTC;
    }
    if (i % 7 == 4) {
        return SIM_KTIME_MICROS;
    }
    return (i % 8 == 6) ? SIM_KTIME_PLUS2 : SIM_KTIME_UTC;
}

const char *sim_klaviyo_definition_json(int i)
{
    /* Every third segment has no definition (older segments created in the UI come back null). */
    switch (i % 3) {
    case 0:
        return NULL;
    case 1:
        return "{\"condition_groups\":[{\"conditions\":[{\"type\":\"profile-property\","
               "\"property\":\"email\",\"filter\":{\"type\":\"existence\","
               "\"operator\":\"is-set\"}}]}]}";
    default:
        return "{\"condition_groups\":[{\"conditions\":[{\"type\":\"profile-marketing-consent\","
               "\"consent\":{\"channel\":\"email\",\"can_receive_marketing\":true,"
               "\"consent_status\":{\"subscription\":\"any\"}}}]}]}";
    }
}

static void uuid_from(unsigned long long seed, char *out)
{
    unsigned long long a = seed * 0x9E3779B97F4A7C15ULL;
    unsigned long long b = (seed + 0x1234567ULL) * 0xBF58476D1CE4E5B9ULL;

    a ^= a >> 29;
    b ^= b >> 31;
    snprintf(out, 37, "%08llx-%04llx-4%03llx-8%03llx-%012llx", (a >> 32) & 0xffffffffULL,
             (a >> 16) & 0xffffULL, a & 0xfffULL, (b >> 52) & 0xfffULL, b & 0xffffffffffffULL);
}

void sim_sendgrid_segment(int i, struct sim_sendgrid_segment *out)
{
    static const char *const dsl_where[4] = {
        "email LIKE '%@example.com'",
        "event_source = 'mail' AND event_type = 'opened'",
        "email LIKE '%@gmail.com'",
        "updated_at < CURRENT_DATE - INTERVAL 90 DAY",
    };
    memset(out, 0, sizeof(*out));
    if (i < 0 || i >= SIM_SENDGRID_SEGMENTS) {
        return;
    }
    uuid_from(1000ULL + (unsigned long long)i, out->id);
    snprintf(out->name, sizeof(out->name), "%s", sendgrid_names[i]);
    out->created_epoch = SIM_EPOCH_BASE + (long long)i * 43200 + 17;
    out->updated_epoch = out->created_epoch + 600 + (long long)i * 60;
    /* Spread: INVALID at 9 and 11, PENDING at 3 and 7, the rest VALID. */
    if (i == 9 || i == 11) {
        out->query_validation = "INVALID";
        out->error_message = (i == 9) ? "unsupported SQL function" : "illegal column name";
    } else if (i == 3 || i == 7) {
        out->query_validation = "PENDING";
    } else {
        out->query_validation = "VALID";
    }
    /* VALID segments 5 and 10 have never been sampled (sample_updated_at null). */
    if (strcmp(out->query_validation, "VALID") == 0 && i != 5 && i != 10) {
        out->sample_updated_epoch = out->updated_epoch + 1800;
        out->next_sample_epoch = out->sample_updated_epoch + 3600;
        out->contacts_count = 120L + (long)i * 57L;
    }
    snprintf(out->query_dsl, sizeof(out->query_dsl),
             "SELECT contact_id, updated_at FROM contact_data WHERE %s", dsl_where[i % 4]);
    if (i % 3 == 1) {
        uuid_from(5000ULL + (unsigned long long)(i % 2), out->parent_list_id);
    }
}

int sim_sendgrid_find(const char *id)
{
    struct sim_sendgrid_segment s;
    int i;

    if (!id) {
        return -1;
    }
    for (i = 0; i < SIM_SENDGRID_SEGMENTS; i++) {
        sim_sendgrid_segment(i, &s);
        if (strcmp(s.id, id) == 0) {
            return i;
        }
    }
    return -1;
}

void sim_sendgrid_time(long long epoch, char *buf, size_t n)
{
    time_t t = (time_t)epoch;
    struct tm tm;

    if (n == 0) {
        return;
    }
    buf[0] = '\0';
    if (!gmtime_r(&t, &tm)) {
        return;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void sim_gen_segment(int i, struct sim_gen_segment *out)
{
    static const char *const names[SIM_GEN_SEGMENTS] = {
        "Engaged readers", "Trial users",  "Caf\xc3\xa9 regulars", "Dormant 90d",
        "Bad import",      "VIP \"gold\"", "Newsletter only"};

    memset(out, 0, sizeof(*out));
    if (i < 0 || i >= SIM_GEN_SEGMENTS) {
        return;
    }
    snprintf(out->name, sizeof(out->name), "%s", names[i]);
    snprintf(out->description, sizeof(out->description), "segment %d of segsim", i);
    out->created_epoch = SIM_EPOCH_BASE + (long long)i * 86400 + 60;
    out->updated_epoch = out->created_epoch + 3600;
    out->calculated_epoch = out->updated_epoch + 600;
    out->member_count = (i % 4) + 2;
    out->state = (enum sim_gen_state)(i % 5);
}

void sim_gen_member(int i, int k, struct sim_gen_member *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->email, sizeof(out->email), "m%d.s%d@example.com", k, i);
    snprintf(out->first_name, sizeof(out->first_name), "%s", k % 2 ? "Zo\xc3\xab" : "Sam");
    snprintf(out->last_name, sizeof(out->last_name), "Member%d", k);
    out->created_epoch = SIM_EPOCH_BASE + (long long)k * 60;
}
