/*
 * port_host.c -- the demo on the build machine, the reference its runs on
 * the emulated boards are compared with: stdio out, exit() out, and no stack
 * figure (the host's stack is not the firmware's).
 */
#include "port.h"

#include <stdio.h>
#include <stdlib.h>

void port_putc(char c) { putchar(c); }
void port_puts(const char *text) { fputs(text, stdout); }

void port_exit(int status)
{
    fflush(stdout);
    exit(status);
}

size_t port_stack_peak(void) { return 0; }
