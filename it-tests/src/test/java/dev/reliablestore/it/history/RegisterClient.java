package dev.reliablestore.it.history;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.api.Versioned;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One sequential client of a {@link Register} store: random reads, compare-and-set saves (expecting
 * the version this client saw last), unconditional saves, and deletes with and without an expected
 * version, on a small set of keys, each recorded in a {@link History}.
 *
 * <p>How an answer is recorded, from the {@code EntityStore} contract: a {@link ConcurrencyConflictException}
 * of a conditional write is a conflict (nothing written) with the actual version it reports; any other
 * {@link PersistenceException} is a failure without effect unless its {@code outcomeUnknown()} says the
 * write may have taken effect (an attempt whose answer was lost, a fail-stop during a write), which
 * leaves a write open. Anything else thrown is counted as unexpected and leaves a write open (it may
 * have landed).
 */
public final class RegisterClient {

    /** Percentages of each operation; the rest are reads. */
    public record Mix(int cas, int save, int delete, int casDelete) {
        public static final Mix DEFAULT = new Mix(25, 15, 4, 4);
    }

    private final int id;
    private final EntityStore<Register> store;
    private final History history;
    private final Workload.Counters counters;
    private final Random random;
    private final Mix mix;
    private final Map<String, Long> seen = new HashMap<>();
    private volatile List<String> keys;
    private long written;
    private final AtomicLong acknowledgedWrites = new AtomicLong();
    private volatile long pauseNanos;

    public RegisterClient(int id, EntityStore<Register> store, History history, Workload.Counters counters, long seed, Mix mix) {
        this.id = id;
        this.store = store;
        this.history = history;
        this.counters = counters;
        this.random = new Random(seed);
        this.mix = mix;
    }

    public int id() {
        return id;
    }

    /** Writes this client has had acknowledged so far (a scenario waits on one client's progress). */
    public long acknowledgedWrites() {
        return acknowledgedWrites.get();
    }

    /**
     * A pause after each operation in {@link Workload#start()}'s loop: a reader whose reads are cache
     * hits (microseconds) would otherwise record far more reads than the checker needs.
     */
    public RegisterClient pauseBetweenOperations(Duration pause) {
        this.pauseNanos = pause.toNanos();
        return this;
    }

    long pauseNanos() {
        return pauseNanos;
    }

    /** The keys this client works on from its next operation on. */
    public void keys(List<String> keys) {
        this.keys = List.copyOf(keys);
    }

    /** One random operation on a random key. */
    public void step() {
        List<String> ks = keys;
        String key = ks.get(random.nextInt(ks.size()));
        long known = seen.getOrDefault(key, Versioned.ABSENT);
        int dice = random.nextInt(100);
        if (dice < mix.cas()) {
            cas(key, known);
        } else if ((dice -= mix.cas()) < mix.save()) {
            save(key);
        } else if ((dice -= mix.save()) < mix.delete()) {
            delete(key);
        } else if ((dice -= mix.delete()) < mix.casDelete() && known != Versioned.ABSENT) {
            casDelete(key, known);
        } else {
            read(key);
        }
    }

    private String nextValue() {
        return "c" + id + "-" + (++written);
    }

    /** Reads {@code key}; returns the recorded operation (what was read, or how it failed). */
    public Op read(String key) {
        Op op = history.read(id, key);
        try {
            Optional<Versioned<Register>> v = store.get(key);
            history.readOk(op, v.map(x -> x.value().value()).orElse(null), v.map(Versioned::version).orElse(0L));
            seen.put(key, op.version);
        } catch (RuntimeException e) {
            history.failed(op, describe(e));
            counters.failed(e, op);
        }
        return op;
    }

    public void cas(String key, long expected) {
        Op op = history.invoke(id, Op.Kind.CAS, key, nextValue(), expected);
        try {
            long v = store.save(key, new Register(op.value), expected);
            history.writeOk(op, v);
            seen.put(key, v);
            acknowledged();
        } catch (ConcurrencyConflictException c) {
            history.conflict(op, c.actualVersion());
            if (c.actualVersion() >= 0) {
                seen.put(key, c.actualVersion());
            }
        } catch (RuntimeException e) {
            writeFailed(op, e);
        }
    }

    public void save(String key) {
        Op op = history.invoke(id, Op.Kind.SAVE, key, nextValue(), -1);
        try {
            long v = store.save(key, new Register(op.value));
            history.writeOk(op, v);
            seen.put(key, v);
            acknowledged();
        } catch (RuntimeException e) {
            writeFailed(op, e);
        }
    }

    public void delete(String key) {
        Op op = history.invoke(id, Op.Kind.DELETE, key, null, -1);
        try {
            boolean deleted = store.delete(key);
            history.deleteOk(op, deleted);
            seen.put(key, Versioned.ABSENT);
            if (deleted) {
                acknowledged();
            }
        } catch (RuntimeException e) {
            writeFailed(op, e);
        }
    }

    public void casDelete(String key, long expected) {
        Op op = history.invoke(id, Op.Kind.CAS_DELETE, key, null, expected);
        try {
            store.delete(key, expected);
            history.deleteOk(op, true);
            seen.put(key, Versioned.ABSENT);
            acknowledged();
        } catch (ConcurrencyConflictException c) {
            history.conflict(op, c.actualVersion());
            if (c.actualVersion() >= 0) {
                seen.put(key, c.actualVersion());
            }
        } catch (RuntimeException e) {
            writeFailed(op, e);
        }
    }

    private void acknowledged() {
        acknowledgedWrites.incrementAndGet();
        counters.acknowledged();
    }

    private void writeFailed(Op op, RuntimeException e) {
        boolean expected = e instanceof PersistenceException;
        // every PersistenceException says whether the write may have taken effect; anything else may have too
        if (!expected || ((PersistenceException) e).outcomeUnknown()) {
            history.unknown(op, describe(e));
        } else {
            // an unconditional write that conflicts (lost races) also lands here: nothing was written
            history.failed(op, describe(e));
        }
        counters.failed(e, op);
    }

    private static String describe(RuntimeException e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
