/* workloads/rlsim/rlsim_ckpt.c — parity checkpoints (ckpt_even / ckpt_odd), written
 * in place and fsync'd, verified on read (a torn file is reported as corrupt). */
#include "workloads/rlsim/rlsim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CK_MAGIC "RLSIMCK1"
#define CK_FOOTER "RLSIMEND"
#define CK_HEADER 32
#define CK_WRITE_CHUNK 65536

uint32_t rlsim_crc32(const void *data, size_t len)
{
    static uint32_t table[256];
    static int init;
    if (!init) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        init = 1;
    }
    uint32_t c = 0xFFFFFFFFu;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

void rlsim_shard_fill(void *buf, size_t len, int step, int rank)
{
    uint64_t s = ((uint64_t)(step + 1) << 32) ^ (uint64_t)(rank + 7) * 0x9E3779B97F4A7C15ull;
    unsigned char *p = buf;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v = rlsim_rand(&s);
        memcpy(p + i, &v, 8);
    }
    for (; i < len; i++)
        p[i] = (unsigned char)rlsim_rand(&s);
}

void rlsim_ckpt_path(const char *dir, int step, int rank, char *buf, size_t len)
{
    snprintf(buf, len, "%s/ckpt_%s/rank_%d.pt", dir, step % 2 ? "odd" : "even", rank);
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int rlsim_ckpt_write(const char *dir, int step, int rank, const void *data, size_t len,
                     long truncate_at, int64_t deadline_ms, char *err, size_t errlen)
{
    char path[RLSIM_PATH_MAX + 64], sub[RLSIM_PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/ckpt_%s", dir, step % 2 ? "odd" : "even");
    mkdir(dir, 0755);
    mkdir(sub, 0755);
    rlsim_ckpt_path(dir, step, rank, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "OSError: [Errno %d] %s: '%s'", errno, strerror(errno), path);
        return -1;
    }
    size_t total = CK_HEADER + len + 8;
    unsigned char *img = malloc(total);
    memset(img, 0, CK_HEADER);
    memcpy(img, CK_MAGIC, 8);
    put_u64(img + 8, (uint64_t)step);
    put_u64(img + 16, (uint64_t)len);
    uint32_t crc = rlsim_crc32(data, len);
    put_u64(img + 24, crc);
    memcpy(img + CK_HEADER, data, len);
    memcpy(img + CK_HEADER + len, CK_FOOTER, 8);
    size_t limit = truncate_at >= 0 && (size_t)truncate_at < total ? (size_t)truncate_at : total;
    size_t off = 0;
    int rc = 0;
    while (off < limit) {
        if (deadline_ms > 0 && rlsim_now_ms() > deadline_ms) {
            snprintf(err, errlen, "TimeoutError: checkpoint write did not finish in time "
                     "(wrote %zu of %zu bytes to %s)", off, total, path);
            rc = -1;
            break;
        }
        size_t n = limit - off < CK_WRITE_CHUNK ? limit - off : CK_WRITE_CHUNK;
        ssize_t w = write(fd, img + off, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            snprintf(err, errlen, "OSError: [Errno %d] %s (wrote %zu of %zu bytes to %s)", e,
                     strerror(e), off, total, path);
            rc = -1;
            break;
        }
        off += (size_t)w;
        /* flush as we go, so slow storage shows up against the deadline */
        if (off % (8 * CK_WRITE_CHUNK) == 0)
            fdatasync(fd);
    }
    if (!rc && limit < total) {
        snprintf(err, errlen, "OSError: [Errno %d] %s (wrote %zu of %zu bytes to %s)", ENOSPC,
                 strerror(ENOSPC), off, total, path);
        rc = -1;
    }
    if (fsync(fd) < 0 && !rc) {
        snprintf(err, errlen, "OSError: [Errno %d] %s: fsync '%s'", errno, strerror(errno), path);
        rc = -1;
    }
    close(fd);
    free(img);
    return rc;
}

int rlsim_ckpt_read(const char *dir, int step, int rank, void **data, size_t *len, char *err,
                    size_t errlen)
{
    char path[RLSIM_PATH_MAX + 64];
    rlsim_ckpt_path(dir, step, rank, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "FileNotFoundError: [Errno 2] No such file or directory: '%s'", path);
        return -1;
    }
    struct stat st;
    fstat(fd, &st);
    size_t size = (size_t)st.st_size;
    unsigned char *img = malloc(size ? size : 1);
    size_t off = 0;
    while (off < size) {
        ssize_t r = read(fd, img + off, size - off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    close(fd);
    const char *why = NULL;
    uint64_t plen = 0, fstep = 0;
    if (off < CK_HEADER || memcmp(img, CK_MAGIC, 8) != 0)
        why = "PytorchStreamReader failed reading zip archive: failed finding central directory";
    else {
        fstep = get_u64(img + 8);
        plen = get_u64(img + 16);
        if (plen > size || CK_HEADER + plen + 8 != off ||
            memcmp(img + CK_HEADER + plen, CK_FOOTER, 8) != 0)
            why = "PytorchStreamReader failed reading zip archive: failed finding central directory";
        else if (rlsim_crc32(img + CK_HEADER, plen) != (uint32_t)get_u64(img + 24))
            why = "PytorchStreamReader failed reading file data/0: invalid header or archive is "
                  "corrupted";
        else if (fstep != (uint64_t)step)
            why = "checkpoint step does not match";
    }
    if (why) {
        snprintf(err, errlen, "RuntimeError: corrupt checkpoint '%s' (%zu bytes, step %d): %s", path,
                 off, step, why);
        free(img);
        return -2;
    }
    *len = plen;
    *data = malloc(plen ? plen : 1);
    memcpy(*data, img + CK_HEADER, plen);
    free(img);
    return 0;
}
