/*
 * port.h -- what the firmware demo needs from its board: text out, an exit,
 * and how deep the stack has been.  One implementation a target: the host
 * (stdio), a Cortex-M under QEMU (semihosting) and an AVR under simavr
 * (its UART).  Nothing else in the demo knows where it runs.
 */
#ifndef FIRMWARE_PORT_H
#define FIRMWARE_PORT_H

#include <stddef.h>

/* A string literal the program prints: in flash on an AVR, whose string
 * literals are otherwise copied into its 2 KiB of RAM at start-up. */
#if defined(__AVR__)
#define TEXT(s) (__extension__({ static const char text_[] __attribute__((progmem)) = (s); &text_[0]; }))
#else
#define TEXT(s) (s)
#endif

/* Writes one character; a TEXT (no newline added). */
void port_putc(char c);
void port_puts(const char *text);
/* Ends the program: 0 for success. */
void port_exit(int status) __attribute__((noreturn));
/* The most stack the program has used so far, in bytes (0: not measured). */
size_t port_stack_peak(void);

#endif /* FIRMWARE_PORT_H */
