/*
 * http_get.c - the tests' HTTP client and scrape reader (http_get.h).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_get.h"

uint16_t
http_port_of(const struct hserver *s)
{
    char path[256];
    unsigned p = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s.http", s->portfile);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    if (fscanf(f, "%u", &p) != 1 || p > 65535)
        p = 0;
    fclose(f);
    return (uint16_t)p;
}

static int
http_connect(uint16_t port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Reads until EOF (Connection: close) or timeout into a malloc'd string. */
static char *
http_read_all(int fd, int timeout_ms)
{
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    struct pollfd p = { fd, POLLIN, 0 };
    ssize_t n;

    while (buf != NULL && poll(&p, 1, timeout_ms) == 1) {
        if (len + 4096 > cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL)
                break;
            buf = nb;
        }
        if ((n = read(fd, buf + len, cap - len - 1)) <= 0)
            break;
        len += (size_t)n;
    }
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

int
http_get(uint16_t port, const char *path, const char *key, const char *extra, char **body,
         int timeout_ms)
{
    char req[16384], *resp, *b;
    int fd = http_connect(port), code = 0, n;

    if (body != NULL)
        *body = NULL;
    if (fd < 0)
        return 0;
    n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
                 "Connection: close\r\n%s%s%s%s\r\n", path, key ? "Authorization: Bearer " : "",
                 key ? key : "", key ? "\r\n" : "", extra ? extra : "");
    if (n < 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n) {
        close(fd);
        return 0;
    }
    resp = http_read_all(fd, timeout_ms);
    close(fd);
    if (resp == NULL || sscanf(resp, "HTTP/1.%*d %d", &code) != 1)
        code = 0;
    if (body != NULL && resp != NULL && (b = strstr(resp, "\r\n\r\n")) != NULL)
        *body = strdup(b + 4);
    free(resp);
    return code;
}

double
http_metric(const char *scrape, const char *series)
{
    size_t n = strlen(series);

    for (const char *p = scrape; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    return -1;
}
