/*
 * coro_switch.S -- the context switch of coro.c on x86-64 (System V).
 * Other architectures use ucontext (coro.c); this file is then empty.
 *
 * pf__ctx_switch(void **save_sp, void *load_sp) pushes the callee-saved
 * registers and the SSE/x87 control words on the current stack, stores
 * the stack pointer in *save_sp, loads load_sp and pops the same frame
 * from there.  A new stack is prepared by coro.c so that the first pop
 * "returns" into pf__ctx_entry with r12 = argument and r13 = function.
 */
#if defined(__x86_64__) && defined(__ELF__)
    .text
    .globl pf__ctx_switch
    .hidden pf__ctx_switch
    .type pf__ctx_switch, @function
    .p2align 4
pf__ctx_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size pf__ctx_switch, .-pf__ctx_switch

    .globl pf__ctx_entry
    .hidden pf__ctx_entry
    .type pf__ctx_entry, @function
    .p2align 4
pf__ctx_entry:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    callq *%r13
    ud2
    .cfi_endproc
    .size pf__ctx_entry, .-pf__ctx_entry
#endif

#if defined(__ELF__)
    .section .note.GNU-stack, "", @progbits
#endif
