/* main.c: process entry. Hands argv to the host; nothing else lives here. */
#include "host.h"

int main(int argc, char **argv) {
    return dt_host_main(argc, argv);
}
