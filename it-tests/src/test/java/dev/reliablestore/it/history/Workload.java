package dev.reliablestore.it.history;

import dev.reliablestore.api.EntityStore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * Client threads running {@link RegisterClient}s until stopped, all recording into one {@link History},
 * and the figures of a run: operations by outcome, acknowledged writes, the longest gap between two
 * acknowledged writes, and the checker's verdict.
 */
public final class Workload implements AutoCloseable {

    /** Live counters the scenario waits on (progress after a fault) and reports. */
    public static final class Counters {
        private final AtomicLong acknowledged = new AtomicLong();
        private final AtomicLong failed = new AtomicLong();
        private final AtomicLong unexpected = new AtomicLong();
        private final ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();

        void acknowledged() {
            acknowledged.incrementAndGet();
        }

        void failed(RuntimeException e, Op op) {
            failed.incrementAndGet();
            if (!(e instanceof dev.reliablestore.api.PersistenceException)) {
                unexpected.incrementAndGet();
            }
            if (firstErrors.size() < 5) {
                firstErrors.add(op + ": " + e);
            }
        }
    }

    /** What a run shows. */
    public record Figures(String scenario, long operations, long ok, long conflicts, long failed, long unknown,
                          long acknowledgedWrites, long unexpectedErrors, long longestWriteGapMillis, double seconds,
                          LinearizabilityChecker.Result check) {

        public long anomalies() {
            return check.anomalies();
        }

        @Override
        public String toString() {
            return String.format("[history] %s: %d operations in %.1f s (%d ok, %d conflicts, %d failed, %d unknown outcome;"
                            + " %d unexpected errors), %d acknowledged writes, longest write gap %d ms; check %s: %s, %d anomalies",
                    scenario, operations, seconds, ok, conflicts, failed, unknown, unexpectedErrors, acknowledgedWrites,
                    longestWriteGapMillis, check.rules(), check.verdict(), anomalies());
        }
    }

    private final String name;
    private final History history = new History();
    private final Counters counters = new Counters();
    private final List<RegisterClient> clients = new ArrayList<>();
    private final List<Future<?>> running = new ArrayList<>();
    private final AtomicBoolean go = new AtomicBoolean();
    private final Set<RegisterClient> stopping = ConcurrentHashMap.newKeySet();
    private final long seed;
    private ExecutorService pool;
    private long startedNanos;
    private long stoppedNanos;

    public Workload(String name, long seed) {
        this.name = name;
        this.seed = seed;
    }

    public String name() {
        return name;
    }

    public History history() {
        return history;
    }

    /** Client {@code id} (in the order they were added). */
    public RegisterClient client(int id) {
        return clients.get(id);
    }

    /** Adds a client on {@code store} working on {@code keys}. */
    public RegisterClient client(EntityStore<Register> store, List<String> keys, RegisterClient.Mix mix) {
        RegisterClient c = new RegisterClient(clients.size(), store, history, counters, seed * 1_000_003 + clients.size(), mix);
        c.keys(keys);
        clients.add(c);
        return c;
    }

    /** Gives client {@code i} the keys {@code keys.apply(i)} from its next operation on (e.g. a fresh key set per phase). */
    public void keys(IntFunction<List<String>> keys) {
        for (RegisterClient c : clients) {
            c.keys(keys.apply(c.id()));
        }
    }

    private void begin() {
        if (pool != null) {
            throw new IllegalStateException("started twice");
        }
        pool = Executors.newFixedThreadPool(clients.size(), r -> {
            Thread t = new Thread(r, name + "-client");
            t.setDaemon(true);
            return t;
        });
        go.set(true);
        startedNanos = System.nanoTime();
    }

    /**
     * Starts every client's loop: one random operation after another (with the client's pause between
     * them, if it has one) until {@link #stop()}, or {@link #stop(RegisterClient)} for that client.
     */
    public void start() {
        begin();
        for (RegisterClient c : clients) {
            running.add(pool.submit(() -> {
                Thread.currentThread().setName(name + "-c" + c.id());
                while (go.get() && !stopping.contains(c)) {
                    c.step();
                    if (c.pauseNanos() > 0) {
                        LockSupport.parkNanos(c.pauseNanos());
                    }
                }
                return null;
            }));
        }
    }

    /** Stops one client after its current operation, the others going on (e.g. a writer, to see what a reader then converges to). */
    public void stop(RegisterClient client) throws InterruptedException, ExecutionException, TimeoutException {
        stopping.add(client);
        running.get(clients.indexOf(client)).get(120, TimeUnit.SECONDS);
    }

    /** Runs {@code steps} operations on every client, all clients at once, and returns when all are done. */
    public void run(int steps) throws InterruptedException, ExecutionException, TimeoutException {
        begin();
        for (RegisterClient c : clients) {
            running.add(pool.submit(() -> {
                Thread.currentThread().setName(name + "-c" + c.id());
                for (int i = 0; i < steps; i++) {
                    c.step();
                }
                return null;
            }));
        }
        stop();
    }

    public long acknowledged() {
        return counters.acknowledged.get();
    }

    public long failed() {
        return counters.failed.get();
    }

    public List<String> firstErrors() {
        return List.copyOf(counters.firstErrors);
    }

    /** Stops the clients after their current operation (each bounded by the store's failover timeout). */
    public void stop() throws InterruptedException, ExecutionException, TimeoutException {
        if (!go.getAndSet(false)) {
            return;
        }
        try {
            for (Future<?> f : running) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            stoppedNanos = System.nanoTime();
            pool.shutdownNow();
            pool.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() {
        go.set(false);
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    /** The longest gap between two of one client's acknowledged writes (e.g. the client a partition cut off). */
    public long longestWriteGapMillis(int client) {
        long gap = 0;
        long last = -1;
        for (Op op : history.ops()) { // invocation order is each client's program order
            if (op.client == client && op.acknowledgedWrite()) {
                if (last >= 0) {
                    gap = Math.max(gap, op.completedNanos - last);
                }
                last = op.completedNanos;
            }
        }
        return TimeUnit.NANOSECONDS.toMillis(gap);
    }

    /**
     * How stale {@code reader}'s reads were against the writes of {@code writer}, the only client that
     * writes the keys: for each read, how long before its invocation the writer's first acknowledged
     * write after the state it returned had been acknowledged (zero when no such write had been); the
     * longest of them, and how many reads were stale at all. A read of absent is taken as of the
     * writer's last delete before the read answered (or the start), the most favourable reading.
     */
    public Staleness staleness(int writer, int reader) {
        Map<String, List<Op>> writes = new HashMap<>();
        for (Op op : history.ops()) {
            if (op.client == writer && op.kind.writes()) {
                writes.computeIfAbsent(op.key, k -> new ArrayList<>()).add(op);
            } else if (op.client != reader && op.kind.writes()) {
                throw new IllegalStateException("client " + op.client + " writes too: " + op);
            }
        }
        long longest = 0;
        long stale = 0;
        long reads = 0;
        for (Op read : history.ops()) {
            if (read.client != reader || read.kind != Op.Kind.READ || read.outcome != Op.Outcome.OK) {
                continue;
            }
            reads++;
            List<Op> ws = writes.getOrDefault(read.key, List.of());
            int from = -1; // the writer's operation whose state the read returned; -1: the initial absent state
            for (int i = 0; i < ws.size(); i++) {
                Op w = ws.get(i);
                if (w.invokedAt > read.completedAt) {
                    break;
                }
                boolean wrote = (w.kind == Op.Kind.SAVE || w.kind == Op.Kind.CAS) && w.value.equals(read.value);
                boolean deleted = read.value == null && (w.kind == Op.Kind.DELETE || w.kind == Op.Kind.CAS_DELETE)
                        && w.outcome != Op.Outcome.FAILED;
                if (wrote || deleted) {
                    from = i;
                }
            }
            for (int i = from + 1; i < ws.size(); i++) {
                Op w = ws.get(i);
                if (w.acknowledgedWrite()) {
                    if (w.completedAt < read.invokedAt) {
                        stale++;
                        longest = Math.max(longest, read.invokedNanos - w.completedNanos);
                    }
                    break;
                }
            }
        }
        return new Staleness(reads, stale, TimeUnit.NANOSECONDS.toMillis(longest));
    }

    /** See {@link #staleness(int, int)}. */
    public record Staleness(long reads, long staleReads, long longestMillis) {
        @Override
        public String toString() {
            return String.format("%d of %d reads stale, the stalest %d ms behind an acknowledged write", staleReads, reads, longestMillis);
        }
    }

    /** Checks the history (after {@link #stop()}) and computes the figures. */
    public Figures check(LinearizabilityChecker checker) {
        if (go.get()) {
            throw new IllegalStateException("stop the workload first");
        }
        List<Op> ops = history.ops();
        long ok = 0;
        long conflicts = 0;
        long failed = 0;
        long unknown = 0;
        List<Long> acks = new ArrayList<>();
        for (Op op : ops) {
            switch (op.outcome) {
                case OK -> ok++;
                case CONFLICT -> conflicts++;
                case FAILED -> failed++;
                case UNKNOWN -> unknown++;
                default -> throw new IllegalStateException("still pending: " + op);
            }
            if (op.acknowledgedWrite()) {
                acks.add(op.completedNanos);
            }
        }
        acks.sort(null);
        long gap = 0;
        for (int i = 1; i < acks.size(); i++) {
            gap = Math.max(gap, acks.get(i) - acks.get(i - 1));
        }
        return new Figures(name, ops.size(), ok, conflicts, failed, unknown, acks.size(), counters.unexpected.get(),
                TimeUnit.NANOSECONDS.toMillis(gap), (stoppedNanos - startedNanos) / 1e9, checker.check(history));
    }
}
