/*
 * port_avr.c -- the ATmega328P side of the demo, with no avr-libc at all:
 * the reset vector and start-up (stack pointer, painting the stack, then
 * libgcc's __do_copy_data and __do_clear_bss in .init4), output on USART0,
 * which simavr prints (texts read from flash), and an exit that sleeps with interrupts off, which
 * ends the simulation.
 */
#include "port.h"

#include <stdint.h>

#define RAMEND 0x08FF /* the last byte of the 2 KiB of SRAM */
#define PAINT 0xA5

/* Memory-mapped USART0 registers. */
#define UCSR0A (*(volatile uint8_t *)0xC0)
#define UCSR0B (*(volatile uint8_t *)0xC1)
#define UDR0 (*(volatile uint8_t *)0xC6)
#define UDRE0 5
#define TXEN0 3

int main(void);
void fw_exit(int status) __attribute__((noreturn));

/* The reset vector; the demo enables no interrupt, so it is the only one.
 * .init2 sets up r1 (zero, as gcc expects) and the stack; .init3 paints
 * the RAM between .bss's end (_end) and the stack top; .init9 runs main. */
__asm__(".section .vectors,\"ax\",@progbits\n"
        ".global __vectors\n"
        "__vectors:\n"
        "  jmp __init\n"
        ".section .init0,\"ax\",@progbits\n"
        ".global __init\n"
        "__init:\n"
        ".section .init2,\"ax\",@progbits\n"
        "  clr r1\n"
        "  out 0x3f, r1\n"
        "  ldi r28, 0xFF\n"
        "  ldi r29, 0x08\n"
        "  out 0x3e, r29\n"
        "  out 0x3d, r28\n"
        ".section .init3,\"ax\",@progbits\n"
        "  ldi r30, lo8(_end)\n"
        "  ldi r31, hi8(_end)\n"
        "  ldi r24, 0xA5\n"
        "  ldi r25, hi8(0x08F0)\n"
        "1:\n"
        "  st Z+, r24\n"
        "  cpi r30, lo8(0x08F0)\n"
        "  cpc r31, r25\n"
        "  brlo 1b\n"
        ".section .init9,\"ax\",@progbits\n"
        "  call main\n"
        "  jmp fw_exit\n"
        ".text\n");

extern uint8_t _end[];

void port_putc(char c)
{
    if (!(UCSR0B & (1 << TXEN0)))
        UCSR0B = 1 << TXEN0;
    while (!(UCSR0A & (1 << UDRE0)))
        ;
    UDR0 = (uint8_t)c;
}

/* TEXTs are in flash: read with lpm. */
void port_puts(const char *text)
{
    for (;;) {
        char c;
        __asm__("lpm %0, Z+" : "=r"(c), "+z"(text));
        if (c == '\0')
            return;
        port_putc(c);
    }
}

void fw_exit(int status)
{
    (void)status; /* the output says how it went: simavr cannot pass a status on */
    __asm__ __volatile__("cli\n sleep\n");
    for (;;)
        ;
}

void port_exit(int status) { fw_exit(status); }

size_t port_stack_peak(void)
{
    const uint8_t *p = _end;
    while (p < (const uint8_t *)RAMEND && *p == PAINT)
        p++;
    return (size_t)((const uint8_t *)RAMEND + 1 - p);
}
