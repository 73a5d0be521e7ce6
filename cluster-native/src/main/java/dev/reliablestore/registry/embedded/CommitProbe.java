package dev.reliablestore.registry.embedded;

/**
 * Diagnostic time stamps of a SYNC commit's phases, for the benchmarks' phase breakdown
 * ({@code -Dreliablestore.probes=true}). Off by default: {@link #ENABLED} is a static final false,
 * so the JIT removes every probe from the hot path.
 */
final class CommitProbe {

    static final boolean ENABLED = Boolean.getBoolean("reliablestore.probes");

    /** Stamps of the committing thread: commit entered, batch appended, commit returning. */
    static final int ENTER = 0;
    static final int APPENDED = 1;
    static final int RETURNED = 2;
    /** Stamps of the flush that made it durable: buffer taken, written, forced, published. */
    static final int FLUSH_START = 0;
    static final int WRITTEN = 1;
    static final int FORCED = 2;
    static final int PUBLISHED = 3;

    private static final ThreadLocal<long[]> COMMITTER = ThreadLocal.withInitial(() -> new long[3]);
    private static volatile long[] lastFlush = new long[4];

    private CommitProbe() {
    }

    static void committer(int phase) {
        COMMITTER.get()[phase] = System.nanoTime();
    }

    /** The calling thread's stamps of its last commit. */
    static long[] committerStamps() {
        return COMMITTER.get().clone();
    }

    /** Set by the flushing thread just before it announces durability. */
    static void flushed(long[] stamps) {
        lastFlush = stamps;
    }

    /** The stamps of the last completed flush. */
    static long[] lastFlushStamps() {
        return lastFlush.clone();
    }
}
