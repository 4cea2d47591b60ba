/* tui/top.c — `moni top`, the cluster console: a full-screen table of a job's nodes
 * drawn from an existing Prometheus (one row per node: GPU, CPU, I/O, network,
 * training loss and step, moni's heartbeat, faults, detections, alerts), sorting,
 * a drill-down into one node's series, and the cluster's alerts.
 *
 * It never talks to the nodes: everything comes from PromQL instant queries
 * (tui/top-query.c) over HTTP (tui/top-http.c), one refresh every interval, on this
 * thread (a query to a nearby Prometheus takes milliseconds; the deadline bounds a
 * slow one).  The title line says what each refresh cost: PromQL queries, HTTP
 * requests, bytes both ways and the time taken. */
#include <curses.h>
#include <locale.h>
#include <langinfo.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tui/top-int.h"

enum top_view { VIEW_TABLE, VIEW_NODE, VIEW_HELP };

struct top_ui {
    const struct tui_top_opts *o;
    struct top_url url;
    struct top_model m;
    enum top_view view, back;
    int sel;           /* selected row */
    int sort;          /* column, -1 = node name */
    bool desc;
    char node[96];     /* the drill-down's node */
    int scroll;        /* first series shown in the drill-down */
    int64_t next_ns;   /* next refresh */
    bool color;
};

static volatile sig_atomic_t top_quit;
static void on_quit(int sig)
{
    (void)sig;
    top_quit = 1;
}

/* ---- drawing ---------------------------------------------------------------------- */
static void put_attr(int y, int x, int w, enum tui_role r, const char *s)
{
    attrset(tui_attr(r));
    tui_put(y, x, w, s, true);
    attrset(tui_attr(TUI_R_TEXT));
}

static void draw_title(struct top_ui *u)
{
    const struct top_model *m = &u->m;
    size_t down = 0, firing = 0;
    for (size_t i = 0; i < m->nn; i++)
        if (m->nodes[i].ok[0] && m->nodes[i].v[0] < 1)
            down++;
    for (size_t i = 0; i < m->na; i++)
        firing += !strcmp(m->alerts[i].state, "firing");
    char line[512], sent[16], recv[16];
    tui_fmt_rate((double)m->bytes_sent, true, sent, sizeof sent);
    tui_fmt_rate((double)m->bytes_received, true, recv, sizeof recv);
    snprintf(line, sizeof line, "moni top  %s  job %s  %zu nodes, %zu down  %zu alerts firing", u->o->url,
             u->o->job ? u->o->job : "(all)", m->nn, down, firing);
    put_attr(0, 0, COLS, TUI_R_TITLE, line);
    /* the debug line: what one refresh asked of Prometheus */
    snprintf(line, sizeof line,
             "refresh %.3gs: %d PromQL queries, %d HTTP requests, %s sent, %s received, %.0f ms",
             (double)u->o->interval_ns / 1e9, m->queries, m->requests, sent, recv, m->ms);
    if (m->error[0])
        put_attr(1, 0, COLS, TUI_R_ERROR, m->error);
    else
        put_attr(1, 0, COLS, TUI_R_MUTED, line);
}

#define NODE_W 16
#define RANK_W 5

static void draw_head(struct top_ui *u, int y)
{
    char cell[32];
    attrset(tui_attr(TUI_R_HEADER));
    tui_put(y, 0, COLS, "", true);
    snprintf(cell, sizeof cell, "NODE%s", u->sort < 0 ? (u->desc ? "^" : "v") : "");
    tui_put(y, 0, NODE_W, cell, true);
    tui_put(y, NODE_W, RANK_W, "RANK", true);
    int x = NODE_W + RANK_W;
    for (size_t c = 0; c <= top_ncols && x < COLS; c++) {
        const char *h = c < top_ncols ? top_cols[c].head : "ALR";
        int w = c < top_ncols ? top_cols[c].width : 3;
        snprintf(cell, sizeof cell, "%*s%s", w, h,
                 u->sort == (int)c ? (u->desc ? "v" : "^") : " ");
        tui_put(y, x, w + 2, cell, true);
        x += w + 2;
    }
    attrset(tui_attr(TUI_R_TEXT));
}

static enum tui_role row_role(const struct top_node *n, bool selected)
{
    if (selected)
        return TUI_R_SELECT;
    if (n->ok[0] && n->v[0] < 1)
        return TUI_R_CRIT;
    if (n->ok[TOP_COL_ALERTS] && n->v[TOP_COL_ALERTS] > 0)
        return TUI_R_WARN;
    return TUI_R_TEXT;
}

static void draw_row(const struct top_node *n, int y, bool selected)
{
    char cell[48];
    attrset(tui_attr(row_role(n, selected)));
    tui_put(y, 0, COLS, "", true);
    tui_put(y, 0, NODE_W - 1, n->node, true);
    tui_put(y, NODE_W, RANK_W, n->rank[0] ? n->rank : "-", true);
    int x = NODE_W + RANK_W;
    for (size_t c = 0; c <= top_ncols && x < COLS; c++) {
        char v[32];
        int w = c < top_ncols ? top_cols[c].width : 3;
        top_fmt_cell(c < top_ncols ? &top_cols[c] : NULL, n->ok[c], n->v[c], v, sizeof v);
        snprintf(cell, sizeof cell, "%*s ", w, v);
        tui_put(y, x, w + 2, cell, true);
        x += w + 2;
    }
    attrset(tui_attr(TUI_R_TEXT));
}

/* The alerts (of one node when node is set) from row y to y+h-1. */
static void draw_alerts(const struct top_ui *u, int y, int h, const char *node)
{
    const struct top_model *m = &u->m;
    size_t shown = 0, firing = 0, pending = 0;
    for (size_t i = 0; i < m->na; i++) {
        if (node && strcmp(m->alerts[i].node, node))
            continue;
        if (!strcmp(m->alerts[i].state, "firing"))
            firing++;
        else
            pending++;
    }
    char line[512];
    snprintf(line, sizeof line, "Alerts: %zu firing, %zu pending", firing, pending);
    put_attr(y, 0, COLS, TUI_R_HEADER, line);
    for (size_t i = 0; i < m->na && (int)shown + 1 < h; i++) {
        const struct top_alert *a = &m->alerts[i];
        if (node && strcmp(a->node, node))
            continue;
        bool f = !strcmp(a->state, "firing");
        char age[16];
        top_fmt_cell(&top_cols[1], isfinite(a->age_s), a->age_s, age, sizeof age);
        snprintf(line, sizeof line, "%-7s %-8s %-26s %-14s %5s  %s", f ? "FIRING" : a->state,
                 a->severity, a->name, a->node[0] ? a->node : "-", age, a->summary);
        enum tui_role r = !f ? TUI_R_MUTED : !strcmp(a->severity, "critical") ? TUI_R_CRIT : TUI_R_WARN;
        put_attr(y + 1 + (int)shown, 0, COLS, r, line);
        shown++;
    }
}

static void draw_footer(const struct top_ui *u)
{
    const char *keys = u->view == VIEW_NODE
                           ? "Esc back  j/k scroll  Space refresh  ? help  q quit"
                           : "j/k select  Enter node  s sort  S reverse  Space refresh  ? help  q quit";
    put_attr(LINES - 1, 0, COLS, TUI_R_BUTTON, keys);
}

static void draw_table(struct top_ui *u)
{
    int nalert = (int)u->m.na + 1;
    int max_alert = LINES / 3 > 3 ? LINES / 3 : 3;
    if (nalert > max_alert)
        nalert = max_alert;
    if (nalert < 2)
        nalert = 2;
    int top = 3, rows = LINES - 1 - nalert - top;
    draw_head(u, 2);
    if (u->sel >= (int)u->m.nn)
        u->sel = (int)u->m.nn - 1;
    if (u->sel < 0)
        u->sel = 0;
    int first = u->sel >= rows ? u->sel - rows + 1 : 0;
    for (int i = 0; i < rows && first + i < (int)u->m.nn; i++)
        draw_row(&u->m.nodes[first + i], top + i, first + i == u->sel);
    if (!u->m.nn && rows > 0)
        put_attr(top, 0, COLS, TUI_R_MUTED,
                 "no nodes yet: no target with a node label (job_id with --job) answers in Prometheus");
    draw_alerts(u, LINES - 1 - nalert, nalert, NULL);
}

static void draw_node(struct top_ui *u)
{
    const struct top_node *n = NULL;
    for (size_t i = 0; i < u->m.nn; i++)
        if (!strcmp(u->m.nodes[i].node, u->node))
            n = &u->m.nodes[i];
    char line[512];
    snprintf(line, sizeof line, "node %s  rank %s", u->node, n && n->rank[0] ? n->rank : "-");
    put_attr(2, 0, COLS, TUI_R_HEADER, line);
    /* the row's cells, labelled, then every series of the node */
    size_t o = 0;
    line[0] = '\0';
    for (size_t c = 0; c < top_ncols && n && o < sizeof line - 40; c++) {
        char v[32];
        top_fmt_cell(&top_cols[c], n->ok[c], n->v[c], v, sizeof v);
        o += (size_t)snprintf(line + o, sizeof line - o, "%s %s  ", top_cols[c].head, v);
    }
    put_attr(3, 0, COLS, n ? TUI_R_TEXT : TUI_R_MUTED, n ? line : "(the node has no row now)");
    int nalert = 6, top = 5, rows = LINES - 1 - nalert - top;
    snprintf(line, sizeof line, "%zu series", u->m.ns);
    put_attr(4, 0, COLS, TUI_R_MUTED, line);
    if (u->scroll > (int)u->m.ns - rows)
        u->scroll = (int)u->m.ns - rows;
    if (u->scroll < 0)
        u->scroll = 0;
    for (int i = 0; i < rows && u->scroll + i < (int)u->m.ns; i++) {
        const struct top_series *s = &u->m.series[u->scroll + i];
        char v[32], name[400];
        tui_fmt_num(s->v, true, v, sizeof v);
        snprintf(name, sizeof name, "%s%s%s%s", s->name, s->labels[0] ? "{" : "", s->labels,
                 s->labels[0] ? "}" : "");
        snprintf(line, sizeof line, "%-*.*s %12s", COLS > 20 ? COLS - 14 : 6,
                 COLS > 20 ? COLS - 14 : 6, name, v);
        put_attr(top + i, 0, COLS, TUI_R_TEXT, line);
    }
    draw_alerts(u, LINES - 1 - nalert, nalert, u->node);
}

static void draw_help(void)
{
    static const char *const lines[] = {
        "moni top: one row per node of the job, from Prometheus (moni-top(1))",
        "",
        "  j k Up Down   select a node (scroll in a node's view)",
        "  Enter         the selected node: its row and every series",
        "  Esc h Left    back to the table",
        "  s             sort by the next column (NODE, UP, HB, GPU%, ...)",
        "  S             reverse the order",
        "  Space F5      refresh now",
        "  ? F1          this help (any key closes it)",
        "  q F10         quit",
        "",
        "Rows are the nodes whose moni answers Prometheus (up or heartbeat series); a",
        "DOWN row is a target Prometheus cannot scrape.  HB: age of the node's last sample.",
        "Columns come from moni's metrics, else node_exporter's, else DCGM's.",
    };
    for (size_t i = 0; i < MONI_ARRAY_LEN(lines) && (int)i + 2 < LINES - 1; i++)
        put_attr(2 + (int)i, 0, COLS, i ? TUI_R_TEXT : TUI_R_HEADER, lines[i]);
}

static void draw(struct top_ui *u)
{
    erase();
    draw_title(u);
    if (u->view == VIEW_TABLE)
        draw_table(u);
    else if (u->view == VIEW_NODE)
        draw_node(u);
    else
        draw_help();
    draw_footer(u);
    refresh();
}

/* ---- keys and the loop --------------------------------------------------------------- */
static void refresh_now(struct top_ui *u)
{
    /* keep the selection on the same node across the refresh and re-sort */
    char keep[96] = "";
    if (u->sel >= 0 && u->sel < (int)u->m.nn)
        snprintf(keep, sizeof keep, "%s", u->m.nodes[u->sel].node);
    top_refresh(&u->m, &u->url, u->o->job, u->view == VIEW_NODE ? u->node : NULL, u->o->timeout_ms);
    top_sort(&u->m, u->sort, u->desc);
    for (size_t i = 0; i < u->m.nn; i++)
        if (!strcmp(u->m.nodes[i].node, keep))
            u->sel = (int)i;
    u->next_ns = moni_mono_ns() + u->o->interval_ns;
}

/* Returns false to quit. */
static bool on_key(struct top_ui *u, int ch)
{
    if (u->view == VIEW_HELP) {
        u->view = u->back;
        return true;
    }
    switch (ch) {
    case 'q':
    case KEY_F(10):
        return false;
    case '?':
    case KEY_F(1):
        u->back = u->view;
        u->view = VIEW_HELP;
        break;
    case 'j':
    case KEY_DOWN:
        if (u->view == VIEW_NODE)
            u->scroll++;
        else
            u->sel++;
        break;
    case 'k':
    case KEY_UP:
        if (u->view == VIEW_NODE)
            u->scroll--;
        else if (u->sel > 0)
            u->sel--;
        break;
    case '\n':
    case '\r':
    case KEY_ENTER:
        if (u->view == VIEW_TABLE && u->sel < (int)u->m.nn) {
            snprintf(u->node, sizeof u->node, "%s", u->m.nodes[u->sel].node);
            u->view = VIEW_NODE;
            u->scroll = 0;
            refresh_now(u);
        }
        break;
    case 27:
    case 'h':
    case KEY_LEFT:
    case KEY_BACKSPACE:
        u->view = VIEW_TABLE;
        break;
    case 's':
        u->sort = u->sort + 1 > (int)top_ncols ? -1 : u->sort + 1;
        top_sort(&u->m, u->sort, u->desc);
        break;
    case 'S':
        u->desc = !u->desc;
        top_sort(&u->m, u->sort, u->desc);
        break;
    case ' ':
    case KEY_F(5):
        refresh_now(u);
        break;
    default:
        break;
    }
    return true;
}

static void screen_open(struct top_ui *u)
{
    setlocale(LC_ALL, "");
    initscr();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    timeout(100);
    const char *nc = getenv("NO_COLOR");
    u->color = !(nc && *nc) && has_colors();
    if (u->color) {
        start_color();
        use_default_colors();
    }
    struct tui_theme th;
    struct tui_theme_list tl;
    char err[256];
    tui_theme_list(&tl);
    if (tui_theme_find(&tl, "default", &th, err, sizeof err) != 0)
        tui_theme_builtin(&th);
    tui_theme_list_free(&tl);
    tui_theme_apply(&th, u->color);
}

int tui_top_run(const struct tui_top_opts *o)
{
    struct top_ui u = {.o = o, .sort = -1};
    char err[300];
    if (top_url_parse(o->url, &u.url, err, sizeof err) < 0) {
        moni_err("top: --prometheus %s", err);
        return MONI_EXIT_USAGE;
    }
    struct sigaction sa = {.sa_handler = on_quit};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    screen_open(&u);
    refresh_now(&u);
    draw(&u);
    while (!top_quit) {
        int ch = getch();
        if (ch != ERR && ch != KEY_RESIZE && !on_key(&u, ch))
            break;
        if (moni_mono_ns() >= u.next_ns)
            refresh_now(&u);
        draw(&u); /* curses sends only what changed */
    }
    endwin();
    top_model_free(&u.m);
    return MONI_EXIT_OK;
}
