/* The baseline: a bare libmodbus TCP server (one client at a time, blocking), as libmodbus's own
 * tests/bandwidth-server-one.c does it, with holding registers 40000..40299. */
#include <errno.h>
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 1602;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    modbus_mapping_t *map = modbus_mapping_new_start_address(0, 0, 0, 0, 40000, 300, 0, 0);
    for (int i = 0; i < 300; i++) map->tab_registers[i] = (uint16_t)i;
    int listener = modbus_tcp_listen(ctx, 1);
    if (listener < 0) { fprintf(stderr, "listen: %s\n", modbus_strerror(errno)); return 1; }
    printf("ready %d\n", port);
    fflush(stdout);
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    for (;;) {
        modbus_tcp_accept(ctx, &listener);
        for (;;) {
            int length = modbus_receive(ctx, query);
            if (length > 0) modbus_reply(ctx, query, length, map);
            else if (length == -1) break;
        }
        modbus_close(ctx);
    }
}
