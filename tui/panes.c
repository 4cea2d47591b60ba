/* tui/panes.c — the panes (htop's Panel: a title bar, then content), one const
 * pane_ops each with its layout hints and key handlers, collected in tui_panes[].
 * Panes read only the model; tui/layout.c places them. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "tui/tui.h"

/* ---- helpers ---------------------------------------------------------------------- */

static void fill(int y, int x, int w, enum tui_role role)
{
    attrset(tui_attr(role));
    mvhline(y, x, ' ', w);
}

static void title_bar(struct tui *ui, int pane, struct tui_rect r, bool focus, const char *extra)
{
    enum tui_role role = focus ? TUI_R_TITLE_FOCUS : TUI_R_TITLE;
    fill(r.y, r.x, r.w, role);
    char t[64];
    snprintf(t, sizeof t, " %s ", tui_panes[pane]->title);
    tui_put(r.y, r.x, r.w, t, false);
    int tw = tui_strwidth(t);
    if (extra && *extra && r.w > tw + 2)
        tui_put(r.y, r.x + tw + 1, r.w - tw - 2, extra, false);
    attrset(tui_attr(TUI_R_TEXT));
    if (ui->nclicks < MONI_ARRAY_LEN(ui->clicks))
        ui->clicks[ui->nclicks++] = (struct tui_click){r.y, r.x, r.w, 0, pane, -1};
}

static void clickable_rows(struct tui *ui, int pane, int y, int x, int w, int n, int first_row)
{
    for (int i = 0; i < n && ui->nclicks < MONI_ARRAY_LEN(ui->clicks); i++)
        ui->clicks[ui->nclicks++] = (struct tui_click){y + i, x, w, 0, pane, first_row + i};
}

/* For the panes in files of their own (tui/pane-*.c). */
void tui_pane_title(struct tui *ui, int pane, struct tui_rect r, bool focus, const char *extra)
{
    title_bar(ui, pane, r, focus, extra);
}
void tui_pane_clickable(struct tui *ui, int pane, int y, int x, int w, int n, int first_row)
{
    clickable_rows(ui, pane, y, x, w, n, first_row);
}

static void text(int y, int x, int w, enum tui_role role, const char *s)
{
    attrset(tui_attr(role));
    tui_put(y, x, w, s, false);
    attrset(tui_attr(TUI_R_TEXT));
}

static uint32_t graph_offset(const struct tui *ui)
{
    return ui->paused ? (uint32_t)(ui->m->samples - ui->pause_samples) : 0;
}

static bool get(const struct tui *ui, const char *fmt, int idx, double *v)
{
    char name[64];
    snprintf(name, sizeof name, fmt, idx);
    return tui_model_get(ui->m, name, v);
}

/* The first of several candidate column names that exists (names vary by source). */
static const struct tui_hist *hist_of(const struct tui *ui, const char *fmt, int idx)
{
    char name[64];
    snprintf(name, sizeof name, fmt, idx);
    return tui_model_hist(ui->m, name);
}

static char *fmt_dur(int64_t ns, char *buf, size_t len)
{
    if (ns < 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    int64_t s = ns / MONI_NS_PER_SEC;
    if (s >= 3600)
        snprintf(buf, len, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
                 (long long)(s % 60));
    else
        snprintf(buf, len, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
    return buf;
}

/* ---- header ------------------------------------------------------------------------ */

static void draw_header(struct tui *ui, struct tui_rect r, bool focus)
{
    (void)focus;
    const struct tui_model *m = ui->m;
    fill(r.y, r.x, r.w, TUI_R_HEADER);
    char el[64], iv[32], line[1200], cpu[32] = "-";
    fmt_dur(m->now_mono && m->start_mono ? m->now_mono - m->start_mono : 0, el, sizeof el);
    moni_fmt_duration(m->interval_ns, iv, sizeof iv);
    if (m->moni_cpu_pct >= 0)
        snprintf(cpu, sizeof cpu, "%.1f%%", m->moni_cpu_pct);
    if (m->replay) {
        char iso[MONI_ISO_LEN] = "-";
        if (m->now_real)
            moni_fmt_iso(m->now_real, iso, sizeof iso);
        if (ui->replay) /* the replay's clock: position/length, speed, PAUSED */
            tui_replay_clock_text(ui->replay, moni_mono_ns(), el, sizeof el);
        snprintf(line, sizeof line, " moni REPLAY%s %s | %s | %s | workload %s | every %s%s",
                 m->blind ? " (blind)" : "", m->run_id, el, iso, m->workload, iv,
                 ui->paused ? " | PAUSED" : "");
    } else {
        /* A deep run directory is cut at its start, not its end: its own name is what
         * tells one run from another (a checkout under a long path cut off "/run"). */
        const char *dir = m->run_dir[0] ? m->run_dir : "(no files)";
        char shown[1024];
        snprintf(line, sizeof line, " moni %s %s | workload %s | %s %s  | every %s | moni cpu %s%s",
                 m->run_id, el, m->workload, ui->ascii ? "*" : "●", m->recording ? "REC" : "view",
                 iv, cpu, ui->paused ? " | PAUSED" : "");
        int room = r.w - tui_strwidth(line);
        size_t len = strlen(dir);
        if (room >= 8 && len > (size_t)room)
            snprintf(shown, sizeof shown, "%s%s", ui->ascii ? "..." : "…",
                     dir + len - (size_t)(room - (ui->ascii ? 3 : 1)));
        else
            snprintf(shown, sizeof shown, "%s", dir);
        snprintf(line, sizeof line, " moni %s %s | workload %s | %s %s %s | every %s | moni cpu %s%s",
                 m->run_id, el, m->workload, ui->ascii ? "*" : "●", m->recording ? "REC" : "view",
                 shown, iv, cpu, ui->paused ? " | PAUSED" : "");
    }
    attrset(tui_attr(TUI_R_HEADER));
    tui_put(r.y, r.x, r.w, line, false);
    /* The recording dot in red. */
    if (!m->replay && m->recording) {
        const char *dot = ui->ascii ? "*" : "●";
        const char *at = strstr(line, dot);
        if (at) {
            char pre[1200];
            snprintf(pre, sizeof pre, "%.*s", (int)(at - line), line);
            int col = tui_strwidth(pre);
            if (col < r.w) {
                attrset(tui_attr(TUI_R_CRIT));
                mvaddstr(r.y, r.x + col, dot);
            }
        }
    }
    attrset(tui_attr(TUI_R_TEXT));
}

/* ---- GPU ------------------------------------------------------------------------------ */

/* Without a GPU the pane is its title line: "GPU  no GPU: REASON" (clipped). */
static int fit_gpu(const struct tui *ui) { return ui->m->ngpus > 0 ? 0 : 1; }

static void draw_gpu(struct tui *ui, struct tui_rect r, bool focus)
{
    const struct tui_model *m = ui->m;
    char extra[256] = "";
    if (m->ngpus > 0) {
        snprintf(extra, sizeof extra, "%d GPU%s", m->ngpus, m->ngpus > 1 ? "s" : "");
    } else {
        const char *why = m->gpu_reason[0] ? m->gpu_reason : "none found";
        if (!strncmp(why, "no GPU data: ", 13)) /* the session's stderr wording */
            why += 13;
        snprintf(extra, sizeof extra, "no GPU: %s", why);
    }
    title_bar(ui, TUI_P_GPU, r, focus, extra);
    int y = r.y + 1, rows = r.h - 1;
    if (m->ngpus <= 0)
        return;
    int per = rows / m->ngpus;
    if (per < 1)
        per = 1;
    for (int g = 0; g < m->ngpus && y < r.y + r.h; g++) {
        double util = 0, mu = 0, mt = 0, temp = 0, pw = 0, clk = 0;
        bool u_ok = get(ui, "gpu%d_util_pct", g, &util);
        bool mu_ok = get(ui, "gpu%d_mem_used_bytes", g, &mu);
        bool mt_ok = get(ui, "gpu%d_mem_total_bytes", g, &mt);
        bool t_ok = get(ui, "gpu%d_temp_c", g, &temp);
        bool p_ok = get(ui, "gpu%d_power_w", g, &pw);
        bool c_ok = get(ui, "gpu%d_sm_clock_mhz", g, &clk) || get(ui, "gpu%d_clock_sm_mhz", g, &clk);
        char a[16], b[16], line[256], lab[32];
        snprintf(lab, sizeof lab, u_ok ? "%.0f%%" : "-", util);
        int bw = r.w / 3;
        char idx[16];
        snprintf(idx, sizeof idx, "%d", g);
        text(y, r.x + 1, 2, TUI_R_ACCENT, idx);
        double part = u_ok ? util : 0;
        enum tui_role role = TUI_R_GRAPH1;
        tui_bar(y, r.x + 3, bw, &part, &role, 1, 100, lab, ui->ascii);
        char tt[16], pp[16], cc[16];
        snprintf(tt, sizeof tt, t_ok ? "%.0fC" : "-C", temp);
        snprintf(pp, sizeof pp, p_ok ? "%.0fW" : "-W", pw);
        snprintf(cc, sizeof cc, c_ok ? "%.0fMHz" : "-MHz", clk);
        snprintf(line, sizeof line, "mem %s/%s %s %s %s", tui_fmt_rate(mu, mu_ok, a, sizeof a),
                 tui_fmt_rate(mt, mt_ok, b, sizeof b), tt, pp, cc);
        int lx = r.x + 4 + bw;
        text(y, lx, r.w - (lx - r.x) - 1, TUI_R_TEXT, line);
        if (per >= 2) {
            const struct tui_hist *h = hist_of(ui, "gpu%d_util_pct", g);
            if (h)
                tui_graph(y + 1, r.x + 3, per - 1 > 3 ? 3 : per - 1, r.w - 4, h, 100, TUI_R_GRAPH1,
                          ui->ascii, graph_offset(ui));
        }
        y += per;
    }
}

/* ---- CPU, memory, PSI ----------------------------------------------------------------- */

static int count_cores(const struct tui_model *m)
{
    int n = 0;
    char name[32];
    for (;; n++) {
        snprintf(name, sizeof name, "cpu%d_pct", n);
        if (frame_find(&m->frame, name) < 0)
            return n;
    }
}

static void cpu_bar(struct tui *ui, int y, int x, int w, const char *label, const char *pfx)
{
    char name[48];
    double us = 0, sy = 0, io = 0, tot = 0;
    snprintf(name, sizeof name, "%s_user_pct", pfx);
    bool ok_u = tui_model_get(ui->m, name, &us);
    snprintf(name, sizeof name, "%s_system_pct", pfx);
    tui_model_get(ui->m, name, &sy);
    snprintf(name, sizeof name, "%s_iowait_pct", pfx);
    tui_model_get(ui->m, name, &io);
    snprintf(name, sizeof name, "%s_pct", pfx);
    bool ok = tui_model_get(ui->m, name, &tot);
    char lab[16];
    snprintf(lab, sizeof lab, ok ? "%.1f%%" : "-", tot);
    double parts[3] = {ok_u ? us : tot, sy, io};
    static const enum tui_role roles[3] = {TUI_R_BAR_USER, TUI_R_BAR_SYSTEM, TUI_R_BAR_IOWAIT};
    text(y, x, 4, TUI_R_ACCENT, label);
    tui_bar(y, x + 4, w - 4, parts, roles, ok ? 3 : 0, 100, lab, ui->ascii);
}

static void mem_bar(struct tui *ui, int y, int x, int w, const char *label, const char *used,
                    const char *total, enum tui_role role)
{
    double u = 0, t = 0;
    bool ok = tui_model_get(ui->m, used, &u) & tui_model_get(ui->m, total, &t);
    char a[16], b[16], lab[40];
    if (ok)
        snprintf(lab, sizeof lab, "%s/%s", tui_fmt_rate(u, true, a, sizeof a),
                 tui_fmt_rate(t, true, b, sizeof b));
    else
        snprintf(lab, sizeof lab, "-");
    text(y, x, 4, TUI_R_ACCENT, label);
    tui_bar(y, x + 4, w - 4, &u, &role, ok ? 1 : 0, t > 0 ? t : 1, lab, ui->ascii);
}

static void draw_cpu(struct tui *ui, struct tui_rect r, bool focus)
{
    const struct tui_model *m = ui->m;
    double l1 = 0, l5 = 0, l15 = 0;
    char extra[96] = "";
    if (tui_model_get(m, "load1", &l1) && tui_model_get(m, "load5", &l5) &&
        tui_model_get(m, "load15", &l15))
        snprintf(extra, sizeof extra, "load %.2f %.2f %.2f", l1, l5, l15);
    title_bar(ui, TUI_P_CPU, r, focus, extra);
    int x = r.x + 1, w = r.w - 2, y = r.y + 1, end = r.y + r.h;
    if (y < end)
        cpu_bar(ui, y++, x, w, "CPU", "cpu");
    if (y < end)
        mem_bar(ui, y++, x, w, "Mem", "mem_used_bytes", "mem_total_bytes", TUI_R_BAR_MEM);
    if (y < end)
        mem_bar(ui, y++, x, w, "Swp", "swap_used_bytes", "swap_total_bytes", TUI_R_BAR_SWAP);
    if (y < end) {
        char line[160], a[3][16];
        static const char *const res[3] = {"cpu", "memory", "io"};
        for (int i = 0; i < 3; i++) {
            char n[48];
            double v;
            snprintf(n, sizeof n, "psi_%s_some_avg10", res[i]);
            bool ok = tui_model_get(m, n, &v);
            snprintf(a[i], sizeof a[i], ok ? "%.1f%%" : "-", v);
        }
        snprintf(line, sizeof line, "PSI some cpu %s  mem %s  io %s", a[0], a[1], a[2]);
        text(y++, x, w, TUI_R_TEXT, line);
    }
    int rows = end - y, cores = count_cores(m);
    int per_line = w >= 70 ? 4 : w >= 50 ? 2 : 1;
    int core_lines = (cores + per_line - 1) / per_line;
    if (cores > 0 && rows - core_lines >= 2) {
        int cw = w / per_line;
        for (int c = 0; c < cores; c++) {
            char lab[16], pfx[16];
            snprintf(lab, sizeof lab, "%d", c);
            snprintf(pfx, sizeof pfx, "cpu%d", c);
            cpu_bar(ui, y + c / per_line, x + (c % per_line) * cw, cw - 1, lab, pfx);
        }
        y += core_lines;
        rows -= core_lines;
    }
    const struct tui_hist *h = tui_model_hist(m, "cpu_pct");
    const struct tui_hist *mh = tui_model_hist(m, "mem_used_bytes");
    double mt = 0;
    bool mem_ok = mh && tui_model_get(m, "mem_total_bytes", &mt) && mt > 0;
    if (rows >= 4 && h && mem_ok && w > 20) {
        /* CPU and memory history, each with its scale on top and its name below */
        int ch = rows / 2;
        char t[16];
        tui_graph(y, x + 6, ch, w - 6, h, 100, TUI_R_GRAPH1, ui->ascii, graph_offset(ui));
        text(y, x, 6, TUI_R_MUTED, "100%");
        text(y + ch - 1, x, 6, TUI_R_MUTED, "cpu");
        tui_graph(y + ch, x + 6, rows - ch, w - 6, mh, mt, TUI_R_GRAPH3, ui->ascii, graph_offset(ui));
        text(y + ch, x, 6, TUI_R_MUTED, tui_fmt_rate(mt, true, t, sizeof t));
        text(y + rows - 1, x, 6, TUI_R_MUTED, "mem");
    } else if (rows > 0 && h) {
        tui_graph(y, x, rows, w, h, 100, TUI_R_GRAPH1, ui->ascii, graph_offset(ui));
    }
}

/* ---- I/O ------------------------------------------------------------------------------ */

static void draw_io(struct tui *ui, struct tui_rect r, bool focus)
{
    static const struct { const char *label, *col; enum tui_role role; } series[4] = {
        {"disk rd", "disk_read_Bps", TUI_R_GRAPH1},
        {"disk wr", "disk_write_Bps", TUI_R_GRAPH2},
        {"net rx", "net_rx_Bps", TUI_R_GRAPH3},
        {"net tx", "net_tx_Bps", TUI_R_GRAPH4},
    };
    title_bar(ui, TUI_P_IO, r, focus, "bytes/s, auto-scaled");
    int x = r.x + 1, w = r.w - 2, y = r.y + 1, rows = r.h - 1;
    uint32_t off = graph_offset(ui);
    if (rows >= 4) {
        int per = rows / 4;
        for (int i = 0; i < 4; i++) {
            double v = 0;
            bool ok = tui_model_get(ui->m, series[i].col, &v);
            char val[16], line[40];
            snprintf(line, sizeof line, "%-7s %7s/s", series[i].label, tui_fmt_rate(v, ok, val, sizeof val));
            text(y, x, 18, TUI_R_TEXT, line);
            const struct tui_hist *h = tui_model_hist(ui->m, series[i].col);
            if (h && w > 20) {
                if (per == 1)
                    tui_sparkline(y, x + 19, w - 19, h, 0, series[i].role, ui->ascii, off);
                else
                    tui_graph(y, x + 19, per, w - 19, h, 0, series[i].role, ui->ascii, off);
            }
            y += per;
        }
        return;
    }
    /* Two series per line with half-width sparklines. */
    int half = w / 2;
    for (int i = 0; i < 4 && i / 2 < rows; i++) {
        double v = 0;
        bool ok = tui_model_get(ui->m, series[i].col, &v);
        char val[16], line[40];
        snprintf(line, sizeof line, "%-7s %6s", series[i].label, tui_fmt_rate(v, ok, val, sizeof val));
        int cx = x + (i % 2) * half;
        text(y + i / 2, cx, 15, TUI_R_TEXT, line);
        const struct tui_hist *h = tui_model_hist(ui->m, series[i].col);
        if (h && half > 17)
            tui_sparkline(y + i / 2, cx + 15, half - 16, h, 0, series[i].role, ui->ascii, off);
    }
}

/* ---- training ------------------------------------------------------------------------- */

static void draw_train(struct tui *ui, struct tui_rect r, bool focus)
{
    const struct tui_model *m = ui->m;
    char extra[64] = "";
    if (m->phase[0])
        snprintf(extra, sizeof extra, "phase %s", m->phase);
    title_bar(ui, TUI_P_TRAIN, r, focus, extra);
    int x = r.x + 1, w = r.w - 2, y = r.y + 1, end = r.y + r.h;
    char a[32], b[32], c[32], d[32], line[256];
    if (y < end) {
        enum tui_role lr = TUI_R_TEXT;
        const char *tag = "";
        if (m->loss_ok && !isfinite(m->loss)) {
            lr = TUI_R_CRIT; /* the value itself reads NaN/Inf */
        } else if (m->diverged) {
            lr = TUI_R_ERROR;
            tag = " DIVERGING";
        } else if (m->nan_seen) {
            lr = TUI_R_WARN;
            tag = " (NaN seen)";
        }
        snprintf(line, sizeof line, "loss %s%s", tui_fmt_num(m->loss, m->loss_ok, a, sizeof a), tag);
        text(y, x, w / 2, lr, line);
        snprintf(line, sizeof line, "lr %s", tui_fmt_num(m->lr, m->lr_ok, b, sizeof b));
        text(y, x + w / 2, w - w / 2, TUI_R_TEXT, line);
        y++;
    }
    if (y < end) {
        if (m->max_steps_ok)
            snprintf(c, sizeof c, "%s/%.0f", tui_fmt_num(m->step, m->step_ok, a, sizeof a), m->max_steps);
        else
            tui_fmt_num(m->step, m->step_ok, c, sizeof c);
        char ev[48] = ""; /* the evaluation's own bar, apart from training's */
        if (m->eval_ok && !strcmp(m->phase, "eval")) {
            char e1[16];
            tui_fmt_num(m->eval_step, true, e1, sizeof e1);
            if (m->eval_max > 0)
                snprintf(ev, sizeof ev, "  eval %s/%.0f", e1, m->eval_max);
            else
                snprintf(ev, sizeof ev, "  eval %s", e1);
        }
        snprintf(line, sizeof line, "step %s%s  epoch %s  %s %s", c, ev,
                 tui_fmt_num(m->epoch, m->epoch_ok, b, sizeof b),
                 tui_fmt_num(m->throughput, m->tput_ok, d, sizeof d),
                 m->tput_unit[0] ? m->tput_unit : "it/s");
        text(y++, x, w, TUI_R_TEXT, line);
    }
    if (end - y >= 1) {
        uint32_t off = ui->paused ? (uint32_t)(m->loss_samples - ui->pause_loss) : 0;
        int gh = end - y;
        double scale = tui_graph(y, x + 7, gh, w - 7, &m->loss_hist, 0, TUI_R_GRAPH2, ui->ascii, off);
        char s[16];
        text(y, x, 7, TUI_R_MUTED, tui_fmt_num(scale, true, s, sizeof s));
        if (gh > 1)
            text(end - 1, x, 7, TUI_R_MUTED, "loss");
    }
}

/* j/k/arrows move a selection of n rows. */
static void move_sel(size_t *sel, size_t n, int key)
{
    if ((key == 'k' || key == KEY_UP) && *sel > 0)
        (*sel)--;
    else if ((key == 'j' || key == KEY_DOWN) && *sel + 1 < n)
        (*sel)++;
}

/* ---- faults ------------------------------------------------------------------------------ */

static size_t rows_faults(const struct tui *ui) { return ui->m->nfaults; }
static void key_faults(struct tui *ui, int key) { move_sel(&ui->fault_sel, rows_faults(ui), key); }
static void select_faults(struct tui *ui, size_t row) { ui->fault_sel = row; }

static enum tui_role fault_role(enum tui_fault_state s)
{
    switch (s) {
    case TUI_F_ARMED: return TUI_R_FAULT_ARMED;
    case TUI_F_FIRING: return TUI_R_FAULT_FIRING;
    case TUI_F_STOPPED: return TUI_R_FAULT_STOPPED;
    case TUI_F_FAILED: return TUI_R_ERROR;
    default: return TUI_R_FAULT_IDLE;
    }
}

static void draw_faults(struct tui *ui, struct tui_rect r, bool focus)
{
    const struct tui_model *m = ui->m;
    char extra[64];
    if (m->blind)
        snprintf(extra, sizeof extra, "hidden (blind replay)");
    else
        snprintf(extra, sizeof extra, "%d active  a arm f fire s stop X panic", m->active_faults);
    title_bar(ui, TUI_P_FAULTS, r, focus, extra);
    int x = r.x + 1, w = r.w - 2, y = r.y + 1, rows = r.h - 1;
    if (m->blind || rows <= 0)
        return;
    size_t first = 0;
    if (ui->fault_sel >= (size_t)rows)
        first = ui->fault_sel - (size_t)rows + 1;
    for (size_t i = first; i < m->nfaults && (int)(i - first) < rows; i++) {
        const struct tui_fault_row *f = &m->faults[i];
        char el[16], rem[16], line[480], tail[320];
        fmt_dur(f->elapsed_ns, el, sizeof el);
        fmt_dur(f->remaining_ns, rem, sizeof rem);
        if (f->state == TUI_F_IDLE)
            snprintf(tail, sizeof tail, "%s", f->note);
        else
            /* what it is doing first (dose, time), so that a narrow pane keeps it;
             * Enter shows the rest */
            snprintf(tail, sizeof tail, "%s%s%s/%s %s%s%s", f->dose, f->dose[0] ? " " : "", el, rem,
                     f->note, f->note[0] ? " " : "", f->params);
        snprintf(line, sizeof line, "%zu %-10s %-7s %s", i + 1, f->kind, tui_fault_state_name(f->state),
                 tail);
        bool sel = i == ui->fault_sel;
        if (sel)
            fill(y, x - 1, w + 2, TUI_R_SELECT);
        attrset(tui_attr(TUI_R_SELECT));
        mvaddstr(y, x - 1, sel ? ">" : " ");
        /* "14 straggler": two digits and the longest kind name, then a space */
        text(y, x, 13, sel ? TUI_R_SELECT : TUI_R_TEXT, line);
        char st[16];
        snprintf(st, sizeof st, "%-7s", tui_fault_state_name(f->state));
        text(y, x + 13, 7, fault_role(f->state), st);
        if (w > 22)
            text(y, x + 21, w - 21, sel ? TUI_R_SELECT : TUI_R_TEXT, tail);
        clickable_rows(ui, TUI_P_FAULTS, y, r.x, r.w, 1, (int)i);
        y++;
    }
}

/* ---- log events ----------------------------------------------------------------------------- */

bool tui_event_matches(const struct tui *ui, const struct tui_event *e)
{
    if (!ui->filter[0])
        return true;
    return strcasestr(e->text, ui->filter) || strcasestr(e->rule, ui->filter) ||
           (!ui->m->blind && strcasestr(e->labels, ui->filter));
}

static size_t rows_events(const struct tui *ui) { return ui->m->nevents; }

/* k/Up scroll back through the events, j/Down towards the newest. */
static void key_events(struct tui *ui, int key)
{
    if ((key == 'k' || key == KEY_UP) && ui->ev_scroll + 1 < ui->m->nevents)
        ui->ev_scroll++;
    else if ((key == 'j' || key == KEY_DOWN) && ui->ev_scroll > 0)
        ui->ev_scroll--;
}

static void draw_events(struct tui *ui, struct tui_rect r, bool focus)
{
    const struct tui_model *m = ui->m;
    char extra[160];
    snprintf(extra, sizeof extra, "%llu events%s%s%s%s", (unsigned long long)m->events_total,
             ui->filter[0] ? "  filter: " : "", ui->filter, ui->ev_scroll ? "  (scrolled)" : "",
             "  / filter  l raw log  d diagnose");
    title_bar(ui, TUI_P_EVENTS, r, focus, extra);
    int x = r.x + 1, w = r.w - 2, rows = r.h - 1;
    /* Newest last: walk back from the newest matching event. */
    size_t idx[256];
    int n = 0;
    size_t skip = ui->ev_scroll;
    for (size_t i = m->nevents; i-- > 0 && n < rows && n < 256;) {
        const struct tui_event *e = tui_model_event_at(m, i);
        if (!tui_event_matches(ui, e))
            continue;
        if (skip) {
            skip--;
            continue;
        }
        idx[n++] = i;
    }
    if (n == 0 && rows > 0) {
        text(r.y + 1, x, w, TUI_R_MUTED, m->nevents ? "no event matches the filter" : "no log events yet");
        return;
    }
    int y = r.y + 1 + (rows - n);
    for (int k = n - 1; k >= 0; k--, y++) {
        const struct tui_event *e = tui_model_event_at(m, idx[k]);
        char ts[MONI_ISO_LEN], line[512];
        moni_fmt_iso(e->real_ns, ts, sizeof ts);
        static const char *const sev[] = {"INFO", "WARN", "ERR ", "CRIT"};
        static const enum tui_role role[] = {TUI_R_TEXT, TUI_R_WARN, TUI_R_ERROR, TUI_R_CRIT};
        text(y, x, 12, TUI_R_MUTED, ts + 11); /* HH:MM:SS.mmm */
        text(y, x + 13, 4, role[e->sev], sev[e->sev]);
        if (m->blind || !e->labels[0])
            snprintf(line, sizeof line, "%s: %s", e->rule, e->text);
        else
            snprintf(line, sizeof line, "%s [%s]: %s", e->rule, e->labels, e->text);
        text(y, x + 18, w - 18, e->sev >= TUI_SEV_ERROR ? TUI_R_ERROR : TUI_R_TEXT, line);
    }
}

/* ---- timeline ------------------------------------------------------------------------------ */

/* The timeline's rows, each with its label: fault windows and kills, then what was
 * seen (detections, alerts, marks).  With one row only, everything shares it. */
static int tl_row(enum tui_mark_kind k, int nrows)
{
    if (nrows < 2)
        return 0;
    return k == TUI_TL_FAULT || k == TUI_TL_KILL ? 0 : 1;
}

static void tl_item(struct tui *ui, const struct tui_tl_item *it, int y, int x, int c0, int c1)
{
    switch (it->kind) {
    case TUI_TL_FAULT:
        attrset(tui_attr(TUI_R_FAULT_FIRING));
        for (int c = c0; c <= c1; c++)
            tui_addstr(y, x + c, ui->ascii ? "=" : "━");
        if (it->label[0])
            mvaddch(y, x + c0, (chtype)(unsigned char)it->label[0]);
        break;
    case TUI_TL_KILL:
        attrset(tui_attr(TUI_R_ERROR));
        mvaddstr(y, x + c0, ui->ascii ? "x" : "✕");
        break;
    case TUI_TL_MARK:
        attrset(tui_attr(TUI_R_MARK));
        mvaddstr(y, x + c0, ui->ascii ? "^" : "▲");
        break;
    case TUI_TL_ALERT:
        attrset(tui_attr(TUI_R_ALERT));
        mvaddstr(y, x + c0, "!");
        break;
    case TUI_TL_DETECT:
        attrset(tui_attr(TUI_R_WARN));
        mvaddstr(y, x + c0, ui->ascii ? "*" : "◆");
        break;
    }
}

static void draw_timeline(struct tui *ui, struct tui_rect r, bool focus)
{
    const struct tui_model *m = ui->m;
    int64_t t0 = m->start_mono, t1 = m->now_mono;
    char el[16], extra[128];
    fmt_dur(t1 > t0 ? t1 - t0 : 0, el, sizeof el);
    snprintf(extra, sizeof extra, "00:00 .. %s   %s fault  %s kill  %s mark  %s alert  %s detection",
             el, ui->ascii ? "=" : "━", ui->ascii ? "x" : "✕", ui->ascii ? "^" : "▲", "!",
             ui->ascii ? "*" : "◆");
    title_bar(ui, TUI_P_TIMELINE, r, focus, extra);
    int nrows = r.h - 1 > 2 ? 2 : r.h - 1;
    static const char *const labels[2][2] = {{"faults ", "events "}, {"all    ", ""}};
    int lw = r.w > 40 ? 8 : 0; /* row labels, when there is room */
    for (int i = 0; i < nrows; i++) {
        fill(r.y + 1 + i, r.x, r.w, TUI_R_TEXT);
        if (lw)
            text(r.y + 1 + i, r.x + 1, lw - 1, TUI_R_MUTED, labels[nrows < 2][i]);
    }
    int x = r.x + lw, w = r.w - lw - 1;
    if (t1 <= t0 || w < 2 || nrows < 1)
        return;
    double span = (double)(t1 - t0);
    for (size_t i = 0; i < m->ntl; i++) {
        const struct tui_tl_item *it = &m->tl[i];
        if (m->blind && (it->kind == TUI_TL_FAULT || it->kind == TUI_TL_KILL))
            continue;
        int64_t s0 = it->start_mono < t0 ? t0 : it->start_mono;
        int64_t e = it->end_mono ? it->end_mono : t1;
        int c0 = (int)((double)(s0 - t0) / span * (w - 1));
        int c1 = (int)((double)(e - t0) / span * (w - 1));
        if (c0 < 0) c0 = 0;
        if (c1 >= w) c1 = w - 1;
        if (c0 >= w) c0 = w - 1;
        tl_item(ui, it, r.y + 1 + tl_row(it->kind, nrows), x, c0, c1);
    }
    attrset(tui_attr(TUI_R_TEXT));
}

/* ---- footer: key buttons and the status line ------------------------------------------------- */

static void draw_footer(struct tui *ui, struct tui_rect r, bool focus)
{
    (void)focus;
    fill(r.y, r.x, r.w, TUI_R_TEXT);
    if (ui->status[0] && moni_mono_ns() < ui->status_until) {
        text(r.y, r.x, r.w, ui->status_error ? TUI_R_ERROR : TUI_R_ACCENT, ui->status);
        return;
    }
    /* the labelled rows of the key table that work here, in table order */
    int x = r.x;
    for (size_t i = 0; i < tui_nkeys; i++) {
        const struct tui_keybind *b = &tui_keys[i];
        if (!b->label || !tui_keybind_shown(ui, b))
            continue;
        char k[2] = {(char)b->codes[0], 0};
        int need = 1 + (int)strlen(b->label);
        if (x + need >= r.x + r.w)
            break;
        text(r.y, x, 2, TUI_R_ACCENT, k);
        text(r.y, x + 1, need, TUI_R_BUTTON, b->label);
        if (ui->nclicks < MONI_ARRAY_LEN(ui->clicks))
            ui->clicks[ui->nclicks++] = (struct tui_click){r.y, x, need, b->codes[0], -1, -1};
        x += need + 1;
    }
    char th[64];
    snprintf(th, sizeof th, "theme %s", ui->theme.name);
    int tw = (int)strlen(th);
    if (x + tw < r.x + r.w)
        text(r.y, r.x + r.w - tw, tw, TUI_R_MUTED, th);
}

/* ---- the table --------------------------------------------------------------------------------- */

/* Layout at 80x24: header; GPU, CPU, I/O on the left and Training, Workload, Faults
 * on the right; the log events across; the timeline and the footer at the bottom. */
static const struct pane_ops pane_header = {
    .name = "header", .title = "moni", .place = TUI_PLACE_TOP, .min_h = 1, .pref_h = 1,
    .draw = draw_header, .logs = true,
};
static const struct pane_ops pane_gpu = {
    .name = "gpu", .title = "GPU", .place = TUI_PLACE_LEFT, .min_h = 2, .pref_h = 4, .prio = 1,
    .focusable = true, .draw = draw_gpu, .fit_h = fit_gpu,
};
static const struct pane_ops pane_cpu = {
    .name = "cpu", .title = "CPU / memory / PSI", .place = TUI_PLACE_LEFT, .min_h = 5, .pref_h = 10,
    .prio = 0, .focusable = true, .draw = draw_cpu,
};
static const struct pane_ops pane_io = {
    .name = "io", .title = "I/O", .place = TUI_PLACE_LEFT, .min_h = 3, .pref_h = 5, .prio = 2,
    .focusable = true, .draw = draw_io,
};
static const struct pane_ops pane_train = {
    .name = "train", .title = "Training", .place = TUI_PLACE_RIGHT, .min_h = 4, .pref_h = 8,
    .prio = 1, .keep_h = 6 /* two lines and a loss graph */, .focusable = true, .draw = draw_train,
};
static const struct pane_ops pane_faults = {
    .name = "faults", .title = "Faults", .place = TUI_PLACE_RIGHT, .min_h = 4, .pref_h = 11,
    .prio = 0, .keep_h = 5 /* four kinds */, .focusable = true, .focus_at_start = true,
    .draw = draw_faults, .rows = rows_faults, .key = key_faults, .select = select_faults,
};
static const struct pane_ops pane_events = {
    .name = "events", .title = "Log events", .place = TUI_PLACE_WIDE, .min_h = 4, .pref_h = 8,
    .body_pct = 25, .focusable = true, .draw = draw_events, .rows = rows_events, .key = key_events,
    .logs = true,
};
static const struct pane_ops pane_timeline = {
    .name = "timeline", .title = "Timeline", .place = TUI_PLACE_BOTTOM, .min_h = 2, .pref_h = 3,
    .focusable = true, .draw = draw_timeline,
};
static const struct pane_ops pane_footer = {
    .name = "footer", .title = "", .place = TUI_PLACE_BOTTOM, .min_h = 1, .pref_h = 1,
    .draw = draw_footer, .logs = true,
};

const struct pane_ops *const tui_panes[TUI_NPANES] = {
    [TUI_P_HEADER] = &pane_header, [TUI_P_GPU] = &pane_gpu,       [TUI_P_CPU] = &pane_cpu,
    [TUI_P_IO] = &pane_io,         [TUI_P_TRAIN] = &pane_train,   [TUI_P_PROCS] = &tui_pane_procs,
    [TUI_P_FAULTS] = &pane_faults, [TUI_P_EVENTS] = &pane_events, [TUI_P_TIMELINE] = &pane_timeline,
    [TUI_P_FOOTER] = &pane_footer,
};
