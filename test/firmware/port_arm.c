/*
 * port_arm.c -- the Cortex-M side of the demo: the vector table, a reset
 * handler that sets up .data and .bss and paints the stack, and output and
 * exit through ARM semihosting (QEMU's -semihosting).  No library: the
 * loops below are kept loops (see KEEP_A_LOOP) so the compiler cannot turn
 * them into memcpy or memset calls.
 */
#include "port.h"

#include <stdint.h>

#define KEEP_A_LOOP() __asm__ __volatile__("" ::: "memory")
#define PAINT 0xA5A5A5A5u

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);
void fw_reset(void);
void fw_fault(void);

/* The first two words the core reads: the stack's top and the entry point;
 * then NMI and HardFault, which end the run with a failure. */
__attribute__((section(".vectors"), used)) static void *const vectors[4] = {
    _estack, (void *)(uintptr_t)fw_reset, (void *)(uintptr_t)fw_fault,
    (void *)(uintptr_t)fw_fault};

/* Semihosting: the debugger (QEMU) serves the call at bkpt 0xab. */
static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ __volatile__("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

#define SYS_WRITEC 0x03
#define SYS_WRITE0 0x04
#define SYS_EXIT 0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define ADP_STOPPED_RUN_TIME_ERROR 0x20023

void port_putc(char c) { semihost(SYS_WRITEC, &c); }
void port_puts(const char *text) { semihost(SYS_WRITE0, text); }

void port_exit(int status)
{
    semihost(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_STOPPED_APPLICATION_EXIT
                                                             : ADP_STOPPED_RUN_TIME_ERROR));
    for (;;)
        ;
}

void fw_fault(void)
{
    port_puts("FAIL: hard fault\n");
    port_exit(1);
}

/* The lowest painted word still intact bounds the deepest the stack went. */
size_t port_stack_peak(void)
{
    uint32_t *p = _ebss;
    while (p < _estack && *p == PAINT)
        p++;
    return (size_t)((char *)_estack - (char *)p);
}

void fw_reset(void)
{
    uint32_t *src = _sidata, *dst = _sdata, *sp;
    while (dst < _edata) {
        *dst++ = *src++;
        KEEP_A_LOOP();
    }
    for (dst = _sbss; dst < _ebss; dst++) {
        *dst = 0;
        KEEP_A_LOOP();
    }
    /* paint from .bss's end to just below this frame */
    __asm__ __volatile__("mov %0, sp" : "=r"(sp));
    for (dst = _ebss; dst < sp - 16; dst++) {
        *dst = PAINT;
        KEEP_A_LOOP();
    }
    port_exit(main());
}
