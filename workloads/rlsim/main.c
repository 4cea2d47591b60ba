/* workloads/rlsim/main.c — entry point of moni-rlsim: one binary, four roles. */
#include "workloads/rlsim/rlsim.h"

int main(int argc, char **argv)
{
    struct rlsim_config cfg;
    int rc = rlsim_parse_args(&cfg, argc, argv);
    if (rc)
        return rc == 1 ? 0 : rc;
    switch (cfg.role) {
    case RLSIM_TRAIN:
    case RLSIM_ROLLOUT:
        if (cfg.master_addr[0])
            rlsim_http_set_master(cfg.master_addr);
        return rlsim_run_worker(&cfg);
    case RLSIM_SCHEDULER:
        return rlsim_run_scheduler(&cfg);
    default:
        return rlsim_run_controller(&cfg, argc, argv);
    }
}
