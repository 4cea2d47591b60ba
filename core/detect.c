/* core/detect.c — the detector engine: configuration (thresholds as data), the
 * training state folded from parsed metrics, the columns a detector may read, and
 * the dispatch of ticks to every detector in detectors[].
 *
 * It must never read or write a file of the run directory (callers do) and never
 * look at fault journals or labels: detections come from what an operator could see. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/detect-int.h"

/* ---- series ------------------------------------------------------------------------ */

#define SERIES_CAP ((int)MONI_ARRAY_LEN(((struct det_series *)0)->t))

static void sums_add(struct det_series *s, double t, double v, double sign)
{
    double a = t - s->t0, b = v - s->v0;
    s->st += sign * a;
    s->sv += sign * b;
    s->stt += sign * a * a;
    s->stv += sign * a * b;
    s->svv += sign * b * b;
}

/* The sums afresh from the points, with the origin at the oldest point. */
static void sums_rebase(struct det_series *s)
{
    s->st = s->sv = s->stt = s->stv = s->svv = 0;
    s->pushes = 0;
    if (s->n == 0)
        return;
    s->t0 = s->t[s->head];
    s->v0 = s->v[s->head];
    for (int i = 0; i < s->n; i++)
        sums_add(s, det_series_t(s, i), det_series_v(s, i), 1);
}

void det_series_push(struct det_series *s, double t, double v)
{
    int cap = SERIES_CAP;
    if (s->n == 0) {
        s->t0 = t;
        s->v0 = v;
    } else if (t < det_series_t(s, s->n - 1)) {
        s->unordered = true;
    }
    int at = (s->head + s->n) % cap;
    if (s->n == cap) {
        sums_add(s, s->t[s->head], s->v[s->head], -1);
        s->head = (s->head + 1) % cap;
        at = (s->head + s->n - 1) % cap;
    } else {
        s->n++;
    }
    s->t[at] = t;
    s->v[at] = v;
    sums_add(s, t, v, 1);
    if (++s->pushes >= cap)
        sums_rebase(s);
}

void det_series_trim(struct det_series *s, double t_now, double window_s)
{
    int cap = SERIES_CAP;
    while (s->n > 0 && s->t[s->head] < t_now - window_s) {
        sums_add(s, s->t[s->head], s->v[s->head], -1);
        s->head = (s->head + 1) % cap;
        s->n--;
    }
    if (s->n == 0)
        sums_rebase(s); /* exact zeros, not what the subtractions left */
}

double det_series_mean(const struct det_series *s)
{
    double sum = 0;
    for (int i = 0; i < s->n; i++)
        sum += det_series_v(s, i);
    return s->n ? sum / s->n : NAN;
}

/* The same arithmetic, in the same order, as the fit the detectors were tuned
 * with: the exact figures of a detection come from here. */
bool det_series_fit_last(const struct det_series *s, int n, double *slope, double *intercept,
                         double *r2)
{
    if (n < 3 || n > s->n)
        return false;
    /* centre on the first point: t is seconds since the run's first tick but the
     * sums of squares stay well conditioned either way */
    int from = s->n - n;
    double t0 = det_series_t(s, from), st = 0, sv = 0, stt = 0, stv = 0, svv = 0;
    for (int i = from; i < s->n; i++) {
        double t = det_series_t(s, i) - t0, v = det_series_v(s, i);
        st += t, sv += v, stt += t * t, stv += t * v, svv += v * v;
    }
    double dtt = stt - st * st / n, dtv = stv - st * sv / n, dvv = svv - sv * sv / n;
    if (dtt <= 0)
        return false;
    double b = dtv / dtt;
    *slope = b;
    if (intercept)
        *intercept = (sv - b * st) / n - b * t0;
    if (r2)
        *r2 = dvv > 0 ? (dtv * dtv) / (dtt * dvv) : 1.0;
    return true;
}

bool det_series_fit(const struct det_series *s, double *slope, double *intercept, double *r2)
{
    if (s->n < 3)
        return false;
    /* a non-finite point poisons the sums until the next rebase: fit afresh */
    if (!isfinite(s->st + s->sv + s->stt + s->stv + s->svv))
        return det_series_fit_last(s, s->n, slope, intercept, r2);
    double n = s->n, dtt = s->stt - s->st * s->st / n, dtv = s->stv - s->st * s->sv / n,
           dvv = s->svv - s->sv * s->sv / n;
    /* equal times: no slope (the relative bound absorbs the rounding of an origin
     * away from the points) */
    if (dtt <= 1e-12 * s->stt)
        return false;
    double b = dtv / dtt;
    *slope = b;
    if (intercept)
        *intercept = s->v0 + (s->sv - b * s->st) / n - b * s->t0;
    if (r2)
        *r2 = dvv > 0 ? (dtv * dtv) / (dtt * dvv) : 1.0;
    return true;
}

/* ---- sorted windows --------------------------------------------------------------- */

/* First index in a[0..n) whose value is > v. */
static int upper_bound(const double *a, int n, double v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (a[mid] > v)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

void det_sorted_insert(double *a, int *n, double v)
{
    int at = upper_bound(a, *n, v);
    memmove(a + at + 1, a + at, (size_t)(*n - at) * sizeof *a);
    a[at] = v;
    (*n)++;
}

void det_sorted_remove(double *a, int *n, double v)
{
    int at = upper_bound(a, *n, v) - 1; /* the last equal value */
    if (at < 0 || !(a[at] == v)) {
        for (at = 0; at < *n && !(a[at] == v || (isnan(a[at]) && isnan(v))); at++)
            ; /* NaN or a signed zero out of place: look at every value */
        if (at == *n)
            return;
    }
    memmove(a + at, a + at + 1, (size_t)(*n - at - 1) * sizeof *a);
    (*n)--;
}

double det_sorted_median(const double *a, int n)
{
    if (n <= 0)
        return NAN;
    return n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
}

/* ---- hysteresis ------------------------------------------------------------------- */

bool det_latch_update(struct det_latch *l, bool cond, double t, double need_on_s,
                      double need_off_s)
{
    if (cond) {
        l->off_set = false;
        if (!l->on_set) {
            l->on_set = true;
            l->on_since = t;
        }
        if (!l->active && t - l->on_since >= need_on_s - 1e-9) {
            l->active = true;
            return true;
        }
    } else {
        l->on_set = false;
        if (l->active) {
            if (!l->off_set) {
                l->off_set = true;
                l->off_since = t;
            }
            if (t - l->off_since >= need_off_s - 1e-9)
                l->active = false;
        }
    }
    return false;
}

double det_ewma(double avg, double v, double dt, double tau_s)
{
    if (isnan(avg))
        return v;
    double a = tau_s > 0 ? 1.0 - exp(-dt / tau_s) : 1.0;
    return avg + a * (v - avg);
}

/* ---- configuration ---------------------------------------------------------------- */

static const char *const default_loss[] = {"loss", "train_loss", "lm_loss", "lm loss", NULL};
static const char *const default_progress[] = {"step", "global_step", "iteration", "iter",
                                               NULL};
static const char *const default_thr[] = {"it_per_s", "samples_per_s", "tokens_per_s",
                                          "train_samples_per_second", "throughput", NULL};
static const char *const default_net[] = {"Network_Timeout", "NCCL_Timeout", NULL};

static char **strv_dup(const char *const *v)
{
    if (!v)
        return NULL;
    size_t n = 0;
    while (v[n])
        n++;
    char **out = calloc(n + 1, sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        out[i] = strdup(v[i]);
    return out;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

void det_config_defaults(struct det_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < ndetectors; i++)
        for (size_t j = 0; detectors[i]->params[j].name; j++)
            cfg->p[i][j] = detectors[i]->params[j].value;
    cfg->progress_window_s = 20;
    cfg->progress_baseline_s = 60;
    cfg->progress_warmup_s = 20;
    cfg->loss_fields = strv_dup(default_loss);
    cfg->progress_fields = strv_dup(default_progress);
    cfg->throughput_fields = strv_dup(default_thr);
    cfg->network_labels = strv_dup(default_net);
}

void det_config_free(struct det_config *cfg)
{
    strv_free(cfg->loss_fields);
    strv_free(cfg->progress_fields);
    strv_free(cfg->throughput_fields);
    strv_free(cfg->network_labels);
    memset(cfg, 0, sizeof *cfg);
}

static int find_detector(const char *name)
{
    for (size_t i = 0; i < ndetectors; i++)
        if (strcmp(detectors[i]->name, name) == 0)
            return (int)i;
    return -1;
}

static int parse_names(const struct moni_json *doc, const cJSON *arr, char ***out, char *err,
                       size_t errlen)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
        moni_json_errf(doc, arr, err, errlen, "expected a non-empty array of strings");
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr), k = 0;
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return -1;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsString(it) || !it->valuestring[0]) {
            moni_json_errf(doc, it, err, errlen, "expected a non-empty string");
            strv_free(v);
            return -1;
        }
        v[k++] = strdup(it->valuestring);
    }
    strv_free(*out);
    *out = v;
    return 0;
}

static int parse_detector(struct det_config *cfg, const struct moni_json *doc, const cJSON *o,
                          char *err, size_t errlen)
{
    int di = find_detector(o->string);
    if (di < 0) {
        moni_json_errf(doc, o, err, errlen, "unknown detector (see moni-rules(5) DETECTORS)");
        return -1;
    }
    if (!cJSON_IsObject(o)) {
        moni_json_errf(doc, o, err, errlen, "expected an object of parameters");
        return -1;
    }
    const struct detector_ops *ops = detectors[di];
    const cJSON *it;
    cJSON_ArrayForEach(it, o) {
        if (strcmp(it->string, "enabled") == 0) {
            if (!cJSON_IsBool(it)) {
                moni_json_errf(doc, it, err, errlen, "expected true or false");
                return -1;
            }
            cfg->disabled[di] = cJSON_IsFalse(it);
            continue;
        }
        if (strcmp(it->string, "comment") == 0)
            continue;
        int pj = -1;
        for (int j = 0; ops->params[j].name; j++)
            if (strcmp(ops->params[j].name, it->string) == 0)
                pj = j;
        if (pj < 0) {
            moni_json_errf(doc, it, err, errlen, "unknown parameter of detector %s", ops->name);
            return -1;
        }
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < 0) {
            moni_json_errf(doc, it, err, errlen, "expected a number >= 0");
            return -1;
        }
        cfg->p[di][pj] = it->valuedouble;
    }
    return 0;
}

int det_config_parse(struct det_config *cfg, const char *name, const char *text, size_t len,
                     char *err, size_t errlen)
{
    struct moni_json doc;
    if (moni_json_parse(name, text, len, &doc, err, errlen) < 0)
        return -1;
    static const char *const top[] = {"comment", "detectors", "loss_fields", "progress_fields",
                                      "throughput_fields", "network_labels", "progress_window_s",
                                      "progress_baseline_s", "progress_warmup_s", NULL};
    int rc = -1;
    if (!cJSON_IsObject(doc.root)) {
        moni_json_errf(&doc, doc.root, err, errlen, "expected an object");
        goto out;
    }
    if (moni_json_check_keys(&doc, doc.root, top, err, errlen) < 0)
        goto out;
    const cJSON *it;
    cJSON_ArrayForEach(it, doc.root) {
        if (strcmp(it->string, "detectors") == 0) {
            if (!cJSON_IsObject(it)) {
                moni_json_errf(&doc, it, err, errlen, "expected an object");
                goto out;
            }
            const cJSON *d;
            cJSON_ArrayForEach(d, it) {
                if (parse_detector(cfg, &doc, d, err, errlen) < 0)
                    goto out;
            }
        } else if (strncmp(it->string, "progress_", 9) == 0 &&
                   strcmp(it->string, "progress_fields") != 0) {
            if (!cJSON_IsNumber(it) || !(it->valuedouble > 0) || !isfinite(it->valuedouble)) {
                moni_json_errf(&doc, it, err, errlen, "expected a number of seconds > 0");
                goto out;
            }
            double *dst = strcmp(it->string, "progress_window_s") == 0     ? &cfg->progress_window_s
                          : strcmp(it->string, "progress_baseline_s") == 0 ? &cfg->progress_baseline_s
                                                                           : &cfg->progress_warmup_s;
            *dst = it->valuedouble;
        } else if (strcmp(it->string, "loss_fields") == 0) {
            if (parse_names(&doc, it, &cfg->loss_fields, err, errlen) < 0)
                goto out;
        } else if (strcmp(it->string, "progress_fields") == 0) {
            if (parse_names(&doc, it, &cfg->progress_fields, err, errlen) < 0)
                goto out;
        } else if (strcmp(it->string, "throughput_fields") == 0) {
            if (parse_names(&doc, it, &cfg->throughput_fields, err, errlen) < 0)
                goto out;
        } else if (strcmp(it->string, "network_labels") == 0) {
            if (parse_names(&doc, it, &cfg->network_labels, err, errlen) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    moni_json_free(&doc);
    return rc;
}

/* The last file loaded, parsed: `moni record` loads detectors.json for the live
 * engine and again for the dataset's offline pass, and the second load is a copy.
 * Keyed by path, inode, size and modification time: an edited file is read again. */
static struct {
    pthread_mutex_t mu;
    bool valid;
    char path[4200];
    struct stat st;
    struct det_config cfg;
} config_cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void config_copy(struct det_config *dst, const struct det_config *src)
{
    *dst = *src;
    dst->loss_fields = strv_dup((const char *const *)src->loss_fields);
    dst->progress_fields = strv_dup((const char *const *)src->progress_fields);
    dst->throughput_fields = strv_dup((const char *const *)src->throughput_fields);
    dst->network_labels = strv_dup((const char *const *)src->network_labels);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Fills cfg from the cache when path (as stat'ed in st) is the file cached. */
static bool config_cached(struct det_config *cfg, const char *path, const struct stat *st)
{
    bool hit = false;
    pthread_mutex_lock(&config_cache.mu);
    if (config_cache.valid && strcmp(config_cache.path, path) == 0 &&
        same_file(st, &config_cache.st)) {
        det_config_free(cfg);
        config_copy(cfg, &config_cache.cfg);
        hit = true;
    }
    pthread_mutex_unlock(&config_cache.mu);
    return hit;
}

static void config_remember(const struct det_config *cfg, const char *path,
                            const struct stat *st)
{
    if (strlen(path) >= sizeof config_cache.path)
        return;
    pthread_mutex_lock(&config_cache.mu);
    if (config_cache.valid)
        det_config_free(&config_cache.cfg);
    config_copy(&config_cache.cfg, cfg);
    snprintf(config_cache.path, sizeof config_cache.path, "%s", path);
    config_cache.st = *st;
    config_cache.valid = true;
    pthread_mutex_unlock(&config_cache.mu);
}

int det_config_load(struct det_config *cfg, const char *path, char *err, size_t errlen)
{
    det_config_defaults(cfg);
    char dir[4096], found[4200];
    if (!path && moni_config_dir("detectors.json", found, sizeof found) == 0 &&
        access(found, R_OK) == 0)
        path = found;
    if (!path && moni_data_dir("examples", dir, sizeof dir) == 0) {
        snprintf(found, sizeof found, "%s/detectors.json", dir);
        if (access(found, R_OK) == 0)
            path = found;
    }
    if (!path)
        return 0; /* the descriptors' defaults, which the shipped file repeats */
    /* stat before reading: a file changed after it is read again next time */
    struct stat st;
    bool have_st = stat(path, &st) == 0;
    if (have_st && config_cached(cfg, path, &st))
        return 0;
    size_t len;
    char *text = moni_read_file(path, &len);
    if (!text) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        det_config_free(cfg);
        return -1;
    }
    int rc = det_config_parse(cfg, path, text, len, err, errlen);
    free(text);
    if (rc < 0)
        det_config_free(cfg);
    else if (have_st)
        config_remember(cfg, path, &st);
    return rc;
}

/* ---- the engine ------------------------------------------------------------------- */

static const char *const col_names[DC_N] = {
    [DC_CPU_PCT] = "cpu_pct",
    [DC_CPU_IOWAIT] = "cpu_iowait_pct",
    [DC_PSI_CPU] = "psi_cpu_some_avg10",
    [DC_PSI_IO] = "psi_io_some_avg10",
    [DC_PSI_MEM] = "psi_memory_some_avg10",
    [DC_PROC_CPU] = "proc_cpu_pct",
    [DC_PROC_RSS] = "proc_rss_bytes",
    [DC_PROC_ALIVE] = "proc_alive",
    [DC_PROC_T] = "proc_state_T",
    [DC_PROC_D] = "proc_state_D",
    [DC_HEARTBEAT] = "proc_heartbeat_age_s",
    [DC_MEM_AVAIL] = "mem_available_bytes",
    [DC_MEM_TOTAL] = "mem_total_bytes",
    [DC_FS_FREE] = "fs_out_free_bytes",
    [DC_FS_USED] = "fs_out_used_pct",
    [DC_NET_ERR] = "net_rx_errors", /* + net_tx_errors, folded below */
    [DC_PROC_R] = "proc_state_R",
    [DC_DISK_BUSY] = "disk_busy_pct",
    [DC_DISK_RD] = "disk_read_Bps",
    [DC_DISK_WR] = "disk_write_Bps",
    [DC_PROC_RD] = "proc_read_Bps",
    [DC_PROC_WR] = "proc_write_Bps",
};

struct name_slot {
    char name[48];
    unsigned char kind; /* NK_ bits */
    bool used;
};

struct detect {
    struct det_config cfg;
    double rate_base, rate_last_t;
    detect_cb cb;
    void *arg;
    struct det_train train;
    void *state[32];
    /* column indices for the frame layout last seen */
    const struct metric_col *cols_seen;
    size_t ncols_seen;
    int col[DC_N];
    int col_net_tx_err;
    int gpu_used[8], gpu_total[8], ngpu;
    int ncpu;
    int64_t first_mono;
    bool started;
    struct det_fate fate;
    bool have_fate;
    struct detection *list;
    size_t nlist, caplist;
    /* which name lists a metric name is in, remembered per name (a hash slot each):
     * a log's records carry the same few names again and again */
    struct name_slot names[64];
};

enum { NK_LOSS = 1, NK_PROGRESS = 2, NK_THROUGHPUT = 4 };

static bool in_list(char *const *v, const char *s)
{
    for (size_t i = 0; v && v[i]; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

struct detect *detect_new(const struct det_config *cfg, detect_cb cb, void *arg)
{
    if (ndetectors > MONI_ARRAY_LEN(cfg->p))
        return NULL;
    struct detect *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cfg = *cfg;
    d->cb = cb;
    d->arg = arg;
    for (size_t i = 0; i < ndetectors; i++) {
        d->state[i] = calloc(1, detectors[i]->state_size ? detectors[i]->state_size : 1);
        if (!d->state[i]) {
            detect_free(d);
            return NULL;
        }
    }
    d->train.loss_first_n = 0;
    d->train.last_progress_t = NAN;
    d->train.nonfinite_value = NAN;
    d->train.step = NAN;
    d->rate_base = NAN;
    return d;
}

void detect_free(struct detect *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < ndetectors; i++)
        free(d->state[i]);
    free(d->list);
    free(d);
}

static double rel_t(struct detect *d, int64_t mono_ns)
{
    if (!d->started) {
        d->started = true;
        d->first_mono = mono_ns;
    }
    return (double)(mono_ns - d->first_mono) / 1e9;
}

static unsigned name_kind(struct detect *d, const char *name)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    size_t len = 0;
    for (; name[len]; len++)
        h = (h ^ (unsigned char)name[len]) * 16777619u;
    struct name_slot *slot = &d->names[h % MONI_ARRAY_LEN(d->names)];
    if (slot->used && strcmp(slot->name, name) == 0)
        return slot->kind;
    unsigned kind = (in_list(d->cfg.loss_fields, name) ? NK_LOSS : 0) |
                    (in_list(d->cfg.progress_fields, name) ? NK_PROGRESS : 0) |
                    (in_list(d->cfg.throughput_fields, name) ? NK_THROUGHPUT : 0);
    if (len < sizeof slot->name) { /* a longer name is classified every time */
        memcpy(slot->name, name, len + 1);
        slot->kind = (unsigned char)kind;
        slot->used = true;
    }
    return kind;
}

void detect_metric(struct detect *d, int64_t mono_ns, const char *name, double value)
{
    struct det_train *tr = &d->train;
    double t = rel_t(d, mono_ns);
    unsigned kind = name_kind(d, name);
    bool is_loss = kind & NK_LOSS;
    bool is_progress = kind & NK_PROGRESS;
    if (is_loss) {
        if (!isfinite(value)) {
            tr->nonfinite_pending++;
            tr->nonfinite_value = value;
            tr->nonfinite_field = "loss";
        } else {
            tr->nloss++;
            tr->loss_last = value;
            det_series_push(&tr->loss, t, value);
            if (tr->loss_first_n < DET_LOSS_FIRST) {
                tr->loss_first[tr->loss_first_n++] = value;
            }
        }
    }
    if (is_progress && isfinite(value)) {
        if (isnan(tr->step) || value > tr->step) {
            tr->step = value;
            det_series_push(&tr->steps, t, value);
        }
    }
    if ((is_loss || is_progress) && mono_ns != tr->last_progress_mono) {
        /* one record (several fields of one line share its stamp) is one sign of
         * progress: the interval between them is the workload's logging cadence */
        if (!isnan(tr->last_progress_t) && t > tr->last_progress_t) {
            if (tr->intervals.n == (int)MONI_ARRAY_LEN(tr->intervals.t)) /* the oldest goes */
                det_sorted_remove(tr->intervals_sorted, &tr->nintervals_sorted,
                                  det_series_v(&tr->intervals, 0));
            det_series_push(&tr->intervals, t, t - tr->last_progress_t);
            det_sorted_insert(tr->intervals_sorted, &tr->nintervals_sorted,
                              t - tr->last_progress_t);
        }
        tr->last_progress_t = t;
        tr->last_progress_mono = mono_ns;
        tr->records++;
        det_series_push(&tr->record_count, t, (double)tr->records);
    }
    if ((kind & NK_THROUGHPUT) && isfinite(value) && value >= 0)
        det_series_push(&tr->thr, t, value);
}

void detect_event(struct detect *d, int64_t mono_ns, const char *const *labels, size_t nlabels,
                  const char *severity)
{
    double t = rel_t(d, mono_ns);
    if (severity && strcmp(severity, "info") == 0)
        return;
    for (size_t i = 0; i < nlabels; i++) {
        if (in_list(d->cfg.network_labels, labels[i])) {
            det_series_push(&d->train.net_events, t, 1);
            return;
        }
    }
}

void detect_log_time(struct detect *d, int64_t mono_ns, int64_t recv_real_ns, int64_t line_real_ns)
{
    double t = rel_t(d, mono_ns);
    det_series_push(&d->train.clock_off, t, (double)(line_real_ns - recv_real_ns) / 1e9);
    d->train.clock_n++;
}

/* Columns the engine reads besides col_names[]. */
enum { SLOT_NET_TX = DC_N, SLOT_GPU_USED, SLOT_GPU_TOTAL, SLOT_CPU_N };

/* "gpu3_mem_used_bytes" (prefix "gpu", kind "_mem_used_bytes") -> 3, written as %d
 * writes it (no leading zero); -1 when name is not such a column. */
static int numbered(const char *name, const char *prefix, const char *kind)
{
    size_t lp = strlen(prefix);
    if (strncmp(name, prefix, lp) != 0)
        return -1;
    const char *p = name + lp;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
        return -1;
    int v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v < 100000 ? v * 10 + (*p - '0') : v;
    return strcmp(p, kind) == 0 ? v : -1;
}

/* What a samples column is to the engine: a DC_ index, a SLOT_ (*num: which GPU or
 * CPU), or -1.  The first two characters are compared inline: most columns differ
 * there, and a run has ~100 columns to look at. */
static int column_slot(const char *name, int *num)
{
    for (int i = 0; i < DC_N; i++)
        if (col_names[i] && col_names[i][0] == name[0] && col_names[i][1] == name[1] &&
            strcmp(col_names[i], name) == 0)
            return i;
    if (name[0] == 'n' && strcmp(name, "net_tx_errors") == 0)
        return SLOT_NET_TX;
    if ((*num = numbered(name, "gpu", "_mem_used_bytes")) >= 0)
        return SLOT_GPU_USED;
    if ((*num = numbered(name, "gpu", "_mem_total_bytes")) >= 0)
        return SLOT_GPU_TOTAL;
    if ((*num = numbered(name, "cpu", "_pct")) >= 0)
        return SLOT_CPU_N;
    return -1;
}

int detect_column_use(const char *name)
{
    int num, slot = column_slot(name, &num);
    return slot < 0 ? 0 : slot == SLOT_CPU_N ? 1 : 2; /* cpuN_pct: counted, not read */
}

/* One pass over the frame's columns (the first of a name wins, as frame_find). */
static void resolve_columns(struct detect *d, const struct frame *f)
{
    if (f->cols == d->cols_seen && f->ncols == d->ncols_seen)
        return;
    d->cols_seen = f->cols;
    d->ncols_seen = f->ncols;
    int used[8], total[8];
    unsigned char cpu_seen[1024] = {0};
    for (int i = 0; i < DC_N; i++)
        d->col[i] = -1;
    for (int g = 0; g < 8; g++)
        used[g] = total[g] = -1;
    d->col_net_tx_err = -1;
    for (size_t c = 0; c < f->ncols; c++) {
        int num = 0, slot = column_slot(f->cols[c].name, &num);
        int *at = slot < 0                                ? NULL
                  : slot < DC_N                           ? &d->col[slot]
                  : slot == SLOT_NET_TX                   ? &d->col_net_tx_err
                  : slot == SLOT_GPU_USED && num < 8      ? &used[num]
                  : slot == SLOT_GPU_TOTAL && num < 8     ? &total[num]
                                                          : NULL;
        if (at && *at < 0)
            *at = (int)c;
        if (slot == SLOT_CPU_N && num < (int)sizeof cpu_seen)
            cpu_seen[num] = 1;
    }
    for (d->ngpu = 0; d->ngpu < 8 && used[d->ngpu] >= 0 && total[d->ngpu] >= 0; d->ngpu++) {
        d->gpu_used[d->ngpu] = used[d->ngpu];
        d->gpu_total[d->ngpu] = total[d->ngpu];
    }
    for (d->ncpu = 0; d->ncpu < (int)sizeof cpu_seen && cpu_seen[d->ncpu]; d->ncpu++)
        ;
}

static double colv(const struct frame *f, int col)
{
    double v;
    return col >= 0 && frame_get(f, col, &v) ? v : NAN;
}

static void emit(struct detect *d, struct detection *det)
{
    if (d->nlist == d->caplist) {
        size_t cap = d->caplist ? d->caplist * 2 : 16;
        struct detection *n = realloc(d->list, cap * sizeof *n);
        if (!n)
            return;
        d->list = n;
        d->caplist = cap;
    }
    d->list[d->nlist++] = *det;
    if (d->cb)
        d->cb(det, d->arg);
}

/* The progress rate and its usual level: the baseline is learnt after the warm-up
 * and frozen while the rate is well below it, so a slowdown does not become normal. */
static void update_rate(struct detect *d, struct det_ctx *c)
{
    const struct det_config *cfg = &d->cfg;
    c->rate = det_progress_rate(&d->train, c->t, cfg->progress_window_s);
    double dt = d->rate_last_t > 0 ? c->t - d->rate_last_t : 1;
    d->rate_last_t = c->t;
    if (!isnan(c->rate) && c->t >= cfg->progress_warmup_s && !c->ended &&
        (isnan(d->rate_base) || c->rate >= 0.8 * d->rate_base))
        d->rate_base = det_ewma(d->rate_base, c->rate, dt, cfg->progress_baseline_s);
    c->rate_base = d->rate_base;
}

static void run_detectors(struct detect *d, struct det_ctx *c)
{
    for (size_t i = 0; i < ndetectors; i++) {
        if (d->cfg.disabled[i])
            continue;
        const struct detector_ops *ops = detectors[i];
        /* filled field by field: a zeroed 256-byte evidence per detector and tick
         * would cost more than most detectors' own work */
        struct detection det;
        det.mono_ns = c->mono_ns;
        det.real_ns = c->real_ns;
        det.detector = ops->name;
        det.label = ops->label;
        det.signals = ops->signals;
        det.score = det.threshold = 0;
        det.ttf_s = NAN;
        det.evidence[0] = '\0';
        c->p = d->cfg.p[i];
        if (ops->tick(c, d->state[i], &det))
            emit(d, &det);
    }
}

void detect_tick(struct detect *d, const struct frame *f)
{
    resolve_columns(d, f);
    struct det_ctx c = {.mono_ns = f->t.mono_ns, .real_ns = f->t.real_ns, .train = &d->train,
                        .ncpu = d->ncpu};
    c.t = rel_t(d, f->t.mono_ns);
    for (int i = 0; i < DC_N; i++)
        c.col[i] = colv(f, d->col[i]);
    double tx = colv(f, d->col_net_tx_err);
    if (!isnan(tx))
        c.col[DC_NET_ERR] = isnan(c.col[DC_NET_ERR]) ? tx : c.col[DC_NET_ERR] + tx;
    c.col[DC_GPU_USED] = c.col[DC_GPU_TOTAL] = NAN;
    for (int g = 0; g < d->ngpu; g++) {
        double u = colv(f, d->gpu_used[g]), t = colv(f, d->gpu_total[g]);
        if (isnan(u) || isnan(t))
            continue;
        c.col[DC_GPU_USED] = isnan(c.col[DC_GPU_USED]) ? u : c.col[DC_GPU_USED] + u;
        c.col[DC_GPU_TOTAL] = isnan(c.col[DC_GPU_TOTAL]) ? t : c.col[DC_GPU_TOTAL] + t;
    }
    c.ended = d->have_fate;
    update_rate(d, &c);
    run_detectors(d, &c);
    d->train.nonfinite_pending = 0;
}

void detect_fate(struct detect *d, const struct det_fate *fate)
{
    d->fate = *fate;
    d->have_fate = true;
    struct det_ctx c = {.mono_ns = fate->mono_ns, .real_ns = fate->real_ns, .train = &d->train,
                        .ncpu = d->ncpu, .fate = &d->fate, .ended = true,
                        .rate = NAN, .rate_base = d->rate_base};
    c.t = rel_t(d, fate->mono_ns);
    for (int i = 0; i < DC_N; i++)
        c.col[i] = NAN;
    run_detectors(d, &c);
}

size_t detect_list(const struct detect *d, const struct detection **out)
{
    *out = d->list;
    return d->nlist;
}

/* ---- the kernel log --------------------------------------------------------------- */

/* Records look like "6,1234,5678901,-;Out of memory: Killed process 4242 (python) ..."
 * (Documentation/ABI/testing/dev-kmsg); the third field is microseconds of
 * CLOCK_MONOTONIC, the clock moni's mono_ns uses. */
bool det_kmsg_oom_killed(pid_t pid, int64_t since_mono_ns)
{
    int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    char rec[8192], want[64], want2[64];
    snprintf(want, sizeof want, "Killed process %d ", (int)pid);
    snprintf(want2, sizeof want2, ",pid=%d,", (int)pid);
    bool found = false;
    for (int guard = 0; guard < 1000000 && !found; guard++) {
        ssize_t n = read(fd, rec, sizeof rec - 1);
        if (n < 0 && errno == EPIPE)
            continue; /* overwritten records: go on with the next */
        if (n <= 0)
            break;
        rec[n] = '\0';
        unsigned long long ts_us = 0;
        unsigned long long seq = 0;
        if (sscanf(rec, "%*d,%llu,%llu", &seq, &ts_us) != 2)
            continue;
        if ((int64_t)ts_us * 1000 < since_mono_ns)
            continue;
        const char *msg = strchr(rec, ';');
        if (msg && (strstr(msg, want) || (strstr(msg, "oom-kill") && strstr(msg, want2))))
            found = true;
    }
    close(fd);
    return found;
}
