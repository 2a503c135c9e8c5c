/*
 * work_notes.c - `hitlq work` never loses a typed note: the note the person
 * typed is kept in memory and in one file ($XDG_STATE_HOME/hitlq/notes, or
 * ~/.local/state/hitlq/notes) from the moment it is typed until the server
 * acknowledged the request that carried it (COMMENT, RESOLVE or ESCALATE).
 * The file holds "item <id>\n" and the note's text; a later session loads
 * it and offers it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "work.h"

/* mkdir -p of the directory part of path (mode 0700). */
static int
make_dirs(char *path)
{
    char *p;

    for (p = path + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            *p = '/';
            return -1;
        }
        *p = '/';
    }
    return 0;
}

int
work_notes_path(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    int n;

    if (xdg != NULL && xdg[0] == '/')
        n = snprintf(buf, len, "%s/hitlq/notes", xdg);
    else if (home != NULL && home[0] != '\0')
        n = snprintf(buf, len, "%s/.local/state/hitlq/notes", home);
    else
        return -1;
    if (n < 0 || (size_t)n >= len)
        return -1;
    return make_dirs(buf);
}

/* Writes all of buf to fd.  0 or -1. */
static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t k = write(fd, buf, len);

        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        buf += k;
        len -= (size_t)k;
    }
    return 0;
}

int
work_notes_save(const struct work *w)
{
    char path[1024], tmp[1100], head[64];
    int fd, rc;

    if (work_notes_path(path, sizeof(path)) != 0)
        return -1;
    if (w->note_len == 0)
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    snprintf(head, sizeof(head), "item %" PRIu64 "\n", w->note_item);
    rc = write_all(fd, head, strlen(head));
    if (rc == 0)
        rc = write_all(fd, w->note, w->note_len);
    if (rc == 0)
        rc = fsync(fd);
    if (close(fd) != 0)
        rc = -1;
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int
work_notes_load(struct work *w)
{
    char path[1024], buf[WORK_NOTE_MAX + 64], *nl;
    uint64_t id = 0;
    size_t n;
    FILE *f;

    if (work_notes_path(path, sizeof(path)) != 0 || (f = fopen(path, "re")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    nl = strchr(buf, '\n');
    if (nl == NULL || sscanf(buf, "item %" SCNu64, &id) != 1)
        return 0;
    n = strlen(nl + 1);
    if (n == 0)
        return 0;
    if (n > WORK_NOTE_MAX)
        n = WORK_NOTE_MAX;
    memcpy(w->note, nl + 1, n);
    w->note[n] = '\0';
    w->note_len = n;
    w->note_item = id;
    return 1;
}

void
work_notes_done(struct work *w)
{
    w->note_len = 0;
    w->note[0] = '\0';
    w->note_item = 0;
    (void)work_notes_save(w);
}
