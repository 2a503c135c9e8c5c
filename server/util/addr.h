/*
 * addr.h - listen addresses: "host:port" / "[v6]:port" parsing and the
 * loopback test, for listeners that refuse plaintext off loopback
 * (server/http/http.c).
 */
#ifndef HITLQ_ADDR_H
#define HITLQ_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/* Parses spec ("IPv4:port" or "[IPv6]:port", port 0..65535) into *ss and
 * *sslen.  0, or -1 when it is not such an address. */
int  addr_parse(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen);

/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool addr_is_loopback(const struct sockaddr_storage *ss);

/* The port of an AF_INET/AF_INET6 address (host order); 0 otherwise. */
unsigned addr_port(const struct sockaddr_storage *ss);

#endif
