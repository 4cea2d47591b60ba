/* tui/widgets.c — meters and graphs (htop's bars, braille history graphs with an
 * ASCII fallback), number formatting for narrow cells, UTF-8 aware clipping. */
#include <curses.h>
#include <langinfo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "tui/tui.h"

/* ---- text into ncurses ----------------------------------------------------------
 * ncursesw's waddnstr rebuilds every byte into a wide character through mbrtowc
 * (with its per-character checks, ~300 instructions a cell: most of a redraw).  Text
 * in a UTF-8 locale is decoded here instead and handed over as wide characters with
 * waddnwstr, which puts each through the same per-character code waddnstr ends in
 * (attributes, background, wrapping, cursor: all the same).  Anything this decoder
 * is not sure of goes the old way: control or invalid bytes, characters below
 * U+0100 past ASCII (ncurses takes those for single bytes), zero-width ones. */

#define WIDE_MAX 1024 /* characters decoded at once; longer text goes the old way */

static bool utf8_locale(void)
{
    if (MB_CUR_MAX < 3)
        return false;
    const char *cs = nl_langinfo(CODESET);
    return cs && (!strcmp(cs, "UTF-8") || !strcasecmp(cs, "utf8") || !strcasecmp(cs, "utf-8"));
}

/* One well-formed UTF-8 character at s (n bytes left, n >= 1): its length, or 0. */
static int utf8_char(const unsigned char *s, size_t n, wchar_t *wc)
{
    unsigned c = s[0], cp, min;
    int len;
    if (c < 0x80) {
        *wc = (wchar_t)c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0)
        len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if ((size_t)len > n)
        return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *wc = (wchar_t)cp;
    return len;
}

/* The cell width of the next character of s (n bytes left) into *wc and *k (its
 * bytes): 1 or 2, or 0 when the fast path must not take it (see above). */
static int fast_char(const char *s, size_t n, wchar_t *wc, int *k)
{
    unsigned char c = (unsigned char)*s;
    if (c >= 0x20 && c < 0x7f) {
        *wc = (wchar_t)c;
        *k = 1;
        return 1;
    }
    *k = utf8_char((const unsigned char *)s, n, wc);
    if (!*k || *wc < 0x100)
        return 0;
    int cw = wcwidth(*wc);
    return cw == 1 || cw == 2 ? cw : 0;
}

/* tui_put in a UTF-8 locale: false (nothing drawn) when the text needs the old way. */
static bool put_wide(int y, int x, int w, const char *s, bool pad)
{
    if (!utf8_locale())
        return false;
    wchar_t buf[WIDE_MAX];
    size_t n = strlen(s), bytes = 0;
    int used = 0, m = 0;
    while (bytes < n) { /* as far as tui_put's own loop looks */
        wchar_t wc;
        int k, cw = fast_char(s + bytes, n - bytes, &wc, &k);
        if (!cw || m >= WIDE_MAX)
            return false;
        if (used + cw > w)
            break;
        buf[m++] = wc;
        used += cw;
        bytes += (size_t)k;
    }
    if (m)
        mvaddnwstr(y, x, buf, m);
    else
        move(y, x);
    if (pad && used < w) { /* a call of its own: the text may have stopped at the corner */
        static const wchar_t blanks[] = L"                                ";
        for (int left = w - used; left > 0; left -= 32)
            addnwstr(blanks, left < 32 ? left : 32);
    }
    return true;
}

void tui_addstr(int y, int x, const char *s)
{
    if (utf8_locale()) {
        wchar_t buf[WIDE_MAX];
        size_t n = strlen(s), bytes = 0;
        int m = 0;
        while (bytes < n && m < WIDE_MAX) {
            int k;
            if (!fast_char(s + bytes, n - bytes, &buf[m], &k))
                break;
            m++;
            bytes += (size_t)k;
        }
        if (bytes == n) {
            if (m)
                mvaddnwstr(y, x, buf, m);
            else
                move(y, x);
            return;
        }
    }
    mvaddstr(y, x, s);
}

/* tui_strwidth in a UTF-8 locale; -1 when a byte is not well-formed UTF-8 (then
 * mbrtowc decides, as before). */
static int strwidth_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    int w = 0;
    while (n) {
        if (*p < 0x80) { /* controls and DEL: wcwidth -1, counted as 0 */
            w += *p >= 0x20 && *p < 0x7f;
            p++;
            n--;
            continue;
        }
        wchar_t wc;
        int k = utf8_char(p, n, &wc);
        if (!k)
            return -1;
        int cw = wcwidth(wc);
        w += cw > 0 ? cw : 0;
        p += k;
        n -= (size_t)k;
    }
    return w;
}

int tui_strwidth(const char *s)
{
    int fast = utf8_locale() ? strwidth_utf8(s) : -1;
    if (fast >= 0)
        return fast;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    int w = 0;
    size_t n = strlen(s);
    while (n) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s, n, &st);
        if (k == 0)
            break;
        if (k == (size_t)-1 || k == (size_t)-2) {
            memset(&st, 0, sizeof st);
            k = 1;
            w++;
        } else {
            int cw = wcwidth(wc);
            w += cw > 0 ? cw : 0;
        }
        s += k;
        n -= k;
    }
    return w;
}

void tui_put(int y, int x, int w, const char *s, bool pad)
{
    if (w <= 0 || put_wide(y, x, w, s, pad))
        return;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    size_t n = strlen(s), bytes = 0;
    int used = 0;
    bool clean = true; /* only printable text: write it in one call */
    while (bytes < n) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, s + bytes, n - bytes, &st);
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
            clean = false;
            break;
        }
        int cw = wcwidth(wc);
        if (cw < 0) {
            clean = false;
            break;
        }
        if (used + cw > w)
            break;
        used += cw;
        bytes += k;
    }
    if (clean) {
        mvaddnstr(y, x, s, (int)bytes);
    } else { /* control or invalid bytes: show them as '?' */
        move(y, x);
        used = 0;
        for (size_t i = 0; i < n && used < w; i++) {
            unsigned char c = (unsigned char)s[i];
            addch(c >= 0x20 && c < 0x7f ? c : '?');
            used++;
        }
    }
    if (pad)
        for (int i = used; i < w; i++)
            addch(' ');
}

char *tui_fmt_rate(double v, bool valid, char *buf, size_t len)
{
    if (!valid || !isfinite(v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    static const char units[] = "BKMGTP";
    int u = 0;
    double a = fabs(v);
    while (a >= 1000 && u < 5) {
        a /= 1024;
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f%c", v, units[u]);
    else
        snprintf(buf, len, a < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
    return buf;
}

char *tui_fmt_num(double v, bool valid, char *buf, size_t len)
{
    if (!valid) {
        snprintf(buf, len, "-");
    } else if (isnan(v)) {
        snprintf(buf, len, "NaN");
    } else if (isinf(v)) {
        snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
    } else {
        double a = fabs(v);
        if (a != 0 && (a < 1e-3 || a >= 1e7))
            snprintf(buf, len, "%.2e", v);
        else if (a >= 1000 || v == (long long)v)
            snprintf(buf, len, "%.0f", v);
        else if (a >= 10)
            snprintf(buf, len, "%.2f", v);
        else
            snprintf(buf, len, "%.4f", v);
    }
    return buf;
}

int tui_level(double v, double max, int n)
{
    if (!(max > 0) || !(v > 0))
        return 0;
    double l = v / max * n;
    int li = (int)lround(l);
    if (li == 0)
        li = 1; /* anything above zero shows */
    return li > n ? n : li;
}

void tui_braille(unsigned mask, char out[4])
{
    unsigned cp = 0x2800 + (mask & 0xff);
    out[0] = (char)(0xe0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    out[3] = 0;
}

void tui_bar(int y, int x, int w, const double *parts, const enum tui_role *roles, size_t n,
             double total, const char *label, bool ascii)
{
    (void)ascii;
    if (w < 3)
        return;
    int inner = w - 2;
    char cells[512];
    int role_of[512];
    if (inner > (int)sizeof cells - 1)
        inner = (int)sizeof cells - 1;
    int filled = 0;
    for (size_t i = 0; i < n && total > 0; i++) {
        double acc = 0;
        for (size_t k = 0; k <= i; k++)
            acc += parts[k] > 0 ? parts[k] : 0;
        int upto = (int)lround(acc / total * inner);
        if (upto > inner)
            upto = inner;
        for (; filled < upto; filled++) {
            cells[filled] = '|';
            role_of[filled] = roles[i];
        }
    }
    for (int i = filled; i < inner; i++) {
        cells[i] = ' ';
        role_of[i] = TUI_R_MUTED;
    }
    size_t ll = label ? strlen(label) : 0;
    if (ll && (int)ll <= inner)
        for (size_t i = 0; i < ll; i++) {
            cells[inner - ll + i] = label[i];
            role_of[inner - ll + i] = TUI_R_TEXT;
        }
    attrset(tui_attr(TUI_R_MUTED));
    mvaddch(y, x, '[');
    for (int i = 0; i < inner;) {
        int j = i;
        while (j < inner && role_of[j] == role_of[i])
            j++;
        attrset(tui_attr((enum tui_role)role_of[i]));
        mvaddnstr(y, x + 1 + i, cells + i, j - i);
        i = j;
    }
    attrset(tui_attr(TUI_R_MUTED));
    mvaddch(y, x + 1 + inner, ']');
    attrset(tui_attr(TUI_R_TEXT));
}

static double nice_ceiling(double v)
{
    if (!(v > 0))
        return 1;
    double p = pow(10, floor(log10(v)));
    double m = v / p;
    double n = m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10;
    return n * p;
}

void tui_sparkline(int y, int x, int w, const struct tui_hist *h, double max, enum tui_role role,
                   bool ascii, uint32_t offset)
{
    static const char *const blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char asc[] = "_.-=+*##";
    if (max <= 0) {
        double mx = 0, v;
        for (int i = 0; i < w; i++)
            if (tui_hist_get(h, (uint32_t)i + offset, &v) && v > mx)
                mx = v;
        max = nice_ceiling(mx);
    }
    char line[2048];
    size_t len = 0;
    for (int i = 0; i < w && len + 4 < sizeof line; i++) {
        double v;
        uint32_t back = (uint32_t)(w - 1 - i) + offset;
        if (!tui_hist_get(h, back, &v)) {
            line[len++] = ' ';
            continue;
        }
        int l = tui_level(v, max, 8);
        int idx = l > 0 ? l - 1 : 0;
        if (ascii) {
            line[len++] = asc[idx];
        } else {
            size_t k = strlen(blocks[idx]);
            memcpy(line + len, blocks[idx], k);
            len += k;
        }
    }
    line[len] = 0;
    attrset(tui_attr(role));
    tui_addstr(y, x, line);
    attrset(tui_attr(TUI_R_TEXT));
}

double tui_graph(int y, int x, int h, int w, const struct tui_hist *hist, double max,
                 enum tui_role role, bool ascii, uint32_t offset)
{
    if (h <= 0 || w <= 0)
        return max;
    int per_cell = ascii ? 1 : 2;
    int nsamp = w * per_cell;
    if (max <= 0) {
        double mx = 0, v;
        for (int i = 0; i < nsamp; i++)
            if (tui_hist_get(hist, (uint32_t)i + offset, &v) && v > mx)
                mx = v;
        max = nice_ceiling(mx);
    }
    int levels = h * (ascii ? 2 : 4);
    int lv[1024];
    bool ok[1024];
    if (nsamp > 1024)
        nsamp = 1024;
    for (int i = 0; i < nsamp; i++) { /* i = 0 is the oldest shown, at the left */
        double v;
        ok[i] = tui_hist_get(hist, (uint32_t)(nsamp - 1 - i) + offset, &v);
        lv[i] = ok[i] ? tui_level(v, max, levels) : 0;
    }
    attrset(tui_attr(role));
    char line[4096];
    for (int row = 0; row < h; row++) {
        int base = (h - 1 - row) * (ascii ? 2 : 4); /* levels below this row */
        size_t len = 0;
        for (int c = 0; c < w && len + 4 < sizeof line; c++) {
            if (ascii) {
                int l = lv[c] - base;
                line[len++] = !ok[c] ? ' ' : l >= 2 ? '#' : l == 1 ? '.' : ' ';
                continue;
            }
            unsigned mask = 0;
            for (int side = 0; side < 2; side++) {
                int i = c * 2 + side;
                int l = ok[i] ? lv[i] - base : 0;
                if (l > 4)
                    l = 4;
                static const unsigned left[4] = {0x40, 0x04, 0x02, 0x01};
                static const unsigned right[4] = {0x80, 0x20, 0x10, 0x08};
                for (int d = 0; d < l; d++)
                    mask |= side ? right[d] : left[d];
            }
            if (!mask) {
                line[len++] = ' ';
            } else {
                char g[4];
                tui_braille(mask, g);
                memcpy(line + len, g, 3);
                len += 3;
            }
        }
        line[len] = 0;
        tui_addstr(y + row, x, line);
    }
    attrset(tui_attr(TUI_R_TEXT));
    return max;
}

/* Lines as UTF-8 text (or ASCII), not the terminal's alternate character set: ACS
 * switching is unreliable through multiplexers (tmux, screen) in UTF-8 locales. */
void tui_hline(int y, int x, int w, bool ascii)
{
    char line[3 * 512 + 1];
    size_t len = 0;
    for (int i = 0; i < w && i < 512; i++) {
        if (ascii) {
            line[len++] = '-';
        } else {
            memcpy(line + len, "\xe2\x94\x80", 3); /* U+2500 */
            len += 3;
        }
    }
    line[len] = 0;
    tui_addstr(y, x, line);
}

void tui_box(int y, int x, int h, int w, bool ascii)
{
    if (h < 2 || w < 2)
        return;
    tui_hline(y, x + 1, w - 2, ascii);
    tui_hline(y + h - 1, x + 1, w - 2, ascii);
    for (int i = 1; i < h - 1; i++) {
        tui_addstr(y + i, x, ascii ? "|" : "\xe2\x94\x82");
        tui_addstr(y + i, x + w - 1, ascii ? "|" : "\xe2\x94\x82");
    }
    tui_addstr(y, x, ascii ? "+" : "\xe2\x94\x8c");
    tui_addstr(y, x + w - 1, ascii ? "+" : "\xe2\x94\x90");
    tui_addstr(y + h - 1, x, ascii ? "+" : "\xe2\x94\x94");
    tui_addstr(y + h - 1, x + w - 1, ascii ? "+" : "\xe2\x94\x98");
}
