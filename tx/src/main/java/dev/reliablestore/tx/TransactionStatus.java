package dev.reliablestore.tx;

/**
 * Where a {@link Transaction} is in its life.
 *
 * <pre>
 * ACTIVE ──commit──▶ PREPARING ──▶ PREPARED ──▶ COMMITTING ──▶ COMMITTED
 *   │                    │                           │
 *   │                    └──(a "no" vote)──▶ ROLLED_BACK   └──(outcome unknown)──▶ FAILED
 *   ├──rollback / close──▶ ROLLED_BACK
 *   └──timeout──▶ TIMED_OUT
 * </pre>
 * With one writing participant the commit goes ACTIVE → COMMITTING → COMMITTED (one phase).
 */
public enum TransactionStatus {
    ACTIVE,
    PREPARING,
    PREPARED,
    COMMITTING,
    COMMITTED,
    ROLLED_BACK,
    /** The outcome is not known everywhere (a one-phase commit or a rollback failed); see the exception. */
    FAILED,
    /** Rolled back because the timeout passed before commit. */
    TIMED_OUT;

    /** Whether the transaction has ended. */
    public boolean isFinal() {
        return this == COMMITTED || this == ROLLED_BACK || this == FAILED || this == TIMED_OUT;
    }
}
