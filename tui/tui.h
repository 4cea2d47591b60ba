/* tui/tui.h — what tui/ exports: the pieces the console is built from (model,
 * widgets, themes, panes and their layout, the key table, screen recorder), which the
 * unit tests drive directly.  tui/ reaches faults and the log parser only through
 * core's runner API, never faults/ or logparse/.  Every exported name starts with tui_. */
#ifndef MONI_TUI_H
#define MONI_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* ==== model: what the panes draw =================================================
 * The console draws only from this snapshot.  A feeder (live: tui/console.c; replay:
 * tui/replay.c) updates it from the loop's thread and bumps version; the screen is
 * redrawn only when version (at most twice a second for new samples, once a second
 * for log lines alone) or the view (keys: ~10 times a second) changed. */

#define TUI_HIST_LEN 512 /* samples kept per metric for graphs */
struct tui_hist {
    float v[TUI_HIST_LEN]; /* NAN = missing */
    uint32_t head;         /* next write position */
    uint32_t n;            /* filled entries */
};
void tui_hist_push(struct tui_hist *h, double v, bool valid);
/* back = 0 is the newest.  false if out of range or missing. */
bool tui_hist_get(const struct tui_hist *h, uint32_t back, double *v);
/* Largest valid value among the newest n entries (0 if none). */
double tui_hist_max(const struct tui_hist *h, uint32_t n);

enum tui_sev { TUI_SEV_INFO, TUI_SEV_WARN, TUI_SEV_ERROR, TUI_SEV_CRIT };

struct tui_event { /* one parsed log event */
    int64_t real_ns, mono_ns;
    uint64_t line;
    enum tui_sev sev;
    char rule[48];
    char labels[96]; /* root-cause labels, "A,B" ("" if none) */
    char text[200];
};

struct tui_proc {
    int pid, ppid, depth;
    char state;
    char comm[32];
    double cpu_pct; /* < 0 unknown */
    double rss_bytes;
    int threads;
    char cmd[96]; /* command line, shortened ("" unknown: comm is shown) */
};

enum tui_fault_state { TUI_F_IDLE, TUI_F_ARMED, TUI_F_FIRING, TUI_F_STOPPED, TUI_F_FAILED };
const char *tui_fault_state_name(enum tui_fault_state s);

struct tui_fault_row { /* one fault kind (the latest instance of it) */
    char kind[24];
    char id[40];
    enum tui_fault_state state;
    char params[96];    /* "workers=2 load=95%" */
    int64_t elapsed_ns; /* firing so far (or total when stopped); < 0 unknown */
    int64_t remaining_ns; /* until the hard stop; < 0 unknown */
    char dose[64];      /* compact: "95%→93%" (requested→delivered), "95%→?" */
    char note[96];      /* failure reason etc. */
};

enum tui_mark_kind { TUI_TL_FAULT, TUI_TL_KILL, TUI_TL_MARK, TUI_TL_ALERT, TUI_TL_DETECT };
struct tui_tl_item { /* timeline strip entry */
    enum tui_mark_kind kind;
    int64_t start_mono, end_mono; /* end 0 = open; kill/mark: start == end */
    char label[48];
};

struct tui_line { /* raw log line */
    uint64_t no;
    int stream;
    char *text;
    int64_t real_ns; /* when it was written (0 unknown); tui_model_line_stamp */
};

#define TUI_MAX_EVENTS 1000
#define TUI_MAX_LINES 2000
#define TUI_MAX_PROCS 256
#define TUI_MAX_FAULTS 16
#define TUI_MAX_TL 512
#define TUI_MAX_GPUS 8
#define TUI_MAX_WORKERS 64

/* One process of a multi-process workload (moni-rlsim: one per log file), copied
 * from the runner and matched with the process tree by pid. */
enum tui_worker_state { TUI_W_RUNNING, TUI_W_QUIET, TUI_W_ERROR, TUI_W_GONE };
struct tui_worker {
    char name[64];         /* "train_worker_3" */
    int pid;               /* 0 = not known yet */
    bool seen;             /* the pid was in the process tree once */
    enum tui_worker_state state;
    double cpu_pct;        /* < 0 unknown (no pid, or not in the tree) */
    double rss_bytes;      /* < 0 unknown */
    uint64_t lines, warnings, errors;
    char last_rule[48];    /* latest warning-or-worse record ("" none) */
    char last_severity[12];
    char last_text[200];
    int64_t last_line_mono; /* last line written, 0 never */
};
/* A worker that has not written a line for this long reads "quiet Ns". */
#define TUI_WORKER_QUIET_NS (10 * MONI_NS_PER_SEC)

struct tui_model {
    uint64_t version; /* bumped on every change */
    /* header */
    char run_id[96];
    char run_dir[512];
    bool recording;
    bool replay, blind;
    int64_t interval_ns;
    int64_t start_mono;  /* run start */
    int64_t now_mono;    /* time of the latest sample (the replay's clock in replay) */
    int64_t now_real;
    char workload[64];   /* "running", "exited 0", "killed by SIGKILL", ... */
    char workload_cmd[128];
    int64_t last_line_mono; /* heartbeat: last log line (0 none) */
    double moni_cpu_pct; /* < 0 unknown */
    /* metrics: latest row and one history per column (same index) */
    struct frame frame;
    struct tui_hist *hist;
    size_t nhist;
    uint64_t samples; /* rows seen (graphs pause by offsetting against this) */
    /* GPUs */
    int ngpus;
    char gpu_names[TUI_MAX_GPUS][64];
    char gpu_reason[160]; /* "no NVML ..." when ngpus == 0 */
    /* workload tree */
    struct tui_proc procs[TUI_MAX_PROCS];
    size_t nprocs;
    /* training */
    double loss, lr, throughput, step, max_steps, epoch;
    bool loss_ok, lr_ok, tput_ok, step_ok, max_steps_ok, epoch_ok;
    bool nan_seen, diverged;
    char tput_unit[16]; /* "it/s" or "samples/s" */
    char phase[24];     /* shown: a checkpoint or evaluation ends when training goes on */
    char phase_raw[24]; /* the latest phase line's */
    uint64_t phase_loss_mark; /* loss_samples when phase_raw began */
    double phase_step_mark;   /* training step then (-1 unknown) */
    double train_max;         /* the training bar's total */
    bool train_max_ok;
    double eval_step, eval_max; /* the evaluation's bar, kept apart (eval_max 0: unknown) */
    bool eval_ok;
    struct tui_hist loss_hist;
    uint64_t loss_samples;
    double loss_min;
    /* log */
    struct tui_event events[TUI_MAX_EVENTS]; /* ring */
    size_t ev_head, nevents;
    uint64_t events_total;
    struct tui_line lines[TUI_MAX_LINES]; /* ring */
    size_t ln_head, nlines;
    /* faults */
    struct tui_fault_row faults[TUI_MAX_FAULTS];
    size_t nfaults;
    int active_faults; /* armed or firing */
    /* timeline */
    struct tui_tl_item tl[TUI_MAX_TL];
    size_t ntl;
    /* alerts (firing now), one line each */
    char alerts[8][96];
    size_t nalerts;
    /* multi-process workload: the controller's latest "step N stage=X" line and one
     * row per process (nworkers 0 for single-process workloads) */
    long pipe_step;        /* -1 until seen */
    char pipe_stage[32];
    int64_t pipe_since_mono;
    struct tui_worker workers[TUI_MAX_WORKERS];
    size_t nworkers;
};

void tui_model_init(struct tui_model *m);
void tui_model_free(struct tui_model *m);
/* Copies a sampled row in and pushes every column's history. */
void tui_model_sample(struct tui_model *m, const struct frame *f);
void tui_model_event(struct tui_model *m, const struct tui_event *e);
const struct tui_event *tui_model_event_at(const struct tui_model *m, size_t i); /* 0 oldest */
void tui_model_line(struct tui_model *m, uint64_t no, int stream, const char *text, size_t len);
const struct tui_line *tui_model_line_at(const struct tui_model *m, size_t i); /* 0 oldest */
/* The newest line's time (tui/logview.c). */
void tui_model_line_stamp(struct tui_model *m, int64_t real_ns);
struct tui_tl_item *tui_model_tl_add(struct tui_model *m, enum tui_mark_kind kind,
                                     int64_t start, int64_t end, const char *label);
/* Copies the runner's pipeline stage and per-process entries in (call after the
 * process tree was updated: CPU%, RSS and "gone" come from m->procs by pid; a
 * "controller" without a pid is the tree's root).  now: CLOCK_MONOTONIC ns. */
void tui_model_workers(struct tui_model *m, const struct runner_stage *st,
                       const struct runner_worker *w, size_t n, int64_t now);
const char *tui_worker_state_name(enum tui_worker_state s);
/* The parser's training state in, keeping what is true: a bar of another total or
 * one drawn while evaluating is the evaluation's progress, not training's; an
 * evaluation or checkpoint phase ends when training goes on (a loss line, a step). */
void tui_model_train(struct tui_model *m, const struct runner_train *st);
/* A phase line, as it is parsed ("eval", "checkpoint_save", "train", ...). */
void tui_model_phase(struct tui_model *m, const char *phase);
/* The workload as the header says it, from the process's own state. */
struct tui_workload_state {
    bool has_workload, running, ended, restarted;
    int pid;
    char state; /* /proc/PID/stat state of the root process, 0 unknown */
    int exit_signal, exit_code;
};
void tui_fmt_workload(char *buf, size_t len, const struct tui_workload_state *w);
/* Metric lookup by column name: latest value (false if absent or missing). */
bool tui_model_get(const struct tui_model *m, const char *col, double *v);
const struct tui_hist *tui_model_hist(const struct tui_model *m, const char *col);
/* Sum of the columns matching prefix*suffix (e.g. "disk_" "_read_Bps"), skipping
 * those named in "total" form; false if none valid. */
bool tui_model_sum(const struct tui_model *m, const char *prefix, const char *suffix, double *v);

/* ==== themes ====================================================================== */
enum tui_role {
    TUI_R_TEXT, TUI_R_MUTED, TUI_R_ACCENT, TUI_R_HEADER, TUI_R_TITLE, TUI_R_TITLE_FOCUS,
    TUI_R_SELECT, TUI_R_OK, TUI_R_WARN, TUI_R_ERROR, TUI_R_CRIT,
    TUI_R_GRAPH1, TUI_R_GRAPH2, TUI_R_GRAPH3, TUI_R_GRAPH4,
    TUI_R_BAR_USER, TUI_R_BAR_SYSTEM, TUI_R_BAR_IOWAIT, TUI_R_BAR_MEM, TUI_R_BAR_SWAP,
    TUI_R_FAULT_IDLE, TUI_R_FAULT_ARMED, TUI_R_FAULT_FIRING, TUI_R_FAULT_STOPPED,
    TUI_R_MARK, TUI_R_ALERT, TUI_R_DIALOG, TUI_R_INPUT, TUI_R_BUTTON,
    TUI_NROLES
};
const char *tui_role_name(enum tui_role r); /* "text", "fault_firing", ... */

struct tui_color { short c256, c16, c8; }; /* -1 = terminal default */
struct tui_style {
    struct tui_color fg, bg;
    bool bold, reverse, underline, dim;
};
struct tui_theme {
    char name[48];
    char path[512]; /* "" for the built-in fallback */
    struct tui_color background;
    struct tui_style role[TUI_NROLES];
};
/* The compiled-in default (used when default.json is missing or broken). */
void tui_theme_builtin(struct tui_theme *t);
/* Loads a theme file over the built-in default (roles not named keep it).  -1 with
 * "FILE:LINE: field: message" in err. */
int tui_theme_load(const char *path, struct tui_theme *t, char *err, size_t errlen);
/* Themes found in moni_data_dir("themes") then $XDG_CONFIG_HOME/moni/themes (a user
 * theme of the same name wins).  Paths, sorted with "default" first. */
struct tui_theme_list {
    char (*name)[48];
    char (*path)[512];
    size_t n;
};
void tui_theme_list(struct tui_theme_list *l);
void tui_theme_list_free(struct tui_theme_list *l);
/* Looks a theme up by name (or a path to a .json file). -1 with err if unknown/bad. */
int tui_theme_find(const struct tui_theme_list *l, const char *name, struct tui_theme *t,
                   char *err, size_t errlen);
/* Applies a theme to the current screen: colour pairs for the terminal's colours
 * (256, 16 or 8), or attributes only when !color (NO_COLOR, mono terminal). */
void tui_theme_apply(const struct tui_theme *t, bool color);
/* The curses attribute for a role (after tui_theme_apply). */
int tui_attr(enum tui_role r);

/* ==== widgets ===================================================================== */
struct tui_glyphs { bool ascii; };
/* [|||||    42.0%] bar of width w at (y,x); pct 0..100, label on the right. */
void tui_bar(int y, int x, int w, const double *parts, const enum tui_role *roles, size_t n,
             double total, const char *label, bool ascii);
/* One-row sparkline of the newest w samples, scaled to max (<= 0: auto). */
void tui_sparkline(int y, int x, int w, const struct tui_hist *h, double max, enum tui_role role,
                   bool ascii, uint32_t offset);
/* Multi-row graph of the newest samples (braille, 2 per cell; ASCII fallback: 1 per
 * cell with #), auto-scaled unless max > 0.  offset: samples skipped from the newest
 * (pause).  Returns the scale used. */
double tui_graph(int y, int x, int h, int w, const struct tui_hist *hist, double max,
                 enum tui_role role, bool ascii, uint32_t offset);
/* Pure helpers (unit-tested): the UTF-8 braille cell for a 2x4 dot mask and the
 * level of a value on a scale of n steps. */
void tui_braille(unsigned mask, char out[4]);
int tui_level(double v, double max, int n);
/* Formats a value with a unit for a narrow cell: "1.2G", "345K", "12.5%", "-". */
char *tui_fmt_rate(double bps, bool valid, char *buf, size_t len);
char *tui_fmt_num(double v, bool valid, char *buf, size_t len);
/* Prints s clipped to w columns (UTF-8 aware), padded with spaces when pad. */
void tui_put(int y, int x, int w, const char *s, bool pad);
void tui_addstr(int y, int x, const char *s); /* mvaddstr, cheaper for UTF-8 text */
int tui_strwidth(const char *s);
/* Horizontal line and box drawn as UTF-8 (or ASCII) text. */
void tui_hline(int y, int x, int w, bool ascii);
void tui_box(int y, int x, int h, int w, bool ascii);

/* ==== panes =======================================================================
 * One const pane_ops per pane (htop's PanelClass), collected in tui_panes[]: layout,
 * focus cycling, selection and mouse clicks read the descriptors, never pane ids. */
struct tui;
struct tui_rect { int y, x, h, w; };
enum tui_place {        /* where a pane goes; panes of one place stack in table order */
    TUI_PLACE_TOP,      /* full width, from the top (pref_h rows) */
    TUI_PLACE_LEFT,     /* left half of the middle band */
    TUI_PLACE_RIGHT,    /* right half of the middle band */
    TUI_PLACE_WIDE,     /* full width, below the middle band (body_pct of the body) */
    TUI_PLACE_BOTTOM,   /* full width, at the bottom (pref_h rows) */
};
struct pane_ops {
    const char *name;    /* "cpu", ... */
    const char *title;   /* shown in the pane's title bar */
    /* layout hints */
    enum tui_place place;
    int min_h, pref_h;   /* rows including the title */
    int prio;            /* in a column, lower gets its preferred height first */
    int body_pct;        /* WIDE: share of the body's rows (at least min_h) */
    int keep_h;          /* rows it keeps when a neighbour grows (0 = min_h) */
    bool focusable;      /* Tab/h/arrows stop here */
    bool focus_at_start;
    void (*draw)(struct tui *ui, struct tui_rect r, bool focus);
    /* Selectable rows (for j/k and mouse), 0 if none. */
    size_t (*rows)(const struct tui *ui);
    /* Keys while focused (j/k/Up/Down: select or scroll); NULL: none. */
    void (*key)(struct tui *ui, int key);
    /* A click on content row `row` (mouse); NULL: rows are not selectable. */
    void (*select)(struct tui *ui, size_t row);
    /* Rows it wants beyond its layout share now (multi-process rows), taken from the
     * panes below it, then above it, in its column, down to their keep_h; NULL: none. */
    int (*want_h)(const struct tui *ui);
    /* Rows it needs now when that is fewer than its share (the GPU pane without a
     * GPU: its title line); the rest goes to its column neighbour.  NULL or 0: all. */
    int (*fit_h)(const struct tui *ui);
    bool logs;           /* kept in the logs-only layout (a study's logs condition) */
};
enum tui_pane_id {
    TUI_P_HEADER, TUI_P_GPU, TUI_P_CPU, TUI_P_IO, TUI_P_TRAIN, TUI_P_PROCS, TUI_P_FAULTS,
    TUI_P_EVENTS, TUI_P_TIMELINE, TUI_P_FOOTER, TUI_NPANES
};
extern const struct pane_ops *const tui_panes[TUI_NPANES];
/* Places every pane for a screen of lines x cols; false if it is too small. */
#define TUI_MIN_COLS 80
#define TUI_MIN_LINES 24
bool tui_layout(int lines, int cols, struct tui_rect out[TUI_NPANES]);
/* Grows the panes that want more rows now (want_h) out of their column neighbours
 * (the Workload pane's one row per process of a multi-process workload), and gives
 * the rows a pane does not need now (fit_h) to the pane below it (or above). */
void tui_layout_grow(struct tui_rect out[TUI_NPANES], const struct tui *ui);
/* The title bar and clickable rows of panes defined in files of their own. */
void tui_pane_title(struct tui *ui, int pane, struct tui_rect r, bool focus, const char *extra);
void tui_pane_clickable(struct tui *ui, int pane, int y, int x, int w, int n, int first_row);

/* ==== the process pane (tui/pane-procs.c) =========================================
 * htop's main view for this job: the workload's tree, moni's own injector processes
 * (burners, hog, writer: moni's children other than the workload and the guardian)
 * marked with their fault kind, then the other processes of the machine by the sort
 * key (a /proc scan every 3 s through core's procfs readers, live runs only).  A
 * filter, sort key cycling and a signal to the selected process after a
 * confirmation (never to moni, its guardian or its injectors). */
extern const struct pane_ops tui_pane_procs;
struct tui_procs; /* the pane's view and scan state (ui->procs) */
void tui_procs_free(struct tui *ui);
/* o/F6: next sort key; \ or F4: the filter prompt; K/F9: the signal dialog for the
 * selected process (live runs only). */
void tui_procs_key(struct tui *ui, int key);
void tui_procs_overlay_key(struct tui *ui, int key); /* TUI_O_PROC_* overlays */
void tui_procs_overlay_draw(struct tui *ui);
enum tui_proc_sort { TUI_PS_CPU, TUI_PS_RSS, TUI_PS_THREADS, TUI_PS_PID, TUI_PS_COMMAND, TUI_PS_N };
const char *tui_proc_sort_name(enum tui_proc_sort k);
/* Pure helpers (unit-tested): qsort-style order of two rows for a key (bigger
 * first for CPU, RSS and threads), whether a row passes a filter (command or pid,
 * case-insensitive), and whether moni may signal pid (not moni, not one of its
 * own children outside the workload's tree: the guardian and the injectors). */
int tui_proc_cmp(const struct tui_proc *a, const struct tui_proc *b, enum tui_proc_sort k);
bool tui_proc_matches(const struct tui_proc *p, const char *filter);
bool tui_proc_may_signal(int pid, int ppid, int self, bool in_workload, const char **why);

/* ==== keys ========================================================================
 * ONE table (tui/keys.c): the dispatcher, the footer buttons, the help overlay and
 * moni(1)'s key list all read it.  Adding a key is adding a row. */
enum tui_key_where {
    TUI_KEY_ANY,    /* everywhere (a row's `false`) */
    TUI_KEY_LIVE,   /* in a live run, not in a replay (a row's `true`) */
    TUI_KEY_REPLAY, /* only in a replay: its clock */
    TUI_KEY_STUDY,  /* only while answering a blind study (moni study run) */
};
struct tui_keybind {
    int codes[10];       /* curses key codes it answers to, 0-terminated */
    const char *keys;    /* as the help and moni(1) list them: "q  F10" */
    const char *label;   /* footer button ("Quit"; shown after codes[0]), NULL: none */
    const char *help;    /* one line in the help overlay */
    void (*action)(struct tui *ui, int key); /* NULL: listed only (mouse) */
    enum tui_key_where where; /* where it works (elsewhere refused and not listed) */
    const char *cmd;     /* its `:` command ("fire"); NULL only for a row without action */
    /* the command's argument as words, for the usage line and Tab: "a|b" literal
     * choices, KIND a fault kind, FILE a path, NAME a preset, others free text;
     * [..] optional.  NULL: no argument.  The action reads it in ui->cmd_arg. */
    const char *cmd_arg;
};
extern const struct tui_keybind tui_keys[];
extern const size_t tui_nkeys;
const struct tui_keybind *tui_keybind_find(int key); /* NULL if no row has it */
/* False for a live-only key in a replay: refused, and not in its help or footer. */
bool tui_keybind_shown(const struct tui *ui, const struct tui_keybind *k);
/* Edits a prompt's line buffer with one key: 1 on Enter, -1 on Esc, 0 otherwise. */
int tui_edit_line(char *buf, size_t len, int key);

/* ==== the `:` command line (tui/cmdline.c) ========================================
 * Every row of the key table with a command name is a command: `:fire cpu` selects
 * the kind named by a KIND argument, then does what f does.  Unknown names get one
 * line naming them and the nearest known command.  Pure parts are unit-tested. */
#define TUI_CMD_MAXC 64
/* Optimal string alignment distance (did-you-mean). */
size_t tui_cmd_distance(const char *a, const char *b);
/* The row of a command: its exact name, else a unique prefix; NULL otherwise. */
const struct tui_keybind *tui_cmd_find(const struct tui *ui, const char *name, size_t len);
/* What the last word of line may become: commands, then the argument's words
 * (choices, kinds, presets, paths).  *word: offset of that word in line.  Sorted,
 * without duplicates; returns the count (at most max). */
size_t tui_cmd_candidates(struct tui *ui, const char *line, char (*out)[TUI_CMD_MAXC], size_t max,
                          size_t *word);
/* Tab: completes line in place (one candidate, or their common prefix); the
 * candidates as one line in hint.  Returns the count. */
size_t tui_cmd_complete(struct tui *ui, char *line, size_t len, char *hint, size_t hintlen);
/* Runs one command line (without the ':'). */
void tui_cmd_run(struct tui *ui, const char *line);
/* Edits a line buffer with a key: 1 on Enter, -1 on Esc, 0 otherwise. */
int tui_edit_line(char *buf, size_t len, int key);
/* Opens the command line with text already typed ("plan "). */
void tui_cmdline_open(struct tui *ui, const char *text);
void tui_cmdline_key(struct tui *ui, int key);
void tui_cmdline_draw(struct tui *ui);
/* Key table actions of cmdline.c, the queue (plan-run.c) and presets (presets.c). */
void tui_key_cmdline(struct tui *ui, int key);
void tui_key_queue(struct tui *ui, int key);
void tui_key_plan(struct tui *ui, int key);
void tui_key_plan_run(struct tui *ui, int key);
void tui_key_plan_skip(struct tui *ui, int key);
void tui_key_plan_abort(struct tui *ui, int key);
void tui_key_again(struct tui *ui, int key);
void tui_key_preset(struct tui *ui, int key);

/* ==== fault presets (tui/presets.c) ===============================================
 * "Repeat last fault": the last fault fired from the console (its kind and form
 * fields) is kept; `.` arms and fires it again; presets save it by name per user in
 * $XDG_CONFIG_HOME/moni/presets.json (~/.config/moni/):
 *   {"cpu-half": {"kind": "cpu", "params": {"workers": "1", "load": "50%"}}}
 * A bad file is one line "FILE:LINE: field: what is wrong", never a crash. */
struct tui_preset {
    char name[48];
    char kind[24];
    char kv[1024]; /* "key=value\n" per field, in form order (a value may hold '=') */
};
int tui_preset_add(struct tui_preset *p, const char *key, const char *value);
/* Splits kv into keys and values (pointers into bufs); returns the count. */
size_t tui_preset_fields(const struct tui_preset *p, char *bufs, size_t buflen, const char **keys,
                         const char **vals, size_t max);
/* Parses a presets file's text: 0 with *out (malloc'd) and *n, or -1 with err. */
int tui_presets_parse(const char *name, const char *text, size_t len, struct tui_preset **out,
                      size_t *n, char *err, size_t errlen);
/* Loads path (a missing file is no presets); -1 with err. */
int tui_presets_load(const char *path, struct tui_preset **out, size_t *n, char *err, size_t errlen);
/* Replaces the preset of p's name (or adds it) and writes the file whole. */
int tui_presets_save(const char *path, const struct tui_preset *p, char *err, size_t errlen);
int tui_presets_path(char *out, size_t len);
/* Reads the user's presets into ui->presets (an error into ui->preset_err). */
void tui_presets_reload(struct tui *ui);
/* Arms and fires a preset (triggers: armed, fires on them); status line says so. */
void tui_preset_fire(struct tui *ui, const struct tui_preset *p);
/* The console calls these when the form arms and when f fires a kind. */
void tui_preset_armed(struct tui *ui, const struct tui_preset *p);
void tui_preset_fired(struct tui *ui, const char *kind);

/* ==== actions the console can take (live) ========================================
 * The feeder fills this; replay leaves the action hooks NULL (read-only). */
struct tui_param {
    char name[32];
    char unit[16];
    char def[48];
    char help[96];
};
struct tui_actions {
    void *ctx;
    /* Parameter spec of a fault kind for the arm form; returns the count. */
    size_t (*params)(void *ctx, const char *kind, struct tui_param *out, size_t max);
    /* Validates one field; 0 or -1 with a message in err. */
    int (*validate)(void *ctx, const char *kind, const char *key, const char *value, char *err,
                    size_t errlen);
    int (*arm)(void *ctx, const char *kind, const char *const *keys, const char *const *values,
               size_t n, char *err, size_t errlen);
    int (*fire)(void *ctx, const char *kind, char *err, size_t errlen);
    int (*stop)(void *ctx, const char *kind, char *err, size_t errlen);
    int (*stop_all)(void *ctx, char *err, size_t errlen);
    int (*mark)(void *ctx, const char *note, char *err, size_t errlen);
    int (*restart)(void *ctx, char *err, size_t errlen);
    /* Resume: the checkpoint a restart could resume from (1 and its path), or 0 when
     * the workload cannot resume; then a restart that resumes (resume) or not. */
    int (*resume_point)(void *ctx, char *ckpt, size_t len);
    int (*restart_resume)(void *ctx, bool resume, char *err, size_t errlen);
    /* The latest fault of a kind in detail: its journal lines, requested and
     * delivered dose, effect, failure (malloc'd text), or NULL with err. */
    char *(*fault_detail)(void *ctx, const char *kind, char *err, size_t errlen);
    /* Diagnosis text (malloc'd, lines separated by \n), or NULL with err. */
    char *(*diagnose)(void *ctx, char *err, size_t errlen);
    /* Stops faults (if any) and ends the run; the console exits when the loop stops. */
    void (*quit)(void *ctx);
};

/* ==== the console ================================================================ */
enum tui_overlay {
    TUI_O_NONE, TUI_O_HELP, TUI_O_FORM, TUI_O_CONFIRM_QUIT, TUI_O_MARK, TUI_O_FILTER,
    TUI_O_RAWLOG, TUI_O_DIAG, TUI_O_TOO_SMALL, TUI_O_DETAIL, TUI_O_CONFIRM_RESTART,
    TUI_O_RAWSEARCH, TUI_O_CMDLINE, TUI_O_QUEUE, TUI_O_PRESETS,
    TUI_O_PROC_SIGNAL, TUI_O_PROC_FILTER, /* tui/pane-procs.c */
    TUI_O_GOTO, TUI_O_ANSWER
};
/* Full-screen views drawn over the panes, as pane_ops (draw, rows, key, select). */
extern const struct pane_ops tui_view_queue, tui_view_presets;

/* The arm form: one field per parameter, as many as the kind has (net: 18); the
 * fields scroll.  An empty field is not given (the kind's default applies, shown
 * greyed), as on the command line. */
#define TUI_FORM_MAX 40
struct tui_form {
    char kind[24];
    struct tui_param p[TUI_FORM_MAX];
    char val[TUI_FORM_MAX][128];
    char err[TUI_FORM_MAX][96];
    size_t n, cur;
    size_t top; /* first field shown */
    char msg[160]; /* arm failure */
};

struct tui_click { /* a clickable region drawn this frame */
    int y, x, w;
    int key;  /* key it presses, or 0 */
    int pane; /* pane it selects, or -1 */
    int row;  /* row in that pane, or -1 */
};

struct tui_opts {
    const char *theme;    /* name or path; NULL = default */
    bool ascii;           /* force ASCII glyphs */
    bool no_color;        /* NO_COLOR */
    const char *cast_path; /* session.cast (NULL: no recording) */
};

struct tui {
    struct tui_model *m;
    struct tui_actions act;
    struct moni_loop *loop;
    struct tui_opts opts;
    bool ascii, color, active;
    /* themes */
    struct tui_theme_list themes;
    struct tui_theme theme;
    size_t theme_idx;
    /* view */
    int lines, cols;
    struct tui_rect rect[TUI_NPANES];
    int focus;             /* pane with the keyboard focus */
    size_t fault_sel;      /* selected fault row */
    size_t proc_sel;
    struct tui_procs *procs; /* the process pane's view (tui/pane-procs.c) */
    size_t ev_scroll;      /* events scrolled back from the newest */
    size_t raw_scroll;
    char raw_search[64];   /* the raw log's search (/ in the view, n and N move) */
    uint64_t raw_newest;   /* newest line number when the raw view was last pinned */
    bool raw_no_times;     /* the raw view hides the lines' times (t) */
    bool raw_all_redraws;  /* ... shows every progress-bar redraw (r) */
    size_t diag_scroll;
    bool paused;
    uint64_t pause_samples, pause_loss; /* model counters when paused */
    char filter[64];
    enum tui_overlay overlay;
    struct tui_form form;
    char input[128];  /* mark / filter prompt */
    char resume_from[256]; /* the restart dialog's checkpoint to resume from, "" none */
    char *diag_text;       /* the diagnosis or the fault drill-down (TUI_O_DETAIL) */
    char detail_title[96];
    char status[200]; /* one-line message at the bottom */
    int64_t status_until;
    bool status_error;
    char theme_error[300];
    /* redraw */
    uint64_t drawn_version;
    uint64_t drawn_samples; /* model samples at the last frame */
    bool view_dirty;
    int64_t last_draw_ns;
    int draw_timer;
    uint64_t frames;
    int64_t opened_ns;  /* frames / time: MONI_TUI_FRAMES=1 says both at the end */
    struct tui_click clicks[128];
    size_t nclicks;
    /* terminal */
    struct tui_screen *scr;
    bool quitting;
    /* the `:` command line, help scrolling, the plan queue and presets */
    const char *cmd_arg;   /* the argument of the command being run, else NULL */
    char cmd_hint[240];    /* Tab's candidates, above the prompt */
    enum tui_overlay cmd_back; /* the view the command line was opened over */
    size_t help_scroll;
    struct tui_console *con; /* the live console's session and plan (NULL in a replay) */
    size_t queue_sel, preset_sel;
    struct tui_preset *presets;
    size_t npresets;
    struct tui_preset armed[TUI_MAX_FAULTS]; /* per fault row: the form's last arm */
    struct tui_preset last_fired;            /* kind "" until one fired */
    char preset_err[300];                    /* the presets file's error, "" if none */
    /* a replay: its clock (pause, seek, speed keys); NULL live */
    struct tui_replay *replay;
    /* a blind study's session: answers go to its answers file (NULL: none) */
    const struct tui_study *study;
    struct tui_picker *picker; /* the cause picker while it is open */
    bool logs_only;            /* the study's logs condition: log panes only */
};

/* Sets up the console around a loop and a model (themes, screen, stdin and SIGWINCH
 * on the loop, redraw timer).  0, or -1 with err (the terminal is left as it was). */
int tui_open(struct tui *ui, struct moni_loop *loop, struct tui_model *m,
             const struct tui_actions *act, const struct tui_opts *opts, char *err, size_t errlen);
/* Restores the terminal (idempotent; safe from a fatal-error path). */
void tui_close(struct tui *ui);
/* Marks the view changed (the next redraw tick draws). */
void tui_touch(struct tui *ui);
/* Shows a one-line message for a few seconds. */
void tui_status(struct tui *ui, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Keeps a scrolled raw log view on the same lines while new ones arrive (at the
 * bottom, it follows the newest). */
void tui_raw_pin(struct tui *ui);
/* The raw log view (tui/logview.c): drawn over the panes; its own keys (e E w W
 * t r, and j k over collapsed lines) return true when taken.  tui_line_bar_key
 * (unit-tested): whether a line is a progress bar (tqdm, Keras) and the key its
 * redraws share. */
void tui_rawlog_draw(struct tui *ui);
bool tui_rawlog_key(struct tui *ui, int key);
bool tui_line_bar_key(const char *s, char *key, size_t len);
/* True if an event passes the `/` filter. */
bool tui_event_matches(const struct tui *ui, const struct tui_event *e);
/* Draws everything now (used by the redraw timer and the bench). */
void tui_draw(struct tui *ui);
/* Ends the session (the feeder stops its faults and finishes the files). */
void tui_quit(struct tui *ui);
/* Switches to theme idx of ui->themes (and says so on the status line). */
void tui_use_theme(struct tui *ui, size_t idx, bool announce);
/* Handles one key (curses key code) through the key table; used by stdin and the
 * tests. */
void tui_key(struct tui *ui, int key);
void tui_key_mouse(struct tui *ui, int y, int x);
/* Blocks the signals the console handles through the loop (SIGWINCH, SIGINT,
 * SIGTERM, SIGHUP); call before any thread is created. */
void tui_block_signals(void);
/* Restores the terminal and prints a fatal error (endwin first). */
void tui_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ==== screen + asciicast recorder =================================================
 * ncurses writes to a pty; a pump thread copies every byte to the real terminal and
 * to session.cast as [t, "o", data] events, so the cast is exactly what was shown. */
struct tui_screen;
struct tui_screen *tui_screen_open(const char *cast_path, char *err, size_t errlen);
void tui_screen_resize(struct tui_screen *s, int *lines, int *cols);
void tui_screen_close(struct tui_screen *s);
/* JSON-escapes bytes for a cast event (UTF-8 kept, controls as \u00XX, invalid bytes
 * as U+FFFD).  Returns the number of input bytes consumed: a trailing incomplete UTF-8
 * sequence is left for the next call. */
size_t tui_cast_escape(const char *in, size_t n, char *out, size_t outlen, size_t *outn);

/* ==== feeders ===================================================================== */
/* The live console's glue (tui/console.c): a runner (session, log parser, fault
 * injector, exporter and alerts), driven through core's runner API only. */
struct session;
struct lp_rules;
struct runner;
struct plan_experiment;
struct tui_live_opts {
    const char *out_dir;
    int64_t interval_ns;
    char *const *argv; /* workload; NULL = observe only */
    const char *metrics_listen;
    const struct plan_experiment *plan_exp; /* --plan: its timed faults are scheduled */
    const char *plan_name;
    bool end_with_workload; /* a plan's experiment: the run ends when its workload does */
};
/* A fault armed from the form to fire on a trigger: after a delay, at a training
 * step, or on a log event or phase (the console fires it; f still fires it now). */
struct tui_trigger {
    struct tui_live *lv;
    int fault_id, timer;
    char kind[24];
    double at_step;     /* > 0: when training reaches it */
    char on[48];        /* "": none; a rule id or phase name */
    bool pending;
};
struct tui_live {
    struct moni_loop *loop;
    struct runner *run;   /* owns the session, parser, injector and alerts */
    struct session *s;
    struct tui_model *m;
    struct tui *ui;
    int marks_fd, poll_timer;
    char dir[512];
    bool has_workload, started, done, user_quit, exited_itself, restarting;
    char *journal;        /* the fault journal's lines as written, for the drill-down */
    size_t journal_len;
    struct tui_trigger trig[TUI_MAX_FAULTS];
};
/* Creates and starts the run (files, workload, sampling).  -1 with err; *usage set
 * for input errors (exit 2). */
int tui_live_start(struct tui_live *lv, struct moni_loop *loop, struct tui_model *m,
                   const struct tui_live_opts *o, char *err, size_t errlen, bool *usage);
void tui_live_actions(struct tui_live *lv, struct tui_actions *act);
void tui_live_attach(struct tui_live *lv, struct tui *ui);
/* Stops faults and the workload, finishes the files; returns the exit status. */
int tui_live_finish(struct tui_live *lv);
void tui_live_free(struct tui_live *lv);
/* Diagnosis of a run directory's logs as text (malloc'd), or NULL with err: a thin
 * wrapper of core's runner_diagnose_dir for `moni replay` (rules NULL: loaded). */
char *tui_diagnose_dir(const struct lp_rules *rules, const char *dir, char *err, size_t errlen);

/* ==== the live console's session (tui/plan-run.c) =================================
 * One live run at a time on one screen.  With a plan (--plan FILE, or `:plan FILE`
 * and r), the plan's experiment queue (core/queue.c) runs every experiment in turn,
 * each in its own run directory (OUT/NAME, runs.csv in OUT): when one ends (its
 * workload exits, its duration passes, skip, abort) the next starts after its
 * cooldown, and the console stays up when the plan is done. */
struct tui_console_opts {
    const char *out;           /* the run directory, or the plan's output directory */
    const char *plan_path;     /* --plan FILE, or NULL */
    int64_t interval_ns;       /* 0: the experiment's, else 1 s */
    char **cmd;                /* the workload after --, or NULL: the plan's, or moni-train */
    const char *metrics_listen;
    const char *theme;
    bool ascii;
};
/* Runs the console until the user quits; returns the exit status.  Errors before
 * the screen opens are printed (exit 2 for bad input). */
int tui_console_run(const struct tui_console_opts *o);
/* `:plan FILE`: loads a plan into the queue (not started: r runs it).  -1 with err. */
int tui_plan_load(struct tui *ui, const char *path, char *err, size_t errlen);
/* The queue view's facts: the plan's name and directory, the items and the running
 * one's progress.  false without a plan. */
struct tui_plan_view {
    const char *name, *dir;
    size_t n, finished;
    long running;              /* the item in the live view, -1 */
    bool started, aborted, waiting;
    double eta_s;              /* planned time left (< 0 unknown) */
    double elapsed_s, planned_s; /* the running item's (planned 0: open) */
};
bool tui_plan_view(const struct tui *ui, struct tui_plan_view *v);
/* One item: name, state word (queued, running, done, failed, skipped), outcome. */
bool tui_plan_item(const struct tui *ui, size_t idx, const char **name, const char **state,
                   const char **outcome, int *exit_status);

/* Loads a recorded run directory into a replay feeder that advances the model on
 * the loop's clock.  -1 with err. */
struct tui_replay;
struct tui_replay *tui_replay_open(const char *run_dir, bool blind, struct tui_model *m,
                                   char *err, size_t errlen);
/* Advances replay time to t (seconds since the run start); returns true at the end. */
bool tui_replay_advance(struct tui_replay *r, double t);
double tui_replay_duration(const struct tui_replay *r);
void tui_replay_close(struct tui_replay *r);
/* The replay's clock (now: CLOCK_MONOTONIC ns).  tick advances the model to the
 * clock's time (true at the end); seek goes to t seconds, back as well as forward;
 * speed TUI_REPLAY_MAX_SPEED is shown as "max". */
#define TUI_REPLAY_MAX_SPEED 100.0
bool tui_replay_tick(struct tui_replay *r, int64_t now);
double tui_replay_pos(const struct tui_replay *r, int64_t now);
void tui_replay_pause(struct tui_replay *r, bool paused, int64_t now);
bool tui_replay_paused(const struct tui_replay *r);
void tui_replay_set_speed(struct tui_replay *r, double speed, int64_t now);
double tui_replay_speed(const struct tui_replay *r);
void tui_replay_seek(struct tui_replay *r, double t, int64_t now);
/* Counts tui_replay_seek calls: a seek back from the end at high speed can reach the
 * end again before the next tick, and the end notice must still be given anew. */
unsigned tui_replay_seeks(const struct tui_replay *r);
/* The replay's keys (tui/replay-keys.c, rows of the key table): [ ] { } Home End
 * seek, g goes to a time (a prompt), < > the speed; p pauses. */
void tui_replay_key_seek(struct tui *ui, int key);
void tui_replay_key_speed(struct tui *ui, int key);
void tui_replay_key_goto(struct tui *ui, int key);
void tui_replay_key_pause(struct tui *ui);
void tui_replay_over_goto(struct tui *ui, int key);
/* "01:23/05:00 2x PAUSED", for the header. */
void tui_replay_clock_text(const struct tui_replay *r, int64_t now, char *buf, size_t len);
/* Parses a time to go to: "90", "90s", "1:30", "1m30s".  0, or -1. */
int tui_replay_parse_time(const char *s, double *out);

/* ==== answering inside a blind study (tui/answer.c) ==============================
 * `moni study run` plays each session with the study's context: ! records "I see a
 * problem now", c opens the cause picker (the labels moni knows, filtered as you
 * type; then the component of a multi-process run, a confidence and a note).  Each
 * answer is one line of STUDY/testers/NAME/answers.jsonl (core's
 * study_answer_append) with the replay clock's time. */
struct tui_study {
    const char *dir, *tester, *session, *condition;
};
void tui_answer_detected(struct tui *ui, int key);
void tui_answer_open(struct tui *ui, int key);
void tui_answer_key(struct tui *ui, int key);
void tui_answer_draw(struct tui *ui);
void tui_answer_close(struct tui *ui);
/* The raw log was opened: a `log` answer with the lines written so far. */
void tui_answer_log(struct tui *ui);
/* The logs condition: the header, the raw log, the log events and the footer only
 * (an engineer with the job's log and nothing else).  Called after the layout. */
void tui_logs_layout(struct tui *ui);
void tui_logs_draw(struct tui *ui);

/* ==== the cluster console: `moni top` (tui/top*.c) ================================
 * A full-screen view of a job's nodes built from PromQL instant queries to an
 * existing Prometheus (url "http://HOST[:PORT][/PREFIX]"); job NULL = every node
 * with a node label.  Returns the exit status (2 for a bad url). */
struct tui_top_opts {
    const char *url, *job;
    int64_t interval_ns; /* between refreshes */
    int timeout_ms;      /* per HTTP request */
};
int tui_top_run(const struct tui_top_opts *o);

#endif
