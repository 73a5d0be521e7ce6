package dev.reliablestore.cluster;

/**
 * Diagnostic time stamps of a synchronous save's phases, for the benchmarks' phase breakdown
 * ({@code -Dreliablestore.probes=true}). Off by default: {@link #ENABLED} is a static final false,
 * so the JIT removes every probe from the hot path.
 */
final class SaveProbe {

    static final boolean ENABLED = Boolean.getBoolean("reliablestore.probes");

    /** save entered, JSON written, version known, envelope and batch built, commit returned, save returning. */
    static final int ENTER = 0;
    static final int JSON = 1;
    static final int VERSION = 2;
    static final int ENCODED = 3;
    static final int COMMITTED = 4;
    static final int DONE = 5;

    private static final ThreadLocal<long[]> STAMPS = ThreadLocal.withInitial(() -> new long[6]);

    private SaveProbe() {
    }

    static void stamp(int phase) {
        STAMPS.get()[phase] = System.nanoTime();
    }

    /** The calling thread's stamps of its last save. */
    static long[] stamps() {
        return STAMPS.get().clone();
    }
}
