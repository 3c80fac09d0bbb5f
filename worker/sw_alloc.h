/* Small-object cache behind cJSON's allocation hooks.
 *
 * A segments.get job builds and frees about a hundred cJSON nodes and strings (job, provider
 * answer, unified result, envelope). glibc's per-size tcache holds only 7 chunks, so most of
 * those calls took malloc's slow paths: a quarter of segworker's instructions per job. This keeps
 * freed small blocks on per-size lists for the thread that installed it (the event loop); other
 * threads (librdkafka's log callbacks) pass straight through to malloc/free.
 * SPDX-License-Identifier: Apache-2.0 */
#ifndef SW_ALLOC_H
#define SW_ALLOC_H

/* Route cJSON's allocations through the cache, owned by the calling thread. Call once, first
 * thing in main, before any cJSON object exists. A no-op in sanitizer builds, so ASan still sees
 * every cJSON allocation. */
void sw_alloc_install(void);

/* Give the cached blocks back to malloc (at exit; cJSON keeps working, uncached). */
void sw_alloc_release(void);

/* Failure injection for tests: from now on, let `after` cJSON allocations succeed, then fail
 * `count` of them (count < 0: every one), then succeed again. sw_alloc_inject_failures(0, 0)
 * ends it. Process-wide, like cJSON's hooks themselves; never called outside tests. */
void sw_alloc_inject_failures(long after, long count);

#endif
