/* Name resolution and the connect loop shared by the TCP and UDP ports. */
#include "net_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smpdfu/error.h"

int smpdfu_posix_net_connect(int *fd, const char *host, const char *port, int socktype,
                             int (*try_connect)(int f, const struct addrinfo *a, void *ctx),
                             void *ctx, int *gai_err)
{
    if (gai_err) {
        *gai_err = 0;
    }
    if (!fd || !host || !port) {
        return SMPDFU_EINVAL;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = socktype;
    int g = getaddrinfo(host, port, &hints, &res);
    if (g != 0) {
        if (gai_err) {
            *gai_err = g;
        }
        return SMPDFU_ENOCONN;
    }
    int rc = SMPDFU_ENOCONN;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int f = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (f < 0) {
            continue;
        }
        if (try_connect(f, a, ctx)) {
            *fd = f;
            rc = 0;
            break;
        }
        int e = errno; /* the caller reports why the last address failed */
        close(f);
        errno = e;
    }
    freeaddrinfo(res);
    return rc;
}
