package dev.reliablestore.it.history;

/**
 * One client operation on one key of a versioned compare-and-set register, as recorded by
 * {@link History}: what was asked, when it was invoked and answered (positions in one global event
 * order, so "a completed before b was invoked" is exact), and what came back.
 *
 * <p>Results, by kind and outcome:
 * <ul>
 *   <li>{@link Kind#READ} {@link Outcome#OK}: {@link #value} read (null: absent) and {@link #version} (0 when absent);</li>
 *   <li>{@link Kind#SAVE}/{@link Kind#CAS} OK: {@link #version} is the new version; {@link #value} is what was written (unique);</li>
 *   <li>{@link Kind#DELETE} OK: {@link #deleted} says whether an entity was deleted; {@link Kind#CAS_DELETE} OK: deleted;</li>
 *   <li>{@link Kind#CAS}/{@link Kind#CAS_DELETE} {@link Outcome#CONFLICT}: nothing written, {@link #version} is the
 *       actual version the store reported (-1: it could not tell);</li>
 *   <li>{@link Outcome#UNKNOWN}: a write that may have taken effect (at any point after its invocation) or not;
 *       it never completes;</li>
 *   <li>{@link Outcome#FAILED}: definitely no effect (a read that failed, a write refused before anything was
 *       applied); the checker ignores it, the figures count it.</li>
 * </ul>
 */
public final class Op {

    /** What the operation asks of the register. */
    public enum Kind {
        /** {@code get(key)}. */
        READ,
        /** Unconditional {@code save(key, value)}. */
        SAVE,
        /** {@code save(key, value, expected)}: write only if the stored version is {@code expected} (0: absent). */
        CAS,
        /** Unconditional {@code delete(key)}. */
        DELETE,
        /** {@code delete(key, expected)}: delete only if the stored version is {@code expected}. */
        CAS_DELETE;

        public boolean writes() {
            return this != READ;
        }
    }

    /** How it ended. */
    public enum Outcome { OK, CONFLICT, UNKNOWN, FAILED, PENDING }

    public final int id;
    public final String key;
    public final int client;
    public final Kind kind;
    /** The unique value a SAVE/CAS writes; for a READ, the value read (null: absent). */
    public String value;
    /** The expected version of a CAS or CAS_DELETE; -1 otherwise. */
    public final long expected;
    public final long invokedAt;
    public final long invokedNanos;
    public long completedAt = Long.MAX_VALUE;
    public long completedNanos = Long.MAX_VALUE;
    /** When the call returned to the client, whatever the outcome (for UNKNOWN the operation itself stays open). */
    public long returnedAt = Long.MAX_VALUE;
    public Outcome outcome = Outcome.PENDING;
    /** See the class comment. */
    public long version = -1;
    public boolean deleted;
    /** The error's message for UNKNOWN and FAILED. */
    public String error;

    Op(int id, String key, int client, Kind kind, String value, long expected, long invokedAt, long invokedNanos) {
        this.id = id;
        this.key = key;
        this.client = client;
        this.kind = kind;
        this.value = value;
        this.expected = expected;
        this.invokedAt = invokedAt;
        this.invokedNanos = invokedNanos;
    }

    /** Whether the operation answered (OK or CONFLICT): it took effect, or not, between its invocation and answer. */
    public boolean completed() {
        return outcome == Outcome.OK || outcome == Outcome.CONFLICT;
    }

    /** A write acknowledged as applied: a save, a CAS, a delete that deleted. */
    public boolean acknowledgedWrite() {
        return outcome == Outcome.OK && kind.writes() && (kind == Kind.SAVE || kind == Kind.CAS || deleted);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder().append("#").append(id).append(" c").append(client).append(' ');
        switch (kind) {
            case READ -> b.append("get(").append(key).append(')');
            case SAVE -> b.append("save(").append(key).append(", ").append(value).append(')');
            case CAS -> b.append("save(").append(key).append(", ").append(value).append(", expect v").append(expected).append(')');
            case DELETE -> b.append("delete(").append(key).append(')');
            case CAS_DELETE -> b.append("delete(").append(key).append(", expect v").append(expected).append(')');
            default -> throw new IllegalStateException();
        }
        b.append(" -> ");
        switch (outcome) {
            case OK -> {
                switch (kind) {
                    case READ -> b.append(value == null ? "absent" : value + " v" + version);
                    case SAVE, CAS -> b.append("ok v").append(version);
                    case DELETE -> b.append(deleted ? "deleted" : "nothing to delete");
                    case CAS_DELETE -> b.append("deleted");
                    default -> throw new IllegalStateException();
                }
            }
            case CONFLICT -> b.append("conflict, actual ").append(version < 0 ? "unknown" : "v" + version);
            case UNKNOWN -> b.append("UNKNOWN outcome");
            case FAILED -> b.append("failed, not applied");
            case PENDING -> b.append("pending");
            default -> throw new IllegalStateException();
        }
        b.append("  [").append(invokedAt).append(", ").append(completedAt == Long.MAX_VALUE ? "open" : String.valueOf(completedAt)).append(']');
        return b.toString();
    }
}
