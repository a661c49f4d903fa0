/* SPDX-License-Identifier: Apache-2.0 */
/* smpdfu-ble-peripheral: smpdfu's server on BLE through BlueZ's GATT server
 * API (the Linux BlueZ port's peripheral, posix_bluez_peripheral.h) on one
 * adapter, handing each SMP packet the central writes to smpdfu-target over
 * UDP (the emulated Zephyr + MCUboot device); answers go back as
 * notifications. After answering a reset it drops the link, as a rebooting
 * device does. For the BLE tests in the VM (scripts/ble-vm, tests/ble). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "smpdfu/defaults.h"
#include "smpdfu/error.h"
#include "smpdfu/posix_bluez_peripheral.h"
#include "smpdfu/posix_udp.h"
#include "smpdfu/version.h"

typedef struct {
    smpdfu_bluez_periph_t ble;
    const char *adapter;
    int udp;
    long drop_after; /* --drop-after-writes: writes until one forced disconnect */
    long writes;
} periph_t;

static volatile sig_atomic_t g_stop;

static void on_signal(int s)
{
    (void)s;
    g_stop = 1;
}

/* A request from the central: to the device. */
static void on_packet(void *ctx, const uint8_t *pkt, size_t len)
{
    periph_t *p = ctx;
    if (send(p->udp, pkt, len, 0) < 0) {
        fprintf(stderr, "ble-peripheral: cannot reach the device: %s\n", strerror(errno));
    }
}

static void on_write(void *ctx)
{
    periph_t *p = ctx;
    if (p->drop_after > 0 && ++p->writes == p->drop_after) {
        (void)smpdfu_bluez_periph_disconnect(&p->ble, "--drop-after-writes");
    }
}

static void on_event(void *ctx, smpdfu_bluez_periph_event_t ev, const char *detail)
{
    periph_t *p = ctx;
    switch (ev) {
    case SMPDFU_BLUEZ_PERIPH_READY:
        /* The test waits for this line. */
        printf("ready /org/bluez/%s\n", p->adapter);
        fflush(stdout);
        break;
    case SMPDFU_BLUEZ_PERIPH_REFUSED:
        fprintf(stderr, "ble-peripheral: BlueZ refused the registration: %s\n", detail);
        break;
    case SMPDFU_BLUEZ_PERIPH_NOTIFY_ON:
    case SMPDFU_BLUEZ_PERIPH_NOTIFY_OFF:
        fprintf(stderr, "ble-peripheral: notifications %s\n", ev == SMPDFU_BLUEZ_PERIPH_NOTIFY_ON ? "on" : "off");
        break;
    case SMPDFU_BLUEZ_PERIPH_DROP: fprintf(stderr, "ble-peripheral: dropping the link (%s)\n", detail); break;
    case SMPDFU_BLUEZ_PERIPH_FRAG_DROPPED:
        fprintf(stderr, "ble-peripheral: fragment dropped (%s)\n", detail);
        break;
    }
}

static int no_adapter(const char *adapter)
{
    fprintf(stderr, "smpdfu-ble-peripheral: BlueZ has no powered adapter /org/bluez/%s\n", adapter);
    return 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: smpdfu-ble-peripheral --adapter hciN --device HOST:PORT [--name NAME]\n"
               "                             [--drop-after-writes N] [--power hciN]...\n"
               "The SMP GATT service on a BlueZ adapter, in front of smpdfu-target (UDP).\n"
               "  --adapter hciN          the adapter to serve and advertise on\n"
               "  --device HOST:PORT      smpdfu-target's UDP address\n"
               "  --name NAME             advertised name (default smpdfu)\n"
               "  --drop-after-writes N   drop the link once, after the N-th write (a device\n"
               "                          that goes out of range mid-upload)\n"
               "  --power hciN            also wait for this adapter and power it on (tests)\n"
               "Prints \"ready hciN\" once BlueZ has the service and the advertisement.\n");
}

int main(int argc, char **argv)
{
    static periph_t p;
    const char *device = NULL;
    const char *power[4];
    int npower = 0;
    smpdfu_bluez_periph_cfg_t cfg = {.name = "smpdfu",
                                     .reset_drop_ms = SMPDFU_DEFAULT_RESET_DELAY_MS, /* Zephyr's reset delay */
                                     .on_packet = on_packet,
                                     .on_write = on_write,
                                     .on_event = on_event,
                                     .ctx = &p};
    static const struct option opts[] = {{"adapter", required_argument, 0, 'a'},
                                         {"device", required_argument, 0, 'd'},
                                         {"name", required_argument, 0, 'n'},
                                         {"drop-after-writes", required_argument, 0, 'D'},
                                         {"power", required_argument, 0, 'P'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': p.adapter = optarg; break;
        case 'd': device = optarg; break;
        case 'n': cfg.name = optarg; break;
        case 'D': p.drop_after = strtol(optarg, NULL, 10); break;
        case 'P':
            if (npower < 4) {
                power[npower++] = optarg;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("smpdfu-ble-peripheral %s\n", smpdfu_version()); return 0;
        default: usage(stderr); return 2;
        }
    }
    const char *colon = device ? strrchr(device, ':') : NULL;
    if (!p.adapter || !colon) {
        usage(stderr);
        return 2;
    }
    char host[128];
    snprintf(host, sizeof(host), "%.*s", (int)(colon - device), device);
    int gai_err = 0;
    if (smpdfu_posix_udp_open(&p.udp, host, colon + 1, &gai_err)) {
        fprintf(stderr, "smpdfu-ble-peripheral: cannot open UDP to %s\n", device);
        return 1;
    }
    cfg.adapter = p.adapter;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    int rc = smpdfu_bluez_periph_open(&p.ble, &cfg);
    if (rc == SMPDFU_EINVAL) {
        usage(stderr);
        return 2;
    }
    if (rc == SMPDFU_ENOCONN) {
        fprintf(stderr, "smpdfu-ble-peripheral: no system bus\n");
        return 1;
    }
    if (rc) {
        return no_adapter(p.adapter);
    }
    for (int i = 0; i < npower; i++) {
        if (smpdfu_bluez_periph_power(&p.ble, power[i])) {
            return no_adapter(power[i]);
        }
    }
    if (smpdfu_bluez_periph_register(&p.ble)) {
        fprintf(stderr, "smpdfu-ble-peripheral: cannot export the GATT objects\n");
        return 1;
    }
    static uint8_t dgram[65536];
    int failed = 0;
    while (!g_stop) {
        if (smpdfu_bluez_periph_step(&p.ble) < 0) {
            failed = 1; /* BlueZ refused the registration */
            break;
        }
        struct pollfd pf[2] = {{.fd = -1}, {.fd = p.udp, .events = POLLIN}};
        int wait = -1;
        smpdfu_bluez_periph_pollfd(&p.ble, &pf[0], &wait);
        if (poll(pf, 2, wait) < 0 && errno != EINTR) {
            break;
        }
        if (pf[1].revents & POLLIN) {
            ssize_t n = recv(p.udp, dgram, sizeof(dgram), 0);
            if (n > 0) {
                (void)smpdfu_bluez_periph_notify(&p.ble, dgram, (size_t)n); /* the device's answer */
            }
        }
    }
    smpdfu_bluez_periph_close(&p.ble);
    return failed;
}
