/* The shared data set (sim_data.h) as named records: binds a record's fields as template
 * variables, so profiles shape items without C.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SIM_ROWS_H
#define SIM_ROWS_H

#include "sim_expr.h"

/* The record set called name ("generated", "klaviyo", "sendgrid": the sets of sim_data.h), or -1.
 */
int sim_rows_set(const char *name);
/* How many records the set has. */
int sim_rows_count(int set);
/* Bind the fields of record i of set (README "Data sets" lists them). 0, or -1 on OOM. */
int sim_rows_bind(struct sim_ctx *c, int set, int i);
/* How many members generated segment seg has (0 when out of range). */
int sim_rows_member_count(int seg);
/* Bind the fields of member k of generated segment seg. 0, or -1 on OOM. */
int sim_rows_bind_member(struct sim_ctx *c, int seg, int k);

#endif
