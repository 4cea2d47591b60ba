/* tui/screen.c — the terminal: ncurses draws into a pty, and a pump thread copies
 * every byte to the real terminal and, as asciicast v2 events, to session.cast.  So
 * the recording is exactly what was displayed (script(1)'s approach), and ncurses
 * keeps a real tty to talk to.  Also: raw mode on the real terminal, restored on
 * every exit path, including fatal signals. */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tui/tui.h"

struct tui_screen {
    int master, slave;
    int stop[2]; /* tells the pump to drain and end (forked children may hold the slave) */
    FILE *out; /* the pty slave, ncurses' output */
    SCREEN *sp;
    pthread_t pump;
    bool pump_started;
    FILE *cast;
    int64_t t0;
    pthread_mutex_t mu; /* cast file: pump thread and resize events */
    char pend[8];       /* an incomplete UTF-8 sequence carried to the next event */
    size_t npend;
};

/* Saved terminal state for the fatal-signal path (async-signal-safe restore). */
static struct termios saved_tty;
static volatile sig_atomic_t tty_saved;
static const char tty_reset[] = "\033[?1000l\033[?1002l\033[?1006l\033[0m\033[?25h\033[?1049l\r\n";

static void restore_tty_raw(void)
{
    if (tty_saved) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
        tty_saved = 0;
    }
}

static void fatal_signal(int sig)
{
    if (tty_saved) {
        (void)!write(STDOUT_FILENO, tty_reset, sizeof tty_reset - 1);
        restore_tty_raw();
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

size_t tui_cast_escape(const char *in, size_t n, char *out, size_t outlen, size_t *outn)
{
    size_t i = 0, o = 0;
    const unsigned char *s = (const unsigned char *)in;
    while (i < n && o + 8 < outlen) {
        unsigned c = s[i];
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            const char *e = c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t" : c == '\b' ? "\\b" : NULL;
            if (e) {
                memcpy(out + o, e, 2);
                o += 2;
            } else { /* \u00XX: ESC mostly, dozens a frame (snprintf cost more) */
                static const char hex[] = "0123456789abcdef";
                memcpy(out + o, "\\u00", 4);
                out[o + 4] = hex[c >> 4];
                out[o + 5] = hex[c & 15];
                o += 6;
            }
            i++;
        } else if (c < 0x80) {
            out[o++] = (char)c;
            i++;
        } else {
            size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
            bool ok = len > 0;
            size_t k = 1;
            for (; ok && k < len; k++) {
                if (i + k >= n)
                    break; /* incomplete: keep for the next call */
                if ((s[i + k] & 0xc0) != 0x80)
                    ok = false;
            }
            if (ok && i + len > n) {
                *outn = o;
                return i;
            }
            if (!ok) {
                memcpy(out + o, "\\ufffd", 6);
                o += 6;
                i++;
                continue;
            }
            memcpy(out + o, s + i, len);
            o += len;
            i += len;
        }
    }
    *outn = o;
    return i;
}

static double cast_time(const struct tui_screen *s)
{
    return (double)(moni_mono_ns() - s->t0) / 1e9;
}

static void cast_event(struct tui_screen *s, const char *buf, size_t n)
{
    if (!s->cast)
        return;
    char tmp[4096 + 8];
    char esc[6 * sizeof tmp + 16];
    pthread_mutex_lock(&s->mu);
    /* Prepend a carried partial sequence. */
    while (n || s->npend) {
        size_t take = sizeof tmp - s->npend;
        if (take > n)
            take = n;
        memcpy(tmp, s->pend, s->npend);
        memcpy(tmp + s->npend, buf, take);
        size_t total = s->npend + take, en = 0;
        size_t used = tui_cast_escape(tmp, total, esc, sizeof esc, &en);
        s->npend = total - used;
        if (s->npend > sizeof s->pend) /* cannot happen: at most 3 bytes are carried */
            s->npend = 0;
        memcpy(s->pend, tmp + used, s->npend);
        if (en)
            fprintf(s->cast, "[%.6f, \"o\", \"%.*s\"]\n", cast_time(s), (int)en, esc);
        buf += take;
        n -= take;
        if (!n)
            break;
    }
    fflush(s->cast);
    pthread_mutex_unlock(&s->mu);
}

static void *pump_main(void *arg)
{
    struct tui_screen *s = arg;
    char buf[16384];
    bool draining = false;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the loop's thread */
    for (;;) {
        if (!draining) {
            struct pollfd p[2] = {{s->master, POLLIN, 0}, {s->stop[0], POLLIN, 0}};
            if (poll(p, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            if (p[1].revents) {
                draining = true; /* read what is left without blocking, then end */
                fcntl(s->master, F_SETFL, fcntl(s->master, F_GETFL) | O_NONBLOCK);
            }
        }
        ssize_t n = read(s->master, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN && !draining)
            continue;
        if (n <= 0)
            break; /* drained, or EIO: the slave was closed */
        moni_write_all(STDOUT_FILENO, buf, (size_t)n);
        cast_event(s, buf, (size_t)n);
    }
    return NULL;
}

static void write_cast_header(struct tui_screen *s, int w, int h)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", 2);
    cJSON_AddNumberToObject(o, "width", w);
    cJSON_AddNumberToObject(o, "height", h);
    cJSON_AddNumberToObject(o, "timestamp", (double)(moni_now().real_ns / MONI_NS_PER_SEC));
    cJSON *env = cJSON_AddObjectToObject(o, "env");
    const char *term = getenv("TERM"), *shell = getenv("SHELL");
    cJSON_AddStringToObject(env, "TERM", term ? term : "");
    cJSON_AddStringToObject(env, "SHELL", shell ? shell : "");
    cJSON_AddStringToObject(o, "title", "moni console");
    char *txt = cJSON_PrintUnformatted(o);
    if (txt)
        fprintf(s->cast, "%s\n", txt);
    free(txt);
    cJSON_Delete(o);
    fflush(s->cast);
}

struct tui_screen *tui_screen_open(const char *cast_path, char *err, size_t errlen)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen, "the console needs a terminal (use 'moni run' or 'moni record' headless)");
        return NULL;
    }
    const char *term = getenv("TERM");
    if (!term || !*term || !strcmp(term, "dumb")) {
        snprintf(err, errlen, "TERM is %s; the console needs a terminal type (e.g. xterm-256color)",
                 term && *term ? term : "not set");
        return NULL;
    }
    struct tui_screen *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->master = s->slave = -1;
    s->stop[0] = s->stop[1] = -1;
    if (pipe2(s->stop, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    struct winsize ws = {.ws_row = 24, .ws_col = 80};
    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
    if (tcgetattr(STDIN_FILENO, &saved_tty) != 0) {
        snprintf(err, errlen, "cannot read the terminal's settings: %s", strerror(errno));
        goto fail;
    }
    if (openpty(&s->master, &s->slave, NULL, &saved_tty, &ws) != 0) {
        snprintf(err, errlen, "cannot open a pseudo-terminal: %s", strerror(errno));
        goto fail;
    }
    fcntl(s->master, F_SETFD, FD_CLOEXEC);
    fcntl(s->slave, F_SETFD, FD_CLOEXEC);
    if (cast_path) {
        s->cast = fopen(cast_path, "we");
        if (!s->cast) {
            snprintf(err, errlen, "%s: %s", cast_path, strerror(errno));
            goto fail;
        }
        write_cast_header(s, ws.ws_col, ws.ws_row);
    }
    s->out = fdopen(s->slave, "w");
    if (!s->out) {
        snprintf(err, errlen, "fdopen: %s", strerror(errno));
        goto fail;
    }
    s->slave = -1; /* owned by s->out */
    s->t0 = moni_mono_ns();
    /* Raw input on the real terminal: ncurses sets its modes on the pty. */
    struct termios raw = saved_tty;
    cfmakeraw(&raw);
    tty_saved = 1;
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < MONI_ARRAY_LEN(fatal); i++)
        signal(fatal[i], fatal_signal);
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
    if (pthread_create(&s->pump, NULL, pump_main, s) != 0) {
        snprintf(err, errlen, "cannot start the output thread");
        goto fail;
    }
    s->pump_started = true;
    s->sp = newterm(NULL, s->out, stdin);
    if (!s->sp) {
        snprintf(err, errlen, "cannot initialise the terminal '%s'", term);
        goto fail;
    }
    set_term(s->sp);
    return s;
fail:
    tui_screen_close(s);
    return NULL;
}

void tui_screen_resize(struct tui_screen *s, int *lines, int *cols)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
        ioctl(s->master, TIOCSWINSZ, &ws);
        if (ws.ws_row != LINES || ws.ws_col != COLS) {
            resizeterm(ws.ws_row, ws.ws_col);
            if (s->cast) {
                pthread_mutex_lock(&s->mu);
                fprintf(s->cast, "[%.6f, \"r\", \"%dx%d\"]\n", cast_time(s), ws.ws_col, ws.ws_row);
                fflush(s->cast);
                pthread_mutex_unlock(&s->mu);
            }
        }
    }
    *lines = LINES;
    *cols = COLS;
}

void tui_screen_close(struct tui_screen *s)
{
    if (!s)
        return;
    if (s->sp) {
        endwin();
        delscreen(s->sp);
        s->sp = NULL;
    }
    if (s->out) {
        fflush(s->out);
        fclose(s->out); /* the master then reads EOF/EIO after the last bytes */
        s->out = NULL;
    }
    if (s->slave >= 0)
        close(s->slave);
    s->slave = -1;
    if (s->pump_started) {
        (void)!write(s->stop[1], "x", 1);
        pthread_join(s->pump, NULL);
        s->pump_started = false;
    }
    if (s->master >= 0)
        close(s->master);
    close(s->stop[0]);
    close(s->stop[1]);
    restore_tty_raw();
    if (s->cast) {
        cast_event(s, NULL, 0);
        fclose(s->cast);
    }
    pthread_mutex_destroy(&s->mu);
    free(s);
}
