package dev.reliablestore.it.history;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A thread-safe record of client operations, Jepsen style: every operation is recorded when it is
 * invoked and again when it answers (ok, conflict), fails without effect, or ends with an unknown
 * outcome. Invocations and answers are numbered by one atomic counter, so the real-time order
 * "a answered before b was invoked" is exact, with no clock involved; {@link System#nanoTime()} is
 * recorded beside it only for the availability figures.
 *
 * <p>Call {@link #invoke} right before the operation starts and one of the completion methods right
 * after it returns. A test can also write a history by hand: the order of the calls is the
 * interleaving.
 */
public final class History {

    private final AtomicLong clock = new AtomicLong();
    private final AtomicInteger ids = new AtomicInteger();
    private final List<Op> ops = new ArrayList<>();

    public Op invoke(int client, Op.Kind kind, String key, String value, long expected) {
        long at = clock.incrementAndGet();
        Op op = new Op(ids.getAndIncrement(), key, client, kind, value, expected, at, System.nanoTime());
        synchronized (ops) {
            ops.add(op);
        }
        return op;
    }

    public Op read(int client, String key) {
        return invoke(client, Op.Kind.READ, key, null, -1);
    }

    /** A READ answered: {@code value} null for absent (then version 0). */
    public void readOk(Op op, String value, long version) {
        require(op, Op.Kind.READ);
        op.value = value;
        op.version = value == null ? 0 : version;
        complete(op, Op.Outcome.OK);
    }

    /** A SAVE or CAS answered with its new version. */
    public void writeOk(Op op, long newVersion) {
        if (op.kind != Op.Kind.SAVE && op.kind != Op.Kind.CAS) {
            throw new IllegalArgumentException(op + " is not a save");
        }
        op.version = newVersion;
        complete(op, Op.Outcome.OK);
    }

    /** A DELETE (deleted or not) or a CAS_DELETE (deleted) answered. */
    public void deleteOk(Op op, boolean deleted) {
        if (op.kind != Op.Kind.DELETE && op.kind != Op.Kind.CAS_DELETE) {
            throw new IllegalArgumentException(op + " is not a delete");
        }
        if (op.kind == Op.Kind.CAS_DELETE && !deleted) {
            throw new IllegalArgumentException("a conditional delete either deletes or conflicts: " + op);
        }
        op.deleted = deleted;
        complete(op, Op.Outcome.OK);
    }

    /** A CAS or CAS_DELETE refused: nothing written; {@code actual} the version the store reported, -1 if it could not tell. */
    public void conflict(Op op, long actual) {
        if (op.kind != Op.Kind.CAS && op.kind != Op.Kind.CAS_DELETE) {
            throw new IllegalArgumentException("only a conditional write conflicts: " + op);
        }
        op.version = actual;
        complete(op, Op.Outcome.CONFLICT);
    }

    /** A write whose outcome is unknown: it stays open and may take effect at any later point, or never. */
    public void unknown(Op op, String error) {
        if (!op.kind.writes()) {
            throw new IllegalArgumentException("a read has no effect to be unknown; record it as failed: " + op);
        }
        op.error = error;
        finish(op, Op.Outcome.UNKNOWN, false);
    }

    /** An operation that failed with no effect. */
    public void failed(Op op, String error) {
        op.error = error;
        finish(op, Op.Outcome.FAILED, false);
    }

    private void complete(Op op, Op.Outcome outcome) {
        finish(op, outcome, true);
    }

    private void finish(Op op, Op.Outcome outcome, boolean completes) {
        if (op.outcome != Op.Outcome.PENDING) {
            throw new IllegalStateException("already recorded: " + op);
        }
        long at = clock.incrementAndGet();
        long nanos = System.nanoTime();
        op.returnedAt = at;
        if (completes) {
            op.completedAt = at;
            op.completedNanos = nanos;
        }
        op.outcome = outcome;
    }

    private static void require(Op op, Op.Kind kind) {
        if (op.kind != kind) {
            throw new IllegalArgumentException(op + " is not a " + kind);
        }
    }

    /** Every operation recorded so far, in invocation order. */
    public List<Op> ops() {
        synchronized (ops) {
            List<Op> copy = new ArrayList<>(ops);
            copy.sort(Comparator.comparingLong(o -> o.invokedAt));
            return copy;
        }
    }

    /** The operations split by key (each key's sub-history is checked on its own), keys in first-use order. */
    public Map<String, List<Op>> byKey() {
        Map<String, List<Op>> split = new LinkedHashMap<>();
        for (Op op : ops()) {
            split.computeIfAbsent(op.key, k -> new ArrayList<>()).add(op);
        }
        return split;
    }
}
