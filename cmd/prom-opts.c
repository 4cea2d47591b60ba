/* cmd/prom-opts.c — the --prometheus-sd option that `moni record`, `moni run` and
 * the console share: checked here once, then handed to core/prom-target.c, which
 * every exporter of the process reads when it starts. */
#include "cmd/cmd.h"
#include "core/core.h"

int cmd_prometheus_sd(const struct cmd_args *a)
{
    const char *sd = cmd_arg(a, "prometheus-sd");
    if (!sd)
        return 0;
    if (!*sd)
        return cmd_usage_error(a, "--prometheus-sd: empty file name"), -1;
    if (!cmd_arg(a, "metrics-listen"))
        return cmd_usage_error(a, "--prometheus-sd needs --metrics-listen (the address it names)"),
               -1;
    prom_set_sd_file(sd);
    return 0;
}
