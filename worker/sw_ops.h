/* The one list of operations a job may name. Every C list of operations (job parsing, the
 * capability matrix, metrics labels, the provider tests) expands this map, and a unit test checks
 * that schemas/job.schema.json names the same ones in the same order.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_OPS_H
#define SW_OPS_H

/* Append-only, like the error list: names appear in jobs, results and metrics labels. */
#define SW_OP_MAP(X)                                                                               \
    X(SEGMENTS_GET, "segments.get", "one segment")                                                 \
    X(SEGMENTS_LIST, "segments.list", "every segment, following every page")                       \
    X(SEGMENTS_CREATE, "segments.create", "create a segment")                                      \
    X(SEGMENTS_UPDATE, "segments.update", "change a segment")                                      \
    X(SEGMENTS_DELETE, "segments.delete", "delete a segment")                                      \
    X(SEGMENTS_COUNT, "segments.count", "a segment's member count")                                \
    X(SEGMENTS_MEMBERS, "segments.members", "every member of a segment, following every page")     \
    X(SEGMENTS_REFRESH, "segments.refresh", "ask the provider to recompute a segment")             \
    X(SEGMENTS_UPDATE_END_DATE, "segments.update_end_date", "change a segment's end date")         \
    X(AUDIENCES_CREATE, "audiences.create", "create an audience")

enum sw_op_id {
#define SW_OP_ENUM(id, name, what) SW_OP_##id,
    SW_OP_MAP(SW_OP_ENUM)
#undef SW_OP_ENUM
        SW_OP__COUNT /* also "not an operation segworker knows" */
};

/* The wire name of an operation; NULL for SW_OP__COUNT or anything out of range. */
const char *sw_op_name(enum sw_op_id op);
/* Look a wire name up; SW_OP__COUNT when it is not one (or name is NULL). */
enum sw_op_id sw_op_from_name(const char *name);

#endif
