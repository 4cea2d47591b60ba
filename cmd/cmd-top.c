/* cmd/cmd-top.c — `moni top --prometheus URL [--job ID]`: the cluster console
 * (tui/top.c), a full-screen view of every node of a job read from Prometheus. */
#include <unistd.h>

#include "cmd/cmd.h"
#include "tui/tui.h"

static int top_exec(struct cmd_args *a)
{
    struct tui_top_opts o = {.url = cmd_arg(a, "prometheus"), .job = cmd_arg(a, "job"),
                             .interval_ns = 2 * MONI_NS_PER_SEC, .timeout_ms = 3000};
    const char *iv = cmd_arg(a, "interval");
    char err[256];
    if (!o.url)
        return cmd_usage_error(a, "--prometheus URL is required");
    if (iv && (moni_parse_duration(iv, &o.interval_ns, err, sizeof err) < 0 ||
               o.interval_ns < 200 * MONI_NS_PER_MS || o.interval_ns > 3600 * MONI_NS_PER_SEC))
        return cmd_usage_error(a, "--interval %s: want a duration between 200ms and 1h", iv);
    if (o.job && !*o.job)
        return cmd_usage_error(a, "--job: empty job id");
    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
        moni_err("top: needs a terminal");
        return MONI_EXIT_USAGE;
    }
    return tui_top_run(&o);
}

static const struct cmd_opt top_opts[] = {
    {"prometheus", 0, "URL", 0, "the Prometheus to ask: http://HOST[:PORT][/PREFIX] (required)"},
    {"job", 0, "ID", 0, "only this job's nodes (the job_id label; default: every node)"},
    {"interval", 0, "D", 0, "refresh period, 200ms..1h (default 2s)"},
    {0},
};

const struct cmd_entry cmd_top_entry = {
    .name = "top",
    .usage = "top --prometheus URL [--job ID] [--interval D]",
    .summary = "cluster console: every node of a job, from Prometheus",
    .args = {.opts = top_opts},
    .exec = top_exec,
};
