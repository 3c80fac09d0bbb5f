/* The command line's configuration (defaults, file, environment, then its own keys) and the
 * build identity printed by `segworker version`.
 * SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"
#include "sw_build.h"
#include "sw_log.h"
#include "sw_version.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>

int sw_cli_load_config(const struct sw_cli *cli, struct sw_config *cfg)
{
    struct sw_status st;
    enum sw_log_level lvl;
    enum sw_log_format fmt;
    int i;

    sw_status_clear(&st);
    if (sw_config_load(cfg, cli->val[SW_OPT_CONFIG], &st) != 0) {
        fprintf(stderr, "segworker: %s\n", st.msg);
        return -1;
    }
    for (i = 0; i < cli->nsets; i++) {
        if (sw_config_set(cfg, cli->set_key[i], cli->set_val[i], &st) != 0) {
            fprintf(stderr, "segworker: %s\n", st.msg);
            return -1;
        }
    }
    if (sw_log_level_parse(cfg->log_level, &lvl) == 0) {
        sw_log_set_level(lvl);
    }
    if (sw_log_format_parse(cfg->log_format, &fmt) == 0) {
        sw_log_set_format(fmt);
    }
    return 0;
}

void sw_cli_version(FILE *out)
{
    fprintf(out,
            "segworker %s (commit %s, built %s)\n"
            "librdkafka %s\n"
            "%s\n"
            "cJSON %s\n"
            "libmicrohttpd %s\n",
            SW_VERSION, SW_BUILD_COMMIT, SW_BUILD_DATE, rd_kafka_version_str(), curl_version(),
            cJSON_Version(), MHD_get_version());
}
