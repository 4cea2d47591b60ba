/* core/detect-table.c — every detector, in the order they run and are documented
 * (moni-rules(5) DETECTORS).  Adding a detector is one file and one row here. */
#include "core/detect-int.h"

const struct detector_ops *const detectors[] = {
    &det_loss_nonfinite, &det_loss_divergence, &det_no_convergence, &det_throughput_drop,
    &det_progress_stall, &det_process_stopped, &det_cpu_contention,  &det_io_bottleneck,
    &det_memory_growth,  &det_fs_fill,         &det_gpu_mem,         &det_net_errors,
    &det_process_exit,   &det_straggler,       &det_clock_skew,
};
const size_t ndetectors = MONI_ARRAY_LEN(detectors);
