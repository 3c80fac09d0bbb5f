/* Records of the shared data set as template variables (see sim_rows.h).
 * SPDX-License-Identifier: Apache-2.0 */
#include "sim_rows.h"

#include <string.h>

#include "sim_data.h"

enum { SET_GENERATED, SET_KLAVIYO, SET_SENDGRID, SET_COUNT };

static const char *const set_names[SET_COUNT] = {"generated", "klaviyo", "sendgrid"};

int sim_rows_set(const char *name)
{
    int s;

    for (s = 0; s < SET_COUNT; s++) {
        if (name && strcmp(name, set_names[s]) == 0) {
            return s;
        }
    }
    return -1;
}

int sim_rows_count(int set)
{
    return set == SET_KLAVIYO    ? SIM_KLAVIYO_SEGMENTS
           : set == SET_SENDGRID ? SIM_SENDGRID_SEGMENTS
                                 : SIM_GEN_SEGMENTS;
}

/* Strings of a record live on the caller's stack: the bindings get arena copies. */
static int bind_str(struct sim_ctx *c, const char *name, const char *s)
{
    const char *copy = s ? sim_arena_strndup(&c->arena, s, strlen(s)) : NULL;

    if (s && !copy) {
        return -1;
    }
    return sim_bind(c, name, sim_v_str(copy));
}

static int bind_generated(struct sim_ctx *c, int i)
{
    struct sim_gen_segment g;
    int bad = 0;

    sim_gen_segment(i, &g);
    bad |= bind_str(c, "name", g.name);
    bad |= bind_str(c, "description", g.description);
    bad |= sim_bind(c, "created", sim_v_int(g.created_epoch));
    bad |= sim_bind(c, "updated", sim_v_int(g.updated_epoch));
    bad |= sim_bind(c, "calculated", sim_v_int(g.calculated_epoch));
    bad |= sim_bind(c, "members", sim_v_int(g.member_count));
    bad |= sim_bind(c, "state", sim_v_int(g.state));
    return bad ? -1 : 0;
}

static int bind_klaviyo(struct sim_ctx *c, int i)
{
    struct sim_klaviyo_segment k;
    const char *def = sim_klaviyo_definition_json(i);
    cJSON *dj = def ? sim_arena_own(&c->arena, cJSON_Parse(def)) : NULL;
    char t[64];
    int bad = def && !dj;

    sim_klaviyo_segment(i, &k);
    bad |= bind_str(c, "id", k.id);
    bad |= bind_str(c, "name", k.name);
    bad |= sim_bind(c, "created", sim_v_int(k.created_epoch));
    bad |= sim_bind(c, "updated", sim_v_int(k.updated_epoch));
    sim_klaviyo_time(k.created_epoch, sim_klaviyo_time_variant(i, 0), t, sizeof(t));
    bad |= bind_str(c, "created_time", t);
    sim_klaviyo_time(k.updated_epoch, sim_klaviyo_time_variant(i, 1), t, sizeof(t));
    bad |= bind_str(c, "updated_time", t);
    bad |= sim_bind(c, "is_active", sim_v_bool(k.is_active));
    bad |= sim_bind(c, "is_processing", sim_v_bool(k.is_processing));
    bad |= sim_bind(c, "is_starred", sim_v_bool(k.is_starred));
    bad |= sim_bind(c, "profile_count", sim_v_int(k.profile_count));
    bad |= sim_bind(c, "definition", dj ? sim_v_json(dj) : sim_v_null());
    return bad ? -1 : 0;
}

static int bind_sendgrid(struct sim_ctx *c, int i)
{
    struct sim_sendgrid_segment s;
    int bad = 0;

    sim_sendgrid_segment(i, &s);
    bad |= bind_str(c, "id", s.id);
    bad |= bind_str(c, "name", s.name);
    bad |= sim_bind(c, "contacts_count", sim_v_int(s.contacts_count));
    bad |= sim_bind(c, "created", sim_v_int(s.created_epoch));
    bad |= sim_bind(c, "updated", sim_v_int(s.updated_epoch));
    bad |= sim_bind(c, "sample_updated", sim_v_int(s.sample_updated_epoch));
    bad |= sim_bind(c, "next_sample", sim_v_int(s.next_sample_epoch));
    bad |= bind_str(c, "query_validation", s.query_validation);
    bad |= bind_str(c, "error_message", s.error_message);
    bad |= bind_str(c, "query_dsl", s.query_dsl);
    bad |= bind_str(c, "parent_list_id", s.parent_list_id);
    return bad ? -1 : 0;
}

int sim_rows_bind(struct sim_ctx *c, int set, int i)
{
    switch (set) {
    case SET_KLAVIYO:
        return bind_klaviyo(c, i);
    case SET_SENDGRID:
        return bind_sendgrid(c, i);
    default:
        return bind_generated(c, i);
    }
}

int sim_rows_member_count(int seg)
{
    struct sim_gen_segment g;

    sim_gen_segment(seg, &g);
    return (int)g.member_count;
}

int sim_rows_bind_member(struct sim_ctx *c, int seg, int k)
{
    struct sim_gen_member m;
    int bad = 0;

    sim_gen_member(seg, k, &m);
    bad |= bind_str(c, "email", m.email);
    bad |= bind_str(c, "first_name", m.first_name);
    bad |= bind_str(c, "last_name", m.last_name);
    bad |= sim_bind(c, "created", sim_v_int(m.created_epoch));
    return bad ? -1 : 0;
}
